"""The review is right on any feed: built over a log with every optional dimension null in every
combination (tests/_review_feeds.py), and over a feed of issues only, the marts keep their keys
and lose no count (owner-less leads are grouped under their team, null teams under
`unassigned`, never as a second `all`), and the issue figures reach the headline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from leadsla.pipelines.review import daily_build, run_report
from leadsla.report.words import ISSUE_LEVEL_WORDS
from leadsla.rules import load_rules

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
        assert overdue == _one(
            con, "SELECT sum(overdue_leads) FROM marts.rpt_owners_overdue"
        )
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
        assert f"{ISSUE_LEVEL_WORDS.get(level, f'L{level}')} {n}" in built.html
