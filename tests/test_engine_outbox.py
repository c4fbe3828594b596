"""Step ``outbox`` alone, on a handful of events: who hears about each, on which channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadsla.engine.outbox import enqueue
from leadsla.engine.rule_tables import register_rules
from leadsla.events import EventType, content_id, insert_events
from leadsla.rules import RuleSet, load_rules

from ._stepdb import rows, step_db

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


def _event(kind: EventType, lead: str, owner: str, level: int | None = None,
           **details: Any) -> dict[str, Any]:  # fmt: skip
    return {
        "event_id": content_id(lead, kind), "event_type": kind.value, "lead_id": lead,
        "occurred_at": NOW, "recorded_at": NOW, "level": level, "owner": owner,
        "details": json.dumps(details),
    }  # fmt: skip


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(REPO / "sla_rules")


@pytest.fixture
def con(rules: RuleSet) -> duckdb.DuckDBPyConnection:
    con = step_db()
    register_rules(con, rules)
    insert_events(
        con,
        [
            _event(EventType.TASK_CREATED, "L1", "rahul", step="task", intent="high",
                   team="inbound"),
            _event(EventType.ESCALATED, "L2", "rahul", 1, step="escalate", intent="mid",
                   team="inbound"),
            _event(EventType.ESCALATED, "L3", "ghost", 1, step="escalate", intent="mid",
                   team="nowhere"),  # nobody the org knows: the default team hears of it
            _event(EventType.LEAD_RECEIVED, "L4", "rahul"),  # no route: no message
        ],
    )  # fmt: skip
    return con


def test_each_event_goes_to_its_routes_recipients(
    rules: RuleSet, con: duckdb.DuckDBPyConnection
) -> None:
    added = enqueue(con, rules, NOW)
    got = rows(
        con,
        "SELECT message_id, event_id, lead_id, channel, recipient, recipient_role, urgency, "
        "status FROM outbox ORDER BY lead_id, channel, recipient",
    )
    assert added == len(got)
    people = [
        (r["lead_id"], r["channel"], r["recipient"], r["recipient_role"], r["urgency"],
         r["status"])
        for r in got if not r["channel"].startswith("crm")
    ]  # fmt: skip
    assert people == [
        ("L1", "email", "rahul@acme.example", "owner", "immediate", "pending"),
        ("L2", "email", "priya@acme.example", "manager", "immediate", "pending"),
        ("L2", "slack", "#inbound-sales", "team_channel", "immediate", "pending"),
        ("L3", "email", "priya@acme.example", "manager", "immediate", "pending"),
        ("L3", "slack", "#inbound-sales", "team_channel", "immediate", "pending"),
    ]
    for r in got:  # the idempotency key: event, channel and recipient (one CRM per channel)
        parts = [r["event_id"], r["channel"]]
        parts += [] if r["channel"].startswith("crm") else [r["recipient"]]
        assert r["message_id"] == content_id(*parts)
    crm = sorted((r["lead_id"], r["channel"]) for r in got if r["channel"].startswith("crm"))
    # one CRM action per CRM channel (the file, and the webhook notifications.yaml names) for
    # each task and escalation, whether or not a person could be told
    assert crm == [(lead, ch) for lead in ("L1", "L2", "L3") for ch in ("crm_csv", "crm_webhook")]
    dead = rows(con, "SELECT lead_id FROM sla_events WHERE event_type = 'notification_dead'")
    assert dead == []  # every recipient resolved (tests/test_ownerless_messages.py)


def test_enqueueing_again_at_the_same_now_adds_nothing(
    rules: RuleSet, con: duckdb.DuckDBPyConnection
) -> None:
    first = enqueue(con, rules, NOW)
    events = rows(con, "SELECT count(*) AS n FROM sla_events")[0]["n"]
    assert first > 0
    assert enqueue(con, rules, NOW) == 0
    assert rows(con, "SELECT count(*) AS n FROM sla_events")[0]["n"] == events
