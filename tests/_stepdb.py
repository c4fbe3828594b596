"""An in-memory store for testing one engine step on a handful of rows: the contract's DDL
(leadsla.store.SCHEMA_DDL, the event log's from leadsla.events) and the work schema on the
search path, as the DuckDB backend sets them up."""

from __future__ import annotations

from typing import Any

import duckdb

from leadsla.store import SCHEMA_DDL


def step_db() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for ddl in SCHEMA_DDL:
        con.execute(ddl)
    con.execute("SET search_path = 'memory.main,memory.work'")
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
