"""One way to run parameterised SQL: only the ``$name`` parameters a statement uses are bound.

DuckDB refuses named parameters a statement does not mention, and the engine's statements share
one parameter set per tick (``now``, ``export_at``, ...). Binding values as parameters is also
what keeps rule values out of SQL text.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def run(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any] | list[Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Execute ``sql`` binding the subset of ``params`` it references (a list binds ``?``)."""
    if not params:
        return con.execute(sql)
    if isinstance(params, list):
        return con.execute(sql, params)
    used = set(_PARAM.findall(sql))
    return con.execute(sql, {k: v for k, v in params.items() if k in used})


def scalar(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: dict[str, Any] | list[Any] | None = None,
) -> Any:
    """The first column of the first row (None when there is no row)."""
    rows = run(con, sql, params).fetchall()  # drain: DuckDB 2 refuses work on a half-read result
    return rows[0][0] if rows else None
