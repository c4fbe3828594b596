"""The responses step on its own: ``first_response`` with business minutes, ``sla_met`` when it
beat the deadline, ``recovered_after_escalation`` after an escalation, each credited to the
owner the export shows beside the response, and each response logged once."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from leadsla.engine.responses import log_responses

from .engine_db import calendars, content_id, engine_db, insert, ist, lead, rows, shipped_rules

T0 = ist(2026, 11, 30, 10)  # a Monday, inside office hours
NOW = ist(2026, 11, 30, 12)
DUE = T0 + timedelta(minutes=15)


def _lead(con: duckdb.DuckDBPyConnection, lead_id: str, minutes: int, **cols: Any) -> None:
    at = T0 + timedelta(minutes=minutes)
    lead(con, lead_id, T0, policy_id="high_first_response", due_at=DUE, owner="amit",
         response_at=at, responded_seen_at=at, response_via="call", **cols)  # fmt: skip


def _event(
    con: duckdb.DuckDBPyConnection, lead_id: str, event_type: str, minutes: int, target: str
) -> None:
    insert(con, "sla_events", event_id=f"{lead_id}-{event_type}", event_type=event_type,
           lead_id=lead_id, occurred_at=T0 + timedelta(minutes=minutes), recorded_at=T0,
           target=target)  # fmt: skip


def test_responses_are_credited_to_the_owner_beside_them(tmp_path: Path) -> None:
    with engine_db(tmp_path) as con:
        # answered at 10:05: the export that showed it names sneha (a member) as CRM owner
        _lead(con, "met", 5)
        insert(con, "lead_history", lead_id="met", valid_from=T0, crm_owner="sneha")
        # answered at 10:40 after an escalation at 10:20 and a reassignment to rahul at 10:30;
        # the export names a shared inbox, so the response is leadsla's owner's at 10:40
        _lead(con, "late", 40)
        insert(con, "lead_history", lead_id="late", valid_from=T0, crm_owner="Sales Inbox")
        _event(con, "late", "lead_assigned", 0, "sneha")
        _event(con, "late", "escalated", 20, "priya")
        _event(con, "late", "reassigned", 30, "rahul")
        # answered at its creation (ingest clamps a response dated before it to the creation)
        _lead(con, "instant", 0)
        _lead(con, "logged", 5, response_logged=True)  # logged by an earlier tick
        calendars(con, NOW)
        log_responses(con, shipped_rules(), NOW)
        got = rows(
            con,
            "SELECT lead_id, event_id, event_type, occurred_at, owner, details FROM sla_events"
            " WHERE event_id NOT LIKE 'late-%' ORDER BY lead_id, event_type",
        )
        summary = [(lid, typ, at, owner) for lid, _, typ, at, owner, _ in got]
        assert summary == [
            ("instant", "first_response", T0, "amit"),
            ("instant", "sla_met", T0, "amit"),
            ("late", "first_response", T0 + timedelta(minutes=40), "rahul"),
            ("late", "recovered_after_escalation", T0 + timedelta(minutes=40), "rahul"),
            ("met", "first_response", T0 + timedelta(minutes=5), "sneha"),
            ("met", "sla_met", T0 + timedelta(minutes=5), "sneha"),
        ]
        assert all(eid == content_id(lid, typ) for lid, eid, typ, *_ in got)
        details = {(lid, typ): json.loads(d) for lid, _, typ, _, _, d in got}
        assert details["met", "first_response"]["business_minutes"] == 5.0
        assert details["instant", "first_response"]["business_minutes"] == 0.0
        assert details["late", "first_response"]["business_minutes"] == 40.0
        assert details["late", "recovered_after_escalation"]["minutes_after_escalation"] == 10.0
        logged = rows(con, "SELECT lead_id FROM lead_state WHERE response_logged ORDER BY 1")
        assert logged == [("instant",), ("late",), ("logged",), ("met",)]
        # a second run finds every response logged: nothing new
        log_responses(con, shipped_rules(), NOW + timedelta(minutes=5))
        assert rows(con, "SELECT count(*) FROM sla_events") == [(6 + 3,)]
