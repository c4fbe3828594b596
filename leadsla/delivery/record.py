"""Delivery's bookkeeping: every outcome of a send on the record, each committed on its own.

The attempt is marked before the send; acceptance is one single-row statement right after the
server's answer, its ``notification_sent`` event written set-based later (:func:`settle`); a
failure is ``notification_failed`` with a retry time (exponential backoff, deterministic
jitter, a cap) or ``notification_dead`` after the last attempt; messages of an endpoint the
circuit breaker paused stay queued with a ``notification_deferred`` event (:func:`hold`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from leadsla.delivery.render import mask
from leadsla.delivery.result import DeliveryResult
from leadsla.delivery.senders import Outgoing, SendError
from leadsla.engine.temp_tables import register_table as _register
from leadsla.events import EVENT_COLS, EventType, event_id_sql
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.sql import run
from leadsla.store import Store, transaction

log = logging.getLogger("leadsla.delivery")


def outcome_events_sql(kind: EventType, extra_id: str, details: str, occurred: str = "$now") -> str:
    """SQL appending one ``kind`` event per outbox row ``o`` of the ``FROM`` the caller adds:
    its id is the message's, the kind's and ``extra_id`` (an attempt, a time)."""
    return f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("o.message_id", f"'{kind.value}'", extra_id)}, '{kind.value}',
               o.lead_id, o.issue_id, {occurred}, $now,
               'delivery:' || coalesce(o.route_id, o.channel), NULL, NULL, NULL, o.recipient,
               json_object('message_id', o.message_id, 'event_id', o.event_id,
                           'event_type', o.event_type, 'channel', o.channel,
                           'attempts', o.attempts, {details})
    """


def backoff(n: NotificationsFile, message_id: str, attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1``: base * factor^(attempts-1), capped, with jitter
    derived from the message id (replayable, yet spread so retries do not stampede)."""
    r = n.retry
    delay = min(r.cap_seconds, r.base_seconds * r.factor ** max(0, attempts - 1))
    u = int(hashlib.sha256(f"{message_id}|{attempts}".encode()).hexdigest()[:8], 16) / 2**32
    return timedelta(seconds=min(r.cap_seconds, delay * (1 + r.jitter * (2 * u - 1))))


@dataclass
class Unit:
    """One send: a message, or a digest of several (``digest_id``)."""

    out: Outgoing
    message_ids: list[str]
    digest_id: str | None = None


def mark(store: Store, unit: Unit, now: datetime) -> None:
    """The attempt, before the send: one statement, committed on its own (DuckDB autocommit
    makes a single statement atomic)."""
    run(
        store.con,
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, digest_id = $dg, "
        "next_attempt_at = $now WHERE message_id IN (SELECT unnest($ids))",
        {"now": now, "dg": unit.digest_id, "ids": unit.message_ids},
    )


def record_accepted(store: Store, unit: Unit, now: datetime) -> None:
    """The server accepted ``unit``: one statement, committed on its own, the narrowest
    record there is; :func:`settle` writes its event."""
    run(
        store.con,
        "UPDATE outbox SET status = 'accepted', sent_at = $now, last_error = NULL "
        "WHERE message_id IN (SELECT unnest($ids))",
        {"now": now, "ids": unit.message_ids},
    )


#: ``notification_sent`` for every accepted message, then ``sent``: one transaction, so a
#: crash leaves them accepted and the next run settles them (the event is never written twice).
SETTLE_SQL = [
    outcome_events_sql(
        EventType.NOTIFICATION_SENT, "'x'", "'digest_id', o.digest_id", occurred="o.sent_at"
    ) + " FROM outbox o WHERE o.status = 'accepted'",
    "UPDATE outbox SET status = 'sent' WHERE status = 'accepted'",
]  # fmt: skip


def settle(store: Store, now: datetime) -> None:
    with transaction(store) as con:
        for sql in SETTLE_SQL:
            run(con, sql, {"now": now})


def record_failure(
    store: Store,
    n: NotificationsFile,
    unit: Unit,
    now: datetime,
    error: SendError,
    result: DeliveryResult,
) -> None:
    with transaction(store) as con:
        con.register("d_ids", pa.table({"message_id": unit.message_ids}))
        sel = " FROM outbox o WHERE o.message_id IN (SELECT message_id FROM d_ids)"
        p: dict[str, Any] = {"now": now, "dg": unit.digest_id}
        text = str(error)
        attempts = int(
            run(
                con,
                "SELECT max(attempts) FROM outbox WHERE message_id IN "
                "(SELECT message_id FROM d_ids)",
            ).fetchall()[0][0]
            or 0
        )
        dead = not error.transient or attempts >= n.retry.max_attempts
        retry_at = now + backoff(n, unit.out.key, attempts)
        p.update({"err": text, "retry_at": None if dead else retry_at})
        run(
            con,
            outcome_events_sql(
                EventType.NOTIFICATION_FAILED,
                "CAST(o.attempts AS VARCHAR)",
                "'error', $err, 'transient', "
                + ("true" if error.transient else "false")
                + ", 'retry_at', $retry_at",
            )
            + sel,
            p,
        )
        result.failed += len(unit.message_ids)
        log.warning(
            "delivery of %s to %s failed (attempt %d): %s",
            unit.out.key,
            mask(unit.out.recipient),
            attempts,
            mask(text),
        )
        if dead:
            run(
                con,
                "UPDATE outbox SET status = 'dead', last_error = $err, "
                "next_attempt_at = NULL WHERE message_id IN (SELECT message_id FROM d_ids)",
                p,
            )
            run(
                con,
                outcome_events_sql(EventType.NOTIFICATION_DEAD, "'x'", "'error', $err") + sel,
                p,
            )
            for mid in unit.message_ids:
                result.dead.append(
                    {
                        "message_id": mid,
                        "channel": unit.out.channel,
                        "recipient": unit.out.recipient,
                        "error": text,
                    }
                )
            log.error(
                "message %s to %s is dead after %d attempt(s): %s",
                unit.out.key,
                mask(unit.out.recipient),
                attempts,
                mask(text),
            )
        else:
            run(
                con,
                "UPDATE outbox SET status = 'pending', last_error = $err, "
                "next_attempt_at = $retry_at, digest_id = NULL "
                "WHERE message_id IN (SELECT message_id FROM d_ids)",
                p,
            )
        con.unregister("d_ids")


_HOLD_ID = event_id_sql(
    "o.message_id",
    f"'{EventType.NOTIFICATION_DEFERRED.value}'",
    "'paused|' || CAST($now AS VARCHAR)",
)


def hold(store: Store, held: dict[str, str], now: datetime) -> None:
    """Messages of paused endpoints stay queued as they are (still due: the next run tries
    again); each gets a ``notification_deferred`` event with the reason, once per run time,
    and the reason as its ``last_error``."""
    with transaction(store) as con:
        _register(
            con,
            "d_held",
            pa.table({"message_id": list(held), "reason": list(held.values())}),
            work=True,
        )
        deferred = EventType.NOTIFICATION_DEFERRED
        run(
            con,
            outcome_events_sql(
                deferred, "'paused|' || CAST($now AS VARCHAR)", "'reason', h.reason, 'until', NULL"
            )
            + f""" FROM outbox o JOIN d_held h USING (message_id)
            WHERE {_HOLD_ID} NOT IN (SELECT event_id FROM sla_events
                                     WHERE recorded_at = $now
                                       AND event_type = '{deferred.value}')""",
            {"now": now},
        )
        run(con, "UPDATE outbox o SET last_error = h.reason FROM d_held h "
                 "WHERE o.message_id = h.message_id")  # fmt: skip
