"""Identifiers as one id: Unicode NFKC with invisible characters removed, and two spellings of
one id in one file reported (the later spelling's rows are quarantined)."""

from __future__ import annotations

import contextlib
import unicodedata

import duckdb
import pyarrow as pa
from duckdb.func import PythonUDFType

from leadsla.engine.step import render_sql
from leadsla.sql import run, scalar


def normalise_id(value: str) -> str:
    """An identifier as one id: control and format characters (zero-width spaces and joiners,
    word joiner, BOM, bidi marks, soft hyphen) removed, Unicode NFKC (fullwidth ``Ｌ１`` is
    ``L1``), surrounding white space stripped."""
    kept = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))
    return unicodedata.normalize("NFKC", kept).strip()


def _nfkc_udf(values: pa.Array) -> pa.Array:
    return pa.array(
        [None if v is None else normalise_id(v) for v in values.to_pylist()], pa.string()
    )


def _ascii_udf(values: pa.Array) -> pa.Array:
    """A value shown with its invisible characters escaped (``'L1\\u200b'``), for reasons."""
    return pa.array([None if v is None else ascii(v) for v in values.to_pylist()], pa.string())


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """The two Python functions the value macros call, once per connection. SQL calls
    ``lsla_nfkc`` only for ids that are not plain printable ASCII (a few in a million), so it
    costs the load nothing measurable; ``lsla_ascii`` only for reported collisions."""
    for name, fn in (("lsla_nfkc", _nfkc_udf), ("lsla_ascii", _ascii_udf)):
        # a second registration on the same connection raises: it is already there
        with contextlib.suppress(duckdb.NotImplementedException):
            con.create_function(
                name, fn, ["varchar"], "varchar", type=PythonUDFType.ARROW, side_effects=False
            )


def report_collisions(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Two spellings of one id in one file (``L1`` and ``L1`` with a zero-width space, or
    fullwidth ``Ｌ１``) are one record after normalisation: the rows with the first spelling
    (by line) load, the rows with any other spelling are quarantined naming both. Only ids
    that were not plain ASCII can collide, so a file without any costs one count."""
    if not scalar(con, f"SELECT count(*) FROM checked WHERE {key}__shape IS NOT NULL"):
        return
    run(con, render_sql("ingest/id_collisions.sql", key=key))
