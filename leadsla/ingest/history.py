"""History exports (``format: history``): each row is a record's full state after one change,
at its own time (``history.changed_at``), as in ServiceNow's incident audit log or a CRM's
field-history export. The file implies snapshot exports, one per distinct change time (or per
``history.every`` bucket, stamped at the bucket's end), and leadsla reads each implied export
exactly as it would read the snapshot file of that time.

An implied export is a file URL with ``#at=<UTC stamp>`` after it (:func:`implied_url`), so the
manifest settles each one on its own: a history file that grows loads only the implied exports
that are new or whose rows changed, and a tick at ``now`` loads only those dated at or before
``now``. An implied export holds each record's last row of its time (a record not changed then
is absent: an unchanged snapshot row changes nothing). A row whose change time cannot be read,
and a record the parser rejected, belong to the implied export of the row before them (the
first one's, at the top of the file) and are quarantined there, with file and line, once.

:func:`plan` (discovery) and :func:`keep_implied` (the reader) bucket rows with the same SQL
(:func:`bucket_sql`), over the same records in the same order.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import duckdb

from leadsla.engine.temp_tables import keep
from leadsla.ingest.csv_lines import one_line_end
from leadsla.ingest.dialect import CSV_OPTIONS
from leadsla.ingest.encoding import decide_csv_encoding
from leadsla.ingest.fields import KEY_FIELD
from leadsla.ingest.files import FileResult
from leadsla.ingest.headers import csv_header
from leadsla.ingest.mapping import quote
from leadsla.rules.source_models import Source
from leadsla.sql import run, scalar

#: What separates a history file's URL from the time of one implied export.
MARK = "#at="
_STAMP = "%Y%m%dT%H%M%SZ"


def implied_url(url: str, at: datetime) -> str:
    """The URL of the export a history file implies at ``at``."""
    return f"{url}{MARK}{at.astimezone(UTC).strftime(_STAMP)}"


def split_url(url: str) -> tuple[str, datetime | None]:
    """(the file's own URL, the implied export's time or None for a plain file)."""
    base, sep, stamp = url.rpartition(MARK)
    if not sep or not re.fullmatch(r"\d{8}T\d{6}Z", stamp):
        return url, None
    return base, datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Implied:
    """One export a history file implies: its time, a checksum of its rows and their count."""

    at: datetime
    checksum: str
    rows: int


def _headers(spec: Any) -> list[str]:
    """The export headers a ``columns`` entry reads (a header, a list, or a mapping form with
    ``column`` or ``join``)."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return [str(h) for h in spec]
    if isinstance(spec, dict):
        inner = spec.get("column", spec.get("join"))
        return _headers(inner) if inner is not None else []
    return []


def key_headers(source: Source) -> list[str]:
    """The headers of the record's key (``lead_id``, ``issue_id`` or ``activity_id``)."""
    key = KEY_FIELD[source.entity]
    spec: Any = source.columns.get(key, key)
    return _headers(spec)


def bucket_sql(source: Source, rel: str) -> str:
    """SQL over relation ``rel`` (the export's columns as text and ``rid``, the record's number
    in file order): each record's ``rid``, key ``k``, whether its change time was read
    (``timed``) and the implied export it belongs to (``h_at``). Parameters: ``$h_tz``,
    ``$h_fmt``, ``$h_earliest`` (:func:`bucket_params`)."""
    assert source.history is not None
    c = f"nullif(trim({quote(source.history.changed_at)}), '')"
    parsed = (
        f"CASE WHEN regexp_matches({c}, '(Z|[+-]\\d\\d:?\\d\\d)$') "
        f"THEN TRY_CAST({c} AS TIMESTAMPTZ) "
        f"ELSE timezone($h_tz, coalesce(try_strptime({c}, $h_fmt), TRY_CAST({c} AS TIMESTAMP))) "
        "END"
    )
    every = source.history.every_seconds
    bucket = "ts" if every is None else f"to_timestamp(ceil(epoch(ts) / {every}) * {every})"
    key = (
        "nullif(concat_ws('|', "
        + ", ".join(f"trim({quote(h)})" for h in key_headers(source))
        + "), '')"
    )
    return f"""
        WITH t AS (
            SELECT rid, {key} AS k,
                   CASE WHEN {parsed} >= $h_earliest THEN {parsed} END AS ts
            FROM {rel}
        ), b AS (SELECT rid, k, ts IS NOT NULL AS timed, {bucket} AS at0 FROM t)
        SELECT rid, k, timed, coalesce(
            last_value(at0 IGNORE NULLS) OVER (ORDER BY rid
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
            first_value(at0 IGNORE NULLS) OVER (ORDER BY rid
                ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)) AS h_at
        FROM b
    """


def bucket_params(source: Source) -> dict[str, Any]:
    """The parameters of :func:`bucket_sql`: the source's zone, format and earliest date."""
    return {
        "h_tz": source.timezone,
        "h_fmt": source.datetime_format or "%Y-%m-%d %H:%M:%S",
        "h_earliest": datetime.combine(source.timestamp_bounds.earliest, time(), UTC),
    }


class NoHistory(Exception):
    """A history file that implies no export (no change-time header, no readable time)."""


def plan(path: str, source: Source) -> list[Implied]:
    """The exports the history file at local ``path`` implies, oldest first (cached per file
    version and source settings). Raises :class:`NoHistory` with the reason."""
    st = Path(path).stat()
    return list(_plan(path, st.st_size, st.st_mtime_ns, source.model_dump_json()))


@functools.lru_cache(maxsize=64)
def _plan(path: str, size: int, mtime_ns: int, settings: str) -> tuple[Implied, ...]:
    del size, mtime_ns  # the cache key: another version of the file is planned again
    source = Source.model_validate_json(settings)
    assert source.history is not None
    with tempfile.TemporaryDirectory(prefix="leadsla-") as tmp, duckdb.connect() as con:
        inp, head = decide_csv_encoding(path, source.encoding, Path(tmp))
        inp.columns = csv_header(head, inp.enc, source)
        missing = [h for h in [source.history.changed_at, *key_headers(source)]
                   if h not in inp.columns]  # fmt: skip
        if missing:
            raise NoHistory(f"history file lacks the header(s) {missing}")
        run(con, "SET TimeZone = 'UTC'")
        read = (
            "CREATE OR REPLACE TEMP TABLE hraw AS SELECT *, row_number() OVER () - 1 AS rid "
            f"FROM read_csv($path, {CSV_OPTIONS})"
        )
        try:
            run(con, read, inp.params)
        except duckdb.InvalidInputException:  # mixed line ends: as the reader, from a copy
            inp.path = one_line_end(inp.path, Path(tmp) / "lf.csv")
            run(con, read, inp.params)
        text = (
            "concat_ws(chr(31), "
            + ", ".join(f"coalesce({quote(h)}, chr(30))" for h in inp.columns)
            + ")"
        )
        rows = con.execute(
            f"""
            SELECT b.h_at, sha256(strftime(b.h_at, '%Y%m%dT%H%M%S') || chr(10)
                   || string_agg({text}, chr(10) ORDER BY b.rid)), count(*)
            FROM ({bucket_sql(source, "hraw")}) b JOIN hraw r USING (rid)
            WHERE b.h_at IS NOT NULL GROUP BY b.h_at ORDER BY b.h_at
            """,
            bucket_params(source),
        ).fetchall()
    if not rows:
        raise NoHistory(
            f"no row has a readable change time in header {source.history.changed_at!r}"
        )
    return tuple(Implied(at.astimezone(UTC), checksum, int(n)) for at, checksum, n in rows)


#: The history file each connection read last: (connection id, path, size, mtime) -> what the
#: read found (encoding, fields, footer lines, records); its rows are kept in temp tables.
_READ: dict[int, tuple[tuple[str, int, int], FileResult, int]] = {}

#: The kept temp tables of the file a connection read last: its rows, its parser rejects and
#: each row's implied export (``bucket_sql`` with the row's ``line``).
_KEPT = ("hist_rows", "hist_rejects", "hist_bucket")


def read_once(
    con: duckdb.DuckDBPyConnection,
    path: str,
    source: Source,
    read: Callable[[], tuple[FileResult, int]],
) -> FileResult:
    """Read the whole history file at local ``path`` with ``read`` (the CSV reader) into the
    kept tables :data:`_KEPT`, once per connection until the file changes: a replay's ticks
    take the file's later implied exports from them (:func:`keep_implied`)."""
    st = Path(path).stat()
    key = (path, st.st_size, st.st_mtime_ns)
    cached = _READ.get(id(con))
    kept = scalar(
        con, "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'hist_bucket'"
    )
    if cached is not None and cached[0] == key and kept:
        return replace(cached[1], fields=list(cached[1].fields or []))
    res, total = read()
    run(con, "CREATE OR REPLACE TEMP TABLE hist_rows AS SELECT * FROM raw_rows")
    run(con, "CREATE OR REPLACE TEMP TABLE hist_rejects AS SELECT * FROM raw_rejects")
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE hist_bucket AS SELECT b.*, r.line "
        f"FROM ({bucket_sql(source, 'raw_rows')}) b JOIN raw_rows r USING (rid)",
        bucket_params(source),
    )
    for name in _KEPT:
        keep(con, name)
    _READ[id(con)] = (key, replace(res), total)
    return res


def keep_implied(con: duckdb.DuckDBPyConnection, url: str, source: Source) -> int:
    """``raw_rows`` and ``raw_rejects`` of the implied export ``url`` names, from the file
    :func:`read_once` read: each record's last row of its time; rows of its time whose change
    time cannot be read, and parser rejects after its rows, go to ``raw_rejects``. Returns the
    number of records (parsed rows) the implied export holds."""
    _, at = split_url(url)
    assert at is not None
    assert source.history is not None
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT r.* FROM hist_rows r "
        "JOIN hist_bucket b USING (rid) WHERE b.h_at = $at",
        {"at": at},
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT j.* FROM hist_rejects j
        ASOF LEFT JOIN (SELECT line, h_at FROM hist_bucket) h ON j.line >= h.line
        WHERE coalesce(h.h_at, (SELECT min(h_at) FROM hist_bucket)) = $at
        """,
        {"at": at},
    )
    cols = [r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()]
    raw = (
        "CAST(to_json(struct_pack("
        + ", ".join(
            f"{quote(c)} := r.{quote(c)}"
            for c in cols
            if c not in {"rid", "line", "raw_hash", "raw"}
        )
        + ")) AS VARCHAR)"
    )
    records = int(
        scalar(con, "SELECT count(*) FROM hist_bucket WHERE h_at = $at AND timed", {"at": at})
    )
    run(
        con,
        f"""
        INSERT INTO raw_rejects BY NAME
        SELECT r.line, {raw} AS raw, 'CHANGE TIME' AS error_type,
               'the change time (header ' || $h || ') is missing or cannot be read' AS
                   error_message, 1 AS size
        FROM raw_rows r JOIN hist_bucket b USING (rid) WHERE NOT b.timed
        """,
        {"h": repr(source.history.changed_at)},
    )
    run(
        con,
        """
        DELETE FROM raw_rows WHERE rid NOT IN (
            SELECT rid FROM hist_bucket WHERE h_at = $at AND timed
            QUALIFY row_number() OVER (PARTITION BY coalesce(k, 'rid:' || rid)
                                      ORDER BY rid DESC) = 1)
        """,
        {"at": at},
    )
    return records
