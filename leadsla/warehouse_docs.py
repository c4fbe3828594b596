"""The published marts describe themselves: every model's and column's description from the dbt
docs (the manifest the build used) written as DuckDB comments into the published copy, so an
analyst's client (``duckdb_columns()``, ``DESCRIBE``, a BI tool's column list) shows what each
column means without the dbt docs site.

Tables get their description as the table's comment. Views keep theirs: it is the fingerprint
``view_if_changed`` compares (macros/view_if_changed.sql), and the published copy can seed a
warehouse again; their columns are described all the same.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb


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
