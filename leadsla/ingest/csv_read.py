"""Read a CSV file into ``raw_rows`` and ``raw_rejects`` on its physical lines.

A record-level problem (too many or too few fields, an unterminated quote, bad bytes) rejects
that record only; the rest of the file loads. A file-level problem (no header, bad gzip) is a
:class:`~leadsla.ingest.files.BadFile`."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb

from leadsla.engine.step import render_sql
from leadsla.ingest.csv_lines import csv_lines, mark_blank_lines, one_line_end
from leadsla.ingest.dialect import (
    BLANK_MARK,
    CSV_OPTIONS,
    MAX_QUOTE_SPLITS,
    REJECT_CASE,
    REJECT_REASONS,
)
from leadsla.ingest.encoding import (
    CsvInput,
    decide_csv_encoding,
    legacy_8bit,
    open_plain,
    transcode,
)
from leadsla.ingest.files import FileResult
from leadsla.ingest.headers import csv_header
from leadsla.ingest.mapping import check_columns
from leadsla.ingest.snapshot import keep_changed
from leadsla.rules.source_models import Source
from leadsla.sql import run, scalar


def _count_csv(cur: duckdb.DuckDBPyConnection, params: dict[str, Any]) -> tuple[int, int]:
    """(records in the CSV, physical lines in the file), on ``cur``, a cursor of the tick's
    connection that this function closes.

    It runs on a second thread while the tick's connection reads the changed rows: that read
    numbers records with a streaming window, which keeps it on one core, so counting on the
    other core is nearly free, where counting inside that read would mean materialising every
    record. A cursor shares the tick's database instance (a new instance would cost 35 ms a
    file, most of a small export's load). The line count tells whether any record spans lines
    (see :func:`csv_lines`)."""
    try:
        records = int(
            cur.execute(f"SELECT count(*) FROM read_csv($path, {CSV_OPTIONS})", params).fetchall()[
                0
            ][0]
        )
    finally:
        cur.close()
    newlines, last = 0, b"\n"
    with open_plain(params["path"]) as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    return records, newlines + (last != b"\n")


def read_csv(
    con: duckdb.DuckDBPyConnection,
    path: str,
    source: Source,
    tmp: Path,
    before: list[str],
) -> tuple[FileResult, int]:
    """Read a CSV file into ``raw_rows`` and ``raw_rejects`` (physical lines). A quote that
    is never closed would swallow every record after it into one rejected record: its first
    physical line is quarantined instead, and the lines after it are read again as records
    (up to :data:`MAX_QUOTE_SPLITS` times a file)."""
    inp, head = decide_csv_encoding(path, source.encoding, tmp)
    inp.columns = csv_header(head, inp.enc, source)
    fields = check_columns(inp.columns, source, before)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="leadsla-count") as pool:
        records = read_csv_part(con, source, inp, pool, tmp)
        # decided once per file: an ``auto`` file none of whose bytes is UTF-8 beyond ASCII is
        # Windows-1252 (read again from a UTF-8 copy); otherwise the records with bad bytes
        # are quarantined and the rest keeps its text
        if (
            source.encoding == "auto"
            and inp.encoding == "utf-8"
            and scalar(con, "SELECT count(*) FROM raw_rejects WHERE error_type LIKE '%ENCODING%'")
            and legacy_8bit(path)
        ):
            inp.path = transcode(path, "cp1252", tmp / "cp1252.csv", 0)
            inp.encoding = "windows-1252 (detected)"
            records = read_csv_part(con, source, inp, pool, tmp)
        split = _unterminated(con)
        if split is not None:
            records = _split_reads(con, source, inp, pool, tmp, split, records)
    footer = 0
    if source.footer_regex:
        pattern = re.compile(source.footer_regex)
        rows = run(con, "SELECT line, raw, size FROM raw_rejects").fetchall()
        footer_lines = [
            ln for ln, raw, _ in rows if raw is not None and pattern.search(raw.strip())
        ]
        if footer_lines:
            # everything from the first furniture line on is the footer, and the blank lines
            # right before it
            first = min(footer_lines)
            blanks = {ln for ln, raw, _ in rows if raw == BLANK_MARK}
            while first - 1 in blanks:
                first -= 1
            footer = sum(int(size) for ln, _, size in rows if ln >= first)
            run(con, "DELETE FROM raw_rejects WHERE line >= ?", [first])
    run(con, "DELETE FROM raw_rejects WHERE raw = ?", [BLANK_MARK])
    res = FileResult(status="read", footer_lines=footer, encoding=inp.encoding, fields=fields)
    return res, records


def _unterminated(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int] | None:
    """(physical line, record number, byte offset) of the first rejected record that has an
    unterminated quote and spans lines, if any."""
    rows = run(
        con,
        "SELECT line, ord, at_byte FROM raw_rejects WHERE error_type LIKE '%UNQUOTED VALUE%' "
        "AND size > 1 ORDER BY line LIMIT 1",
    ).fetchall()
    return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else None


def _split_reads(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    inp: CsvInput,
    pool: ThreadPoolExecutor,
    tmp: Path,
    split: tuple[int, int, int] | None,
    records: int,
) -> int:
    """Cut the file after the first line of each record with an unterminated quote and read
    what follows again (with the header in front), until no such record is left; the pieces'
    rows and rejects, on the file's physical lines, replace ``raw_rows`` and ``raw_rejects``.
    Returns the number of records parsed."""
    run(con, "CREATE OR REPLACE TEMP TABLE split_rows AS SELECT * FROM raw_rows WHERE false")
    run(con, "CREATE OR REPLACE TEMP TABLE split_rejects AS SELECT * FROM raw_rejects WHERE false")
    with open_plain(inp.path) as fh:
        header = fh.readline()
    offset, total, part = 0, 0, inp
    for n in range(MAX_QUOTE_SPLITS + 1):
        if split is None or n == MAX_QUOTE_SPLITS:
            break
        line, ordinal, at = split
        # the records before it: ordinal counts parsed and rejected ones alike
        rejected_before = int(
            scalar(con, "SELECT count(*) FROM raw_rejects WHERE line < ?", [line]) or 0
        )
        total += ordinal - rejected_before
        run(con, "INSERT INTO split_rows BY NAME SELECT * REPLACE (line + $o AS line) "
                 "FROM raw_rows WHERE line < $l", {"o": offset, "l": line})  # fmt: skip
        with open_plain(part.path) as fh:
            fh.seek(at)
            first = fh.readline()
            piece = tmp / f"piece{n}.csv"
            with piece.open("wb") as out:
                out.write(header)
                while chunk := fh.read(1 << 22):
                    out.write(chunk)
        run(
            con,
            render_sql("ingest/split_rejects.sql"),
            {
                "o": offset,
                "l": line,
                "raw": first.decode("utf-8", errors="replace").rstrip("\r\n"),
                "msg": f"{REJECT_REASONS['UNQUOTED VALUE']}; only this line is quarantined, "
                "the lines after it are read as records",
            },
        )
        offset += line - 1
        part = CsvInput(str(piece), inp.enc, inp.columns, inp.encoding)
        records = read_csv_part(con, source, part, pool, tmp)
        split = _unterminated(con)
    total += records
    run(con, "INSERT INTO split_rows BY NAME SELECT * REPLACE (line + $o AS line) FROM raw_rows",
        {"o": offset})  # fmt: skip
    run(con, "INSERT INTO split_rejects BY NAME SELECT * REPLACE (line + $o AS line) "
             "FROM raw_rejects", {"o": offset})  # fmt: skip
    run(con, "CREATE OR REPLACE TEMP TABLE raw_rows AS SELECT * FROM split_rows")
    run(con, "CREATE OR REPLACE TEMP TABLE raw_rejects AS SELECT * FROM split_rejects")
    run(con, "DROP TABLE split_rows")
    run(con, "DROP TABLE split_rejects")
    return total


def read_csv_part(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    inp: CsvInput,
    pool: ThreadPoolExecutor,
    tmp: Path,
) -> int:
    """:func:`_read_csv_once`; a file whose line ends are mixed (``\\r\\n`` and ``\\n``),
    which the strict parser refuses as a whole, is read from a copy with ``\\n`` only. The
    parser skips blank lines without a trace, which would shift the line of every record after
    one: a file whose lines do not add up and that has blank lines between records is read
    from a copy in which each is a :data:`BLANK_MARK` line (a rejected record that holds its
    line's place; :func:`read_csv` drops them)."""
    try:
        records, exact = _read_csv_once(con, source, inp, pool)
    except duckdb.InvalidInputException:
        inp.path = one_line_end(inp.path, tmp / f"lf{len(list(tmp.iterdir()))}.csv")
        records, exact = _read_csv_once(con, source, inp, pool)
    if not exact and mark_blank_lines(inp.path, tmp / f"bl{len(list(tmp.iterdir()))}.csv"):
        inp.path = str(tmp / f"bl{len(list(tmp.iterdir())) - 1}.csv")
        records, _ = _read_csv_once(con, source, inp, pool)
    return records


def _read_csv_once(
    con: duckdb.DuckDBPyConnection, source: Source, inp: CsvInput, pool: ThreadPoolExecutor
) -> tuple[int, bool]:
    """One read of ``inp``: ``raw_rows`` and ``raw_rejects`` on physical lines (``ord``: a
    reject's number among all records from 0, ``at_byte``: the offset of its first byte).
    Returns the number of records parsed."""
    run(con, "DROP TABLE IF EXISTS reject_errors")
    run(con, "DROP TABLE IF EXISTS reject_scans")
    counted = pool.submit(_count_csv, con.cursor(), inp.params)
    # Only the rows that may change something are kept: the unchanged 95% of a snapshot never
    # become a table. row_number() OVER () numbers records in file order (a streaming window
    # over the scan, which keeps insertion order); the line assumes one line per record until
    # csv_lines says otherwise.
    keep_changed(
        con,
        source,
        inp.columns,
        "SELECT *, row_number() OVER () - 1 AS rid, rid + 2 AS line"
        f" FROM read_csv($path, {CSV_OPTIONS})",
        inp.params,
    )
    records, physical = counted.result()
    run(con, render_sql("ingest/csv_rejects.sql", reject_case=REJECT_CASE))
    # the count reads no column, so it cannot see bytes that do not decode: their records
    # are counted as parsed there, and rejected here
    records -= int(
        scalar(con, "SELECT count(*) FROM raw_rejects WHERE error_type = 'INVALID ENCODING'") or 0
    )
    rejected = int(scalar(con, "SELECT coalesce(sum(size), 0) FROM raw_rejects") or 0)
    # every record on a line of its own (no quoted newline, no blank line): line = number + 2
    one_line_each = physical == 1 + records + rejected
    # the read numbered lines as if every record took one and none was rejected
    if not one_line_each or rejected:
        csv_lines(con, None if one_line_each else (inp.params, inp.columns))
    return records, one_line_each
