"""One tick: discover exports, load them, evaluate every open lead and issue, enqueue the
messages, deliver (when a channel is configured), summarise what fired.

The phases are separate functions because the Prefect flow runs each as a task (each opens and
closes the database itself: no connection crosses a task boundary). ``run_tick`` runs them in
a row for the CLI and for replays. Each file loads in its own transaction, and the evaluation
(with the outbox rows it needs) is one more: a crash in between leaves loaded state whose
steps the next tick evaluates, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import fsspec

from leadsla import sqlsource
from leadsla.delivery.deliver import DeliveryResult, deliver
from leadsla.delivery.senders import Senders
from leadsla.engine.activities import apply_activities
from leadsla.engine.issue_intake import apply_issues
from leadsla.engine.issue_verdict import judge_issues
from leadsla.engine.leads import evaluate_leads as evaluate
from leadsla.engine.merge import QUARANTINE_EVENTS_SQL, apply_leads
from leadsla.engine.outbox import enqueue
from leadsla.engine.rule_tables import register_rules
from leadsla.engine.temp_tables import drop_work_tables
from leadsla.ingest import (
    BadFile,
    ExportFile,
    FileResult,
    Later,
    Unreadable,
    discover,
    read_file,
    stat_key,
    type_rows,
)
from leadsla.issues.run import evaluate_issues
from leadsla.rules import RuleSet, load_rules
from leadsla.sql import run
from leadsla.store import Store, check_new_events, event_count, open_store, transaction


@dataclass
class TickSummary:
    """What one tick did, for people (markdown) and the Prefect UI (rows)."""

    now: datetime
    files: list[dict[str, Any]] = field(default_factory=list)
    events_by_type: dict[str, int] = field(default_factory=dict)
    fired_rows: list[dict[str, Any]] = field(default_factory=list)
    new_events: int = 0
    #: files left for a later tick: their export time is after ``now``
    later: list[Later] = field(default_factory=list)

    @property
    def later_line(self) -> str | None:
        """One sentence on the files left for later, naming the first few; None if none."""
        if not self.later:
            return None
        first = ", ".join(
            f"{f.name} ({f.export_at.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            f"{', by its modification time' if f.export_at_from == 'mtime' else ''})"
            for f in self.later[:3]
        )
        more = f" and {len(self.later) - 3} more" if len(self.later) > 3 else ""
        return (
            f"{len(self.later)} file(s) left for a later tick, their export time being after "
            f"now: {first}{more}. A file's export time is the stamp in its name (e.g. "
            "leads_20261123T090500Z.csv), else its modification time."
        )

    @property
    def markdown(self) -> str:
        lines = [f"# leadsla tick at {self.now.isoformat()}", ""]
        if self.files:
            lines += ["| file | source | status | rows | quarantined |", "|---|---|---|---|---|"]
            lines += [
                f"| {f['name']} | {f.get('source_id') or '-'} | {f['status']} | "
                f"{f.get('rows_loaded', 0)} | {f.get('rows_quarantined', 0)} |"
                for f in self.files
            ]
        else:
            lines.append("No new export files.")
        if self.later_line:
            lines += ["", self.later_line]
        lines += ["", f"**{self.new_events} new events**", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(self.events_by_type.items())]
        return "\n".join(lines)


def _descriptor(f: ExportFile) -> dict[str, Any]:
    return {
        "url": f.url,
        "name": f.name,
        "source_id": f.source.id if f.source else None,
        "export_at": f.export_at.isoformat(),
        "export_at_from": f.export_at_from,
        "size": f.size,
        "checksum": f.checksum,
        "mtime": f.mtime,
        "problem": f.problem,
    }


def _from_descriptor(d: dict[str, Any], rules: RuleSet) -> ExportFile:
    by_id = {s.id: s for s in rules.sources}
    return ExportFile(
        url=d["url"],
        name=d["name"],
        source=by_id.get(d["source_id"]) if d["source_id"] else None,
        export_at=datetime.fromisoformat(d["export_at"]),
        export_at_from=d["export_at_from"],
        size=int(d["size"]),
        checksum=d["checksum"],
        mtime=d.get("mtime"),
        problem=d.get("problem"),
    )


def _settled(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, float | None, str]]:
    """Manifest entries by path: (size, mtime, checksum) of the newest settled version."""
    rows = con.execute(
        "SELECT path, size_bytes, mtime, checksum FROM export_manifest "
        "WHERE status NOT IN ('unmatched', 'unreadable') QUALIFY row_number() OVER "
        "(PARTITION BY path ORDER BY recorded_at DESC) = 1"
    ).fetchall()
    return {p: (int(s or 0), m, c) for p, s, m, c in rows}


def _discover(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    exports: str,
    now: datetime,
    env: Mapping[str, str] | None = None,
    later: list[Later] | None = None,
) -> list[ExportFile]:
    """Files to load (files dated after ``now`` go to ``later``). With ``env`` (a live tick,
    not a replay) database sources are pulled into snapshot files first; a failed pull is
    recorded in the manifest as a failed file."""
    if env is not None:
        for r in sqlsource.pull(rules.sources, exports, now, env):
            if r.status == "failed":
                run(
                    con,
                    "INSERT INTO export_manifest (path, checksum, source_id, entity, status, "
                    "reason, recorded_at) VALUES (?, '', ?, 'leads', 'failed', ?, ?)",
                    [f"sql:{r.source_id}", r.source_id, r.reason, now],
                )
    return discover(exports, rules.sources, now, known=_settled(con), later=later)


def _read_one(con: duckdb.DuckDBPyConnection, f: ExportFile) -> FileResult:
    """Read one file into temp tables, outside any transaction (see ``read_file``). A file
    that cannot be read now (not a regular file, gone, changed while read) is ``unreadable``:
    recorded with the reason and looked at again next tick."""
    source = f.source
    if f.problem is not None:
        return FileResult(status="unreadable", reason=f"{f.problem}; tried again next tick")
    if source is None:
        return FileResult(status="unmatched", reason="no source in sla_rules/sources matches")
    same = con.execute(
        "SELECT rows_read FROM export_manifest WHERE checksum = ? AND status = 'loaded' LIMIT 1",
        [f.checksum],
    ).fetchall()
    if same:  # every record of it is already loaded, quarantined or skipped: all unchanged
        rows = int(same[0][0] or 0)
        return FileResult(
            status="duplicate",
            reason="identical to an export already loaded",
            rows_read=rows,
            rows_skipped=rows,
        )
    try:
        before = stat_key(f.url)
    except Unreadable as exc:
        return FileResult(status="unreadable", reason=f"{exc}; tried again next tick")
    if before != (f.size, f.mtime):
        return FileResult(
            status="unreadable", reason="changed since it was listed; tried again next tick"
        )
    try:
        res = read_file(con, f, source)
    except BadFile as exc:
        res = FileResult(status="failed", reason=str(exc))
    except OSError as exc:  # vanished or unreadable between listing and reading
        res = FileResult(
            status="unreadable",
            reason=f"cannot be read ({type(exc).__name__}); tried again next tick",
        )
    try:
        after = stat_key(f.url)
    except Unreadable:
        after = None
    if after != before:
        return FileResult(
            status="unreadable", reason="changed while it was read; tried again next tick"
        )
    return res


def _apply_one(
    con: duckdb.DuckDBPyConnection,
    f: ExportFile,
    res: FileResult,
    now: datetime,
    rules: RuleSet | None = None,
) -> None:
    """Merge what ``_read_one`` read into state and the event log, and record the file. The
    issues a file changed are judged (valid or rejected) here, as of the file's export, so a
    version that a later file replaces before the next evaluation is judged all the same."""
    source = f.source
    first = event_count(con)
    if res.status == "loaded" and source is not None:
        run(con, "INSERT INTO quarantine SELECT * FROM quarantine_rows")
        if source.entity == "leads":
            res.rows_superseded = apply_leads(con, f, source, now)
        elif source.entity == "issues":
            res.rows_superseded = apply_issues(con, f, source, now)
            if rules is not None:
                judge_issues(con, rules, now)
        else:
            res.rows_superseded = apply_activities(con, f, source, now)
        run(
            con,
            QUARANTINE_EVENTS_SQL,
            {"file": f.url, "now": now, "export_at": f.export_at, "checksum": f.checksum},
        )
        if event_count(con) > first:
            check_new_events(con, first)  # each event id once, on the load path too
    run(
        con,
        "DELETE FROM export_manifest WHERE path = ? AND status IN ('unmatched', 'unreadable')",
        [f.url],
    )
    run(
        con,
        """
        INSERT INTO export_manifest (path, checksum, source_id, entity, export_at,
            export_at_from, size_bytes, mtime, status, reason, rows_read, rows_loaded,
            rows_quarantined, rows_superseded, footer_lines, recorded_at, rows_skipped,
            encoding, fields)
        VALUES ($path, $checksum, $source_id, $entity, $export_at, $export_at_from, $size,
            $mtime, $status, $reason, $rows_read, $rows_loaded, $rows_quarantined,
            $rows_superseded, $footer_lines, $now, $rows_skipped, $encoding, $fields)
        """,
        {
            "path": f.url,
            "checksum": f.checksum,
            "source_id": source.id if source else None,
            "entity": source.entity if source else None,
            "export_at": f.export_at,
            "export_at_from": f.export_at_from,
            "size": f.size,
            "mtime": f.mtime,
            "status": res.status,
            "reason": res.reason,
            "rows_read": res.rows_read,
            "rows_loaded": res.rows_loaded,
            "rows_quarantined": res.rows_quarantined,
            "rows_superseded": res.rows_superseded,
            "footer_lines": res.footer_lines,
            "now": now,
            "rows_skipped": res.rows_skipped,
            "encoding": res.encoding,
            "fields": res.fields,
        },
    )


def _load(
    store: Store,
    exports: list[ExportFile],
    now: datetime,
    rules: RuleSet | None = None,
) -> list[dict[str, Any]]:
    """Load files in export-time order, one transaction per file (read first, outside it, so
    an unreadable file aborts nothing; typed inside it, in work tables). A file whose rows
    cannot be typed is recorded as failed in a transaction of its own. A crash between files
    leaves the loaded ones recorded and the rest for the next tick. The rule tables must be
    registered on the connection."""
    out = []
    for f in sorted(exports, key=lambda f: (f.export_at, f.name)):
        res = _read_one(store.con, f)
        try:
            with transaction(store) as con:
                if res.status == "read" and f.source is not None:
                    res = type_rows(con, f, f.source, now, res)
                _apply_one(con, f, res, now, rules)
        except BadFile as exc:
            res = FileResult(status="failed", reason=str(exc))
            with transaction(store) as con:
                _apply_one(con, f, res, now, rules)
        out.append(
            {
                "name": f.name,
                "source_id": f.source.id if f.source else None,
                "status": res.status,
                "reason": res.reason,
                "rows_loaded": res.rows_loaded,
                "rows_quarantined": res.rows_quarantined,
                "rows_skipped": res.rows_skipped,
                "rows_superseded": res.rows_superseded,
            }
        )
    return out


def _evaluate(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, *, loaded: bool = True
) -> dict[str, Any]:
    first = event_count(con)
    res = evaluate(con, rules, now, loaded=loaded)
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


# ---- phases for the Prefect flow: each opens and closes the database itself ----------------


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
    ``later``: the files left for a later tick (see :func:`later_descriptors`)."""
    rules = load_rules(rules_dir)
    later: list[Later] = []
    with open_store(db) as store:
        files = [_descriptor(f) for f in _discover(store.con, rules, exports, now, env, later)]
    return {"files": files, "later": later_descriptors(later)}


def later_descriptors(later: list[Later]) -> list[dict[str, str]]:
    """Files left for later as plain values (they cross a Prefect task boundary)."""
    return [
        {"name": f.name, "export_at": f.export_at.isoformat(), "export_at_from": f.export_at_from}
        for f in later
    ]


def later_from_descriptors(rows: list[dict[str, str]]) -> list[Later]:
    return [
        Later(r["name"], datetime.fromisoformat(r["export_at"]), r["export_at_from"]) for r in rows
    ]


def load_phase(
    *, rules_dir: Path, db: Path, files: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """Load the discovered files, one transaction each; returns counts and per-file results."""
    rules = load_rules(rules_dir)
    exports = [_from_descriptor(d, rules) for d in files]
    with open_store(db) as store:
        register_rules(store.con, rules)
        results = _load(store, exports, now, rules)
    return {
        "files_loaded": sum(r["status"] == "loaded" for r in results),
        "files_failed": sum(r["status"] == "failed" for r in results),
        "rows_loaded": sum(r["rows_loaded"] for r in results),
        "rows_quarantined": sum(r["rows_quarantined"] for r in results),
        "files": results,
    }


def evaluate_phase(
    *, rules_dir: Path, db: Path, now: datetime, loaded: bool = True
) -> dict[str, Any]:
    """Classify, assign and fire due steps for every open lead and issue, and enqueue their
    messages, in one transaction."""
    rules = load_rules(rules_dir)
    with open_store(db) as store, transaction(store) as con:
        register_rules(con, rules)
        return _evaluate(con, rules, now, loaded=loaded)


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


def summarize(
    *, db: Path, now: datetime, later: list[Later] | None = None, limit: int = 200
) -> TickSummary:
    """Events recorded at this ``now`` (the tick's own), by type, plus the first rows."""
    with open_store(db) as store:
        return _summarize(store.con, now, later, limit)


def _summarize(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    later: list[Later] | None = None,
    limit: int = 200,
) -> TickSummary:
    by_type = dict(
        con.execute(
            # the tick's decisions; delivery outcomes have their own summary (DeliveryResult)
            "SELECT event_type, count(*) FROM sla_events WHERE recorded_at = ? "
            "AND event_type NOT LIKE 'notification_%' GROUP BY 1 ORDER BY 1",
            [now],
        ).fetchall()
    )
    cur = con.execute(
        """
        SELECT event_type, lead_id, strftime(occurred_at, '%Y-%m-%dT%H:%M:%SZ'),
               owner, target, level, rule_id, policy_id
        FROM sla_events WHERE recorded_at = ? AND event_type NOT LIKE 'notification_%'
          AND event_type NOT IN ('lead_received', 'intent_classified', 'lead_assigned')
        ORDER BY occurred_at, lead_id LIMIT ?
        """,
        [now, limit],
    )
    cols = [
        "event_type",
        "lead_id",
        "occurred_at",
        "owner",
        "target",
        "level",
        "rule_id",
        "policy_id",
    ]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    files = [
        dict(
            zip(
                [
                    "name",
                    "source_id",
                    "status",
                    "rows_loaded",
                    "rows_quarantined",
                    "rows_skipped",
                    "reason",
                ],
                r,
                strict=True,
            )
        )
        for r in con.execute(
            "SELECT path, source_id, status, rows_loaded, rows_quarantined, rows_skipped, "
            "reason "
            "FROM export_manifest WHERE recorded_at = ? ORDER BY export_at, path",
            [now],
        ).fetchall()
    ]
    for f in files:
        f["name"] = fsspec.core.url_to_fs(f["name"])[1].rsplit("/", 1)[-1]
    return TickSummary(
        now=now,
        files=files,
        events_by_type={k: int(v) for k, v in by_type.items()},
        fired_rows=rows,
        new_events=sum(int(v) for v in by_type.values()),
        later=later or [],
    )


class Ticker:
    """Ticks in one process over one open database: the CLI, replays and the demo use it, so a
    week of 5-minute ticks costs milliseconds each instead of a connection and a rules load."""

    def __init__(
        self,
        *,
        rules_dir: Path,
        exports: str,
        db: Path,
        env: Mapping[str, str] | None = None,
        channels: Senders | None = None,
    ) -> None:
        """``env`` (the process environment, passed in by the CLI) makes ticks live: database
        sources are pulled; replays leave it out and read only archived files. ``channels``
        (None: messages wait in the outbox) makes each tick deliver after deciding."""
        self.rules = load_rules(rules_dir)
        self.channels = channels  # None: messages wait in the outbox
        self.delivered = DeliveryResult()
        self.db = Path(db)
        self.exports = exports
        self.env = env
        self.store = open_store(db)
        register_rules(self.store.con, self.rules)
        _ = self.rules.business_calendars  # pay the holidays import and expansion up front

    def tick(self, now: datetime, *, summary: bool = True) -> TickSummary | None:
        later: list[Later] = []
        files = _discover(self.store.con, self.rules, self.exports, now, self.env, later)
        if files:
            _load(self.store, files, now, self.rules)
        with transaction(self.store) as con:
            _evaluate(con, self.rules, now, loaded=bool(files))
        if self.channels is not None:
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
        out = _summarize(self.store.con, now, later) if summary else None
        drop_work_tables(self.store.con)
        return out

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
    """Discover, load, evaluate, deliver (when a channel is configured) and summarise."""
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
    every: timedelta,
    progress: Callable[[datetime, int], None] | None = None,
    channels: Senders | None = None,
) -> int:
    """Ticks from ``start`` to ``end`` (inclusive) every ``every`` over archived exports, in
    one process on one connection: logical time, no sleeping. Returns the number of ticks."""
    ticks = 0
    with Ticker(rules_dir=rules_dir, exports=exports, db=db, channels=channels) as t:
        now = start
        while now <= end:
            t.tick(now, summary=False)
            ticks += 1
            if progress:
                progress(now, ticks)
            now += every
    return ticks
