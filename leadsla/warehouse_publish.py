"""The published marts: a copy analysts' tools can open and that describes itself.

Readable by DuckDB 1.x: DuckDB 2.0 writes its own storage format (storage 69) by default, which
DuckDB 1.x and the BI drivers built on it refuse. A file created in an older format keeps it
(DuckDB writes what the file's version can hold), so the warehouse is created in
:data:`STORAGE_VERSION` (:func:`open_v1`; one made by an earlier release is converted once) and
publishing stays a byte copy: re-encoding a 10M-event log on every review would cost minutes.

Self-describing: every model's and column's description from the dbt docs (the manifest the
build used) becomes a DuckDB comment (:func:`describe`), so ``duckdb_columns()``, ``DESCRIBE``
or a BI tool's column list shows what each column means. Tables get their description as the
table's comment. Views keep theirs: it is the fingerprint ``view_if_changed`` compares
(macros/view_if_changed.sql); their columns are described all the same.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb

#: The storage format of the warehouse and so of the published marts: read by every DuckDB from
#: 1.0 on (``ATTACH ... (STORAGE_VERSION ...)`` in DuckDB's storage docs).
STORAGE_VERSION = "v1.0.0"


def _path(path: Path) -> str:
    return str(path).replace("'", "''")


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of ``con``'s database, as DuckDB tags it (``v1.0.0+``, ``v2.0.0+``)."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchall()
    return str(row[0][0]) if row and row[0][0] else ""


def open_v1(path: Path) -> duckdb.DuckDBPyConnection:
    """Connect to the warehouse at ``path``, created in :data:`STORAGE_VERSION` if it does not
    exist, and converted to it (``COPY FROM DATABASE`` into a new file, renamed over the old
    one: once) if an earlier release made it in DuckDB 2.0's format."""
    if not path.exists():
        con = duckdb.connect()
        con.execute(f"ATTACH '{_path(path)}' AS fresh (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.close()
    con = duckdb.connect(str(path))
    if storage_version(con).startswith(STORAGE_VERSION.split(".")[0] + "."):
        return con
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    tmp = path.with_name(f".{path.name}.v1")
    tmp.unlink(missing_ok=True)
    con.execute(f"ATTACH '{_path(tmp)}' AS converted (STORAGE_VERSION '{STORAGE_VERSION}')")
    con.execute(f'COPY FROM DATABASE "{source}" TO converted')
    con.execute("DETACH converted")
    con.close()
    tmp.replace(path)
    return duckdb.connect(str(path))


def publish(warehouse: Path, published: Path, manifest: Path) -> Path:
    """Describe the built warehouse from ``manifest`` (:func:`describe`), fold its WAL into the
    file and copy it to ``published`` by atomic rename (see :mod:`leadsla.warehouse`).

    The connection is the process's own instance of the warehouse (dbt-duckdb may still hold
    it open), so what was just built is what is copied.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    con = open_v1(warehouse)
    try:
        catalog = con.execute("SELECT current_database()").fetchall()[0][0]
        con.execute("BEGIN")  # one commit for every comment (one each costs about 6x)
        describe(con, catalog, manifest)
        con.execute("COMMIT")
        con.execute("CHECKPOINT").fetchall()
    finally:
        con.close()
    tmp = published.with_name(f".{published.name}.tmp")
    shutil.copyfile(warehouse, tmp)
    tmp.replace(published)
    return published


def _quoted(text: str) -> str:
    return "'" + " ".join(text.split()).replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def describe(con: duckdb.DuckDBPyConnection, catalog: str, manifest: Path) -> int:
    """Comment every described model and column of ``manifest`` present in ``catalog``;
    returns how many comments were written (0 when there is no manifest)."""
    if not manifest.is_file():
        return 0
    nodes: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    kinds = {
        (schema, name): kind
        for schema, name, kind in con.execute(
            "SELECT schema_name, table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = ?"
            " UNION ALL SELECT schema_name, view_name, 'VIEW' FROM duckdb_views() "
            "WHERE database_name = ? AND NOT internal",
            [catalog, catalog],
        ).fetchall()
    }
    written = 0
    for node in nodes.values():
        if node.get("resource_type") != "model":
            continue
        schema, name = node["schema"], node.get("alias") or node["name"]
        kind = kinds.get((schema, name))
        if kind is None:
            continue
        relation = f"{_ident(catalog)}.{_ident(schema)}.{_ident(name)}"
        if kind == "TABLE" and node.get("description"):
            con.execute(f"COMMENT ON TABLE {relation} IS {_quoted(node['description'])}")
            written += 1
        for column, spec in node.get("columns", {}).items():
            if spec.get("description"):
                con.execute(
                    f"COMMENT ON COLUMN {relation}.{_ident(column)} "
                    f"IS {_quoted(spec['description'])}"
                )
                written += 1
    return written
