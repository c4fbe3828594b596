"""One tick, composed once: discover exports, load them, evaluate every open lead and issue and
enqueue the messages, record what fired, deliver (when a channel is configured).

:func:`run_phases` is the one sequence. It takes the phases as a hook (:class:`Phases`), so
each caller decides only *where* a phase runs: the Prefect flow (flows/sla_tick.py) passes its
tasks, each calling a ``*_phase`` function below that opens and closes the database itself (no
connection crosses a task boundary); :class:`Ticker` runs the same phases in one process over
one open database (the CLI, replays and the demo: a week of 5-minute ticks costs milliseconds
each instead of a connection and a rules load). Both read the same descriptors between phases.

Each file loads in its own transaction, and the evaluation (with the outbox rows it needs) is
one more: a crash in between leaves loaded state whose steps the next tick evaluates, so
nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import duckdb

from leadsla.delivery.deliver import DeliveryResult, deliver
from leadsla.delivery.senders import Senders
from leadsla.engine.leads import evaluate_leads as evaluate
from leadsla.engine.outbox import enqueue
from leadsla.engine.rule_tables import register_rules
from leadsla.engine.temp_tables import drop_work_tables
from leadsla.ingest import Later
from leadsla.issues.run import evaluate_issues
from leadsla.pipelines.load import descriptor, discover_files, from_descriptor, load_files
from leadsla.pipelines.replay import Listing, list_once, replay_times
from leadsla.pipelines.summary import (
    TickSummary,
    later_descriptors,
    later_from_descriptors,
    tick_summary,
)
from leadsla.rules import RuleSet, load_rules
from leadsla.sql import run, scalar
from leadsla.store import Store, check_new_events, event_count, open_store, transaction

R = TypeVar("R")
D = TypeVar("D")
R_co = TypeVar("R_co", covariant=True)
D_co = TypeVar("D_co", covariant=True)


class Phases(Protocol[R_co, D_co]):
    """Where each phase of a tick runs. Only plain values pass between phases: ``discover``
    returns ``{"files": [descriptor], "later": [later descriptor]}``."""

    def discover(self, now: datetime) -> dict[str, Any]: ...

    def load(self, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]: ...

    def evaluate(self, now: datetime, loaded: bool) -> dict[str, Any]: ...

    def record(self, now: datetime, later: list[dict[str, str]]) -> R_co: ...

    def deliver(self, now: datetime) -> D_co: ...


@dataclass(frozen=True)
class TickRun(Generic[R, D]):
    """What each phase of one tick returned."""

    now: datetime
    files: list[dict[str, Any]]
    later: list[dict[str, str]]
    loaded: dict[str, Any]
    evaluated: dict[str, Any]
    recorded: R
    delivered: D


def nothing_loaded() -> dict[str, Any]:
    """The load counts when no file was discovered: the load phase (a database open and a
    rules load in the flow) is skipped on the common idle tick."""
    return {
        "files_loaded": 0,
        "files_failed": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "files": [],
    }


def run_phases(phases: Phases[R, D], now: datetime) -> TickRun[R, D]:
    """The tick's sequence, the only one: discover, load (only when something was found),
    evaluate, record, deliver. Delivery comes last and apart, so a dead mail server never
    holds up the decisions; what ``record`` reads excludes delivery outcomes anyway."""
    found = phases.discover(now)
    files: list[dict[str, Any]] = found["files"]
    loaded = phases.load(files, now) if files else nothing_loaded()
    evaluated = phases.evaluate(now, bool(files))
    recorded = phases.record(now, found["later"])
    delivered = phases.deliver(now)
    return TickRun(now, files, found["later"], loaded, evaluated, recorded, delivered)


def decide(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, *, loaded: bool = True
) -> dict[str, Any]:
    """The decision transaction's work: classify, assign and fire due steps for every open
    lead and issue, enqueue their messages (same transaction as the events) and log the tick."""
    first = event_count(con)
    res = evaluate(con, rules, now, loaded=loaded and _lead_rows_loaded(con, now))
    issues = evaluate_issues(con, rules, now)
    queued = enqueue(con, rules, now)  # the outbox: same transaction as the events
    if event_count(con) > first:
        check_new_events(con, first)  # each event id once: a repeat fails the transaction
    run(
        con,
        """
        INSERT INTO tick_log
        SELECT $now, $version,
               (SELECT count(*) FROM export_manifest WHERE recorded_at = $now
                  AND status = 'loaded'),
               (SELECT count(*) FROM export_manifest WHERE recorded_at = $now
                  AND status = 'failed'),
               (SELECT coalesce(sum(rows_loaded), 0) FROM export_manifest
                  WHERE recorded_at = $now),
               (SELECT coalesce(sum(rows_quarantined), 0) FROM export_manifest
                  WHERE recorded_at = $now),
               $step_events, $now
        """,
        {
            "now": now,
            "version": rules.version,
            "step_events": res.step_events + issues.escalations + issues.rejected,
        },
    )
    return {
        "classified": res.classified,
        "assigned": res.assigned,
        "step_events": res.step_events,
        "reassigned": res.reassigned,
        "rounds": res.rounds,
        "issues_validated": issues.validated,
        "issue_escalations": issues.escalations,
        "queued": queued,
    }


def _lead_rows_loaded(con: duckdb.DuckDBPyConnection, now: datetime) -> bool:
    """Whether the tick at ``now`` loaded a lead or activity row: when it loaded only issues
    (or only unchanged, duplicate or failed files), the lead side is as idle as on a tick that
    found nothing, and its evaluation returns at once unless a step is due."""
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM export_manifest WHERE recorded_at = $now "
            "AND status = 'loaded' AND entity IN ('leads', 'activities') AND rows_loaded > 0",
            {"now": now},
        )
    )


def _discovered(
    store: Store,
    rules: RuleSet,
    exports: str,
    now: datetime,
    env: Mapping[str, str] | None,
) -> dict[str, Any]:
    later: list[Later] = []
    files = [descriptor(f) for f in discover_files(store.con, rules, exports, now, env, later)]
    return {"files": files, "later": later_descriptors(later)}


def _loaded(
    store: Store, rules: RuleSet, files: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    results = load_files(store, [from_descriptor(d, rules) for d in files], now, rules)
    return {
        "files_loaded": sum(r["status"] == "loaded" for r in results),
        "files_failed": sum(r["status"] == "failed" for r in results),
        "rows_loaded": sum(r["rows_loaded"] for r in results),
        "rows_quarantined": sum(r["rows_quarantined"] for r in results),
        "files": results,
    }


# ---- the phases over paths: each opens and closes the database itself (the flow's tasks) ----


def discover_phase(
    *,
    rules_dir: Path,
    exports: str,
    db: Path,
    now: datetime,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``files``: export files at or before ``now`` that the manifest has not settled yet
    (database sources pulled first when ``env`` is given), as descriptors for the load phase;
    ``later``: the files left for a later tick, their export time being after ``now``."""
    rules = load_rules(rules_dir)
    with open_store(db) as store:
        return _discovered(store, rules, exports, now, env)


def load_phase(
    *, rules_dir: Path, db: Path, files: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """Load the discovered files, one transaction each; returns counts and per-file results."""
    rules = load_rules(rules_dir)
    with open_store(db) as store:
        register_rules(store.con, rules)
        return _loaded(store, rules, files, now)


def evaluate_phase(
    *, rules_dir: Path, db: Path, now: datetime, loaded: bool = True
) -> dict[str, Any]:
    """Classify, assign and fire due steps for every open lead and issue, and enqueue their
    messages, in one transaction."""
    rules = load_rules(rules_dir)
    with open_store(db) as store, transaction(store) as con:
        register_rules(con, rules)
        return decide(con, rules, now, loaded=loaded)


def record_phase(
    *, db: Path, now: datetime, later: list[dict[str, str]] | None = None
) -> TickSummary:
    """What the tick at ``now`` recorded, read back from the event log (the truth), not from
    what the earlier phases returned."""
    with open_store(db) as store:
        return tick_summary(store.con, now, later_from_descriptors(later or []))


def deliver_phase(*, rules_dir: Path, db: Path, now: datetime, channels: Senders) -> DeliveryResult:
    """Send what the outbox holds and is due, after the decision transaction (its own task in
    the flow, so a dead mail server never holds up a tick). Commits after every send."""
    rules = load_rules(rules_dir)
    with open_store(db) as store:
        return deliver(store, rules, channels, now, crm_dir=crm_dir(rules, db))


def crm_dir(rules: RuleSet, db: Path) -> Path:
    """CRM write-back files live beside the database (``notifications.yaml`` crm.folder)."""
    folder = rules.notifications.crm.folder if rules.notifications else "crm_outbox"
    return Path(db).parent / folder


# ---- the phases in one process over one open database (CLI, replays, demo) ------------------


class Ticker:
    """Ticks in one process over one open database: the same phases as the flow's, run by
    :func:`run_phases`, without a connection and a rules load per phase."""

    def __init__(
        self,
        *,
        rules_dir: Path,
        exports: str,
        db: Path,
        env: Mapping[str, str] | None = None,
        channels: Senders | None = None,
        listed_until: datetime | None = None,
    ) -> None:
        """``env`` (the process environment, passed in by the CLI) makes ticks live: database
        sources are pulled; replays leave it out and read only archived files. ``channels``
        (None: messages wait in the outbox) makes each tick deliver after deciding.
        ``listed_until`` (replays) lists the archived exports dated up to it once, instead of
        discovering them again at every tick (:class:`~leadsla.pipelines.replay.Listing`)."""
        self.rules = load_rules(rules_dir)
        self.channels = channels  # None: messages wait in the outbox
        self.delivered = DeliveryResult()
        self.db = Path(db)
        self.exports = exports
        self.env = env
        self.store = open_store(db)
        self._summary = True
        register_rules(self.store.con, self.rules)
        _ = self.rules.business_calendars  # pay the holidays import and expansion up front
        self.listing: Listing | None = None
        if listed_until is not None:
            self.listing = list_once(self.store.con, self.rules, exports, listed_until)

    def tick(self, now: datetime, *, summary: bool = True) -> TickSummary | None:
        """One tick at ``now``; its summary unless ``summary`` is false (replays skip it)."""
        self._summary = summary
        result = run_phases(self, now)
        drop_work_tables(self.store.con)
        return result.recorded

    # the Phases hook
    def discover(self, now: datetime) -> dict[str, Any]:
        if self.listing is not None:
            return {"files": [descriptor(f) for f in self.listing.take(now)], "later": []}
        return _discovered(self.store, self.rules, self.exports, now, self.env)

    def load(self, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
        return _loaded(self.store, self.rules, files, now)

    def evaluate(self, now: datetime, loaded: bool) -> dict[str, Any]:
        with transaction(self.store) as con:
            return decide(con, self.rules, now, loaded=loaded)

    def record(self, now: datetime, later: list[dict[str, str]]) -> TickSummary | None:
        if not self._summary:
            return None
        return tick_summary(self.store.con, now, later_from_descriptors(later))

    def deliver(self, now: datetime) -> DeliveryResult | None:
        if self.channels is None:
            return None
        res = deliver(
            self.store, self.rules, self.channels, now, crm_dir=crm_dir(self.rules, self.db)
        )
        self.delivered.sent += res.sent
        self.delivered.failed += res.failed
        self.delivered.dead += res.dead
        self.delivered.suppressed += res.suppressed
        self.delivered.deferred += res.deferred
        self.delivered.waiting = res.waiting
        self.delivered.crm_files += res.crm_files
        return res

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ticker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_tick(
    *,
    rules_dir: Path,
    exports: str,
    db: Path,
    now: datetime,
    env: Mapping[str, str] | None = None,
    channels: Senders | None = None,
) -> TickSummary:
    """Discover, load, evaluate, record and deliver (when a channel is configured) at ``now``."""
    with Ticker(rules_dir=rules_dir, exports=exports, db=db, env=env, channels=channels) as t:
        result = t.tick(now)
    assert result is not None
    return result


def replay(
    *,
    rules_dir: Path,
    exports: str,
    db: Path,
    start: datetime,
    end: datetime,
    every: timedelta | None = None,
    progress: Callable[[datetime, int], None] | None = None,
    channels: Senders | None = None,
) -> int:
    """Ticks from ``start`` to ``end`` (inclusive) over archived exports, in one process on one
    connection, in logical time (no sleeping): at ``start``, each export time and ``end``, or
    every ``every`` when a cadence is given (:func:`~leadsla.pipelines.replay.replay_times`);
    both record the same step events. The folder is listed once. ``progress`` is called after
    each tick with its time and number. Returns the number of ticks."""
    with Ticker(
        rules_dir=rules_dir, exports=exports, db=db, channels=channels, listed_until=end
    ) as t:
        assert t.listing is not None
        times = replay_times(t.listing.export_times(), start, end, every)
        for n, now in enumerate(times, 1):
            t.tick(now, summary=False)
            if progress:
                progress(now, n)
    return len(times)
