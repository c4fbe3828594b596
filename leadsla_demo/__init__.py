"""The demo (``leadsla demo``, ``make demo``), kept out of the core engine: a realistic week
of CRM exports from a fixed seed, replayed tick by tick.

Two sources with different layouts (HubSpot delta exports every 30 minutes with ISO-ish local
times and a first-outreach column; Salesforce report snapshots every 2 hours with US dates,
Latin-1 text and a report footer), owners in teams with managers, leads answered fast, late
and never, CRM owner changes, shared-inbox leads, support questions, unclear forms and one
unreadable row. The replay runs in process on one connection in logical time, so the same
seed and rules always produce the same event log.

:mod:`.week` the dates and seed, :mod:`.leads` and :mod:`.issues` the generated records,
:mod:`.exports` the files (CRM layouts read from the source presets), :mod:`.run` the demo.
"""

from leadsla_demo.exports import write_exports, write_issue_exports
from leadsla_demo.issues import DemoIssue, generate_issues
from leadsla_demo.leads import DemoLead, generate_leads
from leadsla_demo.run import DemoResult, run_demo
from leadsla_demo.week import DEMO_REPORT_DAY, IST, SEED, WEEK_END, WEEK_START

__all__ = [
    "DEMO_REPORT_DAY",
    "IST",
    "SEED",
    "WEEK_END",
    "WEEK_START",
    "DemoIssue",
    "DemoLead",
    "DemoResult",
    "generate_issues",
    "generate_leads",
    "run_demo",
    "write_exports",
    "write_issue_exports",
]
