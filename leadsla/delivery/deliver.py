"""Delivery: send what the outbox holds and is due, and put every outcome on the record.

Runs after the decision transaction, never inside it, so a slow or dead mail server can never
hold up a tick. Per unit (one message, or one digest of several):

1. **mark** the attempt and commit (``status = 'sending'``, ``attempts + 1``);
2. **send**, within the channel's timeouts (:mod:`leadsla.delivery.timeouts`);
3. **record** the outcome and commit at once. Acceptance is one statement committed on its
   own right after the server's answer (``status = 'accepted'``); its ``notification_sent``
   event is written with the others, set-based, when the run ends (or by the next run after a
   crash: :func:`_settle`). A failure is ``notification_failed`` (with the error, never a
   secret) and a retry time with exponential backoff, deterministic jitter and a cap, or
   ``notification_dead`` after the last attempt.

A crash before 2 leaves a marked row that the next run sends (once). A crash between the
server's acceptance and the commit of 3 is the one window no sender can close: the next run
sends that one message again with the same ``Message-ID`` / ``Idempotency-Key`` so the receiver
can de-duplicate; the window is one single-row statement wide, so a kill costs at most one
duplicate. **Circuit breaker**: after ``breaker.after_failures`` consecutive transient failures
(timeouts, unreachable or unresolvable host, SMTP 4xx, HTTP 5xx/429) an endpoint is paused for
the rest of the run; its remaining messages stay queued, each with a ``notification_deferred``
event saying why, and the next run tries again. Noise control comes first, set-based, each
outcome an event: a lead answered or closed before its message went out is
``notification_suppressed``; a message waiting for its recipient's business hours or over the
hourly budget is ``notification_deferred``.

``LEADSLA_CRASH_AT`` is a **test hook** (tests/test_delivery.py): when it names a point
below, the process kills itself with SIGKILL there. It is never set in production.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from leadsla.delivery.channels import Channels, Outgoing, SendError
from leadsla.delivery.check import resolve_endpoints
from leadsla.delivery.outbox import crm_payloads, render_pending
from leadsla.delivery.render import environment, mask
from leadsla.delivery.safety import write_csv
from leadsla.delivery.timeouts import Timeouts
from leadsla.engine.temp_tables import register_table as _register
from leadsla.rules import RuleSet
from leadsla.rules.delivery_models import LEAD_STEP_EVENTS, NotificationsFile
from leadsla.smtp import SmtpConfigError, SmtpSettings
from leadsla.sql import run
from leadsla.state import EVENT_COLS, event_id_sql
from leadsla.store import Store, transaction

log = logging.getLogger("leadsla.delivery")

CRASH_POINTS = ("noise", "marked", "sent", "recorded", "crm_written")
CSV_COLUMNS = [
    "idempotency_key", "action", "lead_id", "issue_id", "event_type", "owner", "task_subject",
    "task_due_at", "priority", "note",
]  # fmt: skip


def _crash_point(name: str) -> None:
    """Test hook (see the module docstring): SIGKILL this process at ``name``."""
    if os.environ.get("LEADSLA_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def channels_from_env(
    rules: RuleSet,
    env: Mapping[str, str],
    *,
    smtp_settings: SmtpSettings | None = None,
    blocks: Mapping[str, str] | None = None,
    strict: bool = True,
) -> Channels:
    """The channel configuration at the CLI edge (environment) or the flow edge (blocks
    already loaded into plain values), with the timeouts of ``notifications.yaml``.

    A malformed ``LEADSLA_SMTP_URL`` raises :class:`SmtpConfigError` (one line naming the
    variable and the fix); with ``strict=False`` (a scheduled flow) that line is kept in
    ``Channels.config_errors`` (and the run's result) for the caller to log, email waits in
    the outbox and the other channels deliver."""
    n = rules.notifications
    errors: list[str] = []
    if smtp_settings is None:
        try:
            smtp_settings = SmtpSettings.from_env(env)
        except SmtpConfigError as exc:
            if strict:
                raise
            errors.append(str(exc))
    if n is None:
        return Channels(smtp=smtp_settings, config_errors=errors)
    t = n.timeouts
    timeouts = Timeouts(t.connect_seconds, t.read_seconds, t.total_seconds)
    return Channels(
        smtp=replace(smtp_settings, timeouts=timeouts) if smtp_settings else None,
        endpoints=resolve_endpoints(n, env, blocks),
        slack_api_url=n.channels.slack.api_url,
        timeouts=timeouts,
        config_errors=errors,
    )


@dataclass
class DeliveryResult:
    """What one delivery run did; ``dead`` lists messages that need a person (an alert)."""

    sent: int = 0
    failed: int = 0
    dead: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0
    deferred: int = 0
    waiting: int = 0  # due, but their channel is not configured: they wait in the outbox
    paused: dict[str, int] = field(default_factory=dict)  # endpoint -> messages held (breaker)
    crm_files: list[str] = field(default_factory=list)
    config_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": len(self.dead),
            "suppressed": self.suppressed,
            "deferred": self.deferred,
            "waiting": self.waiting,
            "paused": self.paused,
            "crm_files": self.crm_files,
            "config_errors": self.config_errors,
        }

    @property
    def markdown(self) -> str:
        lines = [
            "# leadsla delivery",
            "",
            f"sent {self.sent}, failed attempts {self.failed}, dead {len(self.dead)}, "
            f"suppressed {self.suppressed}, deferred {self.deferred}, "
            f"waiting for a channel {self.waiting}",
        ]
        lines += [
            f"paused {endpoint} for the rest of the run (breaker): {held} message(s) stay queued"
            for endpoint, held in self.paused.items()
        ]
        lines += [f"configuration error: {e}" for e in self.config_errors]
        if self.dead:
            lines += [
                "",
                "## Dead messages (need a person)",
                "",
                "| message | channel | recipient | error |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {d['message_id']} | {d['channel']} | {mask(d['recipient'])} | {d['error']} |"
                for d in self.dead
            ]
        return "\n".join(lines)


def backoff(n: NotificationsFile, message_id: str, attempts: int) -> timedelta:
    """Delay before attempt ``attempts + 1``: base * factor^(attempts-1), capped, with jitter
    derived from the message id (replayable, yet spread so retries do not stampede)."""
    r = n.retry
    delay = min(r.cap_seconds, r.base_seconds * r.factor ** max(0, attempts - 1))
    u = int(hashlib.sha256(f"{message_id}|{attempts}".encode()).hexdigest()[:8], 16) / 2**32
    return timedelta(seconds=min(r.cap_seconds, delay * (1 + r.jitter * (2 * u - 1))))


def _event_sql(kind: str, extra_id: str, details: str, occurred: str = "$now") -> str:
    return f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("o.message_id", f"'{kind}'", extra_id)}, '{kind}', o.lead_id,
               o.issue_id, {occurred}, $now, 'delivery:' || coalesce(o.route_id, o.channel), NULL,
               NULL, NULL, o.recipient,
               json_object('message_id', o.message_id, 'event_id', o.event_id,
                           'event_type', o.event_type, 'channel', o.channel,
                           'attempts', o.attempts, {details})
    """


#: Due now, on a channel this run can use at all ($live); the rest waits untouched.
DUE = """
    o.status IN ('pending', 'deferred', 'sending') AND o.next_attempt_at <= $now
    AND list_contains($live, o.channel)
"""


def _noise_control(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    n: NotificationsFile,
    now: datetime,
    live: list[str],
) -> tuple[int, int]:
    """Suppression, quiet hours and budgets over all due messages at once."""
    p = {"now": now, "lead_events": list(LEAD_STEP_EVENTS), "live": live}
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
        _event_sql("notification_suppressed", "'x'", "'reason', s.reason")
        + " FROM outbox o JOIN d_sup s USING (message_id)",
        p,
    )
    run(
        con,
        "UPDATE outbox o SET status = 'suppressed', last_error = s.reason "
        "FROM d_sup s WHERE o.message_id = s.message_id",
    )
    suppressed = int(con.execute("SELECT count(*) FROM d_sup").fetchall()[0][0])
    deferred = 0
    if n.quiet_hours.enabled:
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
        if closed["calendar_id"]:
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
            deferred += _defer(con, now)
    # budget: per recipient and channel, at most N per rolling hour; the rest roll into a digest
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
    deferred += _defer(con, now)
    return suppressed, deferred


def _defer(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    run(
        con,
        _event_sql(
            "notification_deferred",
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


@dataclass
class _Unit:
    out: Outgoing
    message_ids: list[str]
    digest_id: str | None = None


def _units(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, ch: Channels, now: datetime, limit: int
) -> tuple[list[_Unit], int]:
    rows = run(
        con,
        f"""
        SELECT message_id, channel, recipient, urgency, subject, body_text, body_html,
               CAST(payload AS VARCHAR), recipient_id, recipient_role, calendar_id
        FROM outbox o
        WHERE {DUE} AND channel <> 'crm_csv'
        ORDER BY (urgency = 'immediate') DESC, created_at, message_id
        """,
        {"now": now, "live": ch.live_channels()},
    ).fetchall()
    units: list[_Unit] = []
    digests: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    waiting = 0
    for r in rows:
        mid, channel, recipient, urgency, subject, text, html, payload = r[:8]
        if not ch.configured(channel, recipient):
            waiting += 1
            continue
        if urgency == "digest":
            digests.setdefault((channel, recipient), []).append(r)
            continue
        units.append(
            _Unit(
                Outgoing(
                    mid,
                    channel,
                    recipient,
                    subject or "",
                    text or "",
                    html or "",
                    json.loads(payload) if payload else {},
                ),
                [mid],
            )
        )
    n = rules.notifications
    assert n is not None
    env = environment(str(rules.root / "templates" / "messages"))
    for (channel, recipient), items in digests.items():
        if len(items) == 1:  # a digest of one is just the message
            r = items[0]
            units.append(
                _Unit(
                    Outgoing(r[0], channel, recipient, r[4] or "", r[5] or "", r[6] or ""), [r[0]]
                )
            )
            continue
        ids = sorted(r[0] for r in items)
        key = hashlib.sha256("|".join(ids).encode()).hexdigest()[:32]
        member = rules.members.get(items[0][8] or "")
        ctx = {
            "items": [{"subject": r[4], "text": r[5]} for r in items],
            "recipient_name": member.name if member else "team",
            "org": rules.org.name, "message_id": key, "rule_id": "digest", "why": [],
            "next_step": None, "lead": {"record_url": None},
        }  # fmt: skip
        subject = env.get_template("digest.subject.txt").render(ctx).strip()
        units.append(
            _Unit(
                Outgoing(
                    key,
                    channel,
                    recipient,
                    subject,
                    env.get_template("digest.txt").render(ctx),
                    env.get_template("digest.html").render(ctx),
                ),
                ids,
                key,
            )
        )
    return units[:limit], waiting


def _mark(store: Store, unit: _Unit, now: datetime) -> None:
    """The attempt, before the send: one statement, committed on its own (DuckDB autocommit
    makes a single statement atomic)."""
    run(
        store.con,
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, digest_id = $dg, "
        "next_attempt_at = $now WHERE message_id IN (SELECT unnest($ids))",
        {"now": now, "dg": unit.digest_id, "ids": unit.message_ids},
    )


def _accepted(store: Store, unit: _Unit, now: datetime) -> None:
    """The server accepted ``unit``: one statement, committed on its own, the narrowest
    record there is; :func:`_settle` writes its event."""
    run(
        store.con,
        "UPDATE outbox SET status = 'accepted', sent_at = $now, last_error = NULL "
        "WHERE message_id IN (SELECT unnest($ids))",
        {"now": now, "ids": unit.message_ids},
    )


#: ``notification_sent`` for every accepted message, then ``sent``: one transaction, so a
#: crash leaves them accepted and the next run settles them (the event is never written twice).
SETTLE_SQL = [
    _event_sql(
        "notification_sent", "'x'", "'digest_id', o.digest_id", occurred="o.sent_at"
    ) + " FROM outbox o WHERE o.status = 'accepted'",
    "UPDATE outbox SET status = 'sent' WHERE status = 'accepted'",
]  # fmt: skip


def _settle(store: Store, now: datetime) -> None:
    with transaction(store) as con:
        for sql in SETTLE_SQL:
            run(con, sql, {"now": now})


def _record_failure(
    store: Store,
    n: NotificationsFile,
    unit: _Unit,
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
            _event_sql(
                "notification_failed",
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
            run(con, _event_sql("notification_dead", "'x'", "'error', $err") + sel, p)
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
    "o.message_id", "'notification_deferred'", "'paused|' || CAST($now AS VARCHAR)"
)


def _hold(store: Store, held: dict[str, str], now: datetime) -> None:
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
        run(
            con,
            _event_sql("notification_deferred", "'paused|' || CAST($now AS VARCHAR)",
                       "'reason', h.reason, 'until', NULL")
            + f""" FROM outbox o JOIN d_held h USING (message_id)
            WHERE {_HOLD_ID} NOT IN (SELECT event_id FROM sla_events
                                     WHERE recorded_at = $now
                                       AND event_type = 'notification_deferred')""",
            {"now": now},
        )  # fmt: skip
        run(con, "UPDATE outbox o SET last_error = h.reason FROM d_held h "
                 "WHERE o.message_id = h.message_id")  # fmt: skip


def _crm_files(
    store: Store, n: NotificationsFile, folder: Path, now: datetime, result: DeliveryResult
) -> None:
    """One import-ready CSV per tick (the tick that enqueued the actions), written to a
    temporary name and renamed atomically. Its name and content derive from the tick, so a
    rerun after a crash rewrites the same file instead of adding a second one."""
    con = store.con
    ticks = [
        r[0]
        for r in run(
            con,
            f"SELECT DISTINCT created_at FROM outbox o WHERE {DUE} AND channel = 'crm_csv' "
            "ORDER BY 1",
            {"now": now, "live": ["crm_csv"]},
        ).fetchall()
    ]
    for tick_at in ticks:
        rows = run(
            con,
            "SELECT message_id, CAST(payload AS VARCHAR) FROM outbox WHERE channel = 'crm_csv' "
            "AND created_at = $t ORDER BY message_id",
            {"t": tick_at},
        ).fetchall()
        actions = [(mid, json.loads(p or "{}")) for mid, p in rows]
        actions = [(m, a) for m, a in actions if a.get("action") in n.crm.actions]
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crm_actions_{tick_at.strftime('%Y%m%dT%H%M%SZ')}.csv"
        tmp = path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            write_csv(fh, CSV_COLUMNS, ([mid] + [a.get(c) for c in CSV_COLUMNS[1:]]
                                        for mid, a in actions))  # fmt: skip
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        _crash_point("crm_written")
        with transaction(store) as c2:
            p = {"now": now, "t": tick_at, "file": path.name}
            sel = (
                " FROM outbox o WHERE o.channel = 'crm_csv' AND o.created_at = $t "
                "AND o.status <> 'sent'"
            )
            run(c2, _event_sql("notification_sent", "'x'", "'file', $file") + sel, p)
            run(
                c2,
                "UPDATE outbox SET status = 'sent', sent_at = $now, attempts = attempts + 1 "
                "WHERE channel = 'crm_csv' AND created_at = $t AND status <> 'sent'",
                p,
            )
        result.crm_files.append(str(path))


def _log_waiting(result: DeliveryResult) -> None:
    if result.waiting:
        log.info(
            "%d due message(s) wait in the outbox: their channel is not configured",
            result.waiting,
        )


def deliver(
    store: Store,
    rules: RuleSet,
    channels: Channels,
    now: datetime,
    *,
    crm_dir: Path | None = None,
    limit: int = 1000,
) -> DeliveryResult:
    """Send everything due at ``now``; every outcome is an event. Never raises for a failed
    send (that is recorded and retried); a dead message is logged as an error and returned in
    ``result.dead`` for the caller to raise a pipeline alert."""
    result = DeliveryResult(config_errors=list(channels.config_errors))
    n = rules.notifications
    if n is None:
        return result
    live = channels.live_channels()
    waiting, due, accepted = run(
        store.con,
        f"""
        SELECT count(*) FILTER (status IN ('pending', 'deferred') AND next_attempt_at <= $now
                                AND NOT list_contains($live, channel)),
               count(*) FILTER ({DUE}),
               count(*) FILTER (status = 'accepted')
        FROM outbox o
        """,
        {"now": now, "live": live},
    ).fetchall()[0]
    result.waiting = int(waiting)
    if accepted:
        _settle(store, now)  # a run that was killed left accepted messages without events
    if not due:
        _log_waiting(result)
        return result  # the common idle run: nothing due on a usable channel
    with transaction(store) as con:
        result.suppressed, result.deferred = _noise_control(con, rules, n, now, live)
    _crash_point("noise")
    with transaction(store) as con:
        render_pending(con, rules, n, now, DUE, {"now": now, "live": live})
        crm_payloads(con, DUE, {"now": now, "live": live})
    units, no_endpoint = _units(store.con, rules, channels, now, limit)
    result.waiting += no_endpoint
    failures: Counter[str] = Counter()  # consecutive transient failures per endpoint
    paused: dict[str, str] = {}  # endpoint -> why
    held: dict[str, str] = {}  # message id -> why (its endpoint is paused)
    try:
        for unit in units:
            endpoint = channels.endpoint_key(unit.out.channel, unit.out.recipient)
            if endpoint in paused:
                held.update(dict.fromkeys(unit.message_ids, paused[endpoint]))
                result.paused[endpoint] = result.paused.get(endpoint, 0) + len(unit.message_ids)
                continue
            _mark(store, unit, now)
            _crash_point("marked")
            try:
                channels.send(unit.out)
            except SendError as error:
                _record_failure(store, n, unit, now, error, result)
                # the endpoint answered (a refusal of this message) or it did not (a timeout,
                # no route, no name, a 4xx/5xx of the server itself): only the latter counts
                failures[endpoint] = failures[endpoint] + 1 if error.transient else 0
                if failures[endpoint] >= n.breaker.after_failures:
                    paused[endpoint] = (
                        f"paused: {endpoint} failed {failures[endpoint]} times in a row "
                        f"(last: {mask(str(error))[:200]}); the next run tries again"
                    )
                    result.paused[endpoint] = 0
                    log.warning("delivery: %s", paused[endpoint])
                continue
            _crash_point("sent")
            _accepted(store, unit, now)
            _crash_point("recorded")
            result.sent += len(unit.message_ids)
            failures[endpoint] = 0
    finally:
        channels.close()
        if held:
            _hold(store, held, now)
        if result.sent:
            _settle(store, now)
    folder = crm_dir if crm_dir is not None else Path(n.crm.folder)
    _crm_files(store, n, folder, now, result)
    _log_waiting(result)
    return result
