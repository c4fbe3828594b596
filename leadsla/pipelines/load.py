"""The tick's load path: which export files are new, and each one read, typed and merged into
lead state and the event log, one transaction per file.

Files cross the Prefect task boundary as plain descriptors (:func:`descriptor`), so the flow's
discover and load tasks and the in-process tick use the same functions. Each file loads in its
own transaction: a crash between files leaves the loaded ones recorded and the rest for the next
tick, and an unreadable file aborts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb

from leadsla import sqlsource
from leadsla.engine import reclassify
from leadsla.engine.activities import apply_activities
from leadsla.engine.issue_intake import apply_issues
from leadsla.engine.issue_verdict import judge_issues
from leadsla.engine.merge import QUARANTINE_EVENTS_SQL, apply_leads
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
from leadsla.rules import RuleSet
from leadsla.sql import run
from leadsla.store import Store, check_new_events, event_count, transaction


def descriptor(f: ExportFile) -> dict[str, Any]:
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


def from_descriptor(d: dict[str, Any], rules: RuleSet) -> ExportFile:
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


def discover_files(
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
            reason=f"cannot be read ({type(exc).__name__}: {exc.strerror or exc}); "
            "tried again next tick",
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
            if rules is not None:
                reclassify.before_merge(con, rules)
            res.rows_superseded = apply_leads(con, f, source, now)
            if rules is not None:
                reclassify.after_merge(con, rules, f.export_at, now)
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


def load_files(
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
