"""Type, map and check every row of a file in one SQL projection, and quarantine what cannot be
used with its file, line, raw text and reason."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from leadsla.ingest.fields import (
    HELPER_COLS,
    KEY_FIELD,
    NOT_BEFORE,
    NUMBER_FIELDS,
    REQUIRED,
    TIMESTAMP_FIELDS,
)
from leadsla.ingest.files import BadFile, ExportFile
from leadsla.ingest.headers import header_shape
from leadsla.ingest.ids import register_udfs, report_collisions
from leadsla.ingest.mapping import field_expr, quote, text_expr
from leadsla.ingest.values import ISO_NAIVE, ISO_ZONED, VALUE_MACROS
from leadsla.rules.models import ENTITY_FIELDS, NumberRange, Source
from leadsla.sql import run, scalar


def canonicalise(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> tuple[int, int]:
    """Turn ``raw_rows`` into the typed ``incoming`` table and quarantine what cannot be used.

    Returns (rows loaded, rows quarantined). Raises :class:`BadFile` when a required column is
    not in the export at all.

    One SQL projection types, maps and checks every row (no Python per row):

    - timestamps are read with their zone (``Z``, ``UTC``, ``GMT``, an offset, ``UTC+5:30``;
      none: the source's zone) and must lie in the source's ``timestamp_bounds``; another
      word after the time (``PST``, ``IST``) or a value outside the bounds refuses the row;
    - a response or update dated before the lead's (issue's) creation is dropped with a
      ``loaded_without_value`` warning: the row loads without it, so it never counts as met;
    - numbers must be finite and in ``number_bounds``; otherwise they are dropped with a
      warning, as unreadable ones are;
    - identifiers are normalised (:func:`normalise_id`) and two spellings of one id in one
      file are reported: the rows with the later spelling are quarantined.
    """
    entity = source.entity
    fields = ENTITY_FIELDS[entity]
    headers = {r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()} - HELPER_COLS
    exprs = {fld: field_expr(fld, source, headers) for fld in fields}
    missing = [fld for fld in REQUIRED[entity] if exprs[fld] is None]
    if missing:
        wanted = [
            f"{m} (header {source.columns[m]!r})" if m in source.columns else m for m in missing
        ]
        raise BadFile(f"required columns missing: {', '.join(wanted)}; {header_shape(headers)}")
    register_udfs(con)
    run(con, VALUE_MACROS)
    bounds = source.timestamp_bounds
    earliest = datetime.combine(bounds.earliest, time(), UTC)
    after = timedelta(minutes=bounds.minutes_after_export)
    latest = f.export_at + after
    params: dict[str, Any] = {
        "tz": source.timezone,
        "fmt": source.datetime_format,
        "earliest": earliest,
        "latest": latest,
        # wall-clock times outside these cannot be in bounds in any zone (offsets are at most
        # 14 hours): converting them is skipped, so no year 0001 or 294247 reaches the zone
        # arithmetic
        "guard_lo": (earliest - timedelta(days=1)).replace(tzinfo=None),
        "guard_hi": (latest.astimezone(UTC) + timedelta(days=1)).replace(tzinfo=None),
        "earliest_text": earliest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "export_text": f.export_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "after_text": f"{bounds.minutes_after_export:g}",
    }
    key = KEY_FIELD[entity]
    key_text = text_expr(key, source, headers) or "NULL::VARCHAR"
    # the key's own spelling where it is not plain ASCII (see report_collisions)
    sel_a = [f"CASE WHEN regexp_matches({key_text}, '[^\\x20-\\x7e]') THEN {key_text} END"
             f" AS {key}__shape"]  # fmt: skip
    # stages: a) each field's text; b) its shape; c) the parts of an unusual timestamp;
    # d) its wall-clock time and zone; t) typed and bounded. Most values take a fast path: an
    # ISO 8601 shape matched in full (cheap) is cast directly, the rest is cut into parts
    stages: dict[str, list[str]] = {"b": [], "c": [], "d": [], "t": []}
    helpers = [f"{key}__shape"]
    checks: list[str] = []
    warns: list[str] = []
    for fld in fields:
        e = exprs[fld] or "NULL::VARCHAR"
        if fld in TIMESTAMP_FIELDS:
            sel_a.append(f"{e} AS {fld}__raw")
            stages["b"].append(f"""CASE WHEN {fld}__raw IS NULL THEN NULL
                WHEN $fmt IS NULL AND regexp_full_match({fld}__raw, '{ISO_NAIVE}') THEN 'naive'
                WHEN regexp_full_match({fld}__raw, '{ISO_ZONED}') THEN 'instant'
                ELSE 'other' END AS {fld}__kind""")
            stages["c"].append(
                f"CASE WHEN {fld}__kind = 'other' THEN lsla_split({fld}__raw) END AS {fld}__m"
            )
            stages["d"] += [
                f"CASE {fld}__kind WHEN 'other' THEN lsla_zone({fld}__m) ELSE {fld}__kind END"
                f" AS {fld}__zone",
                f"""CASE {fld}__kind WHEN 'naive' THEN TRY_CAST({fld}__raw AS TIMESTAMP)
                    WHEN 'instant' THEN timezone('UTC', TRY_CAST({fld}__raw AS TIMESTAMPTZ))
                    ELSE lsla_local(CASE WHEN {fld}__m.body = '' THEN {fld}__raw
                                         ELSE {fld}__m.body END, $fmt) END AS {fld}__local""",
            ]
            stages["t"].append(
                f"CASE WHEN {fld}__local BETWEEN $guard_lo AND $guard_hi THEN"
                f" CASE {fld}__zone WHEN 'naive' THEN timezone($tz, {fld}__local)"
                f" WHEN 'instant' THEN timezone('UTC', {fld}__local)"
                f" WHEN 'known' THEN timezone('UTC', {fld}__local)"
                f" - to_minutes(lsla_offmin({fld}__m.offset)) END END AS {fld}"
            )
            helpers += [f"{fld}__kind", f"{fld}__m", f"{fld}__local", f"{fld}__zone"]
            checks.append(f"""CASE WHEN {fld}__raw IS NULL THEN NULL
                WHEN {fld}__zone = 'word' THEN '{fld}: the zone ''' || left({fld}__m.word, 12)
                    || ''' after the time is not read (abbreviations such as PST, IST or CST are'
                    || ' ambiguous); give Z, UTC, GMT or an offset such as +05:30'
                WHEN {fld}__zone = 'offset' THEN '{fld}: ''' || {fld}__m.offset
                    || ''' is not a UTC offset (-14:00 to +14:00)'
                WHEN {fld}__local IS NULL
                    THEN '{fld}: cannot read a value shaped ' || lsla_shape({fld}__raw)
                    || ' as a timestamp'
                WHEN {fld}__local < $guard_lo OR {fld} < $earliest
                    THEN '{fld}: ''' || {fld}__raw || ''' is before ' || $earliest_text
                    || ', the earliest plausible time (timestamp_bounds.earliest)'
                WHEN {fld}__local > $guard_hi OR {fld} > $latest
                    THEN '{fld}: ''' || {fld}__raw || ''' is after the export time '
                    || $export_text || ' by more than ' || $after_text
                    || ' minutes (a future timestamp; timestamp_bounds.minutes_after_export)'
            END""")
        elif fld in NUMBER_FIELDS:
            rng: NumberRange = getattr(source.number_bounds, fld)
            sel_a.append(f"{e} AS {fld}__raw")
            stages["b"].append(
                f"CASE WHEN regexp_full_match({fld}__raw, '[-+]?\\d+(?:\\.\\d+)?')"
                f" THEN TRY_CAST({fld}__raw AS DOUBLE)"
                f" ELSE lsla_num(lsla_num_parts({fld}__raw)) END AS {fld}__num"
            )
            stages["t"].append(
                f"CASE WHEN isfinite({fld}__num) AND {fld}__num BETWEEN ${fld}_min AND"
                f" ${fld}_max THEN {fld}__num END AS {fld}"
            )
            params |= {f"{fld}_min": rng.min, f"{fld}_max": rng.max,
                       f"{fld}_range": f"from {rng.min:,.15g} to {rng.max:,.15g}"}  # fmt: skip
            helpers.append(f"{fld}__num")
            warns.append(f"""CASE
                WHEN {fld}__raw IS NOT NULL AND {fld}__num IS NULL
                    THEN '{fld}: cannot read a value shaped ' || lsla_shape({fld}__raw)
                    || ' as a number; loaded without it'
                WHEN {fld}__num IS NOT NULL AND {fld} IS NULL THEN '{fld}: a value shaped '
                    || lsla_shape({fld}__raw) || ' is not a finite number ' || ${fld}_range
                    || ' (number_bounds.{fld}); loaded without it'
            END""")
        else:
            sel_a.append(f"{e} AS {fld}")
    for fld in REQUIRED[entity]:
        checks.insert(
            0,
            f"CASE WHEN {fld}{'__raw' if fld in TIMESTAMP_FIELDS else ''} IS NULL "
            f"THEN '{fld} is empty' END",
        )
    # a response or update before the record existed: dropped with a warning
    drops: list[str] = []
    for fld, origin in NOT_BEFORE[entity].items():
        warns.append(
            f"CASE WHEN {fld} < {origin} THEN '{fld}: ''' || {fld}__raw || ''' is before "
            f"{origin} ''' || {origin}__raw || '''; loaded without it' END"
        )
        drops.append(f"CASE WHEN {fld} < {origin} THEN NULL ELSE {fld} END AS {fld}")
    status_check = ""
    if entity == "leads":
        run(
            con,
            "CREATE OR REPLACE TEMP TABLE status_map AS "
            "SELECT * FROM (VALUES (NULL::VARCHAR, NULL::VARCHAR)) t(crm_status, status_class) "
            "WHERE false",
        )
        if source.status_map:
            con.register(
                "status_map_arrow",
                pa.table(
                    {
                        "crm_status": [k.strip().lower() for k in source.status_map],
                        "status_class": list(source.status_map.values()),
                    }
                ),
            )
            run(con, "INSERT INTO status_map SELECT * FROM status_map_arrow")
            con.unregister("status_map_arrow")
        if source.unknown_status == "quarantine":
            status_check = (
                ", CASE WHEN status IS NOT NULL AND status_class IS NULL THEN "
                "'status: ''' || status || ''' is not in the source''s status_map' END"
            )
    reasons = f"list_filter([{', '.join(checks)}{status_check}], lambda r: r IS NOT NULL)"
    warn = (
        f"list_filter([{', '.join(warns)}], lambda r: r IS NOT NULL)" if warns else "[]::VARCHAR[]"
    )
    status_join = (
        "LEFT JOIN status_map m ON m.crm_status = lower(trim(t.status))"
        if entity == "leads"
        else ""
    )
    status_col = (
        f", coalesce(m.status_class, "
        f"{'NULL' if source.unknown_status == 'quarantine' else repr(source.unknown_status)}, "
        "CASE WHEN t.status IS NULL THEN 'open' END) AS status_class"
        if entity == "leads"
        else ""
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.checked AS
        WITH a AS (SELECT line, raw_hash, {", ".join(sel_a)} FROM raw_rows),
        b AS (SELECT *{"".join(", " + x for x in stages["b"])} FROM a),
        c AS (SELECT *{"".join(", " + x for x in stages["c"])} FROM b),
        d AS (SELECT *{"".join(", " + x for x in stages["d"])} FROM c),
        t AS (SELECT *{"".join(", " + x for x in stages["t"])} FROM d),
        mapped AS (SELECT t.* {status_col} FROM t {status_join}),
        v AS (SELECT *, {reasons} AS reasons, {warn} AS warnings FROM mapped)
        SELECT * EXCLUDE ({", ".join(h for h in helpers if h != f"{key}__shape")})
            {f"REPLACE ({', '.join(drops)})" if drops else ""}
        FROM v
        """,
        params,
    )
    report_collisions(con, key)
    # the raw row (as JSON of the export's own columns) is built only for rows that need it
    all_cols = [r[0] for r in run(con, "DESCRIBE raw_rows").fetchall()]
    raw_expr = (
        "r.raw"
        if "raw" in all_cols
        else "CAST(to_json(struct_pack("
        + ", ".join(f"{quote(c)} := r.{quote(c)}" for c in all_cols if c not in HELPER_COLS)
        + ")) AS VARCHAR)"
    )
    quarantine_sql = f"""
        CREATE OR REPLACE TABLE work.quarantine_rows AS
        SELECT $source_id AS source_id, $file AS file, CAST(c.line AS BIGINT) AS line,
               {raw_expr} AS raw,
               array_to_string(CASE WHEN len(c.reasons) > 0 THEN c.reasons
                                    ELSE c.warnings END, '; ') AS reason,
               CASE WHEN len(c.reasons) > 0 THEN 'rejected' ELSE 'loaded_without_value' END
                   AS action,
               $now AS recorded_at
        FROM checked c JOIN raw_rows r USING (line)
        WHERE len(c.reasons) > 0 OR len(c.warnings) > 0
        UNION ALL
        SELECT $source_id, $file, line, raw,
               coalesce(error_type, 'UNREADABLE') || ': ' || coalesce(error_message, ''),
               'rejected', $now
        FROM raw_rejects
    """
    run(con, quarantine_sql, {"source_id": source.id, "file": f.url, "now": now})
    bad = scalar(
        con,
        "SELECT (SELECT count(*) FROM checked WHERE len(reasons) > 0) "
        "+ (SELECT count(*) FROM raw_rejects)",
    )
    run(
        con,
        f"""
        CREATE OR REPLACE VIEW work.incoming AS
        SELECT * EXCLUDE (reasons, warnings, {key}__shape) FROM checked WHERE len(reasons) = 0
        """,
    )
    good = scalar(con, "SELECT count(*) FROM incoming")
    return int(good or 0), int(bad or 0)
