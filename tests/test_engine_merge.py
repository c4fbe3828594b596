"""Step ``merge`` alone, on a handful of rows: one export against lead state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadsla.engine.merge import STEP, apply_leads
from leadsla.events import EventType, content_id
from leadsla.ingest import ExportFile
from leadsla.rules import load_rules

from ._stepdb import rows, step_db

REPO = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
EXPORT_AT = T0 + timedelta(hours=2)


def _incoming(con, leads: list[tuple[str, str, str, str, datetime, int]]) -> None:  # type: ignore[no-untyped-def]
    """An export's typed rows: (lead_id, owner, status, status_class, updated_at, line)."""
    con.execute(
        "CREATE TABLE incoming (lead_id VARCHAR, created_at TIMESTAMPTZ, name VARCHAR, "
        "email VARCHAR, phone VARCHAR, lead_source VARCHAR, campaign VARCHAR, form_type VARCHAR, "
        "service_interest VARCHAR, message VARCHAR, city VARCHAR, territory VARCHAR, "
        "device VARCHAR, company_size VARCHAR, lead_score DOUBLE, estimated_value DOUBLE, "
        "owner VARCHAR, status VARCHAR, status_class VARCHAR, first_response_at TIMESTAMPTZ, "
        "updated_at TIMESTAMPTZ, line BIGINT, raw_hash UBIGINT)"
    )
    for lead_id, owner, status, cls, updated, line in leads:
        con.execute(
            "INSERT INTO incoming (lead_id, created_at, name, owner, status, status_class, "
            "updated_at, line, raw_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, hash(?))",
            [lead_id, T0, f"name {lead_id}", owner, status, cls, updated, line, lead_id + status],
        )


def _state(con, lead_id: str, owner: str, status: str, updated: datetime) -> None:  # type: ignore[no-untyped-def]
    con.execute(
        "INSERT INTO lead_state (lead_id, source_id, created_at, name, crm_owner, owner, "
        "owner_origin, crm_status, status_class, updated_at, first_seen_at, last_export_at) "
        "VALUES (?, 'web', ?, ?, ?, ?, 'crm', ?, 'open', ?, ?, ?)",
        [lead_id, T0, f"name {lead_id}", owner, owner, status, updated, T0, T0],
    )


@pytest.fixture
def merged():  # type: ignore[no-untyped-def]
    rules = load_rules(REPO / "sla_rules")
    source = next(s for s in rules.sources if s.entity == "leads" and s.crm == "canonical")
    con = step_db()
    con.execute("CREATE TABLE members (member_id VARCHAR)")
    con.execute("INSERT INTO members VALUES ('rahul'), ('sneha')")
    _state(con, "L1", "rahul", "new", T0)  # the export moves it on
    _state(con, "L3", "rahul", "contacted", T0 + timedelta(hours=1))  # the export is older
    _incoming(
        con,
        [
            ("L1", "sneha", "working", "open", T0 + timedelta(minutes=30), 2),
            ("L2", "rahul", "new", "open", T0 + timedelta(minutes=5), 3),
            ("L3", "sneha", "new", "open", T0 + timedelta(minutes=10), 4),
            ("L4", "stranger", "Booked", "booked", T0 + timedelta(minutes=40), 5),
        ],
    )
    f = ExportFile("leads_x.csv", "leads_x.csv", source, EXPORT_AT, "filename", 0, "c")
    superseded = apply_leads(con, f, source, EXPORT_AT)
    return con, superseded


def test_the_export_becomes_events_with_content_ids(merged) -> None:  # type: ignore[no-untyped-def]
    con, _ = merged
    got = {
        (r["event_type"], r["lead_id"]): r["event_id"]
        for r in rows(con, "SELECT event_type, lead_id, event_id FROM sla_events")
    }
    stamp = str(con.execute("SELECT CAST(?::TIMESTAMPTZ AS VARCHAR)", [EXPORT_AT]).fetchone()[0])
    assert got == {
        ("lead_received", "L2"): content_id("L2", "lead_received"),
        ("lead_received", "L4"): content_id("L4", "lead_received"),
        ("owner_changed", "L1"): content_id("L1", "owner_changed", stamp, "sneha"),
        ("status_changed", "L1"): content_id("L1", "status_changed", stamp, "working"),
        ("outcome_logged", "L4"): content_id("L4", "outcome_logged", "booked"),
    }
    assert {t for t, _ in got} <= set(EventType)


def test_state_takes_the_newer_rows_and_keeps_the_older(merged) -> None:  # type: ignore[no-untyped-def]
    con, superseded = merged
    assert superseded == 1  # L3: the export is older than what state holds
    state = {
        r["lead_id"]: r
        for r in rows(
            con,
            "SELECT lead_id, crm_owner, owner, owner_origin, crm_status, "
            "outcome, last_export_at FROM lead_state",
        )
    }
    assert state["L1"]["owner"] == "sneha"
    assert state["L1"]["crm_status"] == "working"
    assert state["L3"]["crm_owner"] == "rahul"
    assert state["L3"]["crm_status"] == "contacted"
    assert state["L3"]["last_export_at"] == T0
    assert state["L2"]["owner"] is None
    assert state["L2"]["crm_owner"] == "rahul"
    assert state["L4"]["outcome"] == "booked"
    history = rows(con, "SELECT lead_id FROM lead_history ORDER BY lead_id")
    assert [h["lead_id"] for h in history] == ["L1", "L2", "L4"]


def test_a_crm_owner_outside_the_org_is_recorded_not_adopted() -> None:
    rules = load_rules(REPO / "sla_rules")
    source = next(s for s in rules.sources if s.entity == "leads" and s.crm == "canonical")
    con = step_db()
    con.execute("CREATE TABLE members (member_id VARCHAR)")
    con.execute("INSERT INTO members VALUES ('rahul')")
    _state(con, "L1", "rahul", "new", T0)
    _incoming(con, [("L1", "stranger", "new", "open", T0 + timedelta(minutes=5), 2)])
    f = ExportFile("leads_y.csv", "leads_y.csv", source, EXPORT_AT, "filename", 0, "c")
    apply_leads(con, f, source, EXPORT_AT)
    assert rows(con, "SELECT crm_owner, owner, owner_origin FROM lead_state") == [
        {"crm_owner": "stranger", "owner": "rahul", "owner_origin": "crm"}
    ]


def test_rerunning_the_merge_adds_no_event(merged) -> None:  # type: ignore[no-untyped-def]
    con, _ = merged
    before = rows(con, "SELECT count(*) AS n FROM sla_events")[0]["n"]
    rules = load_rules(REPO / "sla_rules")
    source = next(s for s in rules.sources if s.entity == "leads" and s.crm == "canonical")
    f = ExportFile("leads_x.csv", "leads_x.csv", source, EXPORT_AT, "filename", 0, "c")
    apply_leads(con, f, source, EXPORT_AT)
    dup = rows(con, "SELECT event_id FROM sla_events GROUP BY 1 HAVING count(*) > 1")
    after = rows(con, "SELECT count(*) AS n FROM sla_events")[0]["n"]
    assert (dup, after) == ([], before)
    assert STEP.returns == "lead_state"
