"""Physical line numbers of CSV records: DuckDB numbers records, not lines, so records that
span lines, rejected records and blank lines are placed on the file's own lines here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from leadsla.engine.step import render_sql
from leadsla.ingest.dialect import BLANK_MARK, CSV_OPTIONS
from leadsla.ingest.encoding import open_plain
from leadsla.ingest.mapping import quote
from leadsla.sql import run


def mark_blank_lines(path: str, target: Path) -> bool:
    """Write a copy of ``path`` to ``target`` with every blank line that lies between records
    (not inside a quoted field: an even number of quote characters before it, and text after
    it) replaced by :data:`BLANK_MARK`; False, and no copy, when there is none."""
    with open_plain(path) as fh:
        data = fh.read()
    blank = re.compile(rb"(?<=\n)\r?\n")
    spots, quotes, last = [], 0, 0
    for m in blank.finditer(data):
        quotes += data.count(b'"', last, m.start())
        last = m.start()
        if quotes % 2 == 0 and data[m.end() :].strip():
            spots.append(m)
    if not spots:
        return False
    mark = BLANK_MARK.encode()
    with target.open("wb") as out:
        at = 0
        for m in spots:
            out.write(data[at : m.start()] + mark + m.group())
            at = m.end()
        out.write(data[at:])
    return True


def one_line_end(path: str, target: Path) -> str:
    """Copy ``path`` to ``target`` with every ``\\r\\n`` and lone ``\\r`` made ``\\n``."""
    with open_plain(path) as src, target.open("wb") as out:
        carry = b""
        while chunk := src.read(1 << 22):
            chunk = carry + chunk
            carry = b"\r" if chunk.endswith(b"\r") else b""
            out.write(re.sub(rb"\r\n?", b"\n", chunk[: len(chunk) - len(carry)]))
        out.write(b"\n" if carry else b"")
    return str(target)


def csv_lines(
    con: duckdb.DuckDBPyConnection, reread: tuple[dict[str, Any], list[str]] | None
) -> None:
    """Physical line numbers for the rows kept in ``raw_rows`` (by ``rid``, the number of the
    record among the parsed ones) and for ``raw_rejects``.

    DuckDB numbers a rejected record by its place among all records (as if each took one line)
    and parsed ones not at all, so both are placed on one axis first: a record's *ordinal* is
    its place among all records, parsed or rejected. Its line is then the ordinal, plus two
    (the header, counting from one), plus the extra lines every earlier record spanned. When
    every record sits on one line (``reread`` is None, see :func:`read_csv`) there are no
    extra lines; otherwise the file (``reread``: the read's parameters and columns) is read
    once more for the parsed records that span lines (rejected ones carry their own text)."""
    spans = "SELECT NULL::BIGINT AS rid, NULL::BIGINT AS nl WHERE false"
    if reread is not None:
        params, cols = reread
        nl = " + ".join(
            f"coalesce(length({quote(c)}) - length(replace({quote(c)}, chr(10), '')), 0)"
            for c in cols
        )
        run(con, render_sql("ingest/csv_spans.sql", nl=nl or "0", options=CSV_OPTIONS), params)
        spans = "SELECT rid, nl FROM raw_spans"
    run(con, render_sql("ingest/csv_lines.sql", spans=spans))
