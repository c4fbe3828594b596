"""Temp tables on the store's connection: the kept ones (rules and calendars, built once per
connection and rule set) and one tick's work, which :func:`drop_work_tables` drops.

Whether a temp table outlives the tick is a mark on the table itself (its comment,
:data:`KEPT_MARK`), set where it is created, so the list of kept tables cannot drift from the code
that builds them and each connection knows its own.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from leadsla.store import drop_work

#: The comment that marks a temp table as kept across ticks.
KEPT_MARK = "leadsla:kept"


def keep(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Mark temp table ``name`` as kept across ticks (a ``CREATE OR REPLACE`` clears the mark:
    mark it again after each)."""
    con.execute(f"COMMENT ON TABLE temp.main.\"{name}\" IS '{KEPT_MARK}'")


def register_table(
    con: duckdb.DuckDBPyConnection, name: str, table: pa.Table, *, work: bool = False
) -> None:
    """Copy an Arrow table into a temp table (registered views die with the Python object).
    Kept across ticks unless ``work`` marks it as one tick's data."""
    con.register(f"{name}__arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}__arrow")
    con.unregister(f"{name}__arrow")
    if not work:
        keep(con, name)


def drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop one tick's temp tables and views, and any work table a statement run outside a
    transaction left (:func:`leadsla.store.drop_work`). A connection that lives across ticks
    (replays, the demo, the bench) would otherwise keep the largest of them, a first load's
    million-row copies, inside DuckDB's memory limit, and every later tick would run spilling
    to disk."""
    drop_work(con)
    for kind, catalog, col, kept in (
        ("VIEW", "duckdb_views", "view_name", "false"),
        ("TABLE", "duckdb_tables", "table_name", f"comment IS NOT DISTINCT FROM '{KEPT_MARK}'"),
    ):
        for (name,) in con.execute(
            f"SELECT {col} FROM {catalog}() WHERE temporary AND NOT internal AND NOT ({kept})"
        ).fetchall():
            con.execute(f'DROP {kind} IF EXISTS temp.main."{name}"')
