"""Discover CRM exports, read them with DuckDB, map them to the canonical record, quarantine.

The rules of the road, from DESIGN.md: every file is recorded in ``export_manifest`` by path and
checksum (never read twice, never skipped; an identical re-export is a no-op), every record ends
loaded, in ``quarantine`` with its file, physical line, raw text and reason, or skipped as
unchanged (the manifest's counts add up), and a file that cannot be read at all is recorded with
the reason while the tick goes on. Only regular files are opened. The reader's reasons say what
was found (a shape, a count, a field name), never a row's values.

Reading is DuckDB's (``read_csv`` with a fixed dialect for CSV and, one text column a line, for
JSON lines; ``read_parquet``): all columns as text first, then one SQL projection casts and
validates them, so a bad value in one row never fails the file. Rule values (time zones,
formats, status maps) are bound as parameters or registered as tables; only column identifiers
taken from the export's own header or the closed canonical field list are spliced into SQL,
always quoted.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import fnmatch
import gzip
import hashlib
import io
import os
import re
import stat
import tempfile
import unicodedata
import zlib
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
    #: why the file cannot be read now (not a regular file, gone, changing): it is recorded
    #: with this reason as ``unreadable`` and looked at again on the next tick
    problem: str | None = None

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
    #: unchanged snapshot rows skipped before typing: rows_read = loaded + quarantined + this
    rows_skipped: int = 0
    #: the encoding the file was read in, and how it was decided (CSV)
    encoding: str | None = None
    #: canonical fields the file carries (a later export that lacks one fails, see read_raw)
    fields: list[str] | None = None


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


class Unreadable(Exception):
    """The file cannot be read now (gone, not a regular file, changing): try again later."""


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
    """SHA-256 of a file. Local files are opened with O_NONBLOCK, so a file that became a FIFO
    after it was checked cannot block the tick (a regular file ignores the flag)."""
    h = hashlib.sha256()  # hardware-accelerated here: twice as fast as blake2b on exports
    if _is_local(fs):
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"not a regular file: {path}")
        fh: Any = os.fdopen(fd, "rb")
    else:
        fh = fs.open(path, "rb")
    with fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


#: What ``stat`` calls each kind of file that is not a regular one.
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))  # fmt: skip


def file_problem(fs: Any, path: str, info: dict[str, Any]) -> str | None:
    """Why ``path`` cannot be read as an export now (None: it is a regular file). Local files
    are checked with ``os.stat`` (following links) before anything opens them, so a FIFO or a
    device is never opened and a dangling link never crashes; elsewhere fsspec's type decides."""
    if not _is_local(fs):
        kind = info.get("type")
        return None if kind == "file" else f"not a regular file (type {kind!r})"
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return "a dangling symbolic link" if Path(path).is_symlink() else "vanished before reading"
    except OSError as exc:
        return f"cannot be inspected ({type(exc).__name__}: {exc.strerror})"
    if stat.S_ISREG(st.st_mode):
        return None
    kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
    return f"not a regular file ({kind})"


def stat_key(url: str) -> tuple[int, float | None]:
    """(size, mtime) of a file as :func:`discover` records them (``os.stat`` for local files,
    fsspec's ``info`` elsewhere): compared before and after a read to see a file that changed
    meanwhile. Raises :class:`Unreadable` when it is gone or no longer a regular file."""
    fs, path = fsspec.core.url_to_fs(url)
    if _is_local(fs):
        problem = file_problem(fs, path, {})
        if problem is None:
            st = Path(path).stat()
            return (st.st_size, st.st_mtime)
        raise Unreadable(problem)
    try:
        info = fs.info(path)
    except FileNotFoundError as exc:
        raise Unreadable("vanished before reading") from exc
    problem = file_problem(fs, path, info)
    if problem is not None:
        raise Unreadable(problem)
    mtime = info.get("mtime")
    return (int(info.get("size") or 0), float(mtime) if isinstance(mtime, int | float) else None)


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

    Only regular files are read. Anything else named like an export (a dangling link, a FIFO,
    a device, a file that vanishes or changes while it is hashed, one that cannot be opened)
    comes back with its ``problem`` set, to be recorded and looked at again next tick.
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
        problem = file_problem(fs, path, info)
        size = int(info.get("size") or 0)
        raw_mtime = info.get("mtime")
        mtime = float(raw_mtime) if isinstance(raw_mtime, int | float) else None
        if problem is None and _is_local(fs):  # the link's target, not the link
            try:
                st = Path(path).stat()
                size, mtime = st.st_size, st.st_mtime
            except OSError:
                problem = "vanished before reading"
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
        checksum = ""
        if problem is None:
            try:
                checksum = _checksum(fs, path)
            except OSError as exc:
                problem = f"cannot be read ({type(exc).__name__}: {exc.strerror or exc})"
            else:
                try:
                    if stat_key(url) != (size, mtime):
                        problem = "changed while it was read"
                except Unreadable as exc:
                    problem = str(exc)
        if problem is None and prev is not None and prev[2] == checksum:
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
                problem=problem,
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
    with ``line``, ``rid`` and ``raw_hash``: see :func:`_fingerprint`) and ``raw_rejects``
    (lines the parser could not use). Returns the result so far and the number of records."""
    if f.size == 0:
        raise BadFile("empty file (0 bytes)")
    with tempfile.TemporaryDirectory(prefix="leadsla-") as tmp:
        path = _local_path(f.url, Path(tmp))
        if f.fmt == "csv":
            res, total = _read_csv(con, path, source, Path(tmp), con_fields(con, f, source))
            return res, total
        # JSON lines and Parquet: ``raw_all`` (with ``line`` and ``raw``) first
        res = _read_jsonl(con, path, Path(tmp)) if f.fmt == "jsonl" else _read_parquet(con, path)
    cols = [r[0] for r in run(con, "DESCRIBE raw_all").fetchall()]
    res.fields = check_columns(
        cols, source, None if f.fmt == "jsonl" else con_fields(con, f, source)
    )
    total = int(scalar(con, "SELECT count(*) FROM raw_all") or 0)
    _keep_changed(con, source, cols, "SELECT a.*, a.rowid AS rid FROM raw_all a", {})
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


def check_columns(cols: list[str], source: Source, before: list[str] | None) -> list[str]:
    """The canonical fields a file with columns ``cols`` carries. Raises :class:`BadFile` when
    a required one is missing, or when a mapped one (``columns`` in the source) that the
    previous export of the source (``before``) carried is missing: a renamed header would
    otherwise load as empty values in silence (canonical files may carry any subset). The
    reason names the fields and the headers the mapping expects, never the file's own header
    (it may be a customer's row)."""
    headers = set(cols) - HELPER_COLS
    fields = [fld for fld in ENTITY_FIELDS[source.entity] if _field_expr(fld, source, headers)]

    def wanted(names: list[str]) -> str:
        return ", ".join(
            f"{m} (header {source.columns[m]!r})" if m in source.columns else m for m in names
        )

    missing = [fld for fld in REQUIRED[source.entity] if fld not in fields]
    if missing:
        raise BadFile(f"required columns missing: {wanted(missing)}; {header_shape(headers)}")
    gone = [fld for fld in before or [] if fld in source.columns and fld not in fields]
    if gone:
        raise BadFile(
            f"columns missing that the previous export of source {source.id!r} had: "
            f"{wanted(gone)} (a renamed header? map it in the source's columns, or restore "
            "it); the file is not loaded, so its rows do not overwrite these values with empty "
            "ones"
        )
    return fields


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


#: Longest CSV record, in bytes: a longer one (a runaway field) is quarantined, the rest loads.
MAX_RECORD_BYTES = 2 << 20

#: Options of every CSV read: all text, one fixed dialect (nothing sniffed, so no record can
#: change how the others are read), the header parsed by :func:`_csv_header` and given as
#: ``$columns``, strict field counts (a row with an unquoted comma has one field too many and
#: is rejected, not truncated), rejected records kept in reject tables.
CSV_OPTIONS = (
    "auto_detect = false, header = true, columns = $columns, delim = ',', quote = '\"', "
    "escape = '\"', encoding = $enc, store_rejects = true, null_padding = false, "
    f"strict_mode = true, max_line_size = {MAX_RECORD_BYTES}"
)

#: Byte order marks: UTF-8 (read as UTF-8), UTF-16 little and big endian (transcoded first).
BOM_UTF8, BOM_LE, BOM_BE = b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"
#: How much of a file's start the reader looks at to decide its encoding and read its header.
HEAD_BYTES = 1 << 16
#: A valid multi-byte UTF-8 sequence: a file with one is UTF-8 (with some bad records), not a
#: legacy 8-bit file.
_UTF8_MULTI = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _open_plain(path: str) -> Any:
    return gzip.open(path, "rb") if path.endswith(".gz") else Path(path).open("rb")


def _utf16(head: bytes, codec: str | None) -> str | None:
    """The UTF-16 codec of a file with a UTF-16 byte order mark (or declared ``utf-16``:
    little endian without a mark), or None when the mark is a stray pair of bytes (the text
    after it does not have UTF-16's NUL halves: a comma or a line end would be ``,\\x00`` /
    ``\\x00,`` at an even offset)."""
    for bom, name in ((BOM_LE, "utf-16-le"), (BOM_BE, "utf-16-be")):
        if head.startswith(bom):
            units = head[2 : 2 + (len(head) - 2) // 2 * 2]
            marks = (b",\x00", b"\n\x00") if name == "utf-16-le" else (b"\x00,", b"\x00\n")
            pairs = {units[i : i + 2] for i in range(0, min(len(units), 4096), 2)}
            if codec == "utf-16" or pairs & set(marks):
                return name
    return "utf-16-le" if codec == "utf-16" else None


def _transcode(path: str, codec: str, target: Path, skip: int) -> str:
    """Write ``path`` (after ``skip`` bytes of byte order mark) as UTF-8 to ``target``, once,
    in C-speed chunks. Bytes that do not decode stay invalid in the output (``surrogatepass``
    for lone UTF-16 halves, ``surrogateescape`` for undefined 8-bit bytes), so the UTF-8 read
    after quarantines exactly their records."""
    errors = "surrogatepass" if codec.startswith("utf-16") else "surrogateescape"
    dec = codecs.getincrementaldecoder(codec)(errors=errors)
    with _open_plain(path) as src, target.open("wb") as out:
        src.read(skip)
        while chunk := src.read(1 << 22):
            out.write(dec.decode(chunk).encode("utf-8", errors))
        try:
            out.write(dec.decode(b"", final=True).encode("utf-8", errors))
        except UnicodeDecodeError:
            out.write(b"\xff")  # an odd trailing byte: its record is quarantined
    return str(target)


def _legacy_8bit(path: str) -> bool:
    """Whether a file that is not valid UTF-8 is a legacy 8-bit one (Windows-1252, whose
    printable range covers Latin-1's): no valid multi-byte UTF-8 sequence anywhere and no
    byte order mark pair in it. Only files whose UTF-8 read rejected records come here."""
    with _open_plain(path) as fh:
        while chunk := fh.read(1 << 22):
            if _UTF8_MULTI.search(chunk) or BOM_LE in chunk or BOM_BE in chunk:
                return False
    return True


@dataclass
class CsvInput:
    """How a CSV file is read: the path DuckDB reads (the file, or a UTF-8 copy), the encoding
    it reads it in, the header's column names, and what was decided (for the manifest)."""

    path: str
    enc: str
    columns: list[str]
    encoding: str

    @property
    def params(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "enc": self.enc,
            "columns": dict.fromkeys(self.columns, "VARCHAR"),
        }


def _csv_input(path: str, source: Source, tmp: Path) -> CsvInput:
    """Decide a CSV file's encoding once, from its first bytes and the source's ``encoding``,
    and read its header. UTF-16 (by mark or declared) and Windows-1252 (declared) are
    transcoded to a UTF-8 copy; a UTF-8 mark, ``utf-8`` or ``auto`` read UTF-8 as it is (an
    ``auto`` file whose bytes are not UTF-8 anywhere is then read as Windows-1252, see
    :func:`_read_csv`); ``latin-1`` is DuckDB's own. Raises :class:`BadFile` for a file with
    no header, or a header that has the same name twice."""
    with _open_plain(path) as fh:
        head = fh.read(HEAD_BYTES)
    declared = source.encoding
    wide = _utf16(head, declared)
    if wide is not None:
        skip = 2 if head.startswith((BOM_LE, BOM_BE)) else 0
        inp = CsvInput(_transcode(path, wide, tmp / "utf16.csv", skip), "utf-8", [], wide)
        with Path(inp.path).open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    elif declared == "windows-1252":
        inp = CsvInput(_transcode(path, "cp1252", tmp / "cp1252.csv", 0), "utf-8", [], declared)
        with Path(inp.path).open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    else:
        enc = "latin-1" if declared == "latin-1" else "utf-8"
        label = "utf-8 (byte order mark)" if head.startswith(BOM_UTF8) else enc
        inp = CsvInput(path, enc, [], declared if declared != "auto" else label)
    inp.columns = _csv_header(head, inp.enc, source)
    return inp


def _csv_header(head: bytes, enc: str, source: Source) -> list[str]:
    """Column names from the first record of ``head``: a byte order mark (or a stray one) is
    dropped, names are trimmed, an empty one is called ``column<N>``. The header line itself
    is skipped by DuckDB (``header = true``), so undecodable bytes in it cost only the names."""
    for bom in (BOM_UTF8, BOM_LE, BOM_BE):
        head = head.removeprefix(bom)
    if not head.strip():
        raise BadFile("no header row (the file has no text)")
    text = head.decode("latin-1" if enc == "latin-1" else "utf-8", errors="replace")
    if "\n" not in text and "\r" not in text and len(head) >= HEAD_BYTES - 4:
        raise BadFile(f"no line end in the first {HEAD_BYTES} bytes: the header is too long")
    try:
        cells = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise BadFile(f"the header cannot be read as CSV ({exc})") from exc
    names = [n.strip() or f"column{i + 1}" for i, n in enumerate(cells)]
    seen: dict[str, int] = {}  # DuckDB's names are case-insensitive
    for i, n in enumerate(names):
        if n.lower() in seen:
            raise BadFile(
                f"duplicate column name: {_safe_name(n, source)} is column "
                f"{seen[n.lower()] + 1} and column {i + 1}"
            )
        seen[n.lower()] = i
    if any(n.lower() in HELPER_COLS for n in names):
        raise BadFile(
            f"a column is named like one the reader adds ({', '.join(sorted(HELPER_COLS))})"
        )
    return names


def _safe_name(name: str, source: Source) -> str:
    """A header name fit for a reason: quoted when the rules name it (a canonical field or a
    mapped header), else only its shape (a header-less file's "header" is a customer's row)."""
    mapped = {h for v in source.columns.values() for h in ([v] if isinstance(v, str) else v)}
    if name in mapped or name in ENTITY_FIELDS[source.entity]:
        return repr(name)
    return f"a name of {len(name)} characters"


#: Shapes of values a header cell should not have (the first row of a file with no header).
_DATA_SHAPES = (
    ("an email", re.compile(r"^[^@\s]+@[^@\s]+\.\w+$")),
    ("a phone or number", re.compile(r"^\+?[\d\s().,-]{4,}$")),
    ("a date or time", re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")),
)


def header_shape(headers: Iterable[str]) -> str:
    """What a header looks like, without quoting it: its cells may be a customer's email and
    phone when the file has no header row."""
    names = list(headers)
    kinds = [label for n in names for label, rx in _DATA_SHAPES if rx.match(n.strip())]
    looks = sum(any(rx.match(n.strip()) for _, rx in _DATA_SHAPES) for n in names)
    if looks:
        return (
            f"the header looks like data: {looks} of {len(names)} cells look like "
            f"{' / '.join(dict.fromkeys(kinds))} (a file without a header row?)"
        )
    return f"the header has {len(names)} columns, none of them the ones the mapping names"


def _count_csv(cur: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> tuple[int, int]:
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
            cur.execute(f"SELECT count(*) FROM read_csv($path, {CSV_OPTIONS})", params).fetchall()[
                0
            ][0]
        )
    finally:
        cur.close()
    newlines, last = 0, b"\n"
    with _open_plain(params["path"]) as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return records, newlines + (last != b"\n")


#: What a rejected CSV record's reason says, by DuckDB's error type (never the row's values).
REJECT_REASONS = {
    "MISSING COLUMNS": "the record has fewer fields than the header",
    "TOO MANY COLUMNS": "the record has more fields than the header (an unquoted comma?)",
    "UNQUOTED VALUE": "a quote is not closed where its field ends (an unterminated quote)",
    "LINE SIZE OVER MAXIMUM": f"the record is over {MAX_RECORD_BYTES >> 20} MB",
    "INVALID ENCODING": "bytes that are not valid in the file's encoding",
}

_REJECT_CASE = " ".join(
    "WHEN '" + k + "' THEN '" + v.replace("'", "''") + "'" for k, v in REJECT_REASONS.items()
)


#: Records with an unterminated quote a file may have before the rest of it is read as the
#: parser sees it (each one costs a read of what follows it).
MAX_QUOTE_SPLITS = 20


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: str,
    source: Source,
    tmp: Path,
    before: list[str],
) -> tuple[FileResult, int]:
    """Read a CSV file into ``raw_rows`` and ``raw_rejects`` (physical lines). A quote that
    is never closed would swallow every record after it into one rejected record: its first
    physical line is quarantined instead, and the lines after it are read again as records
    (up to :data:`MAX_QUOTE_SPLITS` times a file)."""
    inp = _csv_input(path, source, tmp)
    fields = check_columns(inp.columns, source, before)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadsla-count") as pool:
        records = _read_csv_part(con, source, inp, pool, tmp)
        # decided once per file: an ``auto`` file none of whose bytes is UTF-8 beyond ASCII is
        # Windows-1252 (read again from a UTF-8 copy); otherwise the records with bad bytes
        # are quarantined and the rest keeps its text
        if (
            source.encoding == "auto"
            and inp.encoding == "utf-8"
            and scalar(con, "SELECT count(*) FROM raw_rejects WHERE error_type LIKE '%ENCODING%'")
            and _legacy_8bit(path)
        ):
            inp.path = _transcode(path, "cp1252", tmp / "cp1252.csv", 0)
            inp.encoding = "windows-1252 (detected)"
            records = _read_csv_part(con, source, inp, pool, tmp)
        split = _unterminated(con)
        if split is not None:
            records = _split_reads(con, source, inp, pool, tmp, split, records)
    footer = 0
    if source.footer_regex:
        pattern = re.compile(source.footer_regex)
        rows = run(con, "SELECT line, raw, size FROM raw_rejects").fetchall()
        footer_lines = [
            ln for ln, raw, _ in rows if raw is not None and pattern.search(raw.strip())
        ]
        if footer_lines:
            # everything from the first furniture line on is the footer, and the blank lines
            # right before it
            first = min(footer_lines)
            blanks = {ln for ln, raw, _ in rows if raw == BLANK_MARK}
            while first - 1 in blanks:
                first -= 1
            footer = sum(int(size) for ln, _, size in rows if ln >= first)
            run(con, "DELETE FROM raw_rejects WHERE line >= ?", [first])
    run(con, "DELETE FROM raw_rejects WHERE raw = ?", [BLANK_MARK])
    res = FileResult(status="read", footer_lines=footer, encoding=inp.encoding, fields=fields)
    return res, records


def _unterminated(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int] | None:
    """(physical line, record number, byte offset) of the first rejected record that has an
    unterminated quote and spans lines, if any."""
    rows = run(
        con,
        "SELECT line, ord, at_byte FROM raw_rejects WHERE error_type LIKE '%UNQUOTED VALUE%' "
        "AND size > 1 ORDER BY line LIMIT 1",
    ).fetchall()
    return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None


def _split_reads(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    inp: CsvInput,
    pool: ThreadPoolExecutor,
    tmp: Path,
    split: tuple[int, int, int] | None,
    records: int,
) -> int:
    """Cut the file after the first line of each record with an unterminated quote and read
    what follows again (with the header in front), until no such record is left; the pieces'
    rows and rejects, on the file's physical lines, replace ``raw_rows`` and ``raw_rejects``.
    Returns the number of records parsed."""
    run(con, "CREATE OR REPLACE TEMP TABLE split_rows AS SELECT * FROM raw_rows WHERE false")
    run(con, "CREATE OR REPLACE TEMP TABLE split_rejects AS SELECT * FROM raw_rejects WHERE false")
    with _open_plain(inp.path) as fh:
        header = fh.readline()
    offset, total, part = 0, 0, inp
    for n in range(MAX_QUOTE_SPLITS + 1):
        if split is None or n == MAX_QUOTE_SPLITS:
            break
        line, ordinal, at = split
        # the records before it: ordinal counts parsed and rejected ones alike
        rejected_before = int(
            scalar(con, "SELECT count(*) FROM raw_rejects WHERE line < ?", [line]) or 0
        )
        total += ordinal - rejected_before
        run(con, "INSERT INTO split_rows BY NAME SELECT * REPLACE (line + $o AS line) "
                 "FROM raw_rows WHERE line < $l", {"o": offset, "l": line})  # fmt: skip
        with _open_plain(part.path) as fh:
            fh.seek(at)
            first = fh.readline()
            piece = tmp / f"piece{n}.csv"
            with piece.open("wb") as out:
                out.write(header)
                while chunk := fh.read(1 << 22):
                    out.write(chunk)
        run(
            con,
            "INSERT INTO split_rejects BY NAME SELECT * REPLACE (line + $o AS line, "
            "CASE WHEN line = $l THEN $raw ELSE raw END AS raw, "
            "CASE WHEN line = $l THEN 1 ELSE size END AS size, "
            "CASE WHEN line = $l THEN 'UNQUOTED VALUE' ELSE error_type END AS error_type, "
            "CASE WHEN line = $l THEN $msg ELSE error_message END AS error_message) "
            "FROM raw_rejects WHERE line <= $l",
            {
                "o": offset,
                "l": line,
                "raw": first.decode("utf-8", errors="replace").rstrip("\r\n"),
                "msg": f"{REJECT_REASONS['UNQUOTED VALUE']}; only this line is quarantined, "
                "the lines after it are read as records",
            },
        )
        offset += line - 1
        part = CsvInput(str(piece), inp.enc, inp.columns, inp.encoding)
        records = _read_csv_part(con, source, part, pool, tmp)
        split = _unterminated(con)
    total += records
    run(con, "INSERT INTO split_rows BY NAME SELECT * REPLACE (line + $o AS line) FROM raw_rows",
        {"o": offset})  # fmt: skip
    run(con, "INSERT INTO split_rejects BY NAME SELECT * REPLACE (line + $o AS line) "
             "FROM raw_rejects", {"o": offset})  # fmt: skip
    run(con, "CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT * FROM split_rows")
    run(con, "CREATE OR REPLACE TEMP TABLE raw_rejects AS SELECT * FROM split_rejects")
    run(con, "DROP TABLE split_rows")
    run(con, "DROP TABLE split_rejects")
    return total


def _read_csv_part(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    inp: CsvInput,
    pool: ThreadPoolExecutor,
    tmp: Path,
) -> int:
    """:func:`_read_csv_once`; a file whose line ends are mixed (``\\r\\n`` and ``\\n``),
    which the strict parser refuses as a whole, is read from a copy with ``\\n`` only. The
    parser skips blank lines without a trace, which would shift the line of every record after
    one: a file whose lines do not add up and that has blank lines between records is read
    from a copy in which each is a :data:`BLANK_MARK` line (a rejected record that holds its
    line's place; :func:`_read_csv` drops them)."""
    try:
        records, exact = _read_csv_once(con, source, inp, pool)
    except duckdb.InvalidInputException:
        inp.path = _one_line_end(inp.path, tmp / f"lf{len(list(tmp.iterdir()))}.csv")
        records, exact = _read_csv_once(con, source, inp, pool)
    if not exact and _mark_blank_lines(inp.path, tmp / f"bl{len(list(tmp.iterdir()))}.csv"):
        inp.path = str(tmp / f"bl{len(list(tmp.iterdir())) - 1}.csv")
        records, _ = _read_csv_once(con, source, inp, pool)
    return records


#: What a blank line between records becomes in the copy :func:`_read_csv_part` reads: one
#: field, so always a record with too few fields (every entity requires two columns).
BLANK_MARK = "\x1eleadsla: blank line\x1e"


def _mark_blank_lines(path: str, target: Path) -> bool:
    """Write a copy of ``path`` to ``target`` with every blank line that lies between records
    (not inside a quoted field: an even number of quote characters before it, and text after
    it) replaced by :data:`BLANK_MARK`; False, and no copy, when there is none."""
    with _open_plain(path) as fh:
        data = fh.read()
    blank = re.compile(rb"(?<=\n)\r?\n")
    spots, quotes, last = [], 0, 0
    for m in blank.finditer(data):
        quotes += data.count(b'"', last, m.start())
        last = m.start()
        if quotes % 2 == 0 and data[m.end() :].strip():
            spots.append(m)
    if not spots:
        return False
    mark = BLANK_MARK.encode()
    with target.open("wb") as out:
        at = 0
        for m in spots:
            out.write(data[at : m.start()] + mark + m.group())
            at = m.end()
        out.write(data[at:])
    return True


def _one_line_end(path: str, target: Path) -> str:
    """Copy ``path`` to ``target`` with every ``\\r\\n`` and lone ``\\r`` made ``\\n``."""
    with _open_plain(path) as src, target.open("wb") as out:
        carry = b""
        while chunk := src.read(1 << 22):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            out.write(re.sub(rb"\r\n?", b"\n", chunk[: len(chunk) - len(carry)]))
        out.write(b"\n" if carry else b"")
    return str(target)


def _read_csv_once(
    con: duckdb.DuckDBPyConnection, source: Source, inp: CsvInput, pool: ThreadPoolExecutor
) -> tuple[int, bool]:
    """One read of ``inp``: ``raw_rows`` and ``raw_rejects`` on physical lines (``ord``: a
    reject's number among all records from 0, ``at_byte``: the offset of its first byte).
    Returns the number of records parsed."""
    run(con, "DROP TABLE IF EXISTS reject_errors")
    run(con, "DROP TABLE IF EXISTS reject_scans")
    counted = pool.submit(_count_csv, con.cursor(), inp.params)
    # Only the rows that may change something are kept: the unchanged 95% of a snapshot never
    # become a table. row_number() OVER () numbers records in file order (a streaming window
    # over the scan, which keeps insertion order); the line assumes one line per record until
    # _csv_lines says otherwise.
    _keep_changed(
        con,
        source,
        inp.columns,
        "SELECT *, row_number() OVER () - 1 AS rid, rid + 2 AS line"
        f" FROM read_csv($path, {CSV_OPTIONS})",
        inp.params,
    )
    records, physical = counted.result()
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT line, any_value(csv_line) AS raw,
               string_agg(DISTINCT error_type, ', ') AS error_type,
               CASE any_value(CAST(error_type AS VARCHAR)) {_REJECT_CASE}
                    ELSE 'the record cannot be read' END AS error_message,
               1 + length(any_value(csv_line))
                 - length(replace(any_value(csv_line), chr(10), '')) AS size,
               line - 2 AS ord, min(line_byte_position) - 1 AS at_byte
        FROM reject_errors GROUP BY line ORDER BY line
        """,
    )
    # the count reads no column, so it cannot see bytes that do not decode: their records
    # are counted as parsed there, and rejected here
    records -= int(
        scalar(con, "SELECT count(*) FROM raw_rejects WHERE error_type = 'INVALID ENCODING'") or 0
    )
    rejected = int(scalar(con, "SELECT coalesce(sum(size), 0) FROM raw_rejects") or 0)
    # every record on a line of its own (no quoted newline, no blank line): line = number + 2
    one_line_each = physical == 1 + records + rejected
    # the read numbered lines as if every record took one and none was rejected
    if not one_line_each or rejected:
        _csv_lines(con, None if one_line_each else (inp.params, inp.columns))
    return records, one_line_each


def _csv_lines(
    con: duckdb.DuckDBPyConnection, reread: tuple[dict[str, Any], list[str]] | None
) -> None:
    """Physical line numbers for the rows kept in ``raw_rows`` (by ``rid``, the number of the
    record among the parsed ones) and for ``raw_rejects``.

    DuckDB numbers a rejected record by its place among all records (as if each took one line)
    and parsed ones not at all, so both are placed on one axis first: a record's *ordinal* is
    its place among all records, parsed or rejected. Its line is then the ordinal, plus two
    (the header, counting from one), plus the extra lines every earlier record spanned. When
    every record sits on one line (``reread`` is None, see :func:`_read_csv`) there are no
    extra lines; otherwise the file (``reread``: the read's parameters and columns) is read
    once more for the parsed records that span lines (rejected ones carry their own text)."""
    spans = "SELECT NULL::BIGINT AS rid, NULL::BIGINT AS nl WHERE false"
    if reread is not None:
        params, cols = reread
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
            params,
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


#: Options of a JSON lines read: every physical line one record of one text column (a blank
#: line is an empty one, so records are numbered by line), bad bytes and over-long lines kept
#: in reject tables. The delimiter, a control character, cannot be part of valid JSON text.
JSONL_OPTIONS = (
    "auto_detect = false, header = false, columns = {'j': 'VARCHAR'}, delim = $delim, "
    "quote = '', escape = '', encoding = 'utf-8', store_rejects = true, null_padding = false, "
    f"strict_mode = true, max_line_size = {MAX_RECORD_BYTES}"
)


def _read_jsonl(con: duckdb.DuckDBPyConnection, path: str, tmp: Path) -> FileResult:
    """``raw_all`` (one text column per key, ``line``, ``raw``) and ``raw_rejects`` from a
    JSON lines file. Each line is read as text first, so a line that is not a JSON object,
    has bytes that are not UTF-8 or is over the size bound is quarantined with its own text
    and line, and blank lines are not records. A UTF-16 file is transcoded first."""
    with _open_plain(path) as fh:
        head = fh.read(HEAD_BYTES)
    wide = _utf16(head, None)
    encoding = wide or "utf-8"
    if wide is not None:
        path = _transcode(path, wide, tmp / "utf16.jsonl", 2 if head[:2] in (BOM_LE, BOM_BE) else 0)
    run(con, "DROP TABLE IF EXISTS reject_errors")
    run(con, "DROP TABLE IF EXISTS reject_scans")
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_json AS
        SELECT row_number() OVER () - 1 AS rid, j,
               json_type(try_cast(j AS JSON)) = 'OBJECT' AS ok
        FROM read_csv($path, {JSONL_OPTIONS})
        """,
        {"path": path, "delim": "\x01"},
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT line - 1 AS ord, any_value(csv_line) AS raw,
               string_agg(DISTINCT error_type, ', ') AS error_type,
               CASE any_value(CAST(error_type AS VARCHAR)) {_REJECT_CASE}
                    ELSE 'the line cannot be read' END AS error_message
        FROM reject_errors GROUP BY line
        """,
    )
    # a parsed line's number: its place among parsed ones plus the rejected ones before it
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_json AS
        WITH k AS (
            SELECT good_before, max(k) AS k FROM (
                SELECT ord - (row_number() OVER (ORDER BY ord) - 1) AS good_before,
                       row_number() OVER (ORDER BY ord) AS k
                FROM raw_rejects)
            GROUP BY good_before)
        SELECT j.*, j.rid + 1 + coalesce(k.k, 0) AS line
        FROM raw_json j ASOF LEFT JOIN k ON j.rid >= k.good_before
        """,
    )
    keys: dict[str, str] = {}  # DuckDB's names are case-insensitive: the first spelling wins
    for (key,) in run(
        con, "SELECT DISTINCT unnest(json_keys(j::JSON)) FROM raw_json WHERE ok ORDER BY 1"
    ).fetchall():
        if key.lower() not in HELPER_COLS:
            keys.setdefault(key.lower(), key)
    names = list(keys.values())
    sel = ", ".join(f"json_extract_string(j::JSON, $k{i}) AS {_q(k)}" for i, k in enumerate(names))
    params = {f"k{i}": "$." + '"' + k.replace('"', '\\"') + '"' for i, k in enumerate(names)}
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_all AS
        SELECT {sel + "," if sel else ""} line, j AS raw FROM raw_json WHERE ok
        """,
        params,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT line, j AS raw, 'INVALID JSON' AS error_type,
               'not a JSON object' AS error_message, 1 AS size
        FROM raw_json WHERE NOT coalesce(ok, false) AND trim(coalesce(j, '')) <> ''
        UNION ALL
        SELECT ord + 1, raw, error_type, error_message, 1 FROM raw_rejects
        ORDER BY line
        """,
    )
    run(con, "DROP TABLE raw_json")
    return FileResult(status="read", encoding=encoding)


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
CREATE OR REPLACE TEMP MACRO lsla_shape(x) AS
    chr(39) || left(regexp_replace(regexp_replace(regexp_replace(x, '[A-Za-z]', 'a', 'g'),
        '[0-9]', '9', 'g'), '[^a9 :./+,@_-]', '?', 'g'), 24)
    || CASE WHEN length(x) > 24 THEN '...' ELSE '' END || chr(39);
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
        raise BadFile(f"required columns missing: {', '.join(wanted)}; {header_shape(headers)}")
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
                    THEN '{fld}: cannot read a value shaped ' || lsla_shape({fld}__raw)
                    || ' as a timestamp'
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
                WHEN {fld}__raw IS NOT NULL AND {fld}__num IS NULL
                    THEN '{fld}: cannot read a value shaped ' || lsla_shape({fld}__raw)
                    || ' as a number; loaded without it'
                WHEN {fld}__num IS NOT NULL AND {fld} IS NULL THEN '{fld}: a value shaped '
                    || lsla_shape({fld}__raw) || ' is not a finite number ' || ${fld}_range
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
