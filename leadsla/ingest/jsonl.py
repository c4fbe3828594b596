"""Read a JSON lines file: each line as text first, so a line that is not a JSON object, has
bytes that are not UTF-8 or is over the size bound is quarantined with its own text and line."""

from __future__ import annotations

from pathlib import Path

import duckdb

from leadsla.engine.step import render_sql
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
        render_sql("ingest/jsonl_read.sql", options=JSONL_OPTIONS),
        {"path": path, "delim": "\x01"},
    )
    run(con, render_sql("ingest/jsonl_lines.sql", reject_case=REJECT_CASE))
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
    run(con, render_sql("ingest/jsonl_rejects.sql"))
    run(con, "DROP TABLE raw_json")
    return FileResult(status="read", encoding=encoding)
