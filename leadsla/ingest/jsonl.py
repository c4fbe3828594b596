"""Read a JSON lines file: each line as text first, so a line that is not a JSON object, has
bytes that are not UTF-8 or is over the size bound is quarantined with its own text and line."""

from __future__ import annotations

from pathlib import Path

import duckdb

from leadsla.ingest.dialect import JSONL_OPTIONS, REJECT_CASE
from leadsla.ingest.encoding import BOM_BE, BOM_LE, HEAD_BYTES, open_plain, transcode, utf16_codec
from leadsla.ingest.fields import HELPER_COLS
from leadsla.ingest.files import FileResult
from leadsla.ingest.mapping import quote
from leadsla.sql import run


def read_jsonl(con: duckdb.DuckDBPyConnection, path: str, tmp: Path) -> FileResult:
    """``raw_all`` (one text column per key, ``line``, ``raw``) and ``raw_rejects`` from a
    JSON lines file. Each line is read as text first, so a line that is not a JSON object,
    has bytes that are not UTF-8 or is over the size bound is quarantined with its own text
    and line, and blank lines are not records. A UTF-16 file is transcoded first."""
    with open_plain(path) as fh:
        head = fh.read(HEAD_BYTES)
    wide = utf16_codec(head, None)
    encoding = wide or "utf-8"
    if wide is not None:
        path = transcode(path, wide, tmp / "utf16.jsonl", 2 if head[:2] in (BOM_LE, BOM_BE) else 0)
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
               CASE any_value(CAST(error_type AS VARCHAR)) {REJECT_CASE}
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
    sel = ", ".join(
        f"json_extract_string(j::JSON, $k{i}) AS {quote(k)}" for i, k in enumerate(names)
    )
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
