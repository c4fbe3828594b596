"""The dbt project on demo data: the review's build passes its models and data tests (its unit
tests left out, as in production), every unit test passes in a development build, the
incremental models take new ticks only, lead-issue and delivery events (built elsewhere) land in
their marts, and a stale feed fails the review build."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from leadsla import warehouse
from leadsla.pipelines.review import Paths
from leadsla.pipelines.review import marts_vars as dbt_vars
from leadsla.rules import load_rules

REPO = Path(__file__).resolve().parent.parent


#: The unit tests the project must have (each guards one piece of incremental or verdict logic).
UNIT_TESTS = {
    "lead_clocks_deadlines_stops_and_steps",
    "lead_clocks_verdicts_and_owner_at_breach",
    "lead_clocks_incremental_rewrites_changed_leads_only",
    "lead_sla_first_response_verdict_from_its_clock",
    # one per incremental merge (int_events_unpacked is a view now: its former
    # "takes only new ticks" case is the lead steps' and the summary's)
    "leads_events_summarised_recounts_touched_leads_once",
    "lead_sla_arithmetic_from_state_and_events",
    "lead_sla_incremental_rewrites_changed_leads_only",
    "lead_step_events_append_new_ticks_once",
}


def test_review_build_ran_models_and_data_tests_and_all_passed(demo_week: Path) -> None:
    """The demo's review build is a production build: models and data tests, no unit tests
    (those run in development and CI: test_incremental_build_... below)."""
    results = json.loads(
        (demo_week / "warehouse" / "warehouse_dbt" / "target" / "run_results.json").read_text()
    )
    by_id = {r["unique_id"]: r["status"] for r in results["results"]}
    assert by_id, "the build ran nothing"
    bad = {
        k: v
        for k, v in by_id.items()
        if v not in {"success", "pass"} and not (k.startswith("exposure.") and v == "no-op")
    }
    assert not bad, bad
    kinds = {k.split(".")[0] for k in by_id}
    assert {"model", "test"} <= kinds
    assert "unit_test" not in kinds
    assert "test.leadsla.assert_feed_not_stale" in by_id
    # contracts are enforced on every mart the report reads
    manifest = json.loads(
        (demo_week / "warehouse" / "warehouse_dbt" / "target" / "manifest.json").read_text()
    )
    marts = [n for n in manifest["nodes"].values() if n["path"].startswith("marts")]
    assert len(marts) >= 15
    assert all(n["config"]["contract"]["enforced"] for n in marts)
    assert all("one row per" in n["description"].lower() for n in marts)
    # grouped by domain, every column described for readers, no build timings in the text
    assert {n["path"].split("/")[1] for n in marts} == {
        "leads",
        "issues",
        "delivery",
        "review",
        "whatif",
    }
    assert "model.leadsla.fct_lead_clocks" in manifest["nodes"]
    undescribed = [
        f"{n['name']}.{c}"
        for n in marts
        for c, col in n["columns"].items()
        if not col["description"]
    ]
    assert not undescribed, undescribed
    timing = re.compile(r"\b\d+(\.\d+)?\s?(s|ms|seconds?)\b")
    texts = [n["description"] for n in marts]
    texts += [c["description"] for n in marts for c in n["columns"].values()]
    assert not [t for t in texts if timing.search(t)]


def _insert_events(db: Path, now: datetime) -> None:
    """A new tick's worth of events the other engineers' code will write: lead issues (raised,
    rejected, escalated L1 then L2, resolved) and a suppressed notification."""
    con = duckdb.connect(str(db))
    lead = con.execute(
        "SELECT lead_id, team FROM lead_state WHERE response_at IS NULL AND due_at IS NOT NULL "
        "ORDER BY lead_id LIMIT 1"
    ).fetchall()[0]
    lead_id, team = lead
    base = now - timedelta(hours=3)
    rows = [
        ("t-raised", "issue_raised", "I-1", base, None, {"issue_type": "pricing", "city": "Pune",
         "device": "ios", "teams": [team]}),
        ("t-raised2", "issue_raised", "I-2", base, None, {"issue_type": "pricing",
         "city": "Pune", "device": "ios", "teams": [team]}),
        ("t-rej", "issue_rejected", "I-3", base, None, {"reason": "no impact given",
         "missing_fields": ["impact"], "teams": [team]}),
        ("t-l1", "issue_escalated", "I-1", base + timedelta(minutes=10), 1, {"teams": [team]}),
        ("t-l2", "issue_escalated", "I-1", base + timedelta(minutes=40), 2, {"teams": [team]}),
        ("t-res", "issue_resolved", "I-1", base + timedelta(minutes=90), None, {}),
        ("t-sup", "notification_suppressed", None, base, None, {"reason": "answered meanwhile",
         "team": team}),
    ]  # fmt: skip
    for event_id, etype, issue, at, level, details in rows:
        con.execute(
            "INSERT INTO sla_events (event_id, event_type, lead_id, issue_id, occurred_at, "
            "recorded_at, level, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [event_id, etype, lead_id, issue, at, now, level, json.dumps(details)],
        )
    con.execute("INSERT INTO tick_log (now, recorded_at) VALUES (?, ?)", [now, now])
    con.close()


def _issue_figures(warehouse_db: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        mistakes = dict(
            con.execute(
                "SELECT mistake, count(*) FROM marts.rpt_sop_mistakes GROUP BY 1"
            ).fetchall()
        )
        pricing = con.execute(
            "SELECT coalesce(sum(issues), 0) FROM marts.rpt_issue_patterns "
            "WHERE issue_type = 'pricing'"
        ).fetchall()[0][0]
        escalations = con.execute(
            "SELECT coalesce(sum(issue_escalations), 0) FROM marts.rpt_daily_review "
            "WHERE team_id = 'all'"
        ).fetchall()[0][0]
    finally:
        con.close()
    return {
        "escalated_without_details": int(mistakes.get("escalated_without_details", 0)),
        "no_admin_note_after_escalation": int(mistakes.get("no_admin_note_after_escalation", 0)),
        "pricing_issues": int(pricing),
        "issue_escalations": int(escalations),
    }


def test_incremental_build_takes_the_new_tick_and_fills_issue_marts(
    demo_week: Path, tmp_path: Path
) -> None:
    db = tmp_path / "leadsla.duckdb"
    shutil.copyfile(demo_week / "leadsla.duckdb", db)
    paths = Paths.beside(db)
    paths.warehouse.parent.mkdir(parents=True)
    # the published marts are the built warehouse: continue from them incrementally
    shutil.copyfile(demo_week / "leadsla_marts.duckdb", paths.warehouse)
    con = duckdb.connect(str(db), read_only=True)
    last_tick = con.execute("SELECT max(now) FROM tick_log").fetchall()[0][0]
    con.close()
    now = last_tick + timedelta(minutes=5)
    # the demo week has its own issues and rejections: the new tick's must add to them
    before = _issue_figures(paths.warehouse)
    _insert_events(db, now)
    copied = warehouse.snapshot(db, paths.warehouse)
    assert copied["sla_events"] == 7  # only the new tick's rows moved
    rules = load_rules(REPO / "sla_rules")
    result = warehouse.build(paths.warehouse, dbt_vars(rules, now))
    assert result.ok, result.failures
    con = duckdb.connect(str(paths.warehouse))
    try:
        raw, unpacked = con.execute(
            "SELECT (SELECT count(*) FROM raw.sla_events), "
            "(SELECT count(*) FROM intermediate.int_events_unpacked)"
        ).fetchall()[0]
        assert raw == unpacked  # nothing skipped, nothing doubled by the incremental merge
        assert con.execute(
            "SELECT issue_id, level, minutes_to_resolution FROM marts.fct_issue_escalations "
            "WHERE issue_id = 'I-1' ORDER BY level"
        ).fetchall() == [("I-1", 1, 90.0), ("I-1", 2, 90.0)]
        assert con.execute(
            "SELECT count(*) FROM marts.rpt_held_back WHERE held_back_kind = 'suppressed'"
        ).fetchall() == [(1,)]
    finally:
        con.close()
    after = _issue_figures(paths.warehouse)
    assert after["escalated_without_details"] == before["escalated_without_details"] + 1
    assert after["no_admin_note_after_escalation"] >= 2  # the demo writes no notes back
    assert after["pricing_issues"] == before["pricing_issues"] + 2
    assert after["issue_escalations"] == before["issue_escalations"] + 2
    # views whose definition did not change are left as they are (macros/view_if_changed.sql)
    runs = json.loads((warehouse.target_path(paths.warehouse) / "run_results.json").read_text())
    views = {
        r["unique_id"]: r["message"]
        for r in runs["results"]
        if r["unique_id"].startswith("model.leadsla.stg_")
        or r["unique_id"] in {"model.leadsla.fct_lead_sla", "model.leadsla.int_events_unpacked"}
    }
    assert len(views) == 10  # the 8 staging views (shadow_events among them) and the 2 named
    assert set(views.values()) == {"UNCHANGED"}, views
    # a second snapshot at the same point copies nothing
    assert warehouse.snapshot(db, paths.warehouse)["sla_events"] == 0

    # the incremental build says what a full rebuild of the same data says, mart for mart; the
    # rebuild is a development build, so every unit test of the project runs in it and passes
    rebuilt = tmp_path / "rebuilt" / "warehouse.duckdb"
    rebuilt.parent.mkdir()
    shutil.copyfile(paths.warehouse, rebuilt)
    full = warehouse.build(rebuilt, dbt_vars(rules, now), extra=["--full-refresh"], unit_tests=True)
    assert full.ok, full.failures
    unit = {k: v for k, v in full.statuses.items() if k.startswith("unit_test.")}
    assert set(unit) == set(warehouse.parse(rebuilt).unit_tests)
    assert {k.rsplit(".", 1)[-1] for k in unit} >= UNIT_TESTS
    assert set(unit.values()) == {"pass"}
    assert not any(k.startswith("unit_test.") for k in result.statuses)  # the review's build
    # every key test runs in the review's build (none is left to development builds)
    for key_test in (
        "unique_not_null_fct_escalations_escalation_id",
        "unique_not_null_rpt_held_back_item_id",
        "unique_not_null_rpt_sop_mistakes_mistake_id",
        "unique_not_null_int_leads_events_summarised_lead_id",
        "source_unique_leadsla_sla_events_event_id",
        "unique_not_null_int_lead_step_events_event_id",
        "unique_not_null_fct_lead_sla_lead_id",
        "source_unique_not_null_leadsla_lead_state_lead_id",
    ):
        assert any(key_test in k and v == "pass" for k, v in result.statuses.items()), key_test
    assert _marts(paths.warehouse) == _marts(rebuilt)

    # the same warehouse judged three hours after its newest tick: the feed is stale
    stale = warehouse.build(
        paths.warehouse,
        dbt_vars(rules, now + timedelta(hours=3)),
        command="test",
        extra=["--select", "assert_feed_not_stale"],
    )
    assert not stale.ok
    assert any("assert_feed_not_stale" in f for f in stale.failures)


def _marts(warehouse_db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every mart's rows, sorted, by name (the published schema analysts and reports read)."""
    con = duckdb.connect(str(warehouse_db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
                "ORDER BY 1"
            ).fetchall()
        ]
        return {
            name: sorted(
                con.execute(f"SELECT * FROM marts.{name}").fetchall(), key=lambda row: repr(row)
            )
            for name in names
        }
    finally:
        con.close()


def test_snapshot_refuses_a_repeated_event_id(demo_week: Path, tmp_path: Path) -> None:
    """event_id is kept unique where events enter the warehouse: a batch repeating an id
    already copied fails the snapshot, naming it, and copies nothing."""
    db = tmp_path / "leadsla.duckdb"
    shutil.copyfile(demo_week / "leadsla.duckdb", db)
    wh = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.snapshot(db, wh)
    con = duckdb.connect(str(db))
    old_id, last = con.execute("SELECT min(event_id), max(recorded_at) FROM sla_events").fetchall()[
        0
    ]
    later = last + timedelta(minutes=5)
    con.execute(
        "INSERT INTO sla_events (event_id, event_type, lead_id, occurred_at, recorded_at) "
        "VALUES (?, 'reminder_sent', 'L-x', ?, ?), ('fresh', 'reminder_sent', 'L-x', ?, ?)",
        [old_id, later, later, later, later],
    )
    con.close()
    with pytest.raises(warehouse.WarehouseError, match=old_id):
        warehouse.snapshot(db, wh)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM raw.sla_events WHERE event_id = 'fresh'"
        ).fetchall() == [(0,)]
    finally:
        con.close()


def test_a_table_model_that_fails_keeps_its_old_table(demo_week: Path, tmp_path: Path) -> None:
    """dbt-duckdb's own table materialization: a model whose SQL fails at run time leaves the
    table it had, and one that succeeds replaces it."""
    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_week / "leadsla_marts.duckdb", wh)

    def as_of() -> list[tuple[object, ...]]:
        con = duckdb.connect(str(wh), read_only=True)
        try:
            return con.execute("SELECT * FROM intermediate.int_as_of").fetchall()
        finally:
            con.close()

    before = as_of()
    assert len(before) == 1
    rules = load_rules(REPO / "sla_rules")
    good = dbt_vars(rules, datetime(2026, 11, 28, tzinfo=UTC))
    select = ["--select", "int_as_of"]
    # an as_of DuckDB cannot cast fails the model when its SQL runs, after the drop
    failed = warehouse.build(wh, {**good, "as_of": "not a time"}, command="run", extra=select)
    assert failed.statuses == {"model.leadsla.int_as_of": "error"}, failed.failures
    assert "not a time" in failed.failures[0]
    assert as_of() == before
    done = warehouse.build(wh, good, command="run", extra=select)
    assert done.ok, done.failures
    assert as_of() == [(datetime(2026, 11, 28, tzinfo=UTC),)] != before


@pytest.mark.parametrize("command", ["docs generate"])
def test_docs_generate(demo_week: Path, tmp_path: Path, command: str) -> None:
    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_week / "leadsla_marts.duckdb", wh)
    rules = load_rules(REPO / "sla_rules")
    result = warehouse.build(
        wh, dbt_vars(rules, datetime(2026, 11, 21, tzinfo=UTC)), command=command
    )
    assert result.ok, result.failures
    catalog = json.loads((tmp_path / "warehouse_dbt" / "target" / "catalog.json").read_text())
    assert "model.leadsla.fct_lead_sla" in catalog["nodes"]
