"""Physical line numbers of CSV records: DuckDB numbers records, not lines, so records that
span lines, rejected records and blank lines are placed on the file's own lines here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

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
        run(
            con,
            f"""
            CREATE OR REPLACE TEMP TABLE raw_spans AS
            SELECT rid, nl FROM (
                SELECT row_number() OVER () - 1 AS rid, {nl or "0"} AS nl
                FROM read_csv($path, {CSV_OPTIONS})
            ) WHERE nl > 0
            """,
            params,
        )
        spans = "SELECT rid, nl FROM raw_spans"
    # the k-th rejected record (by line) follows ``good_before`` parsed ones: a parsed record
    # ``rid`` has as many rejected ones before it as the last of those with good_before <= rid
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejk AS
        SELECT good_before, max(k) AS k FROM (
            SELECT line - 2 - (row_number() OVER (ORDER BY line) - 1) AS good_before,
                   row_number() OVER (ORDER BY line) AS k
            FROM raw_rejects)
        GROUP BY good_before
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE raw_extra AS
        SELECT o, sum(extra) OVER (ORDER BY o) AS cum FROM (
            SELECT s.rid + coalesce(r.k, 0) AS o, s.nl AS extra
            FROM ({spans}) s ASOF LEFT JOIN raw_rejk r ON s.rid >= r.good_before
            UNION ALL
            SELECT line - 2, size - 1 FROM raw_rejects WHERE size > 1)
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rows AS
        WITH k AS (
            SELECT k.*, k.rid + coalesce(r.k, 0) AS o
            FROM raw_rows k ASOF LEFT JOIN raw_rejk r ON k.rid >= r.good_before
        )
        SELECT k.* EXCLUDE (o, line), k.o + 2 + coalesce(e.cum, 0) AS line
        FROM k ASOF LEFT JOIN raw_extra e ON k.o > e.o
        ORDER BY k.rid
        """,
    )
    run(
        con,
        """
        CREATE OR REPLACE TEMP TABLE raw_rejects AS
        SELECT r.* REPLACE (r.line + coalesce(e.cum, 0) AS line)
        FROM raw_rejects r ASOF LEFT JOIN raw_extra e ON r.line - 2 > e.o
        ORDER BY r.line
        """,
    )
