"""Values: what a field may hold, by class, through real export files and real ticks.

Each class is a table of cases (a value written into a real export, the tick's verdict), and a
property test writes arbitrary values into exports and runs two ticks: none may raise, every
row ends loaded or quarantined, and nothing implausible reaches lead state.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadsla.pipelines.tick import run_tick
from leadsla.rules.records import ISSUE_FIELDS
from leadsla.rules.source_models import Source

from .conftest import LEAD_HEADER, WriteLeads

#: Export time of the first file (the test's tick runs an hour later).
EXPORT = "20261123T050000Z"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
ROW = {
    "created_at": "2026-11-23 10:00",
    "name": "A",
    "email": "a@x.io",
    "form_type": "contact_form",
    "service_interest": "seo",
    "owner": "rahul",
    "status": "new",
}


def tick(rules: Path, exports: Path, db: Path, now: datetime = NOW) -> duckdb.DuckDBPyConnection:
    run_tick(rules_dir=rules, exports=str(exports), db=db, now=now)
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdicts(
    con: duckdb.DuckDBPyConnection, field: str, id_column: str = "lead_id"
) -> dict[str, tuple[Any, str | None]]:
    """lead_id -> (the field in lead state or 'quarantined', the quarantine reason)."""
    loaded = dict(con.execute(f"SELECT lead_id, {field} FROM lead_state").fetchall())
    raws = con.execute("SELECT raw, reason, action FROM quarantine").fetchall()
    reasons = {json.loads(raw)[id_column]: (reason, action) for raw, reason, action in raws}
    out: dict[str, tuple[Any, str | None]] = {}
    for lid in loaded.keys() | reasons.keys():
        reason, action = reasons.get(lid, (None, None))
        value = loaded[lid] if lid in loaded and action != "rejected" else "quarantined"
        out[lid] = (iso(value) if isinstance(value, datetime) else value, reason)
    return out


# ---- the poison pill ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_year_0001_row_is_refused_and_later_ticks_go_on(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    """Before: the row loaded and every later tick died in evaluate.prepare (DuckDB hands back
    a BC or year-0001 timestamp as text)."""
    write_leads(
        EXPORT,
        [{**ROW, "lead_id": "POISON", "created_at": "0001-01-01"}, {**ROW, "lead_id": "OK1"}],
    )
    db = tmp_path / "t.duckdb"
    with tick(rules_dir, exports, db) as con:
        assert con.execute("SELECT lead_id FROM lead_state").fetchall() == [("OK1",)]
    write_leads("20261123T070000Z", [{**ROW, "lead_id": "OK2"}])
    later = NOW + timedelta(hours=4)
    with tick(rules_dir, exports, db, later) as con:
        # the new lead is classified and assigned: the engine ran past prepare
        got = con.execute(
            "SELECT lead_id, intent IS NOT NULL, owner IS NOT NULL FROM lead_state ORDER BY lead_id"
        ).fetchall()
        assert got == [("OK1", True, True), ("OK2", True, True)]
        assert con.execute("SELECT count(*) FROM tick_log").fetchall() == [(2,)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name",
    ["leads_00010101T000000+0530.csv", "leads_99991231T235959-0500.csv"],
)
def test_a_file_name_stamped_beyond_the_calendar_fails_no_tick(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads, name: str
) -> None:
    """Such a stamp is no time in UTC (year 0 or 10000): the file's mtime stands in for it."""
    path = exports / name
    path.write_text("lead_id,created_at\nX1,2026-11-23 10:00\n")
    stamp = (NOW - timedelta(minutes=30)).timestamp()
    os.utime(path, (stamp, stamp))
    write_leads(EXPORT, [{**ROW, "lead_id": "OK1"}])
    db = tmp_path / "t.duckdb"
    for hours in (0, 1):
        tick(rules_dir, exports, db, NOW + timedelta(hours=hours)).close()
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute("SELECT lead_id FROM lead_state ORDER BY 1").fetchall()
        assert got == [("OK1",), ("X1",)]
        assert con.execute(
            "SELECT export_at_from FROM export_manifest WHERE path = ?", [str(path)]
        ).fetchall() == [("mtime",)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("created_at", "0001-01-01 00:00:00+00"),  # DuckDB returns this one as text
        ("created_at", "0500-01-01 (BC)"),
        ("created_at", "-infinity"),
        ("created_at", "infinity"),
        ("hop_started_at", "9999-12-31 23:00:00-05"),  # year 10000 in UTC
        ("response_at", "0001-01-01 00:00:00+00"),
    ],
)
def test_prepare_copes_with_whatever_lead_state_already_holds(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    write_leads: WriteLeads,
    column: str,
    value: str,
) -> None:
    """A database written before the bounds existed may hold such values: ticks go on."""
    write_leads(EXPORT, [{**ROW, "lead_id": "OLD"}])
    db = tmp_path / "t.duckdb"
    tick(rules_dir, exports, db).close()
    with duckdb.connect(str(db)) as con:
        con.execute(f"UPDATE lead_state SET {column} = ?::TIMESTAMPTZ", [value])
    for hours in (1, 5):
        write_leads(f"20261123T{5 + hours:02d}0000Z", [{**ROW, "lead_id": f"NEW{hours}"}])
        tick(rules_dir, exports, db, NOW + timedelta(hours=hours)).close()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM lead_state WHERE intent IS NOT NULL AND lead_id LIKE 'NEW%'"
        ).fetchall() == [(2,)]


# ---- timestamps: zones and plausible range -----------------------------------------------------

# Export at 05:00Z; the canonical source reads naive times in Asia/Kolkata (+05:30).
TIMESTAMP_CASES = [
    # zone designators are read, never dropped
    ("2026-11-23T04:00:00Z", "2026-11-23T04:00:00Z"),
    ("2026-11-23 04:00:00 z", "2026-11-23T04:00:00Z"),
    ("2026-11-23 04:00:00 UTC", "2026-11-23T04:00:00Z"),  # was read as Kolkata time
    ("2026-11-23 04:00:00 GMT", "2026-11-23T04:00:00Z"),
    ("2026-11-23 09:30:00+05:30", "2026-11-23T04:00:00Z"),
    ("2026-11-23 09:30:00+0530", "2026-11-23T04:00:00Z"),
    ("2026-11-23 09:30 +05:30", "2026-11-23T04:00:00Z"),  # a space before the offset
    ("2026-11-23 09:30 UTC+5:30", "2026-11-23T04:00:00Z"),
    ("2026-11-22 23:00:00-05", "2026-11-23T04:00:00Z"),
    ("2026-11-23 04:00:00.123456789Z", "2026-11-23T04:00:00Z"),
    ("2026-11-23 10:00", "2026-11-23T04:30:00Z"),  # naive: the source's zone
    ("2026-11-23 10:00 AM", "2026-11-23T04:30:00Z"),
    ("2026-11-22 10:00 pm", "2026-11-22T16:30:00Z"),
    # other words after the time are ambiguous or unknown: refused with the reason
    ("2026-11-23 04:00:00 PST", "zone 'PST'"),
    ("2026-11-23 04:00:00 IST", "zone 'IST'"),
    ("2026-11-23 04:00:00 EST", "zone 'EST'"),
    ("2026-11-23 04:00:00 CST", "zone 'CST'"),
    ("2026-11-23 04:00 America/New_York", "zone 'America/New_'"),
    ("2026-11-23 04:00:00 BC", "zone 'BC'"),
    ("2026-11-22 10:00 PM PST", "zone 'PST'"),
    ("2026-11-23 04:00:00 +25:00", "'+25:00' is not a UTC offset"),
    ("2026-11-23 04:00:00 12", "cannot read"),  # DuckDB's cast alone would drop the 12
    ("2026-11-23 00:30 AM", "cannot read"),
    # outside the plausible range (default: 2000-01-01 .. export + 5 minutes)
    ("0001-01-01", "is before 2000-01-01T00:00:00Z"),
    ("0001-01-01 00:00:00Z", "is before 2000-01-01T00:00:00Z"),
    ("-0044-03-15 12:00", "is before 2000-01-01T00:00:00Z"),
    ("1900-01-01 00:00", "is before 2000-01-01T00:00:00Z"),
    ("1970-01-01T00:00:00Z", "is before 2000-01-01T00:00:00Z"),
    ("1999-12-31 23:59:59Z", "is before 2000-01-01T00:00:00Z"),
    ("9999-12-31 23:59:59", "is after the export time 2026-11-23T05:00:00Z by more than 5"),
    ("9999-12-31 23:00:00-05:00", "is after the export time"),  # year 10000 in UTC
    ("294247-01-01 00:00", "is after the export time"),
    ("2026-11-23 05:06:00Z", "is after the export time"),
    ("2026-11-23 05:05:00Z", "2026-11-23T05:05:00Z"),  # within the clock-skew allowance
    ("infinity", "cannot read"),
    ("epoch", "cannot read"),
]


@pytest.mark.slow
def test_timestamps_are_read_with_their_zone_or_refused_with_a_reason(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    write_leads(
        EXPORT,
        [
            {**ROW, "lead_id": f"T{i}", "created_at": value}
            for i, (value, _) in enumerate(TIMESTAMP_CASES)
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = verdicts(con, "created_at")
    for i, (value, expected) in enumerate(TIMESTAMP_CASES):
        loaded, reason = got[f"T{i}"]
        if expected[:4].isdigit():
            assert (loaded, reason) == (expected, None), value
        else:
            assert loaded == "quarantined", value
            assert reason is not None, value
            assert reason.startswith("created_at: "), value
            assert expected in reason, (value, reason)


def test_a_zone_after_a_formatted_time_is_read_too(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    """The Salesforce preset reads ``%m/%d/%Y %I:%M %p`` in Asia/Kolkata; a zone after it is
    read or refused exactly as after an ISO time."""
    (exports / f"salesforce_{EXPORT}.csv").write_text(
        "Lead ID,Create Date\n"
        "S1,11/23/2026 10:00 AM\n"
        "S2,11/23/2026 04:00 AM UTC\n"
        "S3,11/23/2026 09:30 AM +05:30\n"
        "S4,11/23/2026 10:00 AM PST\n"
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = verdicts(con, "created_at", "Lead ID")
    assert got["S1"] == ("2026-11-23T04:30:00Z", None)
    assert got["S2"] == ("2026-11-23T04:00:00Z", None)
    assert got["S3"] == ("2026-11-23T04:00:00Z", None)
    assert got["S4"][0] == "quarantined"
    assert "zone 'PST'" in str(got["S4"][1])


@pytest.mark.slow
def test_the_plausible_range_is_set_per_source(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    path = rules_dir / "sources" / "canonical_leads.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["timestamp_bounds"] = {"earliest": "1990-01-01", "minutes_after_export": 60}
    path.write_text(yaml.safe_dump(doc))
    write_leads(
        EXPORT,
        [
            {**ROW, "lead_id": "OLD", "created_at": "1995-06-01 10:00"},  # a long-lived account
            {**ROW, "lead_id": "SKEW", "created_at": "2026-11-23 05:30:00Z"},  # 30 min of skew
            {**ROW, "lead_id": "EPOCH", "created_at": "1970-01-01 00:00:00Z"},
            {**ROW, "lead_id": "LATE", "created_at": "2026-11-23 06:01:00Z"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = verdicts(con, "created_at")
    assert got["OLD"] == ("1995-06-01T04:30:00Z", None)
    assert got["SKEW"] == ("2026-11-23T05:30:00Z", None)
    assert got["EPOCH"][0] == "quarantined"
    assert "is before 1990-01-01T00:00:00Z" in str(got["EPOCH"][1])
    assert "by more than 60 minutes" in str(got["LATE"][1])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"timestamp_bounds": {"earliest": "2000-01-01", "later": 5}}, "later"),
        ({"timestamp_bounds": {"minutes_after_export": -1}}, "minutes_after_export"),
        ({"number_bounds": {"lead_score": {"min": 10, "max": 0}}}, "min 10.0 is above max"),
        ({"number_bounds": {"lead_score": {"min": 0, "max": "inf"}}}, "finite"),
        ({"datetime_format": "%Y-%m-%d %H:%M %z"}, "must not contain %z"),
    ],
)
def test_bounds_settings_are_validated(setting: dict[str, Any], message: str) -> None:
    base = {"id": "x", "crm": "custom", "glob": "x*"}
    with pytest.raises(ValueError, match=message):
        Source.model_validate({**base, **setting})


# ---- numbers -----------------------------------------------------------------------------------

NUMBER_CASES = [
    # (lead_score, estimated_value) -> loaded values, or None with the warning
    (("85", "1200"), (85.0, 1200.0), None),
    (("85%", "$1,200.50"), (85.0, 1200.5), None),
    (("-3", "₹ 5,00,000"), (-3.0, 500000.0), None),  # Indian digit grouping
    (("1e309", ""), (None, None), "lead_score: a value shaped '9a999' is not a finite number"),
    (("inf", ""), (None, None), "lead_score: cannot read a value shaped 'aaa' as a number"),
    (("NaN", ""), (None, None), "lead_score: cannot read a value shaped 'aaa' as a number"),
    (("-Infinity", ""), (None, None), "lead_score: cannot read a value shaped '-aaaaaaaa'"),
    (("12abc34", ""), (None, None), "cannot read a value shaped '99aaa99'"),  # was coerced to 1234
    (
        ("1,20", ""),
        (None, None),
        "cannot read a value shaped '9,99'",
    ),  # a decimal comma is not guessed
    (("2e6", ""), (None, None), "from -1,000,000 to 1,000,000 (number_bounds.lead_score)"),
    (
        ("", "-5"),
        (None, None),
        "estimated_value: a value shaped '-9' is not a finite number from 0 to",
    ),
]


@pytest.mark.slow
def test_numbers_are_finite_and_in_range_or_dropped_with_a_warning(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    """The lead itself loads (a score is not worth losing a lead's SLA clock over); the value
    is dropped with a ``loaded_without_value`` warning that states the range."""
    rows = [
        {**ROW, "lead_id": f"N{i}", "lead_score": s, "estimated_value": v}
        for i, ((s, v), _, _) in enumerate(NUMBER_CASES)
    ]
    header = [*LEAD_HEADER, "lead_score", "estimated_value"]
    with (exports / f"leads_{EXPORT}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        w.writerows({k: r.get(k, "") for k in header} for r in rows)
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        state = {
            lid: (score, value)
            for lid, score, value in con.execute(
                "SELECT lead_id, lead_score, estimated_value FROM lead_state"
            ).fetchall()
        }
        warned = dict(
            con.execute(
                "SELECT json_extract_string(raw, '$.lead_id'), reason FROM quarantine"
                " WHERE action = 'loaded_without_value'"
            ).fetchall()
        )
        assert con.execute(
            "SELECT count(*) FROM quarantine WHERE action = 'rejected'"
        ).fetchall() == [(0,)]
    for i, (_, loaded, warning) in enumerate(NUMBER_CASES):
        assert state[f"N{i}"] == loaded
        if warning is None:
            assert f"N{i}" not in warned
        else:
            assert warning in warned[f"N{i}"]


# ---- a response dated before creation ----------------------------------------------------------


@pytest.mark.slow
def test_a_response_before_creation_is_dropped_never_met(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    """The row loads without the response (a ``loaded_without_value`` warning names both
    times), so the lead is still waiting: no ``sla_met`` with negative business minutes."""
    write_leads(
        EXPORT,
        [
            {**ROW, "lead_id": "EARLY", "first_response_at": "2026-11-23 09:00"},  # before 10:00
            {**ROW, "lead_id": "UPD", "updated_at": "2026-11-22 10:00"},
            {**ROW, "lead_id": "FINE", "first_response_at": "2026-11-23 10:20"},
            # answered per its status, created 3 minutes after the export time (clock skew):
            # the source's signal is first_response_at, so the status is no response at all
            {**ROW, "lead_id": "SKEW", "created_at": "2026-11-23T05:03:00Z", "status": "working"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        state = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT lead_id, first_response_at, response_at, updated_at FROM lead_state"
            ).fetchall()
        }
        assert state["EARLY"] == (None, None, None)
        assert state["UPD"][2] is None
        assert iso(state["FINE"][1]) == "2026-11-23T04:50:00Z"
        # with response_signal first_response_at only that column counts, never a status
        assert state["SKEW"][1] is None
        reasons = dict(
            con.execute(
                "SELECT json_extract_string(raw, '$.lead_id'), reason FROM quarantine"
                " WHERE action = 'loaded_without_value'"
            ).fetchall()
        )
        assert reasons == {
            "EARLY": "first_response_at: '2026-11-23 09:00' is before created_at "
            "'2026-11-23 10:00'; loaded without it",
            "UPD": "updated_at: '2026-11-22 10:00' is before created_at '2026-11-23 10:00'; "
            "loaded without it",
        }
        met = con.execute(
            "SELECT lead_id, details->>'business_minutes' FROM sla_events"
            " WHERE event_type IN ('sla_met', 'first_response')"
        ).fetchall()
        assert {lid for lid, _ in met} == {"FINE"}
        assert all(float(m) >= 0 for _, m in met)


@pytest.mark.slow
def test_an_activity_before_the_lead_existed_is_no_response(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    path = rules_dir / "sources" / "canonical_leads.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["response_signal"] = "activities"
    path.write_text(yaml.safe_dump(doc))
    (exports / f"leads_{EXPORT}.csv").write_text(
        "lead_id,created_at,form_type,service_interest,owner,status\n"
        "A1,2026-11-23 10:00,contact_form,seo,rahul,new\n"
    )
    (exports / "activities_20261123T050100Z.csv").write_text(
        "activity_id,lead_id,occurred_at,type,actor,direction\n"
        "X1,A1,2026-11-23 09:00,call,rahul,outbound\n"  # an hour before the lead
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        assert con.execute("SELECT response_at FROM lead_state").fetchall() == [(None,)]


def write_issues(exports: Path, rows: list[dict[str, str]]) -> None:
    with (exports / f"issues_{EXPORT}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(ISSUE_FIELDS))
        w.writeheader()
        w.writerows({k: r.get(k, "") for k in ISSUE_FIELDS} for r in rows)


def test_an_issue_response_before_it_was_raised_is_dropped(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    base = {
        "lead_id": "L1",
        "raised_by": "rahul",
        "issue_type": "pickup",
        "summary": "s",
        "impact": "conversion_risk",
        "customer_name": "A",
        "customer_phone": "1",
        "device": "d",
        "city": "Mumbai",
        "raised_at": "2026-11-23 10:00",
    }
    write_issues(
        exports,
        [
            {
                **base,
                "issue_id": "I1",
                "responded_at": "2026-11-23 09:00",
                "resolved_at": "2026-11-22 09:00",
            },
            {**base, "issue_id": "I2", "responded_at": "2026-11-23 10:15"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = dict(con.execute("SELECT issue_id, responded_at FROM issue_state").fetchall())
        assert got["I1"] is None
        assert iso(got["I2"]) == "2026-11-23T04:45:00Z"
        # one quarantine row per field the issue loads without
        reasons = dict(con.execute("SELECT field, reason FROM quarantine").fetchall())
        assert "responded_at: '2026-11-23 09:00' is before raised_at" in reasons["responded_at"]
        assert "resolved_at: '2026-11-22 09:00' is before raised_at" in reasons["resolved_at"]
        minutes = con.execute(
            "SELECT details->>'business_minutes' FROM sla_events"
            " WHERE event_type = 'issue_responded'"
        ).fetchall()
        assert all(float(m) >= 0 for (m,) in minutes)


# ---- identifiers -------------------------------------------------------------------------------

ZW = "\u200b"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("spelling", "shown"),
    [
        (f"L1{ZW}", r"'L1\u200b'"),  # zero-width space
        ("L\u200c1", r"'L\u200c1'"),  # zero-width non-joiner
        ("L1\u200d", r"'L1\u200d'"),  # zero-width joiner
        ("\u2060L1", r"'\u2060L1'"),  # word joiner
        ("\ufeffL1", r"'\ufeffL1'"),  # a BOM inside the field
        ("Ｌ１", r"'\uff2c\uff11'"),  # fullwidth
        ("L1\u00ad", r"'L1\xad'"),  # soft hyphen
        ("L1\t", r"'L1\t'"),
    ],
)
def test_ids_are_normalised_and_two_spellings_in_one_file_are_reported(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    write_leads: WriteLeads,
    spelling: str,
    shown: str,
) -> None:
    write_leads(EXPORT, [{**ROW, "lead_id": "L1"}, {**ROW, "lead_id": spelling, "name": "B"}])
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        assert con.execute("SELECT lead_id, name FROM lead_state").fetchall() == [("L1", "A")]
        ((line, reason, action),) = con.execute(
            "SELECT line, reason, action FROM quarantine"
        ).fetchall()
    assert (line, action) == (3, "rejected")
    assert reason == (
        f"lead_id: {shown} here and 'L1' on line 2 are one id after normalisation (Unicode "
        "NFKC, invisible characters and surrounding space removed); the first spelling is kept"
    )


@pytest.mark.slow
def test_a_differently_spelt_id_in_a_later_file_is_the_same_lead(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    write_leads(EXPORT, [{**ROW, "lead_id": "L1", "owner": f"rahul{ZW}"}])
    # surrounding space of any kind (here a no-break space) is no second spelling
    write_leads(
        "20261123T053000Z",
        [
            {
                **ROW,
                "lead_id": f"\u00a0Ｌ１{ZW} ",
                "status": "contacted",
                "updated_at": "2026-11-23 10:30",
            }
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = con.execute("SELECT lead_id, crm_owner, crm_status FROM lead_state").fetchall()
        assert got == [("L1", "rahul", "contacted")]
        assert con.execute(
            "SELECT count(*) FROM sla_events WHERE event_type = 'lead_received'"
        ).fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]


def test_two_spellings_of_an_issue_id_in_one_file_are_reported(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    base = {"lead_id": "L1", "raised_by": "rahul", "raised_at": "2026-11-23 10:00"}
    write_issues(
        exports,
        [
            {**base, "issue_id": "I1"},
            {**base, "issue_id": f"I1{ZW}"},
            {**base, "issue_id": f"Ｉ２{ZW}", "lead_id": f"L1{ZW}"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = con.execute("SELECT issue_id, lead_id FROM issue_state ORDER BY 1").fetchall()
        reasons = con.execute("SELECT line, reason FROM quarantine").fetchall()
    assert got == [("I1", "L1"), ("I2", "L1")]
    assert len(reasons) == 1
    assert reasons[0][0] == 3
    assert reasons[0][1].startswith(r"issue_id: 'I1\u200b' here and 'I1' on line 2 are one id")


# ---- values that arrive typed ------------------------------------------------------------------


def test_parquet_values_keep_their_type_and_zone(rules_dir: Path, tmp_path: Path) -> None:
    """A TIMESTAMPTZ column is an instant (it was read as Kolkata wall time before); a naive
    TIMESTAMP column is wall time in the source's zone; a DOUBLE that is not finite is
    dropped with a warning, never stored as an infinite score."""
    exports = tmp_path / "exports"
    exports.mkdir()
    instant = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    pq.write_table(
        pa.table(
            {
                "lead_id": ["P1", "P2", "P3"],
                "created_at": pa.array([instant] * 3, pa.timestamp("us", tz="UTC")),
                "updated_at": pa.array([datetime(2026, 11, 23, 10, 0)] * 3, pa.timestamp("ns")),
                "lead_score": pa.array([85.5, math.inf, math.nan], pa.float64()),
            }
        ),
        exports / f"leads_{EXPORT}.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "lead_id": ["B1"],
                "created_at": pa.array([True]),
                "lead_score": pa.array([True]),
            }
        ),
        exports / "leads_20261123T050100Z.parquet",
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = {
            r[0]: (iso(r[1]), iso(r[2]), r[3])
            for r in con.execute(
                "SELECT lead_id, created_at, updated_at, lead_score FROM lead_state"
            ).fetchall()
        }
        reasons = dict(
            con.execute(
                "SELECT line, reason FROM quarantine WHERE file LIKE '%050100Z%'"
            ).fetchall()
        )
    assert got == {
        "P1": ("2026-11-23T04:00:00Z", "2026-11-23T04:30:00Z", 85.5),
        "P2": ("2026-11-23T04:00:00Z", "2026-11-23T04:30:00Z", None),
        "P3": ("2026-11-23T04:00:00Z", "2026-11-23T04:30:00Z", None),
    }
    # a boolean is no timestamp: refused, not coerced
    assert reasons == {1: "created_at: cannot read a value shaped 'aaaa' as a timestamp"}


def test_json_values_that_do_not_fit_their_field_are_refused(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    rows = [
        {"lead_id": "J1", "created_at": 1763870400},  # epoch seconds: not guessed
        {"lead_id": "J2", "created_at": "2026-11-23T04:00:00Z", "lead_score": 1e308 * 10},
        {"lead_id": "J3", "created_at": "2026-11-23T04:00:00Z", "lead_score": True},
        {"lead_id": "J4", "created_at": "2026-11-23T04:00:00Z", "lead_score": {"v": 1}},
        {"lead_id": "J5", "created_at": "2026-11-23T04:00:00Z", "lead_score": 42},
    ]
    lines = [json.dumps(r).replace("Infinity", "1e309") for r in rows]
    (exports / f"leads_{EXPORT}.jsonl").write_text("\n".join(lines) + "\n")
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = dict(con.execute("SELECT lead_id, lead_score FROM lead_state").fetchall())
        reasons = dict(con.execute("SELECT line, action FROM quarantine").fetchall())
    assert got == {"J2": None, "J3": None, "J4": None, "J5": 42.0}
    assert reasons == {
        1: "rejected",
        2: "loaded_without_value",
        3: "loaded_without_value",
        4: "loaded_without_value",
    }


# ---- the property: nothing a file holds makes a tick fail --------------------------------------

FIELDS = ("lead_id", "created_at", "first_response_at", "lead_score")
STAMPS = st.sampled_from(
    [
        "2026-11-23 10:00",
        "2026-11-23T04:00:00Z",
        "0001-01-01",
        "1970-01-01 00:00:00Z",
        "9999-12-31 23:59:59",
        "2026-11-23 04:00:00 PST",
        "2026-11-23 04:00 UTC+5:30",
        "-0044-03-15",
        "infinity",
        "2026-11-23 09:00",
        "2026-11-23 10:00 PM",
    ]
)
NUMBERS = st.one_of(
    st.sampled_from(["1e309", "-1e309", "nan", "inf", "85", "1,234", "₹ 5,00,000", "0x10"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
# any text a UTF-8 file can hold (lone surrogates cannot be written; bytes that do not decode
# are the hostile-input suite's), besides the interesting shapes; NUL is a record-level matter
# of the CSV reader (issue 16, item 1), not of values
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
IDS = st.one_of(
    st.sampled_from(["L1", f"L1{ZW}", "Ｌ１", " L1 ", "\ufeffL1", "=HYPERLINK(1)", ""]),
    st.text(CHARS, min_size=0, max_size=12),
)
TEXT = st.text(CHARS, max_size=30)
VALUE = {
    "lead_id": st.one_of(IDS, TEXT),
    "created_at": st.one_of(STAMPS, TEXT),
    "first_response_at": st.one_of(STAMPS, TEXT),
    "lead_score": st.one_of(NUMBERS, TEXT),
}
ROWS = st.lists(st.fixed_dictionaries(VALUE), min_size=1, max_size=6)


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=ROWS, second=ROWS)
# found by the search: a later export moves the creation earlier with a response before the
# creation state holds (state kept the CRM's response time as it came)
@example(
    first=[{"lead_id": "L1", "created_at": "2026-11-23 10:00",
            "first_response_at": "2026-11-23 10:00", "lead_score": "1"}],
    second=[{"lead_id": "L1", "created_at": "2026-11-23T04:00:00Z",
             "first_response_at": "2026-11-23T04:00:00Z", "lead_score": "1"}],
)  # fmt: skip
def test_no_value_makes_a_tick_fail_and_every_row_is_loaded_or_quarantined(
    rules_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    first: list[dict[str, str]],
    second: list[dict[str, str]],
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    exports = tmp / "exports"
    exports.mkdir()
    header = [*LEAD_HEADER, "lead_score"]
    db = tmp / "t.duckdb"
    for stamp, rows, now in (
        ("20261123T050000Z", first, NOW),
        ("20261123T090000Z", second, NOW + timedelta(hours=4)),
    ):
        path = exports / f"leads_{stamp}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=header)
            w.writeheader()
            # the stamp in a message keeps the second file from being the first one again
            w.writerows({**dict.fromkeys(header, ""), **ROW, "message": stamp, **r} for r in rows)
        run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=now)  # never raises
        with duckdb.connect(str(db), read_only=True) as con:
            status, read, loaded, quarantined = con.execute(
                "SELECT status, rows_read, rows_loaded, rows_quarantined FROM export_manifest"
                " WHERE path = ?",
                [str(path)],
            ).fetchone() or (None, 0, 0, 0)
            assert status == "loaded"
            assert read == loaded + quarantined == len(rows)
            bad = con.execute("""
                SELECT count(*) FROM lead_state
                WHERE created_at NOT BETWEEN TIMESTAMPTZ '2000-01-01 00:00:00+00'
                                         AND TIMESTAMPTZ '2026-11-23 09:05:00+00'
                   OR response_at < created_at OR first_response_at < created_at
                   OR NOT isfinite(lead_score) OR abs(lead_score) > 1e6
                   OR lead_id <> trim(lead_id) OR lead_id = ''
                   OR regexp_matches(lead_id, '[\\x{200b}-\\x{200d}\\x{2060}\\x{feff}]')
            """).fetchall()
            assert bad == [(0,)]
            negative = con.execute(
                "SELECT count(*) FROM sla_events"
                " WHERE CAST(details->>'business_minutes' AS DOUBLE) < 0"
            ).fetchall()
            assert negative == [(0,)]
    shutil.rmtree(tmp)
