"""Ingest: every bad input named in the tick issue loads what it can and quarantines the rest
with file, line and reason; the manifest records every file."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leadsla.ingest import export_time_from_name
from leadsla.pipelines.tick import run_tick

from .conftest import WriteLeads

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ROW = {"created_at": "2026-11-23 10:00", "name": "A", "email": "a@x.io", "form_type":
       "contact_form", "service_interest": "seo", "owner": "rahul", "status": "new"}  # fmt: skip


def tick(rules: Path, exports: Path, tmp: Path, now: datetime = NOW) -> duckdb.DuckDBPyConnection:
    db = tmp / "t.duckdb"
    run_tick(rules_dir=rules, exports=str(exports), db=db, now=now)
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def q(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("leads_20261123T090500Z.csv", datetime(2026, 11, 23, 9, 5, tzinfo=UTC)),
        ("hubspot_leads_2026-11-23T09-05-00Z.csv.gz", datetime(2026, 11, 23, 9, 5, tzinfo=UTC)),
        ("leads_20261123T143500+0530.jsonl", datetime(2026, 11, 23, 9, 5, tzinfo=UTC)),
        ("leads_20261123_0905.csv", datetime(2026, 11, 23, 9, 5, tzinfo=UTC)),  # no zone: UTC
        ("leads.csv", None),  # no stamp: the file's mtime decides
    ],
)
def test_export_time_from_file_name(name: str, expected: datetime | None) -> None:
    assert export_time_from_name(name) == expected


@pytest.mark.slow
def test_bad_rows_are_quarantined_with_file_line_reason(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    path = write_leads(
        "20261123T050000Z",
        [
            {**ROW, "lead_id": "L1", "message": "two\nlines"},  # quoted newline: lines 2-3
            {**ROW, "lead_id": "", "name": "no id"},  # line 4
            {**ROW, "lead_id": "L3", "created_at": "soon"},  # line 5
            {**ROW, "lead_id": "L4", "created_at": "2026-12-01 10:00"},  # future, line 6
            {**ROW, "lead_id": "L5"},  # fine, line 7
        ],
    )
    con = tick(rules_dir, exports, tmp_path)
    assert sorted(r[0] for r in q(con, "SELECT lead_id FROM lead_state")) == ["L1", "L5"]
    rows = q(con, "SELECT file, line, reason, action FROM quarantine ORDER BY line")
    assert [(r[1], r[3]) for r in rows] == [(4, "rejected"), (5, "rejected"), (6, "rejected")]
    assert all(r[0] == str(path) for r in rows)
    assert rows[0][2] == "lead_id is empty"
    assert (
        rows[1][2] == "created_at: cannot read a value shaped 'aaaa' as a timestamp"
    )  # its shape, not its text
    assert "is after the export time" in rows[2][2]
    assert q(con, "SELECT count(*) FROM sla_events WHERE event_type = 'row_quarantined'") == [(3,)]
    assert q(con, "SELECT rows_read, rows_loaded, rows_quarantined FROM export_manifest") == [
        (5, 2, 3)
    ]
    # the raw row is kept so nothing is lost
    assert '"created_at":"soon"' in q(con, "SELECT raw FROM quarantine WHERE line = 5")[0][0]


HEAD = "lead_id,created_at,name,message\n"
T = "2026-11-23 10:00"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "quarantined", "received"),
    [
        # every record on one line; A2 is unparseable (too few fields), A3 has a bad time
        (f"A1,{T},A,x\nA2,{T}\nA3,soon,C,x\nA4,{T},D,y\n", [3, 4], {"A1": 2, "A4": 5}),
        # A1 spans lines 2-3 (a quoted newline)
        (f'A1,{T},A,"two\nlines"\nA2,{T}\nA3,soon,C,x\nA4,{T},D,y\n', [4, 5], {"A1": 2, "A4": 6}),
        # a rejected record spanning lines 2-3, two rejected in a row, a parsed one spanning 5-6
        (
            f'B1,{T},"x\ny"\nB2,{T}\nB3,{T},C,"p\nq"\nB4,soon,D,x\nB5,{T},E,y\n',
            [2, 4, 7],
            {"B3": 5, "B5": 8},
        ),
    ],
)
def test_line_numbers_count_rejected_and_multi_line_records(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    body: str,
    quarantined: list[int],
    received: dict[str, int],
) -> None:
    """Lines are physical: unparseable records and records with quoted newlines push every
    later line down, both for rows quarantined after typing and for rejected records."""
    (exports / "leads_20261123T050000Z.csv").write_text(HEAD + body)
    con = tick(rules_dir, exports, tmp_path)
    assert [r[0] for r in q(con, "SELECT line FROM quarantine ORDER BY line")] == quarantined
    got = q(con, "SELECT lead_id, details->>'line' FROM sla_events"
                 " WHERE event_type = 'lead_received'")  # fmt: skip
    assert {k: int(v) for k, v in got} == received
    total = len(quarantined) + len(received)
    assert q(con, "SELECT rows_read, rows_quarantined FROM export_manifest") == [
        (total, len(quarantined))
    ]


def test_naive_times_use_the_source_zone_and_offsets_are_kept(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    write_leads(
        "20261123T050000Z",
        [
            {**ROW, "lead_id": "naive", "created_at": "2026-11-23 10:00"},  # Asia/Kolkata
            {**ROW, "lead_id": "offset", "created_at": "2026-11-23T04:00:00Z"},
            {**ROW, "lead_id": "dateonly", "created_at": "2026-11-23"},  # local midnight
        ],
    )
    con = tick(rules_dir, exports, tmp_path)
    got = dict(q(con, "SELECT lead_id, strftime(created_at, '%Y-%m-%d %H:%M') FROM lead_state"))
    assert got == {"naive": "2026-11-23 04:30", "offset": "2026-11-23 04:00",
                   "dateonly": "2026-11-22 18:30"}  # fmt: skip


@pytest.mark.slow
def test_duplicate_ids_latest_updated_at_wins_within_and_across_files(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    write_leads("20261123T050000Z", [
        {**ROW, "lead_id": "D", "name": "newest", "updated_at": "2026-11-23 10:20"},
        {**ROW, "lead_id": "D", "name": "older", "updated_at": "2026-11-23 10:10"},
    ])  # fmt: skip
    # a later file carrying an older version must not roll the lead back
    write_leads("20261123T053000Z", [
        {**ROW, "lead_id": "D", "name": "stale", "updated_at": "2026-11-23 10:05"},
    ])  # fmt: skip
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT name FROM lead_state") == [("newest",)]
    assert q(con, "SELECT sum(rows_superseded) FROM export_manifest") == [(2,)]


@pytest.mark.slow
def test_bom_latin1_footer_and_us_dates(rules_dir: Path, exports: Path, tmp_path: Path) -> None:
    header = (
        '"Lead ID","First Name","Last Name","Create Date","Lead Owner","Lead Status",'
        '"Web Form","Product Interest","Email"'
    )
    body = (
        header + "\n"
        "00Q1,José,Muñoz,11/23/2026 10:00 AM,rahul,Open - Not Contacted,contact_form,seo,j@x.io\n"
        "\n"
        '"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'
        '"Confidential Information - Do Not Distribute"\n'
    )
    (exports / "salesforce_20261123T050000Z.csv").write_bytes(body.encode("latin-1"))
    (exports / "leads_20261123T050000Z.csv").write_bytes(
        "\ufeff".encode() + b"lead_id,created_at,name\nB1,2026-11-23 10:00,Bom\n"
    )
    con = tick(rules_dir, exports, tmp_path)
    assert sorted(q(con, "SELECT lead_id, name FROM lead_state")) == [
        ("00Q1", "José Muñoz"),
        ("B1", "Bom"),
    ]
    assert q(con, "SELECT count(*) FROM quarantine") == [(0,)]
    assert q(con, "SELECT footer_lines FROM export_manifest WHERE source_id = 'salesforce'") == [
        (3,)
    ]


def test_bad_files_are_recorded_and_the_tick_goes_on(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    (exports / "leads_20261123T040000Z.csv").write_bytes(b"")
    (exports / "leads_20261123T041000Z.csv").write_text("name,email\nx,y\n")
    (exports / "leads_20261123T042000Z.parquet").write_bytes(b"not parquet at all")
    (exports / "mystery_20261123T042000Z.csv").write_text("a,b\n1,2\n")
    write_leads("20261123T043000Z", [{**ROW, "lead_id": "OK"}])
    con = tick(rules_dir, exports, tmp_path)
    got = {
        Path(p).name: (s, r)
        for p, s, r in q(con, "SELECT path, status, reason FROM export_manifest")
    }
    assert got["leads_20261123T040000Z.csv"] == ("failed", "empty file (0 bytes)")
    assert got["leads_20261123T041000Z.csv"][0] == "failed"
    assert "required columns missing: lead_id, created_at" in got["leads_20261123T041000Z.csv"][1]
    assert got["leads_20261123T042000Z.parquet"][0] == "failed"
    assert got["mystery_20261123T042000Z.csv"][0] == "unmatched"
    assert got["leads_20261123T043000Z.csv"][0] == "loaded"
    assert q(con, "SELECT lead_id FROM lead_state") == [("OK",)]


def test_identical_reexport_is_a_noop_and_files_are_never_read_twice(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    first = write_leads("20261123T040000Z", [{**ROW, "lead_id": "X"}])
    (exports / "leads_20261123T041000Z.csv").write_bytes(first.read_bytes())
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW)
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW)
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(r[0] for r in q(con, "SELECT status FROM export_manifest")) == [
        "duplicate",
        "loaded",
    ]


def test_files_stamped_after_now_wait_for_a_later_tick(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    write_leads("20261123T070000Z", [{**ROW, "lead_id": "LATER"}])
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT count(*) FROM export_manifest") == [(0,)]


@pytest.mark.slow
def test_jsonl_parquet_gzip_and_fsspec_urls(rules_dir: Path, tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    base = "memory://exports-test"
    row = {"created_at": "2026-11-23T04:00:00Z", "form_type": "booking",
           "service_interest": "seo", "email": "j@x.io"}  # fmt: skip
    lines = [
        json.dumps({**row, "lead_id": "J1"}),
        "{not json",
        json.dumps({**row, "lead_id": "J2"}),
    ]
    with fs.open(f"{base}/leads_20261123T040000Z.jsonl", "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with fs.open(f"{base}/leads_20261123T041000Z.csv.gz", "wb") as fh:
        fh.write(gzip.compress(b"lead_id,created_at\nG1,2026-11-23 09:45\n"))
    buf = pa.BufferOutputStream()
    pq.write_table(pa.table({"lead_id": ["P1"], "created_at": ["2026-11-23 09:50"]}), buf)
    with fs.open(f"{base}/leads_20261123T042000Z.parquet", "wb") as fh:
        fh.write(buf.getvalue().to_pybytes())
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=base, db=db, now=NOW)
    con = duckdb.connect(str(db), read_only=True)
    assert sorted(r[0] for r in q(con, "SELECT lead_id FROM lead_state")) == [
        "G1", "J1", "J2", "P1"
    ]  # fmt: skip
    assert q(con, "SELECT line, reason FROM quarantine") == [(2, "INVALID JSON: not a JSON object")]
