"""Delivery: send what the outbox holds and is due, and put every outcome on the record.

Runs after the decision transaction, never inside it, so a slow or dead mail server can never
hold up a tick. Per unit (one message, or one digest of several):

1. **mark** the attempt and commit (``status = 'sending'``, ``attempts + 1``);
2. **send**, within the channel's timeouts (:mod:`leadsla.delivery.timeouts`);
3. **record** the outcome and commit at once. Acceptance is one statement committed on its
   own right after the server's answer (``status = 'accepted'``); its ``notification_sent``
   event is written with the others, set-based, when the run ends (or by the next run after a
   crash: :func:`leadsla.delivery.record.settle`). A failure is ``notification_failed``
   (with the error, never a secret) and a retry time with exponential backoff, deterministic
   jitter and a cap, or ``notification_dead`` after the last attempt.

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

``LEADSLA_CRASH_AT`` is a **test hook** (:mod:`leadsla.delivery.hooks`, tests/test_delivery.py):
when it names a point, the process kills itself with SIGKILL there. Never set in production.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from pathlib import Path

from leadsla.delivery.compose import crm_payloads, render_pending
from leadsla.delivery.crm_files import crm_files
from leadsla.delivery.due import DUE
from leadsla.delivery.hooks import crash_point
from leadsla.delivery.noise import noise_control
from leadsla.delivery.record import hold, mark, record_accepted, record_failure, settle
from leadsla.delivery.render import mask
from leadsla.delivery.result import DeliveryResult
from leadsla.delivery.senders import SendError, Senders
from leadsla.delivery.units import units as build_units
from leadsla.rules import RuleSet
from leadsla.sql import run
from leadsla.store import Store, transaction

__all__ = ["DeliveryResult", "deliver"]

log = logging.getLogger("leadsla.delivery")


def _log_waiting(result: DeliveryResult) -> None:
    if result.waiting:
        log.info(
            "%d due message(s) wait in the outbox: their channel is not configured",
            result.waiting,
        )


def deliver(
    store: Store,
    rules: RuleSet,
    channels: Senders,
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
    waiting, due, n_accepted = run(
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
    if n_accepted:
        settle(store, now)  # a run that was killed left accepted messages without events
    if not due:
        _log_waiting(result)
        return result  # the common idle run: nothing due on a usable channel
    with transaction(store) as con:
        result.suppressed, result.deferred = noise_control(con, rules, n, now, live)
    crash_point("noise")
    with transaction(store) as con:
        render_pending(con, rules, n, now, DUE, {"now": now, "live": live})
        crm_payloads(con, DUE, {"now": now, "live": live})
    units, no_endpoint = build_units(store.con, rules, channels, now, limit)
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
            mark(store, unit, now)
            crash_point("marked")
            try:
                channels.send(unit.out)
            except SendError as error:
                record_failure(store, n, unit, now, error, result)
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
            crash_point("sent")
            record_accepted(store, unit, now)
            crash_point("recorded")
            result.sent += len(unit.message_ids)
            failures[endpoint] = 0
    finally:
        channels.close()
        if held:
            hold(store, held, now)
        if result.sent:
            settle(store, now)
    folder = crm_dir if crm_dir is not None else Path(n.crm.folder)
    crm_files(store, n, folder, now, result)
    _log_waiting(result)
    return result
