"""Per-manager review reports rendered from the dbt marts (never from Python arithmetic).

:mod:`.data` reads one recipient's slice of the marts, :mod:`.charts` draws PNGs,
:mod:`.render` builds HTML/text/CSV and the email, :mod:`.run` ties it to the warehouse.
"""

from leadsla.report.run import Recipient, ReportRun, day_as_of, recipients, run_report

__all__ = ["Recipient", "ReportRun", "day_as_of", "recipients", "run_report"]
