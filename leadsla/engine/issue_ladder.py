"""Step ``issue_ladder``: every level of an issue due at ``now`` that has not fired, as
``issue_escalated`` events (seed 002: up three levels).

Level 1 at the raise (or when a rejected issue was seen completed), level 2 when level 1's SLA
passes unanswered, level 3 when level 2's does (or at once for high-value, customer-risk and
repeated issues), each judged as of its threshold like lead steps and each emitted once.
Deadlines come from the same business-calendar SQL as leads: each SLA class and level is a
clock row in the ``policies`` table (``leadsla.engine.rule_tables.issue_clock_rows``), on
the calendar tables the lead evaluation prepared.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.calendars.sql import clock_sql
from leadsla.engine.step import EngineStep
from leadsla.events import insert_events
from leadsla.issues.render import escalation_event
from leadsla.rules import RuleSet
from leadsla.sql import scalar

STEP = EngineStep("issue_ladder", reads=("issue_state",), returns="issue_state")


def climb(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Record every level due at ``now``; returns how many escalations were recorded."""
    params = {"now": now}
    STEP.run(con, "source", params)
    if not scalar(con, "SELECT count(*) FROM isrc1"):
        return 0
    STEP.run(con, "clock1", clock=clock_sql("isrc1"))
    STEP.run(con, "level2_source")
    STEP.run(con, "clock2", clock=clock_sql("isrc2"))
    STEP.run(con, "level3_source")
    STEP.run(con, "clock3", clock=clock_sql("isrc3"))
    STEP.run(con, "steps")
    STEP.run(con, "next_at", params)
    STEP.run(con, "escalations", params)
    cur = con.execute("SELECT * FROM iesc")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    insert_events(con, [escalation_event(rules, r, now) for r in rows])
    STEP.run(con, "max_level")
    return len(rows)
