"""Step ``issue_responses``: ``issue_responded`` / ``issue_resolved`` for valid issues, with
business minutes since the raise on the issue's calendar; each logged once."""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.calendars.sql import interval_at, pos_sql
from leadsla.engine.step import EngineStep
from leadsla.sql import scalar

STEP = EngineStep("issue_responses", reads=("issue_state",), returns="issue_state")


def record_responses(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """Record the responses and resolutions not yet logged; returns how many."""
    STEP.run(con, "responses", pos_sql=pos_sql, interval_at=interval_at)
    n = int(scalar(con, "SELECT count(*) FROM iresp") or 0)
    if not n:
        return 0
    STEP.run(con, "events", {"now": now})
    STEP.run(con, "logged")
    return n
