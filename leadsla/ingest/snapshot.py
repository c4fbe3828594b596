"""Unchanged snapshot rows: a fingerprint of each row's mapped text, and the anti-join against
lead state that skips a row nobody changed before anything types it."""

from __future__ import annotations

import hashlib
from typing import Any

import duckdb

from leadsla.ingest.mapping import field_expr, quote
from leadsla.rules.column_models import spec_headers
from leadsla.rules.records import ENTITY_FIELDS
from leadsla.rules.source_models import Source
from leadsla.sql import run


def keep_changed(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    cols: list[str],
    numbered: str,
    params: dict[str, Any],
) -> None:
    """``raw_rows``: the rows of query ``numbered`` (the export's columns ``cols`` plus ``rid``)
    that may change something, with their ``raw_hash`` (:func:`fingerprint`)."""
    row_hash, skip = fingerprint(source, cols)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_rows AS
        SELECT r.* FROM (SELECT n.*, {row_hash} AS raw_hash FROM ({numbered}) n) r {skip}
        """,
        {**params, "fp": _settings_hash(source)},
    )


def _settings_hash(source: Source) -> str:
    """The source's settings, folded into every row fingerprint: other mappings, other rows."""
    return hashlib.blake2b(source.model_dump_json().encode(), digest_size=8).hexdigest()


def fingerprint(source: Source, cols: list[str]) -> tuple[str, str]:
    """SQL of a row's ``raw_hash`` (over the export's own text of every mapped column and
    parameter ``$fp``, :func:`_settings_hash`) and, for leads, the anti-join that drops a row
    whose fingerprint lead state already holds: a snapshot row nobody changed."""
    headers = set(cols) - {"line", "raw"}
    fields = ENTITY_FIELDS[source.entity]
    # the export's own text of every mapped column, untrimmed: hashing it costs less than the
    # typed values, and a row that differs only in whitespace merely takes the slow path
    mapped: list[str] = []
    for fld in fields:
        spec = source.columns.get(fld)
        mapped += [n for n in ([fld] if spec is None else spec_headers(spec)) if n in headers]
    lead_id = field_expr("lead_id", source, headers)
    row_hash = f"hash($fp, {', '.join(quote(c) for c in dict.fromkeys(mapped))})"
    skip = ""
    # (a history file's rows are bucketed first: leadsla.ingest.history keeps each lead's last)
    if source.entity == "leads" and lead_id is not None and source.format != "history":
        # the fingerprint covers the lead id's own text, so an equal 64-bit hash is the same
        # lead's same row (a collision between different rows is ~1 in 10^13 at a million
        # leads); joining on the integer alone spares hashing a million lead ids every tick
        skip = "ANTI JOIN lead_state s ON s.row_hash = r.raw_hash"
    return row_hash, skip
