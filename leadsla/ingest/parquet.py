"""Read a Parquet file: every column as text, numbered by row."""

from __future__ import annotations

import duckdb

from leadsla.ingest.files import BadFile, FileResult
from leadsla.sql import run


def read_parquet(con: duckdb.DuckDBPyConnection, path: str) -> FileResult:
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
