"""The event log's contract, in one place: its table, its columns, its ids and its event types.

``sla_events`` is append-only and public (docs/contracts.md): dbt builds every mart from it. Each
event's id derives from its content (:func:`event_id_sql` in SQL, :func:`content_id` in Python;
the two agree, tests/test_events.py), so recording the same facts twice adds nothing; every
``event_type`` a statement writes is a member of :class:`EventType`.

Engine SQL templates see ``event_id(...)``, ``event_cols`` and ``EventType`` as Jinja globals
(:mod:`leadsla.engine.step`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import duckdb
import pyarrow as pa


class EventType(StrEnum):
    """Every type of event the log holds; the value is what ``event_type`` stores."""

    # what an export showed about a lead (engine step ``merge``)
    LEAD_RECEIVED = "lead_received"
    OWNER_CHANGED = "owner_changed"
    STATUS_CHANGED = "status_changed"
    OUTCOME_LOGGED = "outcome_logged"
    # what leadsla decided about a lead (classify, assign, responses)
    INTENT_CLASSIFIED = "intent_classified"
    RECLASSIFIED = "reclassified"  # a later export changed the intent (engine/reclassify.py)
    LEAD_ASSIGNED = "lead_assigned"
    FIRST_RESPONSE = "first_response"
    SLA_MET = "sla_met"
    RECOVERED_AFTER_ESCALATION = "recovered_after_escalation"
    # the steps of a policy's ladder, judged as of their threshold (ladder)
    TASK_CREATED = "task_created"
    REMINDER_SENT = "reminder_sent"
    ESCALATED = "escalated"
    REASSIGNED = "reassigned"
    SLA_MISSED = "sla_missed"
    # lead issues (intake, validation, issue ladder)
    ISSUE_RAISED = "issue_raised"
    ISSUE_REJECTED = "issue_rejected"
    ISSUE_ESCALATED = "issue_escalated"
    ISSUE_RESPONDED = "issue_responded"
    ISSUE_RESOLVED = "issue_resolved"
    # delivery: what became of each outgoing message
    NOTIFICATION_SENT = "notification_sent"
    NOTIFICATION_FAILED = "notification_failed"
    NOTIFICATION_DEAD = "notification_dead"
    NOTIFICATION_DEFERRED = "notification_deferred"
    NOTIFICATION_SUPPRESSED = "notification_suppressed"
    # bad input kept on the record
    ROW_QUARANTINED = "row_quarantined"


#: The policy-ladder steps: their message is dropped when the lead was answered or closed
#: before it went out (delivery's noise control).
LEAD_STEP_EVENTS: tuple[EventType, ...] = (
    EventType.TASK_CREATED,
    EventType.REMINDER_SENT,
    EventType.ESCALATED,
    EventType.REASSIGNED,
    EventType.SLA_MISSED,
)

#: The event each kind of ladder step records (a reassignment with no eligible owner is recorded
#: as ``escalated``, level 2).
STEP_EVENT: dict[str, EventType] = {
    "task": EventType.TASK_CREATED,
    "reminder": EventType.REMINDER_SENT,
    "escalate": EventType.ESCALATED,
    "reassign": EventType.REASSIGNED,
    "sla_check": EventType.SLA_MISSED,
}

#: Events that gave a lead its owner (the owner as of a moment is the newest of them).
OWNER_EVENTS: tuple[EventType, ...] = (EventType.LEAD_ASSIGNED, EventType.REASSIGNED)

#: Events a response after them recovers (``recovered_after_escalation``).
ESCALATION_EVENTS: tuple[EventType, ...] = (EventType.ESCALATED, EventType.REASSIGNED)


def in_list(types: tuple[EventType, ...]) -> str:
    """``types`` as the items of an SQL ``IN (...)`` list."""
    return ", ".join(f"'{t.value}'" for t in types)


#: Events that leave a CRM action (write-back), whether or not a person is notified.
CRM_EVENTS: tuple[EventType, ...] = (
    EventType.TASK_CREATED,
    EventType.REASSIGNED,
    EventType.ESCALATED,
    EventType.ISSUE_ESCALATED,
)

#: The columns of ``sla_events`` in table order, with their types.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "VARCHAR NOT NULL"),
    ("event_type", "VARCHAR NOT NULL"),
    ("lead_id", "VARCHAR"),
    ("issue_id", "VARCHAR"),
    ("occurred_at", "TIMESTAMPTZ NOT NULL"),
    ("recorded_at", "TIMESTAMPTZ NOT NULL"),
    ("rule_id", "VARCHAR"),
    ("policy_id", "VARCHAR"),
    ("level", "INTEGER"),
    ("owner", "VARCHAR"),
    ("target", "VARCHAR"),
    ("details", "JSON"),
)

#: The column list for ``INSERT INTO sla_events (...)``.
EVENT_COLS = ", ".join(name for name, _ in COLUMNS)

#: The public event log (docs/contracts.md). Append-only: nothing updates or deletes it.
EVENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS sla_events (\n"
    + ",\n".join(f"    {name:<11} {kind}" for name, kind in COLUMNS)
    + "\n)"
)


def event_id_sql(*parts: str) -> str:
    """SQL of the content-derived event id of the SQL expressions ``parts``: the same facts
    always give the same id. MD5 is an identity here, not a security boundary (nobody gains by
    forging an id for their own facts), and it costs half of SHA-256 on the hundreds of
    thousands of events a first load writes."""
    return "md5(concat_ws('|', " + ", ".join(parts) + "))"


def content_id(*parts: str) -> str:
    """The id :func:`event_id_sql` gives for these (non-NULL) values, computed in Python (for
    events rendered in Python, and for callers that name an event before it is stored)."""
    return hashlib.md5("|".join(parts).encode()).hexdigest()


#: Arrow type of each column for events built in Python (:func:`insert_events`).
_ARROW = {"level": pa.int32(), "occurred_at": pa.timestamp("us", "UTC"),
          "recorded_at": pa.timestamp("us", "UTC")}  # fmt: skip


def insert_events(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Append events built in Python (those whose messages are rendered per event, such as the
    issue ladder's) in one batch; ``details`` is JSON text, missing columns are NULL."""
    if not rows:
        return
    table = pa.table(
        {
            name: pa.array([r.get(name) for r in rows], _ARROW.get(name, pa.string()))
            for name, _ in COLUMNS
        }
    )
    con.register("events_arrow", table)
    try:
        con.execute(
            f"INSERT INTO sla_events ({EVENT_COLS}) "
            "SELECT * REPLACE (CAST(details AS JSON) AS details) FROM events_arrow"
        )
    finally:
        con.unregister("events_arrow")
