"""Per-manager review reports rendered from the dbt marts (never from Python arithmetic).

:mod:`.data` reads one recipient's slice of the marts, :mod:`.charts` draws PNGs,
:mod:`.render` builds HTML/text/CSV and the email, :mod:`.run` writes and sends them,
:mod:`.patterns` reads and writes the weekly patterns. The pipelines around them (build the
marts first) are in ``leadsla.pipelines.review``.
"""

from leadsla.report.run import Recipient, ReportRun, recipients

__all__ = ["Recipient", "ReportRun", "recipients"]
