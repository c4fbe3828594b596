"""Type, map and check every row of a file in one SQL projection, and quarantine what cannot be
used with its file, line, raw text and reason."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

import duckdb
import pyarrow as pa

from leadsla.engine.step import render_sql
from leadsla.ingest.fields import (
    HELPER_COLS,
    KEY_FIELD,
    NOT_BEFORE,
    REQUIRED,
)
from leadsla.ingest.files import BadFile, ExportFile
from leadsla.ingest.headers import header_shape
from leadsla.ingest.ids import register_udfs, report_collisions
from leadsla.ingest.mapping import (
    field_expr,
    map_source_expr,
    mapping_params,
    quote,
    text_expr,
)
from leadsla.ingest.values import bound_params, checks_and_warnings, kind, value_macros
from leadsla.rules.column_models import describe
from leadsla.rules.records import ENTITY_FIELDS
from leadsla.rules.source_models import Source
from leadsla.sql import run, scalar


def canonicalise(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> tuple[int, int]:
    """Turn ``raw_rows`` into the typed ``incoming`` table and quarantine what cannot be used.

    Returns (rows loaded, rows quarantined). Raises :class:`BadFile` when a required column is
    not in the export at all.

    One SQL projection (``checked.sql``) types, maps and checks every row (no Python per row):

    - timestamps are read with their zone (``Z``, ``UTC``, ``GMT``, an offset, ``UTC+5:30``;
      none: the source's zone) and must lie in the source's ``timestamp_bounds``; another
      word after the time (``PST``, ``IST``) or a value outside the bounds refuses the row;
    - a response or update dated before the lead's (issue's) creation is dropped with a
      ``loaded_without_value`` warning: the row loads without it, so it never counts as met;
    - numbers must be finite and in ``number_bounds``; otherwise they are dropped with a
      warning, as unreadable ones are;
    - identifiers are normalised (:func:`~leadsla.ingest.ids.normalise_id`) and two spellings
      of one id in one file are reported: the rows with the later spelling are quarantined.
    """
    entity = source.entity
    headers = {r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()} - HELPER_COLS
    exprs = {fld: field_expr(fld, source, headers) for fld in ENTITY_FIELDS[entity]}
    missing = [fld for fld in REQUIRED[entity] if exprs[fld] is None]
    if missing:
        wanted = [f"{m} ({describe(source.columns[m])})" if m in source.columns else m
                  for m in missing]  # fmt: skip
        raise BadFile(f"required columns missing: {', '.join(wanted)}; {header_shape(headers)}")
    register_udfs(con)
    run(con, value_macros())
    if entity != "activities":
        _status_map(con, source)
    sql = _projection(source.model_dump_json(), frozenset(headers))
    params = bound_params(source, f.export_at) | mapping_params(source)
    run(con, sql, {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)})
    key = KEY_FIELD[entity]
    report_collisions(con, key)
    return _quarantine(con, f, source, now, key)


@lru_cache(maxsize=256)
def _projection(source_json: str, headers: frozenset[str]) -> str:
    """The text of ``checked.sql`` for a source (its settings as JSON) and a file's headers:
    files of one source share it, so a tick renders it once per source and header set."""
    source = Source.model_validate_json(source_json)
    entity = source.entity
    statuses = entity != "activities"
    heads = set(headers)
    srcs = {fld: map_source_expr(fld, source, heads) for fld in ENTITY_FIELDS[entity]}
    checks, warns = checks_and_warnings(
        source,
        statuses and source.unknown_status == "quarantine",
        frozenset(fld for fld, src in srcs.items() if src is not None),
    )
    key = KEY_FIELD[entity]
    return render_sql(
        "ingest/checked.sql",
        key=key,
        key_text=text_expr(key, source, heads) or "NULL::VARCHAR",
        fields=[
            {
                "name": fld,
                "expr": field_expr(fld, source, heads) or "NULL::VARCHAR",
                "kind": kind(fld),
                "src": srcs[fld],
                "required": fld in REQUIRED[entity],
            }
            for fld in ENTITY_FIELDS[entity]
        ],
        checks=checks,
        warns=warns,
        not_before=NOT_BEFORE[entity],
        statuses=statuses,
        date_only=source.date_only,
        unknown_status="NULL"
        if source.unknown_status == "quarantine"
        else repr(source.unknown_status),
    )


def _status_map(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """``status_map``: the source's CRM statuses (trimmed, lower case) and their classes
    (:meth:`Source.status_classes`), registered as a table (rule values never become SQL
    text)."""
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE status_map AS "
        "SELECT * FROM (VALUES (NULL::VARCHAR, NULL::VARCHAR)) t(crm_status, status_class) "
        "WHERE false",
    )
    classes = source.status_classes()
    if classes:
        con.register(
            "status_map_arrow",
            pa.table({"crm_status": list(classes), "status_class": list(classes.values())}),
        )
        run(con, "INSERT INTO status_map SELECT * FROM status_map_arrow")
        con.unregister("status_map_arrow")


def _quarantine(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime, key: str
) -> tuple[int, int]:
    """``quarantine_rows`` (refused rows, rows loaded without a value, and the records the
    parser rejected) and the ``incoming`` view of the rows that load; returns (rows loaded,
    rows quarantined)."""
    # the raw row (as JSON of the export's own columns) is built only for rows that need it
    all_cols = [r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()]
    raw_expr = (
        "r.raw"
        if "raw" in all_cols
        else "CAST(to_json(struct_pack("
        + ", ".join(f"{quote(c)} := r.{quote(c)}" for c in all_cols if c not in HELPER_COLS)
        + ")) AS VARCHAR)"
    )
    dated = [fld for fld in ENTITY_FIELDS[source.entity] if kind(fld) == "ts"]
    run(
        con,
        render_sql(
            "ingest/quarantine_rows.sql",
            raw_expr=raw_expr,
            dated=dated,
            date_only=source.date_only,
        ),
        {"source_id": source.id, "file": f.url, "now": now}
        | ({"tz": source.timezone} if dated and source.date_only != "reject" else {}),
    )
    bad = scalar(
        con,
        "SELECT (SELECT count(*) FROM checked WHERE len(reasons) > 0) "
        "+ (SELECT count(*) FROM raw_rejects)",
    )
    checked_cols = [r[0] for r in run(con, "DESCRIBE checked").fetchall()]
    helpers = [c for c in checked_cols if c.endswith(("__dateonly", "__src"))]
    run(
        con,
        f"""
        CREATE OR REPLACE VIEW work.incoming AS
        SELECT * EXCLUDE (reasons, warnings, {", ".join([f"{key}__shape", *helpers])})
        FROM checked WHERE len(reasons) = 0
        """,
    )
    good = scalar(con, "SELECT count(*) FROM incoming")
    return int(good or 0), int(bad or 0)
