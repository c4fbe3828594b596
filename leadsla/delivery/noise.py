"""Noise control, set-based over all due messages, each outcome an event: a lead answered or
closed before its message went out is ``notification_suppressed``; a message waiting for its
recipient's business hours or over the hourly budget is ``notification_deferred``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from leadsla.delivery.due import DUE
from leadsla.delivery.record import outcome_events_sql
from leadsla.engine.temp_tables import register_table as _register
from leadsla.events import LEAD_STEP_EVENTS, EventType
from leadsla.rules import RuleSet
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.sql import run


def noise_control(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    n: NotificationsFile,
    now: datetime,
    live: list[str],
) -> tuple[int, int]:
    """Suppression, quiet hours and budgets over all due messages at once; returns (suppressed,
    deferred)."""
    p = {"now": now, "lead_events": [e.value for e in LEAD_STEP_EVENTS], "live": live}
    suppressed = _suppress(con, p)
    deferred = _quiet_hours(con, rules, now, p) if n.quiet_hours.enabled else 0
    return suppressed, deferred + _budget(con, n, now, p)


def _suppress(con: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> int:
    """A lead step's message whose lead was answered or closed meanwhile is not sent."""
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE d_sup AS
        SELECT o.message_id,
               CASE WHEN l.closed_seen_at IS NOT NULL THEN 'lead closed: ' || l.outcome
                    ELSE 'lead answered at ' || strftime(l.response_at, '%Y-%m-%dT%H:%M:%SZ')
               END AS reason
        FROM outbox o JOIN lead_state l ON l.lead_id = o.lead_id
        WHERE {DUE} AND o.status <> 'sending' AND o.issue_id IS NULL
          AND o.channel NOT LIKE 'crm%'  -- write-back mirrors decisions; people get no noise
          AND list_contains($lead_events, o.event_type)
          AND (l.responded_seen_at IS NOT NULL OR l.closed_seen_at IS NOT NULL)
        """,
        p,
    )
    run(
        con,
        outcome_events_sql(EventType.NOTIFICATION_SUPPRESSED, "'x'", "'reason', s.reason")
        + " FROM outbox o JOIN d_sup s USING (message_id)",
        p,
    )
    run(
        con,
        "UPDATE outbox o SET status = 'suppressed', last_error = s.reason "
        "FROM d_sup s WHERE o.message_id = s.message_id",
    )
    return int(con.execute("SELECT count(*) FROM d_sup").fetchall()[0][0])


def _quiet_hours(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, p: dict[str, Any]
) -> int:
    """A non-immediate message whose recipient's calendar is closed waits for its opening."""
    cals = [
        r[0]
        for r in run(
            con,
            f"SELECT DISTINCT calendar_id FROM outbox o WHERE {DUE} "
            "AND o.urgency <> 'immediate' AND o.status <> 'sending' "
            "AND o.calendar_id IS NOT NULL",
            p,
        ).fetchall()
    ]
    closed: dict[str, list[Any]] = {"calendar_id": [], "opens_at": []}
    for cid in cals:
        cal = rules.business_calendars.get(cid)
        if cal is None:
            continue
        spans = cal.intervals(now, now + timedelta(days=21))
        if spans and spans[0][0] > now:
            closed["calendar_id"].append(cid)
            closed["opens_at"].append(spans[0][0])
    if not closed["calendar_id"]:
        return 0
    _register(
        con,
        "d_quiet",
        pa.table(
            {
                "calendar_id": pa.array(closed["calendar_id"], pa.string()),
                "opens_at": pa.array(closed["opens_at"], pa.timestamp("us", tz="UTC")),
            }
        ),
        work=True,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE d_def AS
        SELECT o.message_id, q.opens_at AS until, 'quiet_hours' AS reason
        FROM outbox o JOIN d_quiet q USING (calendar_id)
        WHERE {DUE} AND o.urgency <> 'immediate' AND o.status <> 'sending'
        """,
        p,
    )
    return defer(con, now)


def _budget(
    con: duckdb.DuckDBPyConnection, n: NotificationsFile, now: datetime, p: dict[str, Any]
) -> int:
    """Per recipient and channel, at most N per rolling hour; the rest roll into a digest."""
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE d_def AS
        WITH sent AS (
            SELECT channel, recipient, count(DISTINCT coalesce(digest_id, message_id)) AS n
            FROM outbox WHERE status = 'sent' AND sent_at > $now - INTERVAL 1 HOUR
            GROUP BY ALL
        ), due AS (
            SELECT o.message_id, o.channel, o.recipient,
                   row_number() OVER (PARTITION BY o.channel, o.recipient
                                      ORDER BY o.created_at, o.message_id) AS k
            FROM outbox o
            WHERE {DUE} AND o.urgency = 'normal' AND o.status <> 'sending'
              AND o.channel NOT LIKE 'crm%'
        )
        SELECT d.message_id,
               time_bucket(to_minutes($digest), $now) + to_minutes($digest) AS until,
               'budget: over ' || $per_hour || ' per hour, rolled into the digest' AS reason
        FROM due d LEFT JOIN sent s USING (channel, recipient)
        WHERE coalesce(s.n, 0) + d.k > $per_hour
        """,
        {**p, "per_hour": n.budget.per_hour, "digest": n.digest.every_minutes},
    )
    run(
        con,
        "UPDATE outbox o SET urgency = 'digest' FROM d_def d WHERE o.message_id = d.message_id",
    )
    return defer(con, now)


def defer(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    run(
        con,
        outcome_events_sql(
            EventType.NOTIFICATION_DEFERRED,
            "d.reason || CAST(d.until AS VARCHAR)",
            "'reason', d.reason, 'until', d.until",
        )
        + " FROM outbox o JOIN d_def d USING (message_id)",
        {"now": now},
    )
    run(
        con,
        "UPDATE outbox o SET status = 'deferred', next_attempt_at = d.until "
        "FROM d_def d WHERE o.message_id = d.message_id",
    )
    return int(con.execute("SELECT count(*) FROM d_def").fetchall()[0][0])
