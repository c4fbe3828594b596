"""The review is right on any feed: built over a log with every optional dimension null in every
combination (tests/_review_feeds.py), and over a feed of issues only, the marts keep their keys
and lose no count (owner-less leads are grouped under their team, null teams under
`unassigned`, never as a second `all`), and the issue figures reach the headline."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from leadsla import warehouse
from leadsla.pipelines.review import Paths, daily_build, run_report
from leadsla.report.words import level_label
from leadsla.rules import load_rules
from leadsla.warehouse import WarehouseError
from leadsla.warehouse_publish import storage_version

from ._review_feeds import DAY, END, build_feed


@dataclass
class Built:
    db: Path
    published: Path
    html: str


def _review(tmp_path: Path, *, issues_only: bool) -> Built:
    db = build_feed(tmp_path, issues_only=issues_only)
    rules = load_rules(tmp_path / "sla_rules")
    plan = daily_build(rules, db, END, DAY)
    run = run_report(db=db, rules=rules, out=tmp_path / "reports", plan=plan)
    html = (run.out_dir / "management.html").read_text(encoding="utf-8")
    return Built(db, plan.paths.published, html)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _review(tmp_path_factory.mktemp("nulls"), issues_only=False)


@pytest.fixture(scope="module")
def issues_only(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _review(tmp_path_factory.mktemp("issues_only"), issues_only=True)


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return con.execute(sql).fetchall()[0][0]


#: Per mart: its key columns (every row has them, none null, and no two rows share them).
KEYS = {
    "rpt_owners_overdue": "owner_id, team_id",
    "rpt_owner_load": "owner_id, team_id",
    "rpt_missed_sla_by_source": "lead_source, team_id",
    "rpt_service_category_speed": "service_interest, team_id",
    "rpt_sla_realism": "intent, lead_source, policy_id",
    "rpt_conversion_by_response_bucket": "intent, lead_source, response_bucket",
    "rpt_issue_patterns": "issue_type, city, device, team_id",
    "rpt_daily_review": "review_date, team_id",
    "rpt_escalations_by_level_daily": "escalated_date, team_id, escalation_kind, level",
    "rpt_escalation_rule_firing": "rule_id, event_type, team_id",
    "fct_issue_escalations": "issue_escalation_id",
    "rpt_held_back": "item_id",
    "rpt_sop_mistakes": "mistake_id",
}


@pytest.mark.parametrize("feed", ["mixed", "issues_only"])
def test_every_mart_key_is_whole_and_unique(feed: str, request: pytest.FixtureRequest) -> None:
    built: Built = request.getfixturevalue(feed)
    con = duckdb.connect(str(built.published), read_only=True)
    try:
        for mart, key in KEYS.items():
            cols = [c.strip() for c in key.split(",")]
            nulls = " OR ".join(f"{c} IS NULL" for c in cols)
            assert _one(con, f"SELECT count(*) FROM marts.{mart} WHERE {nulls}") == 0, mart
            dupes = (
                f"SELECT count(*) FROM (SELECT {key} FROM marts.{mart} "
                "GROUP BY ALL HAVING count(*) > 1)"
            )
            assert _one(con, dupes) == 0, mart
    finally:
        con.close()


def test_owner_less_and_team_less_leads_are_counted_once_under_their_team(mixed: Built) -> None:
    con = duckdb.connect(str(mixed.published), read_only=True)
    try:
        overdue = _one(
            con, "SELECT count(*) FROM marts.rpt_waiting_for_first_response WHERE is_overdue"
        )
        assert overdue
        assert overdue == _one(con, "SELECT sum(overdue_leads) FROM marts.rpt_owners_overdue")
        # leads without an owner are there, under 'unassigned' in their team
        assert _one(
            con, "SELECT count(*) FROM marts.rpt_owners_overdue WHERE owner_id = 'unassigned'"
        )
        leads = _one(con, "SELECT count(*) FROM marts.fct_lead_sla")
        assert leads == 32 == _one(con, "SELECT sum(leads) FROM marts.rpt_owner_load")
        # by source: the teams' rows add up to the 'all' rows and to the leads themselves
        missed = _one(con, "SELECT count(*) FROM marts.fct_lead_sla WHERE is_missed")
        by_team, by_all = con.execute(
            "SELECT sum(missed) FILTER (WHERE team_id <> 'all'), sum(missed) FILTER "
            "(WHERE team_id = 'all') FROM marts.rpt_missed_sla_by_source"
        ).fetchall()[0]
        assert missed
        assert by_team == by_all == missed
        # the daily review: per team adds up to 'all' on every day and every count
        sums = ", ".join(
            f"sum({c}) FILTER (WHERE team_id <> 'all') - sum({c}) FILTER (WHERE team_id = 'all')"
            for c in ("leads_in", "sla_missed", "escalations", "issue_escalations",
                      "waiting_at_day_end", "issues_resolved")
        )  # fmt: skip
        rows = con.execute(
            f"SELECT review_date, {sums} FROM marts.rpt_daily_review GROUP BY 1"
        ).fetchall()
        gaps = [r for r in rows if any(r[1:])]
        assert gaps == []
    finally:
        con.close()


@pytest.mark.parametrize("feed", ["mixed", "issues_only"])
def test_issue_escalations_reach_the_headline_per_level(
    feed: str, request: pytest.FixtureRequest
) -> None:
    built: Built = request.getfixturevalue(feed)
    con = duckdb.connect(str(built.published), read_only=True)
    try:
        per_level = dict(
            con.execute(
                "SELECT coalesce(level, 0), count(*) FROM marts.fct_issue_escalations "
                "WHERE escalated_date = ? GROUP BY 1",
                [DAY],
            ).fetchall()
        )
        total = sum(per_level.values())
        assert total == 56  # every escalation the feed wrote, with or without a lead
        assert con.execute(
            "SELECT issue_escalations FROM marts.rpt_daily_review "
            "WHERE review_date = ? AND team_id = 'all'",
            [DAY],
        ).fetchall() == [(total,)]
    finally:
        con.close()
    assert f'data-figure="issue escalations">{total}<' in built.html
    assert 0 in per_level  # escalations whose level the feed did not give are counted too
    for level, n in per_level.items():
        assert f"{level_label(level)} {n}" in built.html


# ---- analysts: the published marts open in DuckDB 1.x and describe every column ----------------

#: The newest DuckDB 1.x CLI on the package registry, installed once into a cached venv (the
#: way CI can: the cache survives between runs, the registry is asked only when it is empty).
DUCKDB1 = "duckdb-cli<2"
DUCKDB1_VENV = Path.home() / ".cache" / "leadsla-tests" / "duckdb-cli-1"


def _duckdb1_cli() -> Path:
    """The CLI of the cached venv, installing it first when the cache has none (a venv is not
    relocatable, so it is built in place and marked complete last: a half install is redone)."""
    cli, done = DUCKDB1_VENV / "bin" / "duckdb", DUCKDB1_VENV / "installed"
    if done.is_file():
        return cli
    uv = Path(sys.executable).parent / "uv"
    shutil.rmtree(DUCKDB1_VENV, ignore_errors=True)
    python = DUCKDB1_VENV / "bin" / "python"
    for step in (
        [str(uv), "venv", "-q", str(DUCKDB1_VENV)],
        [str(uv), "pip", "install", "-q", "--python", str(python), DUCKDB1],
    ):
        run = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        assert run.returncode == 0, (
            f"could not install {DUCKDB1!r} from the package registry into {DUCKDB1_VENV} "
            f"(offline?): {run.stderr.strip()}"
        )
    done.write_text(DUCKDB1, encoding="utf-8")
    return cli


@pytest.mark.slow
def test_duckdb_1x_cli_reads_every_mart_and_its_column_descriptions(mixed: Built) -> None:
    cli = _duckdb1_cli()
    version = subprocess.run([str(cli), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v1."), version.stdout
    con = duckdb.connect(str(mixed.published), read_only=True)
    try:
        marts = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
                "ORDER BY 1"
            ).fetchall()
        ]
        counts = [_one(con, f"SELECT count(*) FROM marts.{m}") for m in marts]
    finally:
        con.close()
    assert len(marts) >= 15
    sql = " UNION ALL ".join(f"SELECT '{m}', count(*) FROM marts.{m}" for m in marts)
    sql += (
        "; SELECT 'undescribed', count(*) FROM duckdb_columns() "
        "WHERE schema_name = 'marts' AND coalesce(comment, '') = ''"
    )
    out = subprocess.run(
        [str(cli), "-readonly", "-csv", "-noheader", str(mixed.published), "-c", sql],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = dict(line.split(",") for line in out.stdout.split())
    assert {m: int(rows[m]) for m in marts} == dict(zip(marts, counts, strict=True))
    assert rows["undescribed"] == "0"


# ---- a stale feed, and one warehouse per database ------------------------------------------------


def test_a_stale_feed_is_one_sentence_naming_the_last_tick_and_the_one_needed(
    mixed: Built, tmp_path: Path
) -> None:
    rules = load_rules(mixed.db.parent / "sla_rules")
    db = tmp_path / "feed.duckdb"
    shutil.copyfile(mixed.db, db)
    plan = daily_build(rules, db, END + timedelta(days=2), DAY + timedelta(days=1))
    with pytest.raises(WarehouseError) as err:
        run_report(db=db, rules=rules, out=tmp_path / "reports", plan=plan)
    text = str(err.value)
    assert "\n" not in text
    # the last tick at the end of the 23rd, the tick needed an hour before the 24th's end
    assert "the last tick was at 2026-11-24 00:00 Asia/Kolkata (18:30 UTC)" in text
    assert "needs a tick at or after 2026-11-24 23:00 Asia/Kolkata (17:30 UTC)" in text
    assert not plan.paths.published.exists()  # no review over a stalled feed


def test_two_databases_in_one_folder_never_share_a_warehouse(mixed: Built, tmp_path: Path) -> None:
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    shutil.copyfile(mixed.db, a)
    shutil.copyfile(mixed.db, b)
    con = duckdb.connect(str(b))  # another feed: the same tables, one event of its own
    con.execute("DELETE FROM sla_events")
    con.execute("INSERT INTO sla_events (event_id, event_type, occurred_at, recorded_at) "
                "VALUES ('b-1', 'notification_dead', now(), now())")  # fmt: skip
    con.close()
    pa, pb = Paths.beside(a), Paths.beside(b)
    assert pa.warehouse != pb.warehouse
    assert pa.published != pb.published
    assert (pa.published.name, pb.published.name) == ("a_marts.duckdb", "b_marts.duckdb")
    assert warehouse.snapshot(a, pa.warehouse)["sla_events"] > 1
    assert warehouse.snapshot(b, pb.warehouse)["sla_events"] == 1
    # a warehouse refuses a database that is not its own, in one sentence naming both
    with pytest.raises(WarehouseError) as err:
        warehouse.snapshot(b, pa.warehouse)
    text = str(err.value)
    assert "\n" not in text
    assert f"built from {a}, not from {b}" in text
    con = duckdb.connect(str(pa.warehouse), read_only=True)
    try:  # nothing of b reached a's warehouse
        assert _one(con, "SELECT count(*) FROM raw.sla_events WHERE event_id = 'b-1'") == 0
    finally:
        con.close()
    # the default database keeps the folder every release built in
    default = Paths.beside(tmp_path / "leadsla.duckdb")
    assert default.warehouse == tmp_path / "warehouse" / "warehouse.duckdb"
    assert default.published == tmp_path / "leadsla_marts.duckdb"


def test_a_warehouse_of_an_earlier_release_is_converted_once_and_kept(
    mixed: Built, tmp_path: Path
) -> None:
    """Warehouses built before this release are in DuckDB 2.0's format: the next snapshot
    converts them to the format 1.x reads, keeping what they hold (the incremental state)."""
    wh = tmp_path / "warehouse" / "warehouse.duckdb"
    wh.parent.mkdir()
    con = duckdb.connect(str(wh))
    con.execute("CREATE SCHEMA intermediate; CREATE TABLE intermediate.kept AS SELECT 42 AS x")
    assert storage_version(con).startswith("v2.")
    con.close()
    copied = warehouse.snapshot(mixed.db, wh)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert storage_version(con).startswith("v1.")
        assert _one(con, "SELECT x FROM intermediate.kept") == 42
        assert _one(con, "SELECT count(*) FROM raw.sla_events") == copied["sla_events"] > 0
    finally:
        con.close()
