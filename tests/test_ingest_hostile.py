"""Hostile exports, by class: whatever a file contains or is, every physical record ends as
loaded, quarantined (file, line, raw text, reason) or skipped-unchanged, the manifest's counts
add up, a bad record never costs the rest of its file, and nothing blocks or crashes a tick.
The property tests at the end write arbitrary bytes and values into exports."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.cli import main
from leadsla.ingest import discover
from leadsla.pipelines import load as tick_module
from leadsla.pipelines.tick import Ticker, run_tick
from leadsla.rules import load_rules

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NAME = "leads_20261123T050000Z.csv"
H = b"lead_id,created_at,name,email\n"
T = b"2026-11-23 10:00"


def rec(lead: str, name: bytes = "Jos\u00e9 M\u00fcller".encode()) -> bytes:
    return b"%s,%s,%s,%s@x.io\n" % (lead.encode(), T, name, lead.lower().encode())


def tick(rules: Path, exports: Path, tmp: Path, now: datetime = NOW) -> duckdb.DuckDBPyConnection:
    db = tmp / "t.duckdb"
    run_tick(rules_dir=rules, exports=str(exports), db=db, now=now)
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def q(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    return con.execute(sql, params).fetchall()


def assert_conserved(con: duckdb.DuckDBPyConnection) -> None:
    """Every read file's counts add up; every quarantined row says where and why."""
    for path, status, read, loaded, quarantined, skipped in q(
        con,
        "SELECT path, status, rows_read, rows_loaded, rows_quarantined, rows_skipped "
        "FROM export_manifest WHERE status IN ('loaded', 'duplicate')",
    ):
        assert loaded + quarantined + skipped == read, (path, status)
    assert q(
        con,
        "SELECT count(*) FROM quarantine WHERE file IS NULL OR line IS NULL "
        "OR line < 1 OR coalesce(reason, '') = ''",
    ) == [(0,)]


# ---- record-level problems: that record is quarantined, the rest of the file loads ----------

RECORD_CASES = [
    # (what, file bytes, quarantined lines with a word of their reason, loaded id -> line)
    (
        "unterminated quote: only its line is quarantined, the lines after it are records",
        H + rec("A1") + b"A2," + T + b',"oops,a2@x.io\n' + rec("A3") + rec("A4"),
        {3: "unterminated quote"},
        {"A1": 2, "A3": 4, "A4": 5},
    ),
    (
        "two unterminated quotes, the second one closed by the quote of a later record",
        H
        + rec("A1")
        + b"A2,"
        + T
        + b',"x,y\n'
        + rec("A3")
        + b"A4,"
        + T
        + b',"z,w\n'
        + rec("A5")
        + b"A6,"
        + T
        + b',"'
        + "Jos\u00e9 M\u00fcller".encode()
        + b'",q@x.io\n',
        {3: "unterminated quote", 5: "unterminated quote"},
        {"A1": 2, "A3": 4, "A5": 6, "A6": 7},
    ),
    (
        "an unquoted comma: one field too many, never shifted into the next column",
        H + rec("A1") + b"A2," + T + b",Doe, John,j@x.io\n" + rec("A3"),
        {3: "more fields than the header"},
        {"A1": 2, "A3": 4},
    ),
    (
        "too few fields",
        H + rec("A1") + b"A2," + T + b"\n" + rec("A3"),
        {3: "fewer fields than the header"},
        {"A1": 2, "A3": 4},
    ),
    (
        "blank lines between records (one inside a quoted field) keep every line in place",
        H
        + rec("A1")
        + b"\n"
        + b"A2,"
        + T
        + b","
        + "Jos\u00e9 M\u00fcller".encode()
        + b',"a\n\nb"\n'
        + b"\r\n"
        + b"A3,soon,x,y\n"
        + rec("A4")
        + b"\n\n",
        {8: "cannot read"},
        {"A1": 2, "A2": 4, "A4": 9},
    ),
    (
        "a field over 2 MB",
        H + rec("A1") + b"A2," + T + b"," + b"x" * (3 << 20) + b",a@x.io\n" + rec("A3"),
        {3: "over 2 MB"},
        {"A1": 2, "A3": 4},
    ),
    (
        "a quoted field over 2 MB spanning lines",
        H + rec("A1") + b"A2," + T + b',"' + b"x\n" * (1 << 20) + b'",a@x.io\n' + rec("A3"),
        {3: "over 2 MB"},
        {"A1": 2},  # A3's line lies past a record whose text the parser cut short
    ),
    (
        "one Latin-1 byte in a UTF-8 file: that record only, accents elsewhere intact",
        H + rec("A1") + rec("A2", b"M\xfcller") + rec("A3"),
        {3: "not valid in the file's encoding"},
        {"A1": 2, "A3": 4},
    ),
    (
        "a stray \\xff\\xfe inside a record",
        H + rec("A1") + rec("A2", b"y\xff\xfe") + rec("A3"),
        {3: "not valid in the file's encoding"},
        {"A1": 2, "A3": 4},
    ),
    (
        "a UTF-8 byte order mark, then a Latin-1 record",
        codecs.BOM_UTF8 + H + rec("A1") + rec("A2", b"Mu\xf1oz") + rec("A3"),
        {3: "not valid in the file's encoding"},
        {"A1": 2, "A3": 4},
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "quarantined", "loaded"),
    [pytest.param(b, qd, ld, id=w[:40]) for w, b, qd, ld in RECORD_CASES],
)
def test_a_bad_record_is_quarantined_and_the_rest_of_the_file_loads(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    body: bytes,
    quarantined: dict[int, str],
    loaded: dict[str, int],
) -> None:
    (exports / NAME).write_bytes(body)
    con = tick(rules_dir, exports, tmp_path)
    got = dict(q(con, "SELECT line, reason FROM quarantine"))
    assert sorted(got) == sorted(quarantined)
    for line, word in quarantined.items():
        assert word in got[line]
    lines = dict(
        q(
            con,
            "SELECT lead_id, details->>'line' FROM sla_events WHERE event_type = 'lead_received'",
        )
    )
    assert {k: int(v) for k, v in lines.items() if k in loaded} == loaded
    # the good records keep their text exactly (no file-wide re-decoding)
    names = {n for (n,) in q(con, "SELECT DISTINCT name FROM lead_state")}
    assert names == {"Jos\u00e9 M\u00fcller"}
    status, read, n_loaded, n_quarantined, skipped = q(
        con,
        "SELECT status, rows_read, rows_loaded, rows_quarantined, rows_skipped "
        "FROM export_manifest",
    )[0]
    assert status == "loaded"
    assert (n_quarantined, skipped) == (len(quarantined), 0)
    assert n_loaded + n_quarantined + skipped == read
    assert read == len(quarantined) + len(lines)
    # the raw text of a quarantined record is kept (its first line, for an unterminated quote)
    assert all(raw for (raw,) in q(con, "SELECT raw FROM quarantine"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        pytest.param(
            codecs.BOM_UTF16_LE + (H + rec("A1") + rec("A2")).decode().encode("utf-16-le"),
            "utf-16-le",
            id="utf-16 le",
        ),
        pytest.param(
            codecs.BOM_UTF16_BE + (H + rec("A1") + rec("A2")).decode().encode("utf-16-be"),
            "utf-16-be",
            id="utf-16 be",
        ),
        pytest.param(
            H + rec("A1", b"Jos\xe9 M\xfcller") + rec("A2", b"Jos\xe9 M\xfcller"),
            "windows-1252 (detected)",
            id="latin-1 without a mark",
        ),
        pytest.param(
            b"\xff\xfe" + H + rec("A1") + rec("A2"),
            "utf-8",
            id="a stray utf-16 mark before utf-8 text",
        ),
        pytest.param(
            codecs.BOM_UTF8
            + H.replace(b"\n", b"\r\n")
            + rec("A1").replace(b"\n", b"\r\n")
            + rec("A2"),
            "utf-8 (byte order mark)",
            id="utf-8 mark, crlf",
        ),
    ],
)
def test_encodings_are_decided_once_per_file(
    rules_dir: Path, exports: Path, tmp_path: Path, body: bytes, encoding: str
) -> None:
    (exports / NAME).write_bytes(body)
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT lead_id, name FROM lead_state ORDER BY 1") == [
        ("A1", "Jos\u00e9 M\u00fcller"),
        ("A2", "Jos\u00e9 M\u00fcller"),
    ]
    assert q(con, "SELECT encoding, rows_read, rows_loaded FROM export_manifest") == [
        (encoding, 2, 2)
    ]


def test_an_odd_byte_in_utf16_quarantines_its_record(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    text = (H + rec("A1")).decode().encode("utf-16-le") + b"\x00\xd8"  # a lone high surrogate
    (exports / NAME).write_bytes(
        codecs.BOM_UTF16_LE
        + text
        + "\n".encode("utf-16-le")
        + rec("A3").decode().encode("utf-16-le")
    )
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT lead_id FROM lead_state ORDER BY 1") == [("A1",), ("A3",)]
    assert q(con, "SELECT line FROM quarantine") == [(3,)]
    assert_conserved(con)


# ---- file-level problems: the file fails with a reason that names the column ---------------


def test_duplicate_column_names_fail_the_file_naming_them(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    (exports / NAME).write_bytes(b"lead_id,created_at,name,lead_id\nA1," + T + b",x,B9\n")
    (exports / "leads_20261123T050100Z.csv").write_bytes(
        b"lead_id,created_at,Email,EMAIL\nA2," + T + b",a,b\n"
    )
    con = tick(rules_dir, exports, tmp_path)
    reasons = [r for (r,) in q(con, "SELECT reason FROM export_manifest ORDER BY path")]
    assert reasons[0] == "duplicate column name: 'lead_id' is column 1 and column 4"
    assert reasons[1].startswith("duplicate column name:")
    assert "column 3 and column 4" in reasons[1]
    assert q(con, "SELECT count(*) FROM lead_state") == [(0,)]


def test_a_renamed_mapped_header_fails_the_file_instead_of_loading_empty_values(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    """Chosen: the file fails (its rows would overwrite the mapped field with nothing) and the
    reason names the field and the header the mapping expects; the export before it stands."""
    head = (
        '"Lead ID","First Name","Last Name","Create Date","Lead Owner","Lead Status",'
        '"Web Form","Product Interest","Email","Phone"\n'
    )
    row = "00Q1,Ana,Diaz,11/23/2026 10:00 AM,rahul,Open - Not Contacted,contact_form,seo,a@x.io,"
    (exports / "salesforce_20261123T050000Z.csv").write_text(head + row + "+91 98\n")
    renamed = head.replace('"Phone"', '"Mobile"')
    (exports / "salesforce_20261123T051000Z.csv").write_text(renamed + row + "+91 99\n")
    con = tick(rules_dir, exports, tmp_path)
    got = q(con, "SELECT status, reason FROM export_manifest ORDER BY export_at")
    assert got[0] == ("loaded", None)
    assert got[1][0] == "failed"
    assert "phone (header 'Phone')" in got[1][1]
    assert "renamed header" in got[1][1]
    assert q(con, "SELECT phone FROM lead_state") == [("+91 98",)]


def test_a_headerless_file_fails_with_the_shape_of_its_first_row_never_its_values(
    rules_dir: Path, exports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (exports / NAME).write_text(
        "A1,2026-11-23 10:00,jane.doe@example.com,+91 98765 43210,Jane Doe\n"
        "A2,2026-11-23 10:00,raj@example.com,+91 91234 56789,Raj Kumar\n"
    )
    db = tmp_path / "t.duckdb"
    argv = [
        "tick",
        "--now",
        NOW.isoformat(),
        "--rules",
        str(rules_dir),
        "--exports",
        str(exports),
        "--db",
        str(db),
        "--json",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    con = duckdb.connect(str(db), read_only=True)
    (reason,) = q(con, "SELECT reason FROM export_manifest")[0]
    assert reason.startswith(
        "required columns missing: lead_id, created_at; the header looks "
        "like data: 3 of 5 cells look like"
    )
    for value in ("jane.doe", "98765", "Jane Doe", "A1", "2026-11-23 10:00"):
        assert value not in reason
        assert value not in out
    assert json.loads(out)["files"][0]["status"] == "failed"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not gzip at all", "not a valid gzip file (BadGzipFile)"),
        # mtime=0: the bytes, and so the test id, must not depend on when tests are collected
        (gzip.compress(H + rec("A1") * 50, mtime=0)[:40], "not a valid gzip file (EOFError)"),
        (codecs.BOM_UTF8, "no header row (the file has no text)"),
    ],
)
def test_unreadable_contents_fail_the_file_with_a_reason(
    rules_dir: Path, exports: Path, tmp_path: Path, data: bytes, reason: str
) -> None:
    (exports / "leads_20261123T050000Z.csv.gz").write_bytes(
        data if data.startswith(b"not") or data[:2] == b"\x1f\x8b" else gzip.compress(data)
    )
    (exports / "leads_20261123T051000Z.csv").write_bytes(H + rec("OK"))
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT status, reason FROM export_manifest ORDER BY export_at") == [
        ("failed", reason),
        ("loaded", None),
    ]


# ---- the file system: only regular files, never blocked, retried next tick ------------------


@pytest.mark.slow
def test_links_fifos_and_folders_named_like_exports_are_recorded_and_retried(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    (exports / "leads_20261123T040000Z.csv").symlink_to(tmp_path / "nowhere.csv")
    fifo = exports / "leads_20261123T041000Z.csv"
    os.mkfifo(fifo)
    (exports / "leads_20261123T042000Z.csv").mkdir()  # a folder named like an export
    (exports / "leads_20261123T042100Z.csv").symlink_to("/dev/zero")  # endless if read
    (exports / "leads_20261123T042200Z.csv").symlink_to(exports / "leads_20261123T042200Z.csv")
    real = tmp_path / "real.csv"
    real.write_bytes(H + rec("A1"))
    (exports / "leads_20261123T043000Z.csv").symlink_to(real)  # a link to a file is read
    db = tmp_path / "t.duckdb"
    # a FIFO that is opened blocks until a writer comes: the tick runs in a thread, and a
    # writer that is never needed keeps this test from hanging if the FIFO were opened
    done = threading.Event()
    worker = threading.Thread(
        target=lambda: (
            run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW),
            done.set(),
        ),
        daemon=True,
    )
    worker.start()
    worker.join(120)
    if not done.is_set():
        with fifo.open("wb"):  # unblock the reader so the test ends, then fail
            pass
        worker.join(30)
        pytest.fail("the tick opened a FIFO")
    con = duckdb.connect(str(db), read_only=True)
    got = {
        Path(p).name: (s, r)
        for p, s, r in q(con, "SELECT path, status, reason FROM export_manifest")
    }
    assert got["leads_20261123T040000Z.csv"] == (
        "unreadable",
        "a dangling symbolic link; tried again next tick",
    )
    assert got["leads_20261123T041000Z.csv"] == (
        "unreadable",
        "not a regular file (a FIFO); tried again next tick",
    )
    assert got["leads_20261123T042100Z.csv"] == (
        "unreadable",
        "not a regular file (a character device); tried again next tick",
    )
    assert got["leads_20261123T042200Z.csv"][0] == "unreadable"
    assert "Too many levels of symbolic links" in got["leads_20261123T042200Z.csv"][1]
    assert got["leads_20261123T043000Z.csv"][0] == "loaded"
    assert "leads_20261123T042000Z.csv" not in got
    assert q(con, "SELECT lead_id FROM lead_state") == [("A1",)]
    con.close()
    # fixed by the next tick: the FIFO became a real export; the entry is replaced, not added
    fifo.unlink()
    fifo.write_bytes(H + rec("A2"))
    con = tick(rules_dir, exports, tmp_path, NOW + timedelta(minutes=5))
    rows = q(con, "SELECT status FROM export_manifest WHERE path = ?", [str(fifo)])
    assert rows == [("loaded",)]
    assert q(con, "SELECT count(*) FROM export_manifest WHERE status = 'unreadable'") == [(3,)]


def test_files_that_vanish_or_change_after_listing_are_retried(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    gone = exports / "leads_20261123T050000Z.csv"
    gone.write_bytes(H + rec("G1"))
    grows = exports / "leads_20261123T051000Z.csv"
    grows.write_bytes(H + rec("C1"))
    rules = load_rules(rules_dir)
    found = discover(str(exports), rules.sources, NOW)
    gone.unlink()
    with grows.open("ab") as fh:
        fh.write(rec("C2"))
    with Ticker(rules_dir=rules_dir, exports=str(exports), db=tmp_path / "t.duckdb") as t:
        results = tick_module.load_files(t.store, found, NOW)
        assert [(r["status"], r["reason"]) for r in results] == [
            ("unreadable", "vanished before reading; tried again next tick"),
            ("unreadable", "changed since it was listed; tried again next tick"),
        ]
        t.tick(NOW + timedelta(minutes=5))
        assert t.store.con.execute("SELECT lead_id FROM lead_state ORDER BY 1").fetchall() == [
            ("C1",),
            ("C2",),
        ]


@pytest.mark.slow
def test_a_file_that_changes_while_it_is_read_is_retried(
    rules_dir: Path, exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = exports / NAME
    path.write_bytes(H + rec("C1"))
    real = tick_module.read_file

    def read_while_written(*args: Any) -> Any:
        res = real(*args)
        with path.open("ab") as fh:  # the exporter appends while we read
            fh.write(rec("C2"))
        return res

    monkeypatch.setattr(tick_module, "read_file", read_while_written)
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT status, reason FROM export_manifest") == [
        ("unreadable", "changed while it was read; tried again next tick")
    ]
    assert q(con, "SELECT count(*) FROM lead_state") == [(0,)]
    con.close()
    monkeypatch.setattr(tick_module, "read_file", real)
    con = tick(rules_dir, exports, tmp_path, NOW + timedelta(minutes=5))
    assert q(con, "SELECT lead_id FROM lead_state ORDER BY 1") == [("C1",), ("C2",)]


# ---- conservation across snapshots -----------------------------------------------------------


@pytest.mark.slow
def test_unchanged_rows_and_identical_reexports_are_counted_as_skipped(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    first = H + rec("A1") + rec("A2") + rec("A3")
    (exports / "leads_20261123T050000Z.csv").write_bytes(first)
    (exports / "leads_20261123T051000Z.csv").write_bytes(first)  # identical re-export
    (exports / "leads_20261123T052000Z.csv").write_bytes(
        H + rec("A1") + rec("A2", b"Renamed") + b"A3,soon,x,y\n" + rec("A4")
    )
    con = tick(rules_dir, exports, tmp_path)
    assert q(
        con,
        "SELECT status, rows_read, rows_loaded, rows_quarantined, rows_skipped "
        "FROM export_manifest ORDER BY export_at",
    ) == [
        ("loaded", 3, 3, 0, 0),
        ("duplicate", 3, 0, 0, 3),
        ("loaded", 4, 2, 1, 1),
    ]
    assert_conserved(con)


@pytest.mark.slow
def test_jsonl_lines_keep_their_numbers_and_text(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    good = {"created_at": "2026-11-23T04:00:00Z", "name": "Jos\u00e9"}
    lines = [
        json.dumps({**good, "lead_id": "J1"}).encode(),
        b"",  # a blank line is not a record, but it is a line
        b'{"lead_id": "J2", "name": "M\xfcller"}',  # not UTF-8
        b"[1, 2]",  # JSON, but not an object
        json.dumps({**good, "lead_id": "J5"}, ensure_ascii=False).encode(),
        b'{"lead_id": "J6", "name": "' + b"x" * (3 << 20) + b'"}',
        json.dumps({**good, "lead_id": "J7"}).encode(),
    ]
    (exports / "leads_20261123T050000Z.jsonl").write_bytes(
        codecs.BOM_UTF8 + b"\n".join(lines) + b"\n"
    )
    (exports / "leads_20261123T050100Z.jsonl").write_bytes(
        codecs.BOM_UTF16_LE + json.dumps({**good, "lead_id": "W1"}).encode("utf-16-le")
    )
    con = tick(rules_dir, exports, tmp_path)
    assert q(con, "SELECT lead_id, name FROM lead_state ORDER BY 1") == [
        ("J1", "Jos\u00e9"),
        ("J5", "Jos\u00e9"),
        ("J7", "Jos\u00e9"),
        ("W1", "Jos\u00e9"),
    ]
    got = q(con, "SELECT line, reason, raw IS NOT NULL FROM quarantine ORDER BY line")
    assert [(ln, ok) for ln, _, ok in got] == [(3, True), (4, True), (6, True)]
    assert "not valid" in got[0][1]
    assert "not a JSON object" in got[1][1]
    assert "over 2 MB" in got[2][1]
    lines_of = dict(
        q(
            con,
            "SELECT lead_id, details->>'line' FROM sla_events WHERE event_type = 'lead_received'",
        )
    )
    assert lines_of == {"J1": "1", "J5": "5", "J7": "7", "W1": "1"}
    assert_conserved(con)


# ---- properties: nothing a file contains makes a tick fail, and the counts add up -----------

COLUMNS = ["lead_id", "created_at", "name", "email", "status", "first_response_at"]
values = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),  # anything encodable
    st.sampled_from(["2026-11-23 10:00", "2026-11-23T04:00:00Z", "new", "L1", "", " "]),
)
rows = st.lists(st.lists(values, min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=8)
mutations = st.lists(
    st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=4)), max_size=3
)


def write_csv(table: list[list[str]]) -> bytes:
    """CRLF-terminated, so that a field with a lone CR or LF is quoted (a bare CR is a line
    end to a CSV reader)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    w.writerows(table)
    return buf.getvalue().encode("utf-8")


def mutate(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    for at, junk in edits:
        at %= len(data) + 1
        data = data[:at] + junk + data[at:]
    return data


def run_two_ticks(
    rules_dir: Path, exports: Path, db: Path, files: list[tuple[str, bytes]]
) -> dict[str, tuple[str, int]]:
    """The files of the first half at the first tick, the rest five minutes later; checks
    conservation and returns each file's status and records by name."""
    for old in exports.iterdir():
        old.unlink()
    db.unlink(missing_ok=True)
    half = (len(files) + 1) // 2
    with Ticker(rules_dir=rules_dir, exports=str(exports), db=db) as t:
        for batch, now in ((files[:half], NOW), (files[half:], NOW + timedelta(minutes=5))):
            for name, data in batch:
                (exports / name).write_bytes(data)
            t.tick(now)
    with duckdb.connect(str(db), read_only=True) as con:
        assert_conserved(con)
        return {
            Path(p).name: (s, n)
            for p, s, n in q(con, "SELECT path, status, rows_read FROM export_manifest")
        }


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(tables=st.lists(st.tuples(rows, mutations, st.booleans()), min_size=1, max_size=3))
def test_property_arbitrary_csv_values_and_bytes_never_fail_a_tick_and_add_up(
    rules_dir: Path, tmp_path: Path, tables: list[tuple[list[list[str]], Any, bool]]
) -> None:
    exports = tmp_path / "hyp"
    exports.mkdir(exist_ok=True)
    files, expected = [], {}
    for i, (table, edits, crlf) in enumerate(tables):
        data = write_csv(table)
        data = data if crlf else data.replace(b"\r\n", b"\n")
        name = f"leads_20261123T04{i:02d}00Z.csv"
        files.append((name, mutate(data, edits)))
        if not edits:  # a well-formed file: every row written is one record
            expected[name] = len(table)
    manifest = run_two_ticks(rules_dir, exports, tmp_path / "hyp.duckdb", files)
    assert set(manifest) == {name for name, _ in files}
    for name, n in expected.items():
        status, read = manifest[name]
        assert status in ("loaded", "duplicate", "failed")
        assert status == "failed" or read == n, (name, status, read, n)
        assert status != "failed" or n == 0  # only an empty file may fail


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    records=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from(COLUMNS), values, max_size=6).map(
                lambda d: json.dumps(d, ensure_ascii=False).encode()
            ),
            st.binary(max_size=20).filter(lambda b: b"\n" not in b and b"\r" not in b),
        ),
        max_size=8,
    ),
    junk=st.binary(max_size=16),
)
def test_property_arbitrary_json_lines_never_fail_a_tick_and_add_up(
    rules_dir: Path, tmp_path: Path, records: list[bytes], junk: bytes
) -> None:
    exports = tmp_path / "hypj"
    exports.mkdir(exist_ok=True)
    clean = b"\n".join(records) + b"\n"
    files = [
        ("leads_20261123T040000Z.jsonl", clean),
        ("leads_20261123T041000Z.jsonl", junk + clean + junk),
    ]
    status, read = run_two_ticks(rules_dir, exports, tmp_path / "hypj.duckdb", files)[
        "leads_20261123T040000Z.jsonl"
    ]
    non_blank = sum(1 for r in records if r.strip(b" \t"))
    assert status == "failed" or read == non_blank
