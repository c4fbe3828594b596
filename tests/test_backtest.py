"""``leadsla backtest``: a candidate rule set replayed beside a baseline over the same exports.

The main case is the issue's: on the demo's exports (Monday morning, so the replays stay
short), a candidate that reassigns at 20 business minutes instead of 30 reports the
reassignments exactly as two separate replays count them."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from leadsla.cli import main
from leadsla.events import EventType
from leadsla.pipelines.backtest import backtest
from leadsla.pipelines.tick import replay
from leadsla.rules import load_rules
from leadsla_demo import WEEK_START, generate_leads, write_exports

from .conftest import LEAD_ROW, REPO, WriteLeads

#: Monday 08:00 to 12:00 IST: the first reassignments of the week fall in it, at both settings.
START = (WEEK_START + timedelta(hours=8)).astimezone(UTC)
END = START + timedelta(hours=4)


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rules = load_rules(REPO / "sla_rules")
    cal = rules.business_calendars[rules.org.default_calendar]
    leads = [ld for ld in generate_leads(cal) if ld.created_at < START + timedelta(hours=4)]
    out = tmp_path_factory.mktemp("backtest") / "exports"
    write_exports(leads, out)
    for f in out.iterdir():  # the replayed period's files only
        stamp = datetime.strptime(f.stem.rsplit("_", 1)[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if stamp > END:
            f.unlink()
    return out


def reassign_at(rules_dir: Path, minutes: int) -> Path:
    """``rules_dir`` with the high-intent ladder reassigning at ``minutes``."""
    policies = rules_dir / "policies.yaml"
    text = policies.read_text(encoding="utf-8")
    old = "{id: reassignment, kind: reassign, after_start: 30}"
    assert old in text
    new = old.replace("30", str(minutes))
    policies.write_text(text.replace(old, new), encoding="utf-8")
    return rules_dir


def counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT event_type, count(*) FROM sla_events GROUP BY 1").fetchall()
    return {t: int(n) for t, n in rows}


@pytest.mark.slow
def test_reassigning_earlier_reports_what_two_replays_count(
    rules_dir: Path, demo_exports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = reassign_at(rules_dir, 20)
    out = tmp_path / "bt"
    code = main(["backtest", "--rules", str(candidate), "--baseline", str(REPO / "sla_rules"),
                 "--exports", str(demo_exports), "--from", START.isoformat(),
                 "--to", END.isoformat(), "--out", str(out), "--json"])  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    # the two replays, done here on their own
    separate = {}
    for side, rules in (("baseline", REPO / "sla_rules"), ("candidate", candidate)):
        db = tmp_path / f"{side}.duckdb"
        replay(rules_dir=rules, exports=str(demo_exports), db=db, start=START, end=END,
               every=timedelta(minutes=5))  # fmt: skip
        separate[side] = counts(db)
    assert separate["candidate"]["reassigned"] != separate["baseline"]["reassigned"]
    for side in ("baseline", "candidate"):
        assert set(printed[side]) == {t.value for t in EventType}  # every type, zeros too
        for t in EventType:
            if not t.value.startswith("notification_"):  # the backtest's replays deliver (dry)
                assert printed[side][t.value] == separate[side].get(t.value, 0), (side, t)
        assert printed["metrics"][side]["reassignments"] == separate[side]["reassigned"]
    assert printed["changed_leads"] > 0
    written = json.loads((out / "backtest.json").read_text(encoding="utf-8"))
    assert written["baseline"] == printed["baseline"]
    assert written["candidate"] == printed["candidate"]
    # the leads the earlier reassignment touched are listed, with what moved
    moved = [r for r in written["changed_leads_listed"] if "reassigned" in r["only_candidate"]]
    assert moved
    csv_rows = (out / "changed_leads.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) == written["changed_leads"] + 1
    by_policy = {(r["key"], r["metric"]): r for r in written["breakdown"]
                 if r["dimension"] == "policy"}  # fmt: skip
    row = by_policy[("high_first_response", "reassignments")]
    assert row["candidate"] - row["baseline"] == (
        separate["candidate"]["reassigned"] - separate["baseline"]["reassigned"]
    )
    html = (out / "backtest.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2
    assert "reassignments" in html
    # the shipped ladder fixtures encode 30 minutes: the candidate moves them, and says which
    assert any("high_saturday_evening_ladder" in f for f in printed["fixture_failures"])
    assert "high_saturday_evening_ladder" in html


@pytest.mark.parametrize("cores", [1, 2])
def test_the_same_rules_change_nothing_and_messages_are_what_delivery_plans(
    rules_dir: Path,
    write_leads: WriteLeads,
    exports: Path,
    tmp_path: Path,
    cores: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On one core (the sides one after the other) and on two (side by side, in worker
    processes) alike: baseline and candidate equal, no lead changes and every count is the
    same. Messages are counted as delivery plans them: three low-intent tasks of one owner go
    out as one digest."""
    low = [{**LEAD_ROW, "lead_id": f"L{i}", "form_type": "checklist_download"} for i in (3, 4, 5)]
    write_leads("20261123T043000Z", [LEAD_ROW, *low])
    start = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    same = tmp_path / "same"
    shutil.copytree(rules_dir, same)
    monkeypatch.setattr("leadsla.pipelines.backtest.os.cpu_count", lambda: cores)
    seen: list[tuple[str, int]] = []
    data = backtest(candidate=same, baseline=rules_dir, exports=str(exports), start=start,
                    end=start + timedelta(hours=3), out=tmp_path / "bt",
                    progress=lambda side, now, n: seen.append((side, n)))  # fmt: skip
    # each side's every tick is reported, from worker processes too
    for side in ("baseline", "candidate"):
        assert sorted(n for who, n in seen if who == side) == list(range(1, 37 + 1))
    assert data["changed_leads"] == 0
    assert data["baseline"] == data["candidate"]
    assert data["metrics"]["baseline"] == data["metrics"]["candidate"]
    assert data["breakdown"] == []  # only differing rows are listed
    assert data["metrics"]["baseline"]["steps"] > 0
    db = tmp_path / "bt" / "scratch" / "baseline" / "leadsla.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        rows, units, digested = con.execute(
            "SELECT count(*), count(DISTINCT coalesce(digest_id, message_id)), "
            "count(*) FILTER (digest_id IS NOT NULL) FROM outbox WHERE status = 'sent'"
        ).fetchall()[0]
    assert digested == 3  # the three low-intent tasks, rolled into one digest
    assert data["metrics"]["baseline"]["messages"] == units == rows - 2


def test_a_candidate_that_fails_check_is_refused_before_anything_runs(
    rules_dir: Path, exports: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policies = rules_dir / "policies.yaml"
    policies.write_text(policies.read_text(encoding="utf-8").replace(
        "calendar: kolkata_office", "calendar: no_such_calendar", 1), encoding="utf-8")  # fmt: skip
    out = tmp_path / "bt"
    code = main(["backtest", "--rules", str(rules_dir), "--baseline", str(REPO / "sla_rules"),
                 "--exports", str(exports), "--from", "2026-11-23T04:30:00Z",
                 "--to", "2026-11-23T05:30:00Z", "--out", str(out)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "no_such_calendar" in err  # the check's own message
    assert str(rules_dir) in err
    assert not out.exists()
