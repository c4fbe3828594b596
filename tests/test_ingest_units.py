"""The ingest pieces on their own, on a handful of inputs each: the encoding decision, the
header, the value checks of the typing projection, identifiers, and discovery's file-system
rules. The end-to-end properties (every record loaded or quarantined, nothing a file contains
fails a later tick) are in test_ingest_hostile.py and test_values.py."""

from __future__ import annotations

import gzip
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.ingest import ExportsUnavailable, Later, discover
from leadsla.ingest.canonical import canonicalise
from leadsla.ingest.discovery import is_export_name, source_for
from leadsla.ingest.encoding import decide_csv_encoding, legacy_8bit
from leadsla.ingest.files import BadFile, ExportFile
from leadsla.ingest.headers import csv_header, header_shape
from leadsla.ingest.ids import normalise_id
from leadsla.ingest.jsonl import read_jsonl
from leadsla.rules.source_models import Source

LEADS = Source(id="t", crm="canonical", glob="leads*", timezone="Asia/Kolkata")
EXPORT_AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)

# --------------------------------------------------------------------------------------------
# encodings: one decision per file, from its first bytes and the source's `encoding`

TEXT = "lead_id,name\nL1,José Müller\nL2,Zoë ✓\n"


@pytest.mark.parametrize(
    ("data", "declared", "decided", "copied"),
    [
        # plain UTF-8 and ASCII: read as they are
        (TEXT.encode(), "auto", "utf-8", False),
        # a UTF-8 byte order mark is named in the manifest, the file is still read as it is
        (b"\xef\xbb\xbf" + TEXT.encode(), "auto", "utf-8 (byte order mark)", False),
        # UTF-16 by its mark, either byte order: transcoded to a UTF-8 copy
        (b"\xff\xfe" + TEXT.encode("utf-16-le"), "auto", "utf-16-le", True),
        (b"\xfe\xff" + TEXT.encode("utf-16-be"), "auto", "utf-16-be", True),
        # declared UTF-16 without a mark: little endian
        (TEXT.encode("utf-16-le"), "utf-16", "utf-16-le", True),
        # a stray FF FE pair before ASCII text is not UTF-16 (no NUL halves after it)
        (b"\xff\xfe" + b"lead_id,name\nL1,A\n", "auto", "utf-8", False),
        # declared encodings: Windows-1252 is transcoded, Latin-1 is DuckDB's own
        (TEXT.encode("cp1252", errors="replace"), "windows-1252", "windows-1252", True),
        (TEXT.encode("latin-1", errors="replace"), "latin-1", "latin-1", False),
    ],
)
def test_the_encoding_is_decided_once_from_the_first_bytes(
    tmp_path: Path, data: bytes, declared: str, decided: str, copied: bool
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    inp, head = decide_csv_encoding(str(path), declared, tmp_path)
    assert inp.encoding == decided
    assert (inp.path != str(path)) == copied
    assert inp.enc == ("latin-1" if declared == "latin-1" else "utf-8")
    # the head is what DuckDB will read: for a copy, UTF-8 text
    if copied:
        assert head.decode("utf-8").lstrip("\ufeff").startswith("lead_id,name")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200
    ),
    codec=st.sampled_from(["utf-16-le", "utf-16-be"]),
)
def test_property_a_utf16_file_is_read_as_the_same_text(
    tmp_path: Path, text: str, codec: str
) -> None:
    """Whatever a UTF-16 file with a mark says, its UTF-8 copy says the same, after the header
    line that makes the mark recognisable."""
    bom = b"\xff\xfe" if codec == "utf-16-le" else b"\xfe\xff"
    content = "lead_id,name\n" + text
    path = tmp_path / "wide.csv"
    path.write_bytes(bom + content.encode(codec))
    inp, _ = decide_csv_encoding(str(path), "auto", tmp_path)
    assert inp.encoding == codec
    assert Path(inp.path).read_bytes().decode("utf-8") == content


def test_the_encoding_is_decided_through_gzip(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv.gz"
    path.write_bytes(gzip.compress(b"\xff\xfe" + TEXT.encode("utf-16-le"), mtime=0))
    inp, _ = decide_csv_encoding(str(path), "auto", tmp_path)
    assert inp.encoding == "utf-16-le"
    assert Path(inp.path).read_text(encoding="utf-8") == TEXT


@pytest.mark.parametrize(
    ("data", "legacy"),
    [
        (TEXT.encode("cp1252", errors="replace"), True),  # 8-bit accents, no UTF-8 anywhere
        (TEXT.encode() + b"L3,\xe9\n", False),  # real UTF-8 with one bad byte: UTF-8
        (b"lead_id\n\xe9\xff\xfeL1\n", False),  # a byte order mark pair inside: not 8-bit
    ],
)
def test_an_auto_file_is_legacy_8bit_only_without_any_utf8(
    tmp_path: Path, data: bytes, legacy: bool
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(data)
    assert legacy_8bit(str(path)) is legacy


def test_json_lines_keep_their_numbers_and_blank_lines_are_no_records(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    # an object, an empty line, a line of a tab (JSON white space: blank too), an array,
    # bytes that are not UTF-8, an object
    path.write_bytes(b'{"lead_id": "L1"}\n\n\t\n[1]\n\xff{}\n{"lead_id": "L3"}\n')
    con = duckdb.connect()
    res = read_jsonl(con, str(path), tmp_path)
    assert res.encoding == "utf-8"
    assert con.execute("SELECT line, lead_id FROM raw_all ORDER BY line").fetchall() == [
        (1, "L1"),
        (6, "L3"),
    ]
    rejects = con.execute("SELECT line, error_type FROM raw_rejects ORDER BY line").fetchall()
    assert rejects == [(4, "INVALID JSON"), (5, "INVALID ENCODING")]


# --------------------------------------------------------------------------------------------
# the header


@pytest.mark.parametrize(
    ("head", "names"),
    [
        (b"lead_id,created_at\nL1,x\n", ["lead_id", "created_at"]),
        (b"\xef\xbb\xbf lead_id , ,name\r\n", ["lead_id", "column2", "name"]),  # trimmed, named
        (b'"lead_id","a ""b"""\n', ["lead_id", 'a "b"']),  # quoted names
    ],
)
def test_header_names(head: bytes, names: list[str]) -> None:
    assert csv_header(head, "utf-8", LEADS) == names


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"  \n\n", "no header row"),
        (b"lead_id,Name,name\n", "duplicate column name: 'name' is column 2 and column 3"),
        (b"lead_id,raw_hash\n", "a column is named like one the reader adds"),
    ],
)
def test_a_header_that_cannot_be_used_fails_the_file(head: bytes, reason: str) -> None:
    with pytest.raises(BadFile, match=reason):
        csv_header(head, "utf-8", LEADS)


@given(
    cells=st.lists(
        st.one_of(
            st.emails(),
            st.from_regex(r"\+91 ?[6-9]\d{9}", fullmatch=True),
            st.from_regex(r"20\d\d-[01]\d-[0-3]\d", fullmatch=True),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_property_header_shape_never_quotes_a_cell(cells: list[str]) -> None:
    """A header-less file's first row is a customer's: the reason tells its shape only."""
    told = header_shape(cells)
    assert not any(cell in told for cell in cells)


def test_header_shape_tells_what_the_cells_look_like() -> None:
    told = header_shape(["L1", "asha@example.com", "+91 98765 43210", "2026-11-23 10:00"])
    assert told == (
        "the header looks like data: 3 of 4 cells look like an email / a phone or number / "
        "a date or time (a file without a header row?)"
    )


# --------------------------------------------------------------------------------------------
# value checks: the typing projection on a handful of rows


def typed(rows: list[dict[str, str | None]], source: Source = LEADS) -> list[dict[str, Any]]:
    """Run the typing projection over ``rows`` (header: their keys) on a fresh database;
    return each line's typed lead id, created_at, lead_score and quarantine reason."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE SCHEMA work")
    con.execute("SET search_path = 'memory.main,memory.work'")
    cols = list(rows[0])
    con.execute(
        "CREATE TEMP TABLE raw_rows (line BIGINT, raw_hash UBIGINT, "
        + ", ".join(f'"{c}" VARCHAR' for c in cols)
        + ")"
    )
    for i, row in enumerate(rows):
        con.execute(
            f"INSERT INTO raw_rows VALUES ({', '.join('?' * (len(cols) + 2))})",
            [i + 2, i, *row.values()],
        )
    con.execute(
        "CREATE TEMP TABLE raw_rejects (line BIGINT, raw VARCHAR, error_type VARCHAR, "
        "error_message VARCHAR, size INTEGER)"
    )
    f = ExportFile("leads.csv", "leads.csv", source, EXPORT_AT, "filename", 1, "")
    good, bad = canonicalise(con, f, source, NOW)
    typed = {
        r[0]: r[1:]
        for r in con.execute("SELECT line, lead_id, created_at, lead_score FROM checked").fetchall()
    }
    reasons = dict(con.execute("SELECT line, reason FROM quarantine_rows").fetchall())
    assert good + bad == len(rows)
    return [
        {
            "lead_id": typed[line][0],
            "created_at": typed[line][1],
            "lead_score": typed[line][2],
            "reason": reasons.get(line),
            "loaded": line in {r[0] for r in con.execute("SELECT line FROM incoming").fetchall()},
        }
        for line in range(2, len(rows) + 2)
    ]


def utc(h: int, m: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, h, m, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23 10:00", utc(4, 30)),  # naive: the source's zone (Asia/Kolkata)
        ("2026-11-23T03:00:00Z", utc(3)),  # Z
        ("2026-11-23 10:00 +05:30", utc(4, 30)),  # an offset
        ("2026-11-23 03:00 UTC", utc(3)),  # a UTC word
        ("2026-11-23 09:00 UTC+5:30", utc(3, 30)),  # a UTC word and an offset
        ("2026-11-23 10:00 AM", utc(4, 30)),  # AM/PM
        ("2026-11-23 10:00 PST", "the zone 'PST' after the time is not read"),
        ("2026-11-23 10:00 +15:00", "'+15:00' is not a UTC offset"),
        ("1900-01-01", "is before 2000-01-01T00:00:00Z"),
        ("2026-11-23T06:06:00Z", "is after the export time 2026-11-23T06:00:00Z by more than 5"),
        ("yesterday", "cannot read a value shaped 'aaaaaaaaa' as a timestamp"),
        ("", "created_at is empty"),
    ],
)
def test_timestamps_are_read_with_their_zone_and_bounded(
    value: str, expected: datetime | str
) -> None:
    (got,) = typed([{"lead_id": "L1", "created_at": value or None}])
    if isinstance(expected, datetime):
        assert got["loaded"]
        assert got["created_at"] == expected
        assert got["reason"] is None
    else:
        assert not got["loaded"]
        assert expected in got["reason"]
        assert value == "" or value not in got["reason"].split(expected)[-1]


@pytest.mark.parametrize(
    ("value", "expected", "warning"),
    [
        ("42", 42.0, None),
        ("1,234.5", 1234.5, None),  # thousands separators
        ("$1,000", 1000.0, None),  # a currency symbol
        ("₹ 1,23,456", 123456.0, None),  # Indian grouping
        ("USD 100", 100.0, None),  # a currency code
        ("5%", 5.0, None),  # a percent sign
        ("1e400", None, "is not a finite number from -1,000,000 to 1,000,000"),
        ("2000000", None, "is not a finite number from -1,000,000 to 1,000,000"),
        ("abc", None, "cannot read a value shaped 'aaa' as a number; loaded without it"),
    ],
)
def test_numbers_are_read_or_dropped_with_a_warning(
    value: str, expected: float | None, warning: str | None
) -> None:
    (got,) = typed([{"lead_id": "L1", "created_at": "2026-11-23 10:00", "lead_score": value}])
    assert got["loaded"]  # a bad number never refuses the lead
    assert got["lead_score"] == expected
    assert (got["reason"] is None) if warning is None else (warning in got["reason"])


def test_a_response_before_creation_is_dropped_with_a_warning() -> None:
    (got,) = typed(
        [
            {
                "lead_id": "L1",
                "created_at": "2026-11-23 10:00",
                "first_response_at": "2026-11-23 09:00",
            }
        ]
    )
    assert got["loaded"]
    assert "first_response_at: '2026-11-23 09:00' is before created_at" in got["reason"]


# --------------------------------------------------------------------------------------------
# identifiers: one id is one id


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("L1", "L1"),
        ("Ｌ１", "L1"),  # fullwidth
        ("L1\u200b", "L1"),  # zero-width space
        ("\ufeffL1\u2060", "L1"),  # BOM and word joiner
        (" L1\t", "L1"),  # surrounding space
        ("L\u00ad1", "L1"),  # soft hyphen
    ],
)
def test_ids_are_normalised(raw: str, normal: str) -> None:
    assert normalise_id(raw) == normal


def test_two_spellings_of_one_id_in_a_file_keep_the_first() -> None:
    got = typed(
        [
            {"lead_id": "Ｌ１", "created_at": "2026-11-23 10:00"},
            {"lead_id": "L1", "created_at": "2026-11-23 10:00"},
            {"lead_id": "Ｌ１", "created_at": "2026-11-23 10:00"},
        ]
    )
    assert [g["lead_id"] for g in got] == ["L1", "L1", "L1"]
    assert [g["loaded"] for g in got] == [True, False, True]
    # the other spelling is shown with its characters escaped, never as look-alike text
    assert (
        "'L1' here and '\\uff2c\\uff11' on line 2 are one id after normalisation"
        in (got[1]["reason"])
    )


# --------------------------------------------------------------------------------------------
# discovery: which files a tick reads


@pytest.mark.parametrize(
    ("name", "export"),
    [
        ("leads.csv", True),
        ("leads_20261123T050000Z.jsonl.gz", True),
        ("Leads.PARQUET", True),
        ("issues.ndjson", True),
        (".leads.csv", False),  # hidden
        ("leads.csv.tmp", False),
        ("leads.xlsx", False),
        ("leads.gz", False),
    ],
)
def test_export_names(name: str, export: bool) -> None:
    assert is_export_name(name) is export


def test_a_specific_source_beats_the_canonical_one() -> None:
    canonical = Source(id="a_canonical", crm="canonical", glob="*.csv")
    hubspot = Source(id="z_hubspot", crm="hubspot", glob="hubspot*")
    assert source_for("dir/HubSpot_1.csv", [canonical, hubspot]) is hubspot
    assert source_for("leads.csv", [canonical, hubspot]) is canonical
    assert source_for("leads.jsonl", [canonical, hubspot]) is None


def test_discover_reads_regular_files_due_by_now_and_records_the_rest(tmp_path: Path) -> None:
    (tmp_path / "leads_20261123T050000Z.csv").write_text("lead_id\n")
    (tmp_path / "leads_20261123T080000Z.csv").write_text("lead_id\n")  # after now
    (tmp_path / "leads_plain.csv").write_text("lead_id\n")  # no stamp: its mtime
    os.utime(tmp_path / "leads_plain.csv", (NOW.timestamp() - 60, NOW.timestamp() - 60))
    (tmp_path / ".leads_hidden.csv").write_text("lead_id\n")
    (tmp_path / "notes.txt").write_text("not an export\n")
    # named like exports, stamped (a link or FIFO has no usable modification time)
    (tmp_path / "leads_dangling_20261123T050000Z.csv").symlink_to(tmp_path / "gone.csv")
    os.mkfifo(tmp_path / "leads_fifo_20261123T050000Z.csv")
    later: list[Later] = []
    found = discover(str(tmp_path), [LEADS], NOW, later=later)
    by_name = {f.name: f for f in found}
    assert sorted(by_name) == [
        "leads_20261123T050000Z.csv",
        "leads_dangling_20261123T050000Z.csv",
        "leads_fifo_20261123T050000Z.csv",
        "leads_plain.csv",
    ]
    stamped = by_name["leads_20261123T050000Z.csv"]
    assert (stamped.export_at, stamped.export_at_from) == (utc(5), "filename")
    assert stamped.problem is None
    assert len(stamped.checksum) == 64
    assert stamped.source is LEADS
    assert by_name["leads_plain.csv"].export_at_from == "mtime"
    assert by_name["leads_dangling_20261123T050000Z.csv"].problem == "a dangling symbolic link"
    assert by_name["leads_fifo_20261123T050000Z.csv"].problem == "not a regular file (a FIFO)"
    assert by_name["leads_fifo_20261123T050000Z.csv"].checksum == ""  # never opened
    assert [(x.name, x.export_at) for x in later] == [("leads_20261123T080000Z.csv", utc(8))]


def test_discover_skips_settled_files_by_stat_then_by_checksum(tmp_path: Path) -> None:
    path = tmp_path / "leads_20261123T050000Z.csv"
    path.write_text("lead_id\nL1\n")
    (first,) = discover(str(tmp_path), [LEADS], NOW)
    settled = {first.url: (first.size, first.mtime, first.checksum)}
    assert discover(str(tmp_path), [LEADS], NOW, known=settled) == []  # same size and mtime
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))  # touched, same bytes
    assert discover(str(tmp_path), [LEADS], NOW, known=settled) == []
    path.write_text("lead_id\nL2\n")  # same size, other bytes
    (again,) = discover(str(tmp_path), [LEADS], NOW, known=settled)
    assert again.checksum != first.checksum


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_an_unusable_exports_folder_is_one_sentence(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "exports"
    if kind == "a file":
        target.write_text("")
    with pytest.raises(
        ExportsUnavailable,
        match=r"exports folder .*exports (does not exist|is not a folder): create it",
    ):
        discover(str(target), [LEADS], NOW)
