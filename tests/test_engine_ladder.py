"""The ladder step on its own: which steps are due at ``now`` (as of their thresholds), their
events and ids, the next threshold ahead, and a reassignment starting the next hop."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from leadsla.engine import ladder
from leadsla.engine.clocks import select_clocks, set_due

from .engine_db import calendars, content_id, engine_db, ist, lead, rows, shipped_rules

POLICY = "high_first_response"  # task 0, reminder 10, escalate 20, reassign 30; due in 15
T0 = ist(2026, 11, 30, 10)  # a Monday, inside office hours


def _clocks(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    calendars(con, now)
    set_due(con)
    select_clocks(con, now, full=False)
    ladder.start(con)


def _step_id(lead_id: str, hop: int, step: str) -> str:
    version = shipped_rules().policy_version(POLICY)
    return content_id(lead_id, POLICY, version, str(hop), step)


def test_due_steps_as_of_their_thresholds(tmp_path: Path) -> None:
    now = T0 + timedelta(minutes=25)
    with engine_db(tmp_path) as con:
        kw = {"policy_id": POLICY, "owner": "rahul", "team": "inbound", "intent": "high"}
        lead(con, "open", T0, **kw)
        # answered at 10:12 (seen then): the steps before it stay due, the later ones do not
        lead(con, "answered", T0, response_at=T0 + timedelta(minutes=12),
             responded_seen_at=T0 + timedelta(minutes=12), **kw)  # fmt: skip
        # a previous tick decided everything up to 10:15
        lead(con, "seen", T0, evaluated_until=T0 + timedelta(minutes=15),
             next_step_at=T0 + timedelta(minutes=20), **kw)  # fmt: skip
        _clocks(con, now)
        assert ladder.due_steps(con, now, "clock_src") == 7
        due = rows(con, "SELECT lead_id, step_id, threshold_at FROM due_steps ORDER BY 1, 3")
        at = {"task": 0, "reminder": 10, "sla_check": 15, "manager_escalation": 20}
        expected = [("answered", "task"), ("answered", "reminder"),
                    ("open", "task"), ("open", "reminder"), ("open", "sla_check"),
                    ("open", "manager_escalation"), ("seen", "manager_escalation")]  # fmt: skip
        assert due == [(lid, s, T0 + timedelta(minutes=at[s])) for lid, s in expected]
        # the next threshold ahead of each clock still open: the reassignment at 10:30
        nxt = rows(con, "SELECT lead_id, next_at FROM next_step ORDER BY 1")
        assert nxt == [("open", T0 + timedelta(minutes=30)), ("seen", T0 + timedelta(minutes=30))]

        assert ladder.record_steps(con, shipped_rules(), now) == 7
        events = rows(
            con,
            "SELECT event_id, lead_id, event_type, occurred_at, owner, target, level"
            " FROM sla_events WHERE lead_id = 'open' ORDER BY occurred_at",
        )
        assert events == [
            (_step_id("open", 0, "task"), "open", "task_created", T0, "rahul", "rahul", None),
            (_step_id("open", 0, "reminder"), "open", "reminder_sent",
             T0 + timedelta(minutes=10), "rahul", "rahul", None),
            (_step_id("open", 0, "sla_check"), "open", "sla_missed",
             T0 + timedelta(minutes=15), "rahul", None, None),
            # rahul's manager is priya
            (_step_id("open", 0, "manager_escalation"), "open", "escalated",
             T0 + timedelta(minutes=20), "rahul", "priya", 1),
        ]  # fmt: skip
        ladder.close(con, now)
        marks = rows(con, "SELECT lead_id, evaluated_until, next_step_at FROM lead_state "
                          "WHERE lead_id <> 'answered' ORDER BY 1")  # fmt: skip
        assert marks == [
            ("open", now, T0 + timedelta(minutes=30)),
            ("seen", now, T0 + timedelta(minutes=30)),
        ]


def test_reassignment_starts_the_next_hop(tmp_path: Path) -> None:
    now = T0 + timedelta(minutes=35)
    with engine_db(tmp_path) as con:
        lead(con, "L", T0, policy_id=POLICY, owner="rahul", team="inbound", intent="high")
        _clocks(con, now)
        ladder.due_steps(con, now, "clock_src")
        ladder.record_steps(con, shipped_rules(), now)
        ((target,),) = rows(con, "SELECT target FROM sla_events WHERE event_type = 'reassigned'")
        # an available inbound member, not the owner it leaves
        assert target in {"vikram", "priya", "sneha", "amit"}
        state = rows(con, "SELECT owner, owner_origin, hop, hop_started_at, previous_owners"
                          " FROM lead_state")  # fmt: skip
        assert state == [(target, "reassigned", 1, T0 + timedelta(minutes=30), ["rahul"])]
        assert ladder.next_round(con) == 1
        # the next round looks at hop 1 only, for the new owner, from the reassignment
        assert rows(con, "SELECT lead_id, hop, owner, start_at FROM clock_src") == [
            ("L", 1, target, T0 + timedelta(minutes=30))
        ]
        assert ladder.due_steps(con, now, "clock_src") == 1  # its task at 10:30
        assert rows(con, "SELECT step_id, hop, owner FROM due_steps") == [("task", 1, target)]
        ladder.record_steps(con, shipped_rules(), now)
        ids = {r[0] for r in rows(con, "SELECT event_id FROM sla_events")}
        assert _step_id("L", 1, "task") in ids
        assert _step_id("L", 0, "task") in ids
        assert ladder.next_round(con) == 0
