"""Read one export file into work tables, then type it: the two calls the tick makes per file.

:func:`read_file` materialises the rows that may change something as text (``raw_rows``) and
the records the parser could not use (``raw_rejects``); :func:`type_rows` types and checks
them into ``incoming`` and ``quarantine_rows``. Every record ends loaded, quarantined or
skipped as unchanged, and :class:`~leadsla.ingest.files.FileResult` counts add up."""

from __future__ import annotations

import gzip
import re
import tempfile
import zlib
from datetime import datetime
from pathlib import Path

import duckdb

from leadsla.ingest.canonical import canonicalise
from leadsla.ingest.csv_read import read_csv
from leadsla.ingest.discovery import local_path
from leadsla.ingest.files import BadFile, ExportFile, FileResult
from leadsla.ingest.history import keep_implied, read_once
from leadsla.ingest.jsonl import read_jsonl
from leadsla.ingest.mapping import check_columns
from leadsla.ingest.parquet import read_parquet
from leadsla.ingest.snapshot import keep_changed
from leadsla.rules.source_models import Source
from leadsla.sql import run, scalar


def read_file(con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source) -> FileResult:
    """Read one export into the temp tables ``raw_rows`` (the rows that may change something,
    as text) and ``raw_rejects``; status ``read``. Raises :class:`BadFile`.

    Call it on the tick's connection *outside* a transaction: it writes only temp tables, and a
    failed read (a file DuckDB cannot parse, a Windows-1252 file read again) then aborts nothing but
    itself. Snapshot rows whose mapped text is exactly what lead state already holds are
    skipped before any typing: most rows of a snapshot are unchanged, so a full export costs
    little more than reading it. :func:`type_rows` then types what was kept."""
    try:
        res, records = read_raw(con, f, source)
    except duckdb.Error as exc:
        raise BadFile(f"cannot read: {duck_reason(exc)}") from exc
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BadFile(f"not a valid gzip file ({type(exc).__name__})") from exc
    res.status = "read"
    res.records = records
    return res


def type_rows(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime, res: FileResult
) -> FileResult:
    """Type and validate what :func:`read_file` kept into ``incoming`` (canonical columns plus
    ``line`` and ``raw_hash``) and ``quarantine_rows``, inside the file's transaction: they are
    work tables (:data:`leadsla.store.WORK_SCHEMA`), built on both cores. Raises
    :class:`BadFile`; a DuckDB error has then aborted the transaction."""
    try:
        changed = int(scalar(con, "SELECT count(*) FROM raw_rows") or 0)
        good, bad = canonicalise(con, f, source, now)
    except duckdb.Error as exc:
        raise BadFile(f"cannot read: {duck_reason(exc)}") from exc
    res.status = "loaded"
    res.rows_loaded = good
    res.rows_skipped = res.records - changed
    res.rows_quarantined = bad
    res.rows_read = good + bad + res.rows_skipped
    return res


def duck_reason(exc: Exception) -> str:
    """The first line of a DuckDB error without any text it quotes from the file (a JSON or
    CSV error can quote the row it choked on, a customer's name and phone)."""
    line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    line = re.split(r"(?i)\b(?:input|original line|line):\s", line)[0]
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", line).strip()


def read_raw(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source
) -> tuple[FileResult, int]:
    """Materialise ``raw_rows`` (the rows that may change something, every column as text,
    with ``line``, ``rid`` and ``raw_hash``: see :func:`fingerprint`) and ``raw_rejects``
    (lines the parser could not use). Returns the result so far and the number of records."""
    if f.size == 0:
        raise BadFile("empty file (0 bytes)")
    with tempfile.TemporaryDirectory(prefix="leadsla-") as tmp:
        path = local_path(f.url, Path(tmp))
        if f.fmt == "csv" and source.format == "history":  # leadsla.ingest.history
            before = con_fields(con, f, source)
            res = read_once(
                con, path, source, lambda: read_csv(con, path, source, Path(tmp), before)
            )
            return res, keep_implied(con, f.url, source)
        if f.fmt == "csv":
            res, total = read_csv(con, path, source, Path(tmp), con_fields(con, f, source))
            return res, total
        # JSON lines and Parquet: ``raw_all`` (with ``line`` and ``raw``) first
        res = read_jsonl(con, path, Path(tmp)) if f.fmt == "jsonl" else read_parquet(con, path)
    cols = [r[0] for r in run(con, "DESCRIBE raw_all").fetchall()]
    res.fields = check_columns(
        cols, source, None if f.fmt == "jsonl" else con_fields(con, f, source)
    )
    total = int(scalar(con, "SELECT count(*) FROM raw_all") or 0)
    keep_changed(con, source, cols, "SELECT a.*, a.rowid AS rid FROM raw_all a", {})
    return res, total


def con_fields(con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source) -> list[str]:
    """The canonical fields the newest export of this source loaded before ``f`` carried
    (empty for its first)."""
    rows = con.execute(
        "SELECT fields FROM export_manifest WHERE source_id = ? AND status = 'loaded' "
        "AND fields IS NOT NULL AND export_at <= ? ORDER BY export_at DESC, recorded_at DESC "
        "LIMIT 1",
        [source.id, f.export_at],
    ).fetchall()
    return list(rows[0][0]) if rows else []
