"""Discover CRM exports, read them with DuckDB, map them to the canonical record, quarantine.

The rules of the road, from DESIGN.md: every file is recorded in ``export_manifest`` by path and
checksum (never read twice, never skipped; an identical re-export is a no-op), every row ends in
lead state or in ``quarantine`` with its file, line and reason, and a file that cannot be read at
all is recorded with the reason while the tick goes on.

Reading is DuckDB's (``read_csv`` / ``read_json_objects`` / ``read_parquet``): all columns as
text first, then one SQL projection casts and validates them, so a bad value in one row never
fails the file. Rule values (time zones, formats, status maps) are bound as parameters or
registered as tables; only column identifiers taken from the export's own header or the closed
canonical field list are spliced into SQL, always quoted.
"""

from __future__ import annotations

import contextlib
import fnmatch
import gzip
import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import fsspec
import pyarrow as pa
from duckdb.func import PythonUDFType

from leadsla.rules.models import ENTITY_FIELDS, NumberRange, Source
from leadsla.sql import run, scalar

TIMESTAMP_FIELDS = {"created_at", "first_response_at", "updated_at", "occurred_at", "raised_at",
                    "responded_at", "resolved_at"}  # fmt: skip
NUMBER_FIELDS = {"lead_score", "estimated_value"}
#: Identifiers: normalised (:func:`_normalise_id`) so that one id is one id whatever an exporter
#: or a hand edit did to it (a zero-width space, fullwidth digits, a trailing tab).
ID_FIELDS = {"lead_id", "issue_id", "activity_id", "owner", "actor", "raised_by"}
#: The id that names a record of each entity: two spellings of it in one file are reported.
KEY_FIELD = {"leads": "lead_id", "activities": "activity_id", "issues": "issue_id"}
#: Timestamps that cannot precede another of the same row (a response or an update before the
#: lead or issue existed): such a value is dropped with a warning and the row loads without it.
NOT_BEFORE: dict[str, dict[str, str]] = {
    "leads": {"first_response_at": "created_at", "updated_at": "created_at"},
    "issues": {"responded_at": "raised_at", "resolved_at": "raised_at"},
    "activities": {},
}
REQUIRED = {
    "leads": ("lead_id", "created_at"),
    "activities": ("activity_id", "lead_id", "occurred_at"),
    # an issue missing its lead or details is not quarantined: it is rejected back to the
    # raiser with the list of what to add (leadsla.issues), so only its identity is required
    "issues": ("issue_id", "raised_at"),
}
#: Columns the readers add beside the export's own (record number, position, fingerprint).
HELPER_COLS = {"line", "raw", "rid", "raw_hash"}
#: File endings (after an optional .gz) and the reader each one takes.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".parquet": "parquet"}  # fmt: skip

_STAMP = re.compile(
    r"(?P<d>\d{4}-?\d{2}-?\d{2})[T_ -]?"
    r"(?P<t>\d{2}[:-]?\d{2}(?:[:-]?\d{2})?)"
    r"(?P<z>Z|[+-]\d{2}:?\d{2})?"
)


@dataclass(frozen=True)
class ExportFile:
    """One export file as discovered: where it is, which source reads it, and its time."""

    url: str
    name: str
    source: Source | None
    export_at: datetime
    export_at_from: str
    size: int
    checksum: str
    mtime: float | None = None

    @property
    def fmt(self) -> str:
        name = self.name.lower().removesuffix(".gz")
        return next((kind for ext, kind in FORMATS.items() if name.endswith(ext)), "csv")


@dataclass
class FileResult:
    """What loading one file did; recorded in the manifest."""

    status: str
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    footer_lines: int = 0
    #: records the read found (typed rows, unchanged snapshot rows and bad rows alike)
    records: int = 0


class BadFile(Exception):
    """The whole file cannot be used (unreadable, undecodable, required columns missing)."""


class ExportsUnavailable(Exception):
    """The exports folder itself is missing or unreadable: one sentence naming it."""


@dataclass(frozen=True)
class Later:
    """A file left for a later tick because its export time is after ``now``."""

    name: str
    export_at: datetime
    export_at_from: str  # "filename" (its stamp) or "mtime" (no stamp: modification time)


def export_time_from_name(name: str) -> datetime | None:
    """Read the export time from a file name such as ``leads_20261123T090500Z.csv``.

    A stamp without a zone is taken as UTC: exporters that stamp names use UTC by convention,
    and guessing a local zone would shift every step judged against this export.
    """
    m = _STAMP.search(PurePosixPath(name).name)
    if not m:
        return None
    d = m.group("d").replace("-", "")
    t = m.group("t").replace(":", "").replace("-", "")
    t = t if len(t) == 6 else t + "00"
    z = m.group("z") or "Z"
    z = "+0000" if z == "Z" else z.replace(":", "")
    try:
        return datetime.strptime(d + t + z, "%Y%m%d%H%M%S%z").astimezone(UTC)
    except (ValueError, OverflowError):  # no such time, or beyond year 1..9999 in UTC
        return None


def source_for(name: str, sources: Iterable[Source]) -> Source | None:
    """The source whose glob matches the file name; specific globs beat canonical ones."""
    base = PurePosixPath(name).name
    for s in sources:  # snapshots of a database source (leadsla.sqlsource) carry its id
        if s.sql is not None and re.fullmatch(
            rf"{re.escape(s.id)}_\d{{8}}T\d{{6}}Z\.parquet", base
        ):
            return s
    matches = [s for s in sources if s.glob and fnmatch.fnmatch(base.lower(), s.glob.lower())]
    matches.sort(key=lambda s: (s.crm == "canonical", s.id))
    return matches[0] if matches else None


def _checksum(fs: Any, path: str) -> str:
    h = hashlib.sha256()  # hardware-accelerated here: twice as fast as blake2b on exports
    with fs.open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def discover(
    exports: str,
    sources: list[Source],
    now: datetime,
    known: dict[str, tuple[int, float | None, str]] | None = None,
    later: list[Later] | None = None,
) -> list[ExportFile]:
    """List export files in a folder or fsspec URL whose export time is at or before ``now``
    and that are not settled in the manifest yet.

    A file's export time is the stamp in its name (:func:`export_time_from_name`); a file with
    no stamp is dated by its modification time. Files dated after ``now`` are left for a later
    tick, and appended to ``later`` when given: a replay over archived exports must see exactly
    what a live tick at that moment would have seen. ``known`` maps settled paths to (size,
    mtime, checksum): a file with the same size and mtime is not hashed again (the no-change
    tick stays cheap); any other file is hashed and compared by checksum. Raises
    :class:`ExportsUnavailable` when the folder is missing or unreadable.
    """
    known = known or {}
    fs, root = fsspec.core.url_to_fs(exports)
    shown = str(Path(root).resolve()) if _is_local(fs) else exports
    if not fs.isdir(root):
        what = "is not a folder" if fs.exists(root) else "does not exist"
        raise ExportsUnavailable(
            f"exports folder {shown} {what}: create it, or point --exports (LEADSLA_EXPORTS, "
            "the deployment's `exports` parameter) at the folder the CRM exports land in"
        )
    if _is_local(fs) and not os.access(root, os.R_OK | os.X_OK):
        raise ExportsUnavailable(
            f"exports folder {shown} is not readable by this user: grant read access"
        )
    found: list[ExportFile] = []
    for info in fs.find(root, detail=True).values():
        path = info["name"]
        name = PurePosixPath(path).name
        if name.startswith(".") or not any(
            name.lower().removesuffix(".gz").endswith(e) for e in FORMATS
        ):
            continue
        url = path if _is_local(fs) else fs.unstrip_protocol(path)
        size = int(info.get("size") or 0)
        raw_mtime = info.get("mtime")
        mtime = float(raw_mtime) if isinstance(raw_mtime, int | float) else None
        prev = known.get(url)
        if prev is not None and prev[0] == size and prev[1] is not None and prev[1] == mtime:
            continue
        stamp = export_time_from_name(name)
        origin = "filename"
        if stamp is None:
            if isinstance(raw_mtime, datetime):
                stamp = raw_mtime if raw_mtime.tzinfo else raw_mtime.replace(tzinfo=UTC)
            elif mtime is not None:
                stamp = datetime.fromtimestamp(mtime, tz=UTC)
            elif info.get("created") is not None:
                stamp = datetime.fromtimestamp(float(info["created"]), tz=UTC)
            else:
                continue
            origin = "mtime"
        stamp = stamp.astimezone(UTC)
        if stamp > now:
            if later is not None:
                later.append(Later(name, stamp, origin))
            continue
        checksum = _checksum(fs, path)
        if prev is not None and prev[2] == checksum:
            continue
        found.append(
            ExportFile(
                url=url,
                name=name,
                source=source_for(name, sources),
                export_at=stamp,
                export_at_from=origin,
                size=size,
                checksum=checksum,
                mtime=mtime,
            )
        )
    found.sort(key=lambda f: (f.export_at, f.name))
    return found


def _is_local(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def _q(ident: str) -> str:
    """Quote an identifier (a header taken from the file itself)."""
    return '"' + ident.replace('"', '""') + '"'


def _local_path(url: str, tmpdir: Path) -> str:
    """DuckDB reads local files directly; anything else is copied down once via fsspec."""
    fs, path = fsspec.core.url_to_fs(url)
    if _is_local(fs):
        return str(path)
    target = tmpdir / PurePosixPath(path).name
    fs.get(path, str(target))
    return str(target)


def read_file(con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source) -> FileResult:
    """Read one export into the temp tables ``raw_rows`` (the rows that may change something,
    as text) and ``raw_rejects``; status ``read``. Raises :class:`BadFile`.

    Call it on the tick's connection *outside* a transaction: it writes only temp tables, and a
    failed read (a file DuckDB cannot parse, tried in another encoding) then aborts nothing but
    itself. Snapshot rows whose mapped text is exactly what lead state already holds are
    skipped before any typing: most rows of a snapshot are unchanged, so a full export costs
    little more than reading it. :func:`type_rows` then types what was kept."""
    try:
        res, records = read_raw(con, f, source)
    except duckdb.Error as exc:
        raise BadFile(f"cannot read: {str(exc).splitlines()[0]}") from exc
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
        raise BadFile(f"cannot read: {str(exc).splitlines()[0]}") from exc
    res.status = "loaded"
    res.rows_loaded = good + res.records - changed
    res.rows_quarantined = bad
    res.rows_read = res.rows_loaded + bad
    return res


def read_raw(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source
) -> tuple[FileResult, int]:
    """Materialise ``raw_rows`` (the rows that may change something, every column as text,
    with ``line``, ``rid`` and ``raw_hash``: see :func:`_fingerprint`) and ``raw_rejects``
    (lines the parser could not use). Returns the result so far and the number of records."""
    if f.size == 0:
        raise BadFile("empty file (0 bytes)")
    with tempfile.TemporaryDirectory(prefix="leadsla-") as tmp:
        path = _local_path(f.url, Path(tmp))
        if f.fmt == "csv":
            return _read_csv(con, path, source)
        # JSON lines and Parquet: ``raw_all`` (with ``line`` and ``raw``) first
        res = _read_jsonl(con, path) if f.fmt == "jsonl" else _read_parquet(con, path)
    total = int(scalar(con, "SELECT count(*) FROM raw_all") or 0)
    cols = [r[0] for r in run(con, "DESCRIBE raw_all").fetchall()]
    _keep_changed(con, source, cols, "SELECT a.*, a.rowid AS rid FROM raw_all a", {})
    return res, total


def _keep_changed(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    cols: list[str],
    numbered: str,
    params: dict[str, Any],
) -> None:
    """``raw_rows``: the rows of query ``numbered`` (the export's columns ``cols`` plus ``rid``)
    that may change something, with their ``raw_hash`` (:func:`_fingerprint`)."""
    fingerprint, skip = _fingerprint(source, cols)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_rows AS
        SELECT r.* FROM (SELECT n.*, {fingerprint} AS raw_hash FROM ({numbered}) n) r {skip}
        """,
        {**params, "fp": _settings_hash(source)},
    )


#: Options of every CSV read: all text, one dialect, rejected lines kept in reject tables
CSV_OPTIONS = (
    "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', "
    "encoding = $enc, store_rejects = true, null_padding = false, strict_mode = false"
)


def _count_csv(cur: duckdb.DuckDBPyConnection, path: str, enc: str) -> tuple[int, int]:
    """(records in the CSV, physical lines in the file), on ``cur``, a cursor of the tick's
    connection that this function closes.

    It runs on a second thread while the tick's connection reads the changed rows: that read
    numbers records with a streaming window, which keeps it on one core, so counting on the
    other core is nearly free, where counting inside that read would mean materialising every
    record. A cursor shares the tick's database instance (a new instance would cost 35 ms a
    file, most of a small export's load). The line count tells whether any record spans lines
    (see :func:`_csv_lines`)."""
    try:
        records = int(
            cur.execute(
                f"SELECT count(*) FROM read_csv($path, {CSV_OPTIONS})", {"path": path, "enc": enc}
            ).fetchall()[0][0]
        )
    finally:
        cur.close()
    newlines, last = 0, b"\n"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return records, newlines + (last != b"\n")


def _read_csv(con: duckdb.DuckDBPyConnection, path: str, source: Source) -> tuple[FileResult, int]:
    encodings = ["utf-8", "latin-1"] if source.encoding == "auto" else [source.encoding]
    last_error = ""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadsla-count") as pool:
        for enc in encodings:
            run(con, "DROP TABLE IF EXISTS reject_errors")
            run(con, "DROP TABLE IF EXISTS reject_scans")
            params = {"path": path, "enc": enc}
            try:
                cols = [
                    r[0]
                    for r in run(
                        con, f"DESCRIBE SELECT * FROM read_csv($path, {CSV_OPTIONS})", params
                    ).fetchall()
                ]
                counted = pool.submit(_count_csv, con.cursor(), path, enc)
                # Only the rows that may change something are kept: the unchanged 95% of a
                # snapshot never become a table. row_number() OVER () numbers records in file
                # order (a streaming window over the scan, which keeps insertion order); the
                # line assumes one line per record until _csv_lines says otherwise.
                _keep_changed(
                    con,
                    source,
                    cols,
                    "SELECT *, row_number() OVER () - 1 AS rid, rid + 2 AS line"
                    f" FROM read_csv($path, {CSV_OPTIONS})",
                    params,
                )
            except duckdb.Error as exc:
                last_error = str(exc).splitlines()[0]
                continue
            bad_enc = scalar(
                con,
                "SELECT count(*) FROM reject_errors WHERE error_type ILIKE '%ENCODING%' "
                "OR error_type ILIKE '%UNICODE%'",
            )
            if bad_enc and enc != encodings[-1]:
                last_error = "not valid UTF-8"
                continue
            break
        else:
            raise BadFile(f"cannot read as CSV ({', '.join(encodings)}): {last_error}")
        records, physical = counted.result()
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT line, any_value(csv_line) AS raw,
               string_agg(DISTINCT error_type, ', ') AS error_type,
               any_value(error_message) AS error_message,
               1 + length(any_value(csv_line))
                 - length(replace(any_value(csv_line), chr(10), '')) AS size
        FROM reject_errors GROUP BY line ORDER BY line
        """,
    )
    rejected = int(scalar(con, "SELECT coalesce(sum(size), 0) FROM raw_rejects") or 0)
    # every record on a line of its own (no quoted newline, no blank line): line = number + 2
    one_line_each = physical == 1 + records + rejected
    footer = 0
    if source.footer_regex:
        pattern = re.compile(source.footer_regex)
        rows = run(con, "SELECT line, raw, size FROM raw_rejects").fetchall()
        footer_lines = [
            ln for ln, raw, _ in rows if raw is not None and pattern.search(raw.strip())
        ]
        if footer_lines:
            # everything from the first furniture line on is the footer (blank lines included)
            first = min(footer_lines)
            footer = sum(int(size) for ln, _, size in rows if ln >= first)
            run(con, "DELETE FROM raw_rejects WHERE line >= ?", [first])
    # the read numbered lines as if every record took one and none was rejected
    if not one_line_each or rejected:
        _csv_lines(con, None if one_line_each else (path, enc, cols))
    return FileResult(status="read", footer_lines=footer), records


def _csv_lines(con: duckdb.DuckDBPyConnection, reread: tuple[str, str, list[str]] | None) -> None:
    """Physical line numbers for the rows kept in ``raw_rows`` (by ``rid``, the number of the
    record among the parsed ones) and for ``raw_rejects``.

    DuckDB numbers a rejected record by its place among all records (as if each took one line)
    and parsed ones not at all, so both are placed on one axis first: a record's *ordinal* is
    its place among all records, parsed or rejected. Its line is then the ordinal, plus two
    (the header, counting from one), plus the extra lines every earlier record spanned. When
    every record sits on one line (``reread`` is None, see :func:`_read_csv`) there are no
    extra lines; otherwise the file (``reread``: path, encoding, columns) is read once more
    for the parsed records that span lines (rejected ones carry their own text)."""
    spans = "SELECT NULL::BIGINT AS rid, NULL::BIGINT AS nl WHERE false"
    if reread is not None:
        path, enc, cols = reread
        nl = " + ".join(
            f"coalesce(length({_q(c)}) - length(replace({_q(c)}, chr(10), '')), 0)" for c in cols
        )
        run(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE raw_spans AS
            SELECT rid, nl FROM (
                SELECT row_number() OVER () - 1 AS rid, {nl or "0"} AS nl
                FROM read_csv($path, {CSV_OPTIONS})
            ) WHERE nl > 0
            """,
            {"path": path, "enc": enc},
        )
        spans = "SELECT rid, nl FROM raw_spans"
    # the k-th rejected record (by line) follows ``good_before`` parsed ones: a parsed record
    # ``rid`` has as many rejected ones before it as the last of those with good_before <= rid
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejk AS
        SELECT good_before, max(k) AS k FROM (
            SELECT line - 2 - (row_number() OVER (ORDER BY line) - 1) AS good_before,
                   row_number() OVER (ORDER BY line) AS k
            FROM raw_rejects)
        GROUP BY good_before
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_extra AS
        SELECT o, sum(extra) OVER (ORDER BY o) AS cum FROM (
            SELECT s.rid + coalesce(r.k, 0) AS o, s.nl AS extra
            FROM ({spans}) s ASOF LEFT JOIN raw_rejk r ON s.rid >= r.good_before
            UNION ALL
            SELECT line - 2, size - 1 FROM raw_rejects WHERE size > 1)
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rows AS
        WITH k AS (
            SELECT k.*, k.rid + coalesce(r.k, 0) AS o
            FROM raw_rows k ASOF LEFT JOIN raw_rejk r ON k.rid >= r.good_before
        )
        SELECT k.* EXCLUDE (o, line), k.o + 2 + coalesce(e.cum, 0) AS line
        FROM k ASOF LEFT JOIN raw_extra e ON k.o > e.o
        ORDER BY k.rid
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT r.* REPLACE (r.line + coalesce(e.cum, 0) AS line)
        FROM raw_rejects r ASOF LEFT JOIN raw_extra e ON r.line - 2 > e.o
        ORDER BY r.line
        """,
    )


def _settings_hash(source: Source) -> str:
    """The source's settings, folded into every row fingerprint: other mappings, other rows."""
    return hashlib.blake2b(source.model_dump_json().encode(), digest_size=8).hexdigest()


def _fingerprint(source: Source, cols: list[str]) -> tuple[str, str]:
    """SQL of a row's ``raw_hash`` (over the export's own text of every mapped column and
    parameter ``$fp``, :func:`_settings_hash`) and, for leads, the anti-join that drops a row
    whose fingerprint lead state already holds: a snapshot row nobody changed."""
    headers = set(cols) - {"line", "raw"}
    fields = ENTITY_FIELDS[source.entity]
    # the export's own text of every mapped column, untrimmed: hashing it costs less than the
    # typed values, and a row that differs only in whitespace merely takes the slow path
    mapped: list[str] = []
    for fld in fields:
        names = source.columns.get(fld, fld)
        mapped += [n for n in ([names] if isinstance(names, str) else names) if n in headers]
    lead_id = _field_expr("lead_id", source, headers)
    fingerprint = f"hash($fp, {', '.join(_q(c) for c in dict.fromkeys(mapped))})"
    skip = ""
    if source.entity == "leads" and lead_id is not None:
        # the fingerprint covers the lead id's own text, so an equal 64-bit hash is the same
        # lead's same row (a collision between different rows is ~1 in 10^13 at a million
        # leads); joining on the integer alone spares hashing a million lead ids every tick
        skip = "ANTI JOIN lead_state s ON s.row_hash = r.raw_hash"
    return fingerprint, skip


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: str) -> FileResult:
    try:
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE raw_json AS
            SELECT row_number() OVER () AS line, json
            FROM read_json_objects($path, format = 'newline_delimited', ignore_errors = true)
            """,
            {"path": path},
        )
    except duckdb.Error as exc:
        raise BadFile(f"cannot read as JSON lines: {str(exc).splitlines()[0]}") from exc
    keys = [
        r[0]
        for r in run(
            con, "SELECT DISTINCT unnest(json_keys(json)) FROM raw_json WHERE json IS NOT NULL"
        ).fetchall()
    ]
    sel = ", ".join(f"json_extract_string(json, $k{i}) AS {_q(k)}" for i, k in enumerate(keys))
    params = {f"k{i}": "$." + '"' + k.replace('"', '\\"') + '"' for i, k in enumerate(keys)}
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_all AS
        SELECT {sel + "," if sel else ""} line, CAST(json AS VARCHAR) AS raw
        FROM raw_json WHERE json IS NOT NULL
        """,
        params,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT line, NULL::VARCHAR AS raw, 'INVALID JSON' AS error_type,
               'not a JSON object' AS error_message, 1 AS size
        FROM raw_json WHERE json IS NULL
        """,
    )
    run(con, "DROP TABLE raw_json")
    return FileResult(status="read")


def _read_parquet(con: duckdb.DuckDBPyConnection, path: str) -> FileResult:
    try:
        run(
            con,
            """
            CREATE OR REPLACE TEMP TABLE raw_all AS
            SELECT COLUMNS(*)::VARCHAR, row_number() OVER () AS line
            FROM read_parquet($path)
            """,
            {"path": path},
        )
    except duckdb.Error as exc:
        raise BadFile(f"cannot read as Parquet: {str(exc).splitlines()[0]}") from exc
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE raw_rejects AS SELECT NULL::BIGINT AS line, "
        "NULL::VARCHAR AS raw, NULL::VARCHAR AS error_type, NULL::VARCHAR AS error_message, "
        "1 AS size WHERE false",
    )
    return FileResult(status="read")


def _text_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """SQL of one canonical field's text from the export's own columns, or None if absent."""
    mapped = source.columns.get(field)
    names = [field] if mapped is None else [mapped] if isinstance(mapped, str) else list(mapped)
    if any(n not in headers for n in names):
        return None
    if len(names) == 1:
        return f"nullif(trim({_q(names[0])}), '')"
    parts = ", ".join(f"nullif(trim({_q(n)}), '')" for n in names)
    return f"nullif(concat_ws(' ', {parts}), '')"


def _field_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """SQL for one canonical field from the export's own columns, or None if absent.
    Identifiers come out normalised (``lsla_id``, :data:`VALUE_MACROS`)."""
    text = _text_expr(field, source, headers)
    return f"lsla_id({text})" if text is not None and field in ID_FIELDS else text


def _normalise_id(value: str) -> str:
    """An identifier as one id: control and format characters (zero-width spaces and joiners,
    word joiner, BOM, bidi marks, soft hyphen) removed, Unicode NFKC (fullwidth ``Ｌ１`` is
    ``L1``), surrounding white space stripped."""
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))
    return unicodedata.normalize("NFKC", kept).strip()


def _nfkc_udf(values: pa.Array) -> pa.Array:
    return pa.array(
        [None if v is None else _normalise_id(v) for v in values.to_pylist()], pa.string()
    )


def _ascii_udf(values: pa.Array) -> pa.Array:
    """A value shown with its invisible characters escaped (``'L1\\u200b'``), for reasons."""
    return pa.array([None if v is None else ascii(v) for v in values.to_pylist()], pa.string())


def _register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """The two Python functions the value macros call, once per connection. SQL calls
    ``lsla_nfkc`` only for ids that are not plain printable ASCII (a few in a million), so it
    costs the load nothing measurable; ``lsla_ascii`` only for reported collisions."""
    for name, fn in (("lsla_nfkc", _nfkc_udf), ("lsla_ascii", _ascii_udf)):
        # a second registration on the same connection raises: it is already there
        with contextlib.suppress(duckdb.NotImplementedException):
            con.create_function(
                name, fn, ["varchar"], "varchar", type=PythonUDFType.ARROW, side_effects=False
            )


#: The common shapes, matched in full and cast directly: ISO 8601 without a zone (read in the
#: source's zone), and with ``Z`` or an offset within -14:00..+14:00 (an instant).
ISO_NAIVE = r"\d{4}-\d{1,2}-\d{1,2}(?:(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?)?"
ISO_ZONED = (
    r"\d{4}-\d{1,2}-\d{1,2}(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?"
    r"(?:Z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?)"
)
#: The value macros of one SQL projection (:func:`canonicalise`). Timestamps: ``lsla_split``
#: cuts a value into the date and time, a zone word and an offset at its end (only after a
#: time); ``lsla_local`` reads the date and time strictly (the source's strptime format, ISO
#: 8601 with an optional AM/PM; DuckDB's own cast alone would drop anything after the time);
#: ``lsla_offmin`` reads an offset as minutes (NULL when it is no UTC offset). Numbers:
#: ``lsla_num`` reads a sign, an optional currency symbol or code, digits with optional
#: thousands separators, a fraction, an exponent and an optional percent sign, nothing else.
VALUE_MACROS = r"""
CREATE OR REPLACE TEMP MACRO lsla_id(x) AS
    nullif(CASE WHEN regexp_matches(x, '[^\x20-\x7e]') THEN lsla_nfkc(x) ELSE x END, '');
CREATE OR REPLACE TEMP MACRO lsla_split(x) AS regexp_extract(x,
    '^(.*?(?:\d:\d\d|T\d{4,6})(?:\.\d+)?(?:\s*[AaPp]\.?[Mm]\b\.?)?)\s*([A-Za-z][A-Za-z_/]*)?\s*'
    '([+-]\d{1,2}(?::?\d\d)?)?$', ['body', 'word', 'offset']);
CREATE OR REPLACE TEMP MACRO lsla_zone(m) AS
    CASE WHEN m.body = '' OR (m.word = '' AND m.offset = '') THEN 'naive'
         WHEN NOT regexp_full_match(m.word, '(?i)(?:z|utc|gmt|ut)?') THEN 'word'
         WHEN lsla_offmin(m.offset) IS NULL THEN 'offset'
         ELSE 'known' END;
CREATE OR REPLACE TEMP MACRO lsla_hm(h, m) AS CASE WHEN h <= 14 AND m < 60 THEN h * 60 + m END;
CREATE OR REPLACE TEMP MACRO lsla_offmin(o) AS
    CASE WHEN o = '' THEN 0
         ELSE CASE WHEN left(o, 1) = '-' THEN -1 ELSE 1 END * lsla_hm(
            CAST(regexp_extract(o, '^.(\d{1,2}?):?(\d\d)?$', 1) AS INTEGER),
            coalesce(TRY_CAST(regexp_extract(o, '^.(\d{1,2}?):?(\d\d)?$', 2) AS INTEGER), 0))
    END;
CREATE OR REPLACE TEMP MACRO lsla_local(b, fmt) AS coalesce(
    CASE WHEN fmt IS NOT NULL THEN try_strptime(b, fmt) END,
    CASE WHEN regexp_full_match(b,
              '-?\d{4,6}-\d{1,2}-\d{1,2}(?:(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?)?')
         THEN TRY_CAST(b AS TIMESTAMP)
         WHEN regexp_full_match(b,
              '-?\d{4,6}-\d{1,2}-\d{1,2}(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?'
              '\s*[AaPp]\.?[Mm]\b\.?')
         THEN lsla_ampm(TRY_CAST(regexp_extract(b, '^(.*?\d)\s*[AaPp]', 1) AS TIMESTAMP),
                        lower(regexp_extract(b, '([AaPp])\.?[Mm]\.?$', 1)))
    END);
CREATE OR REPLACE TEMP MACRO lsla_ampm(t, p) AS
    CASE WHEN hour(t) BETWEEN 1 AND 12 THEN t + to_hours(
        CASE WHEN p = 'p' AND hour(t) < 12 THEN 12 WHEN p = 'a' AND hour(t) = 12 THEN -12
             ELSE 0 END) END;
CREATE OR REPLACE TEMP MACRO lsla_num_parts(x) AS regexp_extract(x,
    '^([-+]?)\s*(?:[A-Z]{3}\s*|[$€£₹¥]\s*)?'
    '([-+]?(?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?)'
    '\s*(?:%|[A-Z]{3})?$', ['sign', 'digits']);
CREATE OR REPLACE TEMP MACRO lsla_num(m) AS
    CASE WHEN regexp_matches(m.digits, '^[-+]?[.]?\d')
         THEN TRY_CAST(m.sign || replace(m.digits, ',', '') AS DOUBLE) END;
"""


def canonicalise(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> tuple[int, int]:
    """Turn ``raw_rows`` into the typed ``incoming`` table and quarantine what cannot be used.

    Returns (rows loaded, rows quarantined). Raises :class:`BadFile` when a required column is
    not in the export at all.

    One SQL projection types, maps and checks every row (no Python per row):

    - timestamps are read with their zone (``Z``, ``UTC``, ``GMT``, an offset, ``UTC+5:30``;
      none: the source's zone) and must lie in the source's ``timestamp_bounds``; another
      word after the time (``PST``, ``IST``) or a value outside the bounds refuses the row;
    - a response or update dated before the lead's (issue's) creation is dropped with a
      ``loaded_without_value`` warning: the row loads without it, so it never counts as met;
    - numbers must be finite and in ``number_bounds``; otherwise they are dropped with a
      warning, as unreadable ones are;
    - identifiers are normalised (:func:`_normalise_id`) and two spellings of one id in one
      file are reported: the rows with the later spelling are quarantined.
    """
    entity = source.entity
    fields = ENTITY_FIELDS[entity]
    headers = {r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()} - HELPER_COLS
    exprs = {fld: _field_expr(fld, source, headers) for fld in fields}
    missing = [fld for fld in REQUIRED[entity] if exprs[fld] is None]
    if missing:
        wanted = [
            f"{m} (header {source.columns[m]!r})" if m in source.columns else m for m in missing
        ]
        raise BadFile(
            f"required columns missing: {', '.join(wanted)}; the file has: "
            f"{', '.join(sorted(headers)) or 'no header'}"
        )
    _register_udfs(con)
    run(con, VALUE_MACROS)
    bounds = source.timestamp_bounds
    earliest = datetime.combine(bounds.earliest, time(), UTC)
    after = timedelta(minutes=bounds.minutes_after_export)
    latest = f.export_at + after
    params: dict[str, Any] = {
        "tz": source.timezone,
        "fmt": source.datetime_format,
        "earliest": earliest,
        "latest": latest,
        # wall-clock times outside these cannot be in bounds in any zone (offsets are at most
        # 14 hours): converting them is skipped, so no year 0001 or 294247 reaches the zone
        # arithmetic
        "guard_lo": (earliest - timedelta(days=1)).replace(tzinfo=None),
        "guard_hi": (latest.astimezone(UTC) + timedelta(days=1)).replace(tzinfo=None),
        "earliest_text": earliest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "export_text": f.export_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "after_text": f"{bounds.minutes_after_export:g}",
    }
    key = KEY_FIELD[entity]
    key_text = _text_expr(key, source, headers) or "NULL::VARCHAR"
    # the key's own spelling where it is not plain ASCII (see _report_collisions)
    sel_a = [f"CASE WHEN regexp_matches({key_text}, '[^\\x20-\\x7e]') THEN {key_text} END"
             f" AS {key}__shape"]  # fmt: skip
    # stages: a) each field's text; b) its shape; c) the parts of an unusual timestamp;
    # d) its wall-clock time and zone; t) typed and bounded. Most values take a fast path: an
    # ISO 8601 shape matched in full (cheap) is cast directly, the rest is cut into parts
    stages: dict[str, list[str]] = {"b": [], "c": [], "d": [], "t": []}
    helpers = [f"{key}__shape"]
    checks: list[str] = []
    warns: list[str] = []
    for fld in fields:
        e = exprs[fld] or "NULL::VARCHAR"
        if fld in TIMESTAMP_FIELDS:
            sel_a.append(f"{e} AS {fld}__raw")
            stages["b"].append(f"""CASE WHEN {fld}__raw IS NULL THEN NULL
                WHEN $fmt IS NULL AND regexp_full_match({fld}__raw, '{ISO_NAIVE}') THEN 'naive'
                WHEN regexp_full_match({fld}__raw, '{ISO_ZONED}') THEN 'instant'
                ELSE 'other' END AS {fld}__kind""")
            stages["c"].append(
                f"CASE WHEN {fld}__kind = 'other' THEN lsla_split({fld}__raw) END AS {fld}__m"
            )
            stages["d"] += [
                f"CASE {fld}__kind WHEN 'other' THEN lsla_zone({fld}__m) ELSE {fld}__kind END"
                f" AS {fld}__zone",
                f"""CASE {fld}__kind WHEN 'naive' THEN TRY_CAST({fld}__raw AS TIMESTAMP)
                    WHEN 'instant' THEN timezone('UTC', TRY_CAST({fld}__raw AS TIMESTAMPTZ))
                    ELSE lsla_local(CASE WHEN {fld}__m.body = '' THEN {fld}__raw
                                         ELSE {fld}__m.body END, $fmt) END AS {fld}__local""",
            ]
            stages["t"].append(
                f"CASE WHEN {fld}__local BETWEEN $guard_lo AND $guard_hi THEN"
                f" CASE {fld}__zone WHEN 'naive' THEN timezone($tz, {fld}__local)"
                f" WHEN 'instant' THEN timezone('UTC', {fld}__local)"
                f" WHEN 'known' THEN timezone('UTC', {fld}__local)"
                f" - to_minutes(lsla_offmin({fld}__m.offset)) END END AS {fld}"
            )
            helpers += [f"{fld}__kind", f"{fld}__m", f"{fld}__local", f"{fld}__zone"]
            checks.append(f"""CASE WHEN {fld}__raw IS NULL THEN NULL
                WHEN {fld}__zone = 'word' THEN '{fld}: the zone ''' || left({fld}__m.word, 12)
                    || ''' after the time is not read (abbreviations such as PST, IST or CST are'
                    || ' ambiguous); give Z, UTC, GMT or an offset such as +05:30'
                WHEN {fld}__zone = 'offset' THEN '{fld}: ''' || {fld}__m.offset
                    || ''' is not a UTC offset (-14:00 to +14:00)'
                WHEN {fld}__local IS NULL
                    THEN '{fld}: cannot read ''' || {fld}__raw || ''' as a timestamp'
                WHEN {fld}__local < $guard_lo OR {fld} < $earliest
                    THEN '{fld}: ''' || {fld}__raw || ''' is before ' || $earliest_text
                    || ', the earliest plausible time (timestamp_bounds.earliest)'
                WHEN {fld}__local > $guard_hi OR {fld} > $latest
                    THEN '{fld}: ''' || {fld}__raw || ''' is after the export time '
                    || $export_text || ' by more than ' || $after_text
                    || ' minutes (a future timestamp; timestamp_bounds.minutes_after_export)'
            END""")
        elif fld in NUMBER_FIELDS:
            rng: NumberRange = getattr(source.number_bounds, fld)
            sel_a.append(f"{e} AS {fld}__raw")
            stages["b"].append(
                f"CASE WHEN regexp_full_match({fld}__raw, '[-+]?\\d+(?:\\.\\d+)?')"
                f" THEN TRY_CAST({fld}__raw AS DOUBLE)"
                f" ELSE lsla_num(lsla_num_parts({fld}__raw)) END AS {fld}__num"
            )
            stages["t"].append(
                f"CASE WHEN isfinite({fld}__num) AND {fld}__num BETWEEN ${fld}_min AND"
                f" ${fld}_max THEN {fld}__num END AS {fld}"
            )
            params |= {f"{fld}_min": rng.min, f"{fld}_max": rng.max,
                       f"{fld}_range": f"from {rng.min:,.15g} to {rng.max:,.15g}"}  # fmt: skip
            helpers.append(f"{fld}__num")
            warns.append(f"""CASE
                WHEN {fld}__raw IS NOT NULL AND {fld}__num IS NULL THEN '{fld}: cannot read '''
                    || {fld}__raw || ''' as a number; loaded without it'
                WHEN {fld}__num IS NOT NULL AND {fld} IS NULL THEN '{fld}: ''' || {fld}__raw
                    || ''' is not a finite number ' || ${fld}_range
                    || ' (number_bounds.{fld}); loaded without it'
            END""")
        else:
            sel_a.append(f"{e} AS {fld}")
    for fld in REQUIRED[entity]:
        checks.insert(
            0,
            f"CASE WHEN {fld}{'__raw' if fld in TIMESTAMP_FIELDS else ''} IS NULL "
            f"THEN '{fld} is empty' END",
        )
    # a response or update before the record existed: dropped with a warning
    drops: list[str] = []
    for fld, origin in NOT_BEFORE[entity].items():
        warns.append(
            f"CASE WHEN {fld} < {origin} THEN '{fld}: ''' || {fld}__raw || ''' is before "
            f"{origin} ''' || {origin}__raw || '''; loaded without it' END"
        )
        drops.append(f"CASE WHEN {fld} < {origin} THEN NULL ELSE {fld} END AS {fld}")
    status_check = ""
    if entity == "leads":
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE status_map AS "
            "SELECT * FROM (VALUES (NULL::VARCHAR, NULL::VARCHAR)) t(crm_status, status_class) "
            "WHERE false",
        )
        if source.status_map:
            con.register(
                "status_map_arrow",
                pa.table(
                    {
                        "crm_status": [k.strip().lower() for k in source.status_map],
                        "status_class": list(source.status_map.values()),
                    }
                ),
            )
            run(con, "INSERT INTO status_map SELECT * FROM status_map_arrow")
            con.unregister("status_map_arrow")
        if source.unknown_status == "quarantine":
            status_check = (
                ", CASE WHEN status IS NOT NULL AND status_class IS NULL THEN "
                "'status: ''' || status || ''' is not in the source''s status_map' END"
            )
    reasons = f"list_filter([{', '.join(checks)}{status_check}], lambda r: r IS NOT NULL)"
    warn = (
        f"list_filter([{', '.join(warns)}], lambda r: r IS NOT NULL)" if warns else "[]::VARCHAR[]"
    )
    status_join = (
        "LEFT JOIN status_map m ON m.crm_status = lower(trim(t.status))"
        if entity == "leads"
        else ""
    )
    status_col = (
        f", coalesce(m.status_class, "
        f"{'NULL' if source.unknown_status == 'quarantine' else repr(source.unknown_status)}, "
        "CASE WHEN t.status IS NULL THEN 'open' END) AS status_class"
        if entity == "leads"
        else ""
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.checked AS
        WITH a AS (SELECT line, raw_hash, {", ".join(sel_a)} FROM raw_rows),
        b AS (SELECT *{"".join(", " + x for x in stages["b"])} FROM a),
        c AS (SELECT *{"".join(", " + x for x in stages["c"])} FROM b),
        d AS (SELECT *{"".join(", " + x for x in stages["d"])} FROM c),
        t AS (SELECT *{"".join(", " + x for x in stages["t"])} FROM d),
        mapped AS (SELECT t.* {status_col} FROM t {status_join}),
        v AS (SELECT *, {reasons} AS reasons, {warn} AS warnings FROM mapped)
        SELECT * EXCLUDE ({", ".join(h for h in helpers if h != f"{key}__shape")})
            {f"REPLACE ({', '.join(drops)})" if drops else ""}
        FROM v
        """,
        params,
    )
    _report_collisions(con, key)
    # the raw row (as JSON of the export's own columns) is built only for rows that need it
    all_cols = [r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()]
    raw_expr = (
        "r.raw"
        if "raw" in all_cols
        else "CAST(to_json(struct_pack("
        + ", ".join(f"{_q(c)} := r.{_q(c)}" for c in all_cols if c not in HELPER_COLS)
        + ")) AS VARCHAR)"
    )
    quarantine_sql = f"""
        CREATE OR REPLACE TABLE work.quarantine_rows AS
        SELECT $source_id AS source_id, $file AS file, CAST(c.line AS BIGINT) AS line,
               {raw_expr} AS raw,
               array_to_string(CASE WHEN len(c.reasons) > 0 THEN c.reasons
                                    ELSE c.warnings END, '; ') AS reason,
               CASE WHEN len(c.reasons) > 0 THEN 'rejected' ELSE 'loaded_without_value' END
                   AS action,
               $now AS recorded_at
        FROM checked c JOIN raw_rows r USING (line)
        WHERE len(c.reasons) > 0 OR len(c.warnings) > 0
        UNION ALL
        SELECT $source_id, $file, line, raw,
               coalesce(error_type, 'UNREADABLE') || ': ' || coalesce(error_message, ''),
               'rejected', $now
        FROM raw_rejects
    """
    run(con, quarantine_sql, {"source_id": source.id, "file": f.url, "now": now})
    bad = scalar(
        con,
        "SELECT (SELECT count(*) FROM checked WHERE len(reasons) > 0) "
        "+ (SELECT count(*) FROM raw_rejects)",
    )
    run(
        con,
        f"""
        CREATE OR REPLACE VIEW work.incoming AS
        SELECT * EXCLUDE (reasons, warnings, {key}__shape) FROM checked WHERE len(reasons) = 0
        """,
    )
    good = scalar(con, "SELECT count(*) FROM incoming")
    return int(good or 0), int(bad or 0)


def _report_collisions(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Two spellings of one id in one file (``L1`` and ``L1`` with a zero-width space, or
    fullwidth ``Ｌ１``) are one record after normalisation: the rows with the first spelling
    (by line) load, the rows with any other spelling are quarantined naming both. Only ids
    that were not plain ASCII can collide, so a file without any costs one count."""
    if not scalar(con, f"SELECT count(*) FROM checked WHERE {key}__shape IS NOT NULL"):
        return
    run(
        con,
        f"""
        UPDATE checked c SET reasons = list_append(c.reasons, x.reason)
        FROM (
            WITH s AS (
                SELECT line, {key} AS k, coalesce({key}__shape, {key}) AS spelling
                FROM checked
                WHERE {key} IN (SELECT {key} FROM checked WHERE {key}__shape IS NOT NULL)
            ),
            f AS (SELECT k, arg_min(spelling, line) AS first, min(line) AS first_line
                  FROM s GROUP BY k)
            SELECT s.line, '{key}: ' || lsla_ascii(s.spelling) || ' here and '
                   || lsla_ascii(f.first) || ' on line ' || f.first_line
                   || ' are one id after normalisation (Unicode NFKC, invisible characters'
                   || ' and surrounding space removed); the first spelling is kept' AS reason
            FROM s JOIN f USING (k) WHERE s.spelling <> f.first
        ) x
        WHERE c.line = x.line
        """,
    )
