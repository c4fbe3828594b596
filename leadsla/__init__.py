"""leadsla: response-time SLAs for sales leads.

The library is pure: no Prefect import and no clock reads. ``now`` is always an argument; the
CLI (``leadsla.cli``) and the Prefect flows (``flows/``) are the only places the clock is read.
"""

__version__ = "0.1.0"
