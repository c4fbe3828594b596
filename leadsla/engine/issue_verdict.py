"""Step ``issue_verdict``: validate every issue version an export shows (seed 002's SOP).

A non-blocker (``no_escalation_reason``), an unknown type or missing mandatory details is
``issue_rejected`` with what to add; a later, completed version of the same issue is validated
again and proceeds, its clock starting at that export. The load runs it after each issues file,
so every version an export shows is judged, timed with its export, whatever the ticks' cadence.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from leadsla.engine.issue_intake import STATE_COLUMN
from leadsla.engine.step import EngineStep
from leadsla.events import insert_events
from leadsla.issues.render import rejection_event
from leadsla.rules import RuleSet
from leadsla.rules.records import ISSUE_FIELDS
from leadsla.sql import scalar

STEP = EngineStep(
    "issue_verdict",
    reads=("issue_state", "issue_sources", "issue_types", "sla_events"),
    returns="issue_state",
)


def judge_issues(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> tuple[int, int]:
    """The verdict (valid, or ``issue_rejected`` with what to add) of every issue whose
    reported values changed since its verdict, timed with the export that showed them
    (``last_export_at``); returns (judged, rejected)."""
    iss = rules.issues
    params: dict[str, Any] = {
        "default_mandatory": list(iss.mandatory_fields),
        "non_blockers": [n.lower() for n in iss.non_blockers],
    }
    STEP.run(
        con,
        "judge",
        params,
        fields=[(STATE_COLUMN.get(f, f), f) for f in ISSUE_FIELDS],
    )
    judged = int(scalar(con, "SELECT count(*) FROM iv") or 0)
    if not judged:
        return 0, 0
    rows = STEP.run(con, "rejections").fetchall()
    insert_events(con, [rejection_event(rules, r, now) for r in rows])
    STEP.run(con, "apply")
    return judged, len(rows)
