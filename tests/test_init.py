"""``leadsla init``: a new team's rules skeleton passes ``check`` as written, and a tick on it
counts business time on the team's calendar (zone, hours, the country's public holidays)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.cli import main
from leadsla.pipelines.tick import run_tick
from leadsla.rules import load_rules
from leadsla.rules.skeleton import write_skeleton

from .conftest import WriteLeads


def _task_due(db: Path, lead: str) -> datetime:
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "SELECT CAST(details AS VARCHAR) FROM sla_events WHERE lead_id = ? "
            "AND event_type = 'task_created' ORDER BY occurred_at LIMIT 1",
            [lead],
        ).fetchone()
    assert got is not None
    return datetime.fromisoformat(json.loads(got[0])["due_at"]).astimezone(UTC)


@pytest.mark.parametrize(
    ("subdivision", "due"),
    [
        # Tue 6 Jan 2026 is Epiphany, a public holiday in Bavaria but not in all of Germany
        ("BY", datetime(2026, 1, 7, 8, 10, tzinfo=UTC)),
        (None, datetime(2026, 1, 6, 8, 10, tzinfo=UTC)),
    ],
)
def test_init_check_and_a_tick_count_business_time_on_the_new_calendar(
    tmp_path: Path,
    exports: Path,
    write_leads: WriteLeads,
    capsys: pytest.CaptureFixture[str],
    subdivision: str | None,
    due: datetime,
) -> None:
    rules = tmp_path / "rules"
    flags = ["--timezone", "Europe/Berlin", "--country", "DE"]
    flags += ["--subdivision", subdivision] if subdivision else []
    assert main(["init", str(rules), *flags]) == 0
    assert main(["check", "--rules", str(rules)]) == 0
    assert "OK" in capsys.readouterr().out
    # Mon 5 Jan 17:55 Berlin (naive: the source's zone), 5 minutes before the office closes:
    # the 15-minute first response takes 10 more minutes on the next business day, 09:10
    write_leads(
        "20260105T170000Z",
        [{"lead_id": "B1", "created_at": "2026-01-05 17:55", "name": "Anna",
          "email": "anna@x.io", "form_type": "contact_form", "service_interest": "seo",
          "owner": "agent", "status": "new"}],
    )  # fmt: skip
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules, exports=str(exports), db=db, now=datetime(2026, 1, 7, 11, tzinfo=UTC))
    assert _task_due(db, "B1") == due
    with duckdb.connect(str(db), read_only=True) as con:
        rcpt = con.execute(
            "SELECT DISTINCT recipient FROM outbox WHERE channel = 'email' ORDER BY 1"
        ).fetchall()
    # the notifications reach the team's people, and only them
    assert rcpt == [("agent@example.com",), ("team.lead@example.com",)]


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (["--timezone", "Europe/Berln", "--country", "DE"], ["--timezone", "Europe/Berlin"]),
        (["--timezone", "Europe/Berlin", "--country", "XX"], ["--country", "DE"]),
        (["--timezone", "UTC", "--country", "DE", "--subdivision", "ZZ"], ["--subdivision"]),
    ],
)
def test_an_unknown_zone_or_country_is_one_sentence_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], names: list[str]
) -> None:
    target = tmp_path / "rules"
    assert main(["init", str(target), *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert ". " not in err  # one sentence
    for name in names:
        assert name in err
    assert not target.exists()  # refused before anything was written


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rules"
    target.mkdir()
    (target / "org.yaml").write_text("mine\n", encoding="utf-8")
    assert main(["init", str(target), "--timezone", "UTC", "--country", "GB"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "not empty" in err
    assert [p.name for p in target.iterdir()] == ["org.yaml"]
    assert (target / "org.yaml").read_text(encoding="utf-8") == "mine\n"


ZONES = ["UTC", "Europe/Berlin", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham",
         "America/St_Johns", "Australia/Lord_Howe", "Africa/Casablanca"]  # fmt: skip
COUNTRIES = sorted(holidays.list_supported_countries())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    zone=st.sampled_from(ZONES),
    country=st.sampled_from(COUNTRIES),
    pick=st.integers(min_value=0),
    name=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30),
)
def test_any_zone_and_country_gives_rules_that_load_as_written(
    tmp_path_factory: pytest.TempPathFactory, zone: str, country: str, pick: int, name: str
) -> None:
    subdivs = holidays.list_supported_countries()[country]
    sub = subdivs[pick % len(subdivs)] if subdivs and pick % 2 else None
    target = tmp_path_factory.mktemp("init") / "rules"
    write_skeleton(target, timezone=zone, country=country.lower(), subdivision=sub, name=name)
    rules = load_rules(target)
    (cal,) = rules.calendars.values()
    assert (cal.timezone, cal.holidays.country, cal.holidays.subdivision) == (zone, country, sub)
    assert {s.timezone for s in rules.sources} == {zone}
    assert rules.org.name == name
    # the holidays the ticks will skip are the country's (and subdivision's) public holidays
    public = holidays.country_holidays(country, subdiv=sub, years=2026)
    assert set(public) <= rules.business_calendars["office"].holidays
    assert set(rules.teams) == {"sales"}
