"""The mapping language, through real rule files, real export files and real ticks: constants,
value maps with a default, null tokens, joins, issue status maps, per-field rejection of
optional fields, the date_only rule, and ``check`` errors that name the file, key and fix.

A property writes arbitrary cells into an incident-style export: every row ends loaded or
quarantined, and every value an optional field loads without is recorded with its line and
field."""

from __future__ import annotations

import csv
import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.pipelines.tick import run_tick
from leadsla.rules.errors import RulesInvalid
from leadsla.rules.loader import load_rules

from .conftest import LEAD_ROW, WriteLeads

EXPORT = "20261123T050000Z"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
HEADER = ["number", "opened_at", "incident_state", "priority", "category", "short_description",
          "first", "last", "caller", "u_city", "resolved_at"]  # fmt: skip

SNOW: dict[str, Any] = {
    "id": "snow",
    "crm": "servicenow",
    "entity": "issues",
    "glob": "snow*",
    "timezone": "UTC",
    "null_tokens": ["?", "N/A"],
    "columns": {
        "issue_id": "number",
        "raised_at": "opened_at",
        "issue_type": {"const": "technical"},
        "impact": {
            "column": "priority",
            "map": {"1 - Critical": "complaint_risk", "2 - High": "conversion_risk"},
        },
        "summary": {"join": ["category", "short_description"], "sep": " / "},
        "customer_name": ["first", "last"],
        "raised_by": "caller",
        "status": "incident_state",
        "city": {"column": "u_city", "map": {"mum": "Mumbai"}, "default": "Other"},
        "resolved_at": "resolved_at",
    },
    "status_map": {"New": "open", "Active": "responded", "Resolved": "resolved"},
}


def write_source(rules: Path, name: str, data: dict[str, Any]) -> None:
    (rules / "sources" / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


def edit_source(rules: Path, name: str, **changes: Any) -> None:
    path = rules / "sources" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump({**data, **changes}), encoding="utf-8")


def write_snow(exports: Path, rows: list[dict[str, str]], stamp: str = EXPORT) -> Path:
    path = exports / f"snow_{stamp}.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=HEADER)
        w.writeheader()
        w.writerows({k: r.get(k, "") for k in HEADER} for r in rows)
    return path


def tick(rules: Path, exports: Path, db: Path) -> duckdb.DuckDBPyConnection:
    run_tick(rules_dir=rules, exports=str(exports), db=db, now=NOW)
    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---- check: errors name the file, the key and the fix --------------------------------------


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"columns": {**SNOW["columns"], "issue_type": {"const": "hardware"}}},
         "columns.issue_type.const", ["'hardware' is not an issue type", "technical"]),
        ({"columns": {**SNOW["columns"], "issue_type": {
            "column": "category", "map": {"Hardware": "technical", "Software": "bugs"}}}},
         "columns.issue_type.map['Software']", ["'bugs' is not an issue type", "pickup"]),
        ({"columns": {**SNOW["columns"], "issue_type": {
            "column": "category", "map": {"Hardware": "technical"}, "default": "misc"}}},
         "columns.issue_type.default", ["'misc' is not an issue type"]),
        ({"columns": {**SNOW["columns"], "issue_id": {"const": "INC1"}}},
         "columns", ["issue_id: a const id", "map issue_id to the export's id header"]),
        ({"columns": {**SNOW["columns"], "customer_name": ["first"]}},
         "columns", ["customer_name: a join of 1 header", "give the header as a string"]),
        ({"columns": {**SNOW["columns"], "summary": {"join": ["category"], "sep": "-"}}},
         "columns", ["summary: a join of 1 header"]),
        ({"columns": {**SNOW["columns"], "city": {"colum": "u_city"}}},
         "columns.city", ["{column: ..., map: {...}, default: ...}"]),
        ({"columns": {**SNOW["columns"], "impact": {"column": "priority", "map": {
            "High": "conversion_risk", " high ": "complaint_risk"}}}},
         "columns", ["impact: map keys ['high'] are listed twice"]),
        ({"date_only": "midnight"}, "date_only", ["start_of_day", "end_of_day", "reject"]),
        ({"status_map": {"Active": "answered"}}, "status_map",
         ["'answered' is not a class of issues statuses", "open, responded, resolved"]),
        ({"unknown_status": "contacted"}, "unknown_status",
         ["'contacted' is not a class of issues statuses"]),
        ({"status_map": {"Active": "responded", "active ": "resolved"}}, "status_map",
         ["['active'] listed twice"]),
        ({"null_tokens": ["?", " "]}, "null_tokens", ["an empty null token"]),
    ],
)  # fmt: skip
def test_check_names_the_file_key_and_fix(
    rules_dir: Path, change: dict[str, Any], key: str, words: list[str]
) -> None:
    write_source(rules_dir, "snow", {**SNOW, **change})
    with pytest.raises(RulesInvalid) as exc:
        load_rules(rules_dir)
    mine = [e for e in exc.value.errors if e.file == "sources/snow.yaml"]
    assert mine, exc.value
    assert any((e.key or "<file>") == key and all(w in e.message for w in words) for e in mine), [
        str(e) for e in mine
    ]


def test_the_shipped_rules_and_a_full_mapping_pass_check(rules_dir: Path) -> None:
    write_source(rules_dir, "snow", SNOW)
    rules = load_rules(rules_dir)
    assert "snow" in {s.id for s in rules.sources}


# ---- a feed through the mapping --------------------------------------------------------------

FULL = {"opened_at": "2026-11-23 04:00:00", "incident_state": "New", "priority": "1 - Critical",
        "category": "Hardware", "short_description": "Screen broken", "first": "Asha",
        "last": "Rao", "caller": "rahul", "u_city": "mum"}  # fmt: skip


@pytest.mark.slow
def test_an_incident_feed_loads_through_the_mapping_alone(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    write_source(rules_dir, "snow", SNOW)
    path = write_snow(
        exports,
        [
            {**FULL, "number": "INC1"},
            # null tokens are empty; an unknown city takes the default; an unknown priority
            # has none: the row loads without its impact, recorded
            {
                **FULL,
                "number": "INC2",
                "caller": "?",
                "u_city": " Delhi ",
                "first": "N/A",
                "priority": "5 - Planning",
            },
            # resolved after the export (a reopened incident): the field goes, the row stays
            {**FULL, "number": "INC3", "resolved_at": "2026-11-24 10:00:00"},
            {**FULL, "number": "INC4", "incident_state": "Active"},
            {**FULL, "number": "INC5", "incident_state": " resolved "},
            # a required field given as a null token quarantines the row
            {**FULL, "number": "INC6", "opened_at": "N/A"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT issue_id, issue_type, summary, customer_name, raised_by, city, impact,"
                " responded_at, resolved_at FROM issue_state"
            ).fetchall()
        }
        assert set(got) == {"INC1", "INC2", "INC3", "INC4", "INC5"}
        assert got["INC1"][:6] == ("technical", "Hardware / Screen broken", "Asha Rao", "rahul",
                                   "Mumbai", "complaint_risk")  # fmt: skip
        assert got["INC2"][2:6] == ("Rao", None, "Other", None)
        assert got["INC3"][7] is None
        assert iso(got["INC4"][6]) == "2026-11-23T05:00:00.000000Z"  # Active: responded
        assert got["INC4"][7] is None
        assert iso(got["INC5"][7]) == "2026-11-23T05:00:00.000000Z"  # resolved
        # straight to resolved: that first change away from New is its response too
        assert iso(got["INC5"][6]) == "2026-11-23T05:00:00.000000Z"
        assert got["INC1"][6] is None
        assert got["INC1"][7] is None
        rows = con.execute(
            "SELECT line, field, action, reason FROM quarantine ORDER BY line, field"
        ).fetchall()
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (3, "impact", "loaded_without_value"),
            (4, "resolved_at", "loaded_without_value"),
            (7, None, "rejected"),
        ]
        assert "'5 - Planning' is not in columns.impact.map, which has no default" in rows[0][3]
        assert "is after the export time" in rows[1][3]
        assert rows[2][3] == "raised_at is empty"
        manifest = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined FROM export_manifest WHERE path = ?",
            [str(path)],
        ).fetchone()
        assert manifest == (6, 5, 1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rule", "created", "first_response", "flagged"),
    [
        # Kolkata is UTC+5:30: the start of 23 Nov is 22 Nov 18:30 UTC
        ("start_of_day", "2026-11-22T18:30:00.000000Z", "2026-11-22T18:30:00.000000Z", 2),
        # the end of 23 Nov is after the export (05:00 UTC): never later than the export
        ("end_of_day", "2026-11-23T05:00:00.000000Z", "2026-11-23T05:00:00.000000Z", 2),
        ("reject", "quarantined", None, 0),
    ],
)
def test_a_date_without_a_time_follows_the_stated_rule_and_is_flagged(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    write_leads: WriteLeads,
    rule: str,
    created: str,
    first_response: str | None,
    flagged: int,
) -> None:
    edit_source(rules_dir, "canonical_leads", date_only=rule)
    write_leads(
        EXPORT,
        [
            {**LEAD_ROW, "lead_id": "D1", "created_at": "2026-11-23"},
            {
                **LEAD_ROW,
                "lead_id": "D2",
                "created_at": "2026-11-22 09:00",
                "first_response_at": "2026-11-23",
            },
            {**LEAD_ROW, "lead_id": "D3", "created_at": "2026-11-23 10:00"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        state = dict(con.execute("SELECT lead_id, created_at FROM lead_state").fetchall())
        assert (iso(state["D1"]) if "D1" in state else "quarantined") == created
        fr = con.execute("SELECT first_response_at FROM lead_state WHERE lead_id = 'D2'")
        assert iso(fr.fetchone()[0]) == first_response  # type: ignore[index]
        assert iso(state["D3"]) == "2026-11-23T04:30:00.000000Z"  # a full time is untouched
        flags = con.execute(
            "SELECT field, reason FROM quarantine WHERE action = 'flagged' ORDER BY field"
        ).fetchall()
        assert len(flags) == flagged
        for field, reason in flags:
            assert field in {"created_at", "first_response_at"}
            assert f"(date_only: {rule})" in reason
            assert "1 value(s)" in reason
        if rule == "reject":
            rows = dict(con.execute("SELECT line, reason FROM quarantine").fetchall())
            assert "has a date but no time of day (date_only: reject)" in rows[2]
            assert rows[3].startswith("first_response_at: '2026-11-23' has a date but no time")


@pytest.mark.slow
@pytest.mark.parametrize(("signal", "responded"), [("first_response_at", False),
                                                    ("status_change", True)])  # fmt: skip
def test_an_answered_status_counts_only_under_the_status_change_signal(
    rules_dir: Path,
    exports: Path,
    tmp_path: Path,
    write_leads: WriteLeads,
    signal: str,
    responded: bool,
) -> None:
    edit_source(rules_dir, "canonical_leads", response_signal=signal)
    write_leads(
        EXPORT,
        [
            {**LEAD_ROW, "lead_id": "W1", "status": "working"},
            {**LEAD_ROW, "lead_id": "F1", "first_response_at": "2026-11-23 10:20"},
        ],
    )
    with tick(rules_dir, exports, tmp_path / "t.duckdb") as con:
        got = dict(con.execute("SELECT lead_id, response_at FROM lead_state").fetchall())
        assert (got["W1"] is not None) is responded
        # the column counts under first_response_at; a status_change source ignores it
        assert (got["F1"] is not None) is (signal == "first_response_at")


# ---- the property --------------------------------------------------------------------------

CELL = st.one_of(
    st.sampled_from(["", " ", "?", "N/A", "n/a", "1 - Critical", "2 - HIGH ", "9 - x", "mum",
                     "Active", "Resolved", "New", "2026-11-23", "2026-11-23 04:00:00",
                     "2026-11-22T23:00:00Z", "2026-11-24 10:00:00", "1900-01-01 00:00:00",
                     "2026-11-23 04:00 PST", "not a date", "'; DROP TABLE x; --", "é"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
            max_size=12),
)  # fmt: skip
ROWS = st.lists(st.fixed_dictionaries({h: CELL for h in HEADER if h != "number"}), max_size=8)


def record(raw: str) -> str:
    """The issue number of a quarantined record: its raw row as JSON, or the parser's raw
    text (the number is the first column)."""
    try:
        return str(json.loads(raw)["number"])
    except (ValueError, KeyError, TypeError):
        found = re.match(r"(INC\d+),", raw)
        return found.group(1) if found else raw


#: Optional issue fields the mapping may drop (a map without a default, a timestamp).
DROPPABLE = {"impact": "priority", "resolved_at": "resolved_at"}


@pytest.mark.slow
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS)
def test_every_row_is_loaded_or_quarantined_and_every_dropped_field_is_recorded(
    rules_dir: Path, tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]]
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    exports = tmp / "exports"
    exports.mkdir()
    write_source(rules_dir, "snow", SNOW)
    path = write_snow(exports, [{**r, "number": f"INC{i}"} for i, r in enumerate(rows)])
    with tick(rules_dir, exports, tmp / "t.duckdb") as con:
        read, loaded, quarantined, skipped = con.execute(
            "SELECT rows_read, rows_loaded, rows_quarantined, coalesce(rows_skipped, 0)"
            " FROM export_manifest WHERE path = ?",
            [str(path)],
        ).fetchone() or (None, 0, 0, 0)
        assert read == loaded + quarantined + skipped == len(rows)
        q = con.execute("SELECT raw, field, action FROM quarantine").fetchall()
        rejected = [record(raw) for raw, _, action in q if action == "rejected"]
        assert len(rejected) == quarantined
        dropped = {
            (record(raw), field) for raw, field, action in q if action == "loaded_without_value"
        }
        for number, field in dropped:
            assert number not in rejected
            assert field is not None
        state = {
            r[0]: r[1:]
            for r in con.execute("SELECT issue_id, impact, resolved_at FROM issue_state").fetchall()
        }
        for i, row in enumerate(rows):
            number = f"INC{i}"
            loaded_row = state.get(number)
            assert (loaded_row is None) == (number in rejected)
            if loaded_row is None:
                continue
            for (field, header), value in zip(DROPPABLE.items(), loaded_row, strict=True):
                given_cell = row[header].strip() not in ("", "?", "N/A")
                if given_cell and value is None:
                    assert (number, field) in dropped, (number, field, row[header])
    shutil.rmtree(tmp)
