"""``leadsla patterns``: the weekly patterns from the marts, the same pipeline the
``weekly_patterns`` flow runs, on a small real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from leadsla.cli import main
from leadsla.pipelines.tick import run_tick

from .conftest import REPO, WriteLeads

#: Monday 08:30 in Kolkata: the patterns are named after yesterday, Sunday the 22nd
NOW = "2026-11-23T03:00:00Z"
DAY = "2026-11-22"


def _published(db_dir: Path, owners: int) -> Path:
    """A published marts file with the four report tables, as the review build leaves it."""
    path = db_dir / "leadsla_marts.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.rpt_issue_patterns AS SELECT * FROM (VALUES "
        "('coupon', 'Pune', 3), ('pickup', 'Delhi', 5)) t(issue_type, city, issues)"
    )
    con.execute(
        "CREATE TABLE marts.rpt_escalation_rule_firing AS SELECT * FROM (VALUES "
        "('r1', 'task_created', 'inbound', 4, 9, 'extra'), "
        "('r2', 'reminder_sent', 'inbound', 7, 1, 'extra')) "
        "t(rule_id, event_type, team_id, fired_last_7d, fired_prior_7d, not_shown)"
    )
    con.execute(
        "CREATE TABLE marts.rpt_sla_realism (intent VARCHAR, lead_source VARCHAR, p90 DOUBLE)"
    )
    con.execute(
        "CREATE TABLE marts.rpt_owner_load AS SELECT 'owner' || lpad(i::VARCHAR, 2, '0') "
        "AS owner_id, i % 3 AS overdue_now, DATE '2026-11-22' AS as_of FROM range(?) t(i)",
        [owners],
    )
    con.close()
    return path


def test_patterns_reads_the_published_marts_and_writes_weekly_md(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _published(tmp_path, owners=30)
    out = tmp_path / "reports"
    code = main(
        ["patterns", "--rules", str(REPO / "sla_rules"), "--db", str(tmp_path / "leadsla.duckdb"),
         "--no-build", "--now", NOW, "--out", str(out), "--json"]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["date"] == DAY
    sections = data["sections"]
    assert list(sections) == ["issue-patterns", "rule-firing", "sla-realism", "owner-load"]
    # each section in its order: most issues first, most firing first, most overdue first
    assert [r["issues"] for r in sections["issue-patterns"]] == [5, 3]
    assert [r["rule_id"] for r in sections["rule-firing"]] == ["r2", "r1"]
    assert "not_shown" not in sections["rule-firing"][0]
    assert sections["sla-realism"] == []
    load = sections["owner-load"]
    assert len(load) == 30  # --json carries every row
    assert [r["overdue_now"] for r in load] == sorted(
        (r["overdue_now"] for r in load), reverse=True
    )
    assert load[0]["as_of"] == "2026-11-22"  # dates as ISO text
    md = (out / DAY / "weekly.md").read_text(encoding="utf-8")
    assert Path(data["file"]) == out / DAY / "weekly.md"
    assert md.startswith(f"# Weekly patterns up to {DAY}\n")
    assert "## sla-realism\n\nnone\n" in md
    assert "| issue_type | city | issues |\n|---|---|---|\n| pickup | Delhi | 5 |" in md
    # the file shows the first 25 rows of a section
    assert md.count("| owner") == 1 + 25  # the header and 25 rows


def test_patterns_without_published_marts_is_exit_2_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["patterns", "--rules", str(REPO / "sla_rules"), "--db", str(tmp_path / "leadsla.duckdb"),
         "--no-build", "--now", NOW, "--out", str(tmp_path / "reports")]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "leadsla_marts.duckdb") in err
    assert "without --no-build" in err
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_patterns_builds_the_marts_from_a_ticked_database(
    rules_dir: Path,
    exports: Path,
    write_leads: WriteLeads,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime(2026, 11, 23, 2, 55, tzinfo=UTC)
    write_leads(
        "20261123T024000Z",
        [
            {"lead_id": "L1", "created_at": "2026-11-23 08:00", "name": "A", "email": "a@x.io",
             "form_type": "contact_form", "service_interest": "seo", "owner": "rahul"},
            {"lead_id": "L2", "created_at": "2026-11-23 08:05", "name": "B", "email": "b@x.io",
             "form_type": "newsletter", "owner": "sneha"},
        ],
    )  # fmt: skip
    db = tmp_path / "leadsla.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=now)
    code = main(
        ["patterns", "--rules", str(rules_dir), "--db", str(db), "--now", NOW,
         "--out", str(tmp_path / "reports"), "--json"]
    )  # fmt: skip
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    # the build published the marts beside the database; owner load covers the owners the
    # tick gave the two leads (routing may reassign one: the tick's state is the truth)
    assert (tmp_path / "leadsla_marts.duckdb").is_file()
    with duckdb.connect(str(db), read_only=True) as con:
        assigned = {o for (o,) in con.execute("SELECT owner FROM lead_state").fetchall()}
    assert len(assigned) == 2
    assert {r["owner_id"] for r in data["sections"]["owner-load"]} >= assigned
    assert (tmp_path / "reports" / DAY / "weekly.md").is_file()
