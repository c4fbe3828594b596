"""Shadow rules (``leadsla tick --shadow-rules``): evaluated beside the live rules on the same
exports into ``shadow_events``; nothing of them reaches the outbox, the mail server or the CRM
files."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.cli import main
from leadsla.pipelines.shadow import shadow_db

from .conftest import LEAD_ROW, SmtpSink, WriteLeads

START = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)  # Monday 10:00 IST
#: uneven ticks: catch-up after gaps, and ticks between a step's threshold and the next export
TICKS = [START + timedelta(minutes=m) for m in (0, 5, 15, 20, 35, 40, 55, 90, 95, 140)]
OUTBOX = "SELECT * EXCLUDE (payload), CAST(payload AS VARCHAR) FROM outbox ORDER BY message_id"


@pytest.fixture
def leads(write_leads: WriteLeads) -> None:
    """A high-intent lead nobody answers (its whole ladder, reassignments included), one
    answered after its reminder, and a low-intent one."""
    rows = [LEAD_ROW, {**LEAD_ROW, "lead_id": "L2", "owner": "divya"},
            {**LEAD_ROW, "lead_id": "L3", "form_type": "checklist_download"}]  # fmt: skip
    write_leads("20261123T043000Z", rows)
    answered = {**rows[1], "status": "contacted", "first_response_at": "2026-11-23 10:14"}
    write_leads("20261123T045000Z", [rows[0], answered, rows[2]])


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return sorted(con.execute(sql).fetchall(), key=str)


def tick_all(rules: Path, exports: Path, db: Path, shadow: Path | None) -> None:
    for now in TICKS:
        args = ["tick", "--rules", str(rules), "--exports", str(exports), "--db", str(db),
                "--now", now.isoformat()]  # fmt: skip
        assert main(args + (["--shadow-rules", str(shadow)] if shadow else [])) == 0


@pytest.fixture
def mail(smtp_sink: tuple[SmtpSink, int], monkeypatch: pytest.MonkeyPatch) -> SmtpSink:
    """The live ticks deliver to a real SMTP server on loopback."""
    sink, port = smtp_sink
    monkeypatch.setenv("LEADSLA_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("LEADSLA_EMAIL_FROM", "sla@acme.example")
    return sink


def reassign_at(rules_dir: Path, dst: Path, minutes: int) -> Path:
    shutil.copytree(rules_dir, dst)
    policies = dst / "policies.yaml"
    old = "{id: reassignment, kind: reassign, after_start: 30}"
    text = policies.read_text(encoding="utf-8")
    assert old in text
    policies.write_text(text.replace(old, old.replace("30", str(minutes))), encoding="utf-8")
    return dst


EVENTS = "SELECT * EXCLUDE (details), CAST(details AS VARCHAR) FROM {} WHERE {}"
DECISIONS = "event_type NOT LIKE 'notification_%'"


@pytest.mark.usefixtures("leads")
def test_shadow_of_the_live_rules_records_the_live_events_and_changes_no_delivery(
    rules_dir: Path, exports: Path, tmp_path: Path, mail: SmtpSink
) -> None:
    with_shadow, without = tmp_path / "a" / "leadsla.duckdb", tmp_path / "b" / "leadsla.duckdb"
    same = tmp_path / "same_rules"
    shutil.copytree(rules_dir, same)
    tick_all(rules_dir, exports, without, None)
    sent_without = len(mail.messages)
    tick_all(rules_dir, exports, with_shadow, same)
    assert len(mail.messages) == 2 * sent_without  # the shadow sent nothing of its own
    live = rows(with_shadow, EVENTS.format("sla_events", DECISIONS))
    assert {r[1] for r in live} >= {"task_created", "reminder_sent", "escalated", "reassigned"}
    assert rows(with_shadow, EVENTS.format("shadow_events", "true")) == live  # same ids, all
    # the live side is as a tick without a shadow leaves it: events, outbox, CRM files
    assert rows(with_shadow, EVENTS.format("sla_events", "true")) == rows(
        without, EVENTS.format("sla_events", "true")
    )
    assert rows(with_shadow, OUTBOX) == rows(without, OUTBOX)
    crm = [{p.name: p.read_bytes() for p in (d.parent / "crm_outbox").iterdir()}
           for d in (with_shadow, without)]  # fmt: skip
    assert crm[0]
    assert crm[0] == crm[1]  # the shadow (beside the live database) wrote no CRM file
    # the shadow's own outbox planned the same messages and sent none of them
    planned = rows(shadow_db(with_shadow), "SELECT DISTINCT status FROM outbox")
    assert planned == [("pending",)]


@pytest.mark.usefixtures("leads")
def test_a_different_candidate_differs_only_in_shadow_events_and_restarts_when_changed(
    rules_dir: Path, exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADSLA_SMTP_URL", raising=False)
    early = reassign_at(rules_dir, tmp_path / "early", 20)
    with_shadow, without = tmp_path / "a" / "leadsla.duckdb", tmp_path / "b" / "leadsla.duckdb"
    tick_all(rules_dir, exports, without, None)
    tick_all(rules_dir, exports, with_shadow, early)
    live = rows(with_shadow, EVENTS.format("sla_events", DECISIONS))
    assert live == rows(without, EVENTS.format("sla_events", DECISIONS))
    assert rows(with_shadow, OUTBOX) == rows(without, OUTBOX)
    shadow = rows(with_shadow, EVENTS.format("shadow_events", "true"))
    first = {"live": {}, "shadow": {}}
    for name, events in (("live", live), ("shadow", shadow)):
        for r in events:
            if r[1] == "reassigned":
                first[name][r[2]] = min(first[name].get(r[2], r[4]), r[4])
    assert first["live"]
    assert first["live"].keys() == first["shadow"].keys()
    for lead, at in first["live"].items():
        assert first["shadow"][lead] == at - timedelta(minutes=10), lead
    # another candidate: the shadow starts afresh and holds only the new candidate's decisions
    same = tmp_path / "same_rules"
    shutil.copytree(rules_dir, same)
    args = ["tick", "--rules", str(rules_dir), "--exports", str(exports), "--db",
            str(with_shadow), "--now", (TICKS[-1] + timedelta(minutes=5)).isoformat()]  # fmt: skip
    assert main([*args, "--shadow-rules", str(same)]) == 0
    key = "SELECT event_id, event_type, lead_id, occurred_at, owner, target FROM {} WHERE " + (
        DECISIONS
    )
    assert rows(with_shadow, key.format("shadow_events")) == rows(
        with_shadow, key.format("sla_events")
    )


@pytest.mark.slow
@pytest.mark.usefixtures("leads")
def test_the_review_shows_ops_the_shadow_comparison(
    rules_dir: Path, exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadsla.pipelines.review import daily_build, run_report
    from leadsla.rules import load_rules

    monkeypatch.delenv("LEADSLA_SMTP_URL", raising=False)
    db = tmp_path / "a" / "leadsla.duckdb"
    candidate = tmp_path / "no_hops"  # the ladder escalates where it would reassign
    shutil.copytree(rules_dir, candidate)
    policies = candidate / "policies.yaml"
    text = policies.read_text(encoding="utf-8")
    assert "max_hops: 2" in text
    policies.write_text(text.replace("max_hops: 2", "max_hops: 0", 1), encoding="utf-8")
    tick_all(rules_dir, exports, db, candidate)
    rules = load_rules(rules_dir)
    plan = daily_build(rules, db, TICKS[-1], date(2026, 11, 23))
    run = run_report(db=db, rules=rules, out=tmp_path / "reports", plan=plan)
    mart = rows(run.published, "SELECT step_date, policy_id, step_type, live_steps, "
                "shadow_steps, difference FROM marts.rpt_shadow_comparison")  # fmt: skip
    steps = ("task_created", "reminder_sent", "escalated", "reassigned", "sla_missed", "sla_met")
    for table, col in (("sla_events", 3), ("shadow_events", 4)):
        counted = rows(db, f"SELECT policy_id, event_type, count(*) FROM {table} "
                       f"WHERE event_type IN {steps} GROUP BY ALL")  # fmt: skip
        assert sorted((r[1], r[2], r[col]) for r in mart if r[col]) == counted, table
    assert all(r[5] == r[4] - r[3] for r in mart)
    assert any(r[2] == "reassigned" and r[5] < 0 for r in mart)
    html = next(p for p in run.files["management"] if p.suffix == ".html").read_text("utf-8")
    assert "Shadow rules against the live ones" in html
    team = [p for k, v in run.files.items() if k != "management" for p in v if p.suffix == ".html"]
    assert team
    assert all("Shadow rules" not in p.read_text("utf-8") for p in team)


@pytest.mark.slow
@pytest.mark.usefixtures("leads")
def test_the_sla_tick_flow_runs_a_shadow_from_its_parameter(
    prefect_harness: None, rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    from flows import sla_tick as flow_module
    from flows.sla_tick import retry_on_io_error, sla_tick

    assert (flow_module.shadow.retries, flow_module.shadow.retry_condition_fn) == (
        3,
        retry_on_io_error,
    )
    same = tmp_path / "same_rules"
    shutil.copytree(rules_dir, same)
    db = tmp_path / "leadsla.duckdb"
    for now in TICKS[:4]:
        state = sla_tick(now=now, rules_dir=str(rules_dir), exports=str(exports), db=str(db),
                         shadow_rules=str(same), return_state=True)  # fmt: skip
        assert state.is_completed(), state.message
    assert state.result()["shadow_events"] >= 0
    live = rows(db, EVENTS.format("sla_events", DECISIONS))
    assert {r[1] for r in live} >= {"task_created", "reminder_sent"}
    assert rows(db, EVENTS.format("shadow_events", "true")) == live


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    slots=st.lists(st.integers(0, 30), min_size=1, max_size=6, unique=True),
    late=st.integers(0, 5),
)
@pytest.mark.slow
@pytest.mark.usefixtures("leads")
def test_a_shadow_of_the_live_rules_agrees_on_any_schedule_however_late_it_starts(
    rules_dir: Path, exports: Path, tmp_path_factory: pytest.TempPathFactory,
    slots: list[int], late: int,
) -> None:  # fmt: skip
    """Ticks at any 5-minute slots of the first 2.5 hours; the shadow joins at the ``late``-th
    tick (the ones before ran without it): its decisions are the live ones, id for id."""
    from leadsla.pipelines.shadow import shadow_tick
    from leadsla.pipelines.tick import run_tick

    db = tmp_path_factory.mktemp("prop") / "leadsla.duckdb"
    for k, slot in enumerate(sorted(slots)):
        now = START + timedelta(minutes=5 * slot)
        run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=now)
        if k >= late:
            shadow_tick(shadow_rules=rules_dir, exports=str(exports), db=db, now=now)
    key = "SELECT event_id, event_type, lead_id, occurred_at, owner, target, level FROM {} WHERE "
    shadow = rows(db, key.format("shadow_events") + "true")
    if late < len(slots):
        assert shadow == rows(db, key.format("sla_events") + DECISIONS)
    else:
        assert shadow == []  # never turned on
