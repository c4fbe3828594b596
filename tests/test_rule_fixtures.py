"""Rule fixtures (``sla_rules/tests/*.yaml``) as ``leadsla check`` runs them: the shipped cases
pass through the real engine, every mismatch names its file and case with what was expected
and what the engine did, a malformed case file is refused with the file, the key and the fix,
and the one catch-up tick the check runs decides what ticks at every export time decide."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.rules import RuleSet, RulesInvalid, load_rules
from leadsla.rules.cases.check import check_cases
from leadsla.rules.cases.load import load_cases
from leadsla.rules.cases.models import Case
from leadsla.rules.cases.run import Outcome, compare, run_engine

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "sla_rules"
LEADSLA = str(Path(sys.executable).parent / "leadsla")
MINUTE = timedelta(minutes=1)
IST = timezone(timedelta(hours=5, minutes=30))


def _check(rules: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADSLA_")}
    return subprocess.run(
        [LEADSLA, "check", "--rules", str(rules)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(SHIPPED)


@pytest.fixture(scope="module")
def shipped() -> tuple[list[tuple[str, Case]], Outcome]:
    """The shipped cases and what the engine decided for them (one batch)."""
    cases = load_cases(SHIPPED)
    return cases, run_engine(SHIPPED, [c for _, c in cases])


@pytest.mark.slow
def test_the_shipped_fixtures_pass(
    shipped: tuple[list[tuple[str, Case]], Outcome], rules: RuleSet
) -> None:
    cases, outcome = shipped
    assert compare(rules, cases, outcome) == []


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(pick=st.integers(min_value=0), seconds=st.integers(-30 * 86400, 30 * 86400).filter(bool))
def test_a_due_time_off_by_any_amount_fails_naming_the_case(
    shipped: tuple[list[tuple[str, Case]], Outcome], rules: RuleSet, pick: int, seconds: int
) -> None:
    """Any shipped lead case, its due time moved by any amount (a second to a month, either
    way): exactly one failure, on ``due``, naming the file and the case, and the two times
    it shows differ."""
    cases, outcome = shipped
    leads = [i for i, (_, c) in enumerate(cases) if c.expect is not None]
    i = leads[pick % len(leads)]
    file, case = cases[i]
    assert case.expect is not None
    expect = case.expect.model_copy(update={"due": case.expect.due + timedelta(seconds=seconds)})
    edited = [*cases[:i], (file, case.model_copy(update={"expect": expect})), *cases[i + 1 :]]
    failures = compare(rules, edited, outcome)
    assert [(f.file, f.case, f.what) for f in failures] == [(str(SHIPPED / file), case.name, "due")]
    assert failures[0].expected != failures[0].got


@pytest.mark.slow
def test_a_step_or_level_off_by_a_minute_fails_naming_the_case(
    shipped: tuple[list[tuple[str, Case]], Outcome], rules: RuleSet
) -> None:
    """Each expected step and issue level of every shipped case, moved by a minute: one
    failure on that case's steps (levels), and the moved time is in the expected line."""
    cases, outcome = shipped
    for i, (file, case) in enumerate(cases):
        variants: list[tuple[Case, str]] = []
        if case.expect is not None:
            for j, s in enumerate(case.expect.steps):
                steps = list(case.expect.steps)
                steps[j] = s.model_copy(update={"at": s.at + MINUTE})
                exp = case.expect.model_copy(update={"steps": steps})
                variants.append((case.model_copy(update={"expect": exp}), "steps"))
        if case.expect_issue is not None:
            for j, lv in enumerate(case.expect_issue.levels):
                levels = list(case.expect_issue.levels)
                levels[j] = lv.model_copy(update={"at": lv.at + MINUTE})
                exp_i = case.expect_issue.model_copy(update={"levels": levels})
                variants.append((case.model_copy(update={"expect_issue": exp_i}), "levels"))
        for variant, what in variants:
            failures = compare(rules, [*cases[:i], (file, variant), *cases[i + 1 :]], outcome)
            assert len(failures) == 1, failures
            assert failures[0].case == case.name
            assert failures[0].what.startswith(what)


def test_the_shipped_fixtures_cover_what_the_rules_must_get_right() -> None:
    """Holidays, weekends, a lunch break, a split shift, a DST change on a calendar other than
    the default one, the whole reassignment ladder and an issue's three levels."""
    rules = load_rules(SHIPPED)
    cases = [c for _, c in load_cases(SHIPPED)]
    lead_cases = [c for c in cases if c.expect is not None]

    def calendar(c: Case) -> str:
        assert c.expect is not None
        return rules.policies[c.expect.policy].calendar

    cals = {calendar(c) for c in lead_cases}
    assert rules.org.default_calendar in cals
    other = [c for c in lead_cases if calendar(c) != rules.org.default_calendar]

    def offsets(c: Case) -> set[timedelta | None]:
        assert c.lead is not None
        assert c.expect is not None
        zone = ZoneInfo(rules.calendars[calendar(c)].timezone)
        return {t.astimezone(zone).utcoffset() for t in (c.lead.arrival, c.expect.due)}

    # a DST change: the calendar's UTC offset at the arrival differs from that at the deadline
    assert any(len(offsets(c)) == 2 for c in other), "no case across a DST change"
    split_days = {
        cid for cid, cal in rules.calendars.items() if any(len(w) > 1 for w in cal.hours.values())
    }
    assert cals & split_days, "no case on a calendar with a break inside a day"
    ladder = [
        s for c in lead_cases if c.expect is not None for s in c.expect.steps
        if s.event == "escalated" and s.hop > 0
    ]  # fmt: skip
    assert ladder, "no case climbs the reassignment ladder to its hop limit"
    assert any(
        c.expect_issue is not None and {lv.level for lv in c.expect_issue.levels} == {1, 2, 3}
        for c in cases
    )


@pytest.mark.slow
def test_check_fails_naming_the_case_when_a_due_time_is_off_by_a_minute(tmp_path: Path) -> None:
    """The Done-when of issue 19: an edited copy of the shipped rules fails ``leadsla check``
    (exit 2), naming the file and the case, the expected and the actual time each on a line."""
    rules = tmp_path / "sla_rules"
    shutil.copytree(SHIPPED, rules)
    path = rules / "tests" / "london_office.yaml"
    text = path.read_text(encoding="utf-8")
    assert "due: 2026-03-30T09:40:00+01:00" in text
    path.write_text(text.replace("due: 2026-03-30T09:40:00+01:00",
                                 "due: 2026-03-30T09:41:00+01:00"), encoding="utf-8")  # fmt: skip
    res = _check(rules)
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    i = next(n for n, ln in enumerate(lines) if ln.endswith(": uk_clocks_go_forward: due"))
    assert lines[i] == f"{path}: uk_clocks_go_forward: due"
    assert lines[i + 1].split() == ["expected:", "2026-03-30T09:41+01:00"]
    assert lines[i + 2].split() == ["got:", "2026-03-30T09:40+01:00"]
    assert "1 fixture failure(s)" in res.stdout


def _write_case_file(rules: Path, text: str) -> None:
    (rules / "tests").mkdir(exist_ok=True)
    (rules / "tests" / "bad.yaml").write_text(text, encoding="utf-8")


GOOD_CASE: dict[str, Any] = {
    "name": "c1",
    "lead": {"arrival": "2026-12-01T11:00:00+05:30", "fields": {"form_type": "booking"}},
    "expect": {"intent": "high", "policy": "high_first_response", "team": "inbound",
               "due": "2026-12-01T11:15:00+05:30", "steps": []},
}  # fmt: skip


@pytest.mark.parametrize(
    ("case", "key", "words"),
    [
        # a misspelled key
        ({**GOOD_CASE, "expect": {**GOOD_CASE["expect"], "intnt": "high"}},
         "cases[0].expect.intnt", "unknown key"),
        # a time without an offset
        ({**GOOD_CASE, "lead": {**GOOD_CASE["lead"], "arrival": "2026-12-01T11:00:00"}},
         "cases[0].lead.arrival", "needs an offset"),
        # a field the canonical record does not have
        ({**GOOD_CASE, "lead": {**GOOD_CASE["lead"], "fields": {"fromtype": "booking"}}},
         "cases[0].lead.fields", "canonical names"),
        # a record without its expectation
        ({k: v for k, v in GOOD_CASE.items() if k != "expect"}, "cases[0]", "together"),
        # a time without an offset among the fields
        ({**GOOD_CASE, "lead": {**GOOD_CASE["lead"], "updates": [
            {"seen_at": "2026-12-01T11:05:00+05:30",
             "fields": {"first_response_at": datetime(2026, 12, 1, 11, 3)}}]}},
         "cases[0].lead.updates[0].fields", "needs an offset"),
        # a name that is not an id
        ({**GOOD_CASE, "name": "Case One"}, "cases[0].name", "lowercase"),
        # an update not after the first export
        ({**GOOD_CASE, "lead": {**GOOD_CASE["lead"], "updates": [
            {"seen_at": "2026-12-01T10:00:00+05:30", "fields": {"owner": "sneha"}}]}},
         "cases[c1].lead.updates", "later"),
    ],
)  # fmt: skip
def test_a_malformed_case_file_is_refused_naming_file_key_and_fix(
    rules_dir: Path, case: dict[str, object], key: str, words: str
) -> None:
    _write_case_file(rules_dir, yaml.safe_dump({"cases": [case]}))
    with pytest.raises(RulesInvalid) as exc:
        load_cases(rules_dir)
    found = [(e.file, e.key) for e in exc.value.errors]
    assert ("tests/bad.yaml", key) in found, exc.value.errors
    assert any(words in e.message for e in exc.value.errors), exc.value.errors


def test_a_case_file_that_is_not_utf8_is_refused(rules_dir: Path) -> None:
    (rules_dir / "tests" / "latin1.yaml").write_bytes(
        "cases: [{name: caf\u00e9}]".encode("latin-1")
    )
    with pytest.raises(RulesInvalid) as exc:
        load_cases(rules_dir)
    assert [(e.file, e.key) for e in exc.value.errors] == [("tests/latin1.yaml", "")]
    assert "UTF-8" in exc.value.errors[0].message


def test_numbers_dates_and_times_in_fields_are_written_as_text(rules_dir: Path) -> None:
    """YAML reads an unquoted 60000 or 2026-12-01T11:03:00+05:30 as a number or a time: the
    export carries them as the canonical text."""
    case = {**GOOD_CASE, "lead": {**GOOD_CASE["lead"], "fields": {
        "estimated_value": 60000, "lead_score": 7.5, "first_response_at":
        datetime(2026, 12, 1, 11, 3, tzinfo=IST)}}}  # fmt: skip
    _write_case_file(rules_dir, yaml.safe_dump({"cases": [case]}))
    (_, loaded), *_ = [c for c in load_cases(rules_dir) if c[1].name == "c1"]
    assert loaded.lead is not None
    assert loaded.lead.fields == {"estimated_value": "60000", "lead_score": "7.5",
                                  "first_response_at": "2026-12-01T11:03:00+05:30"}  # fmt: skip


def test_two_cases_with_one_name_are_refused(rules_dir: Path) -> None:
    _write_case_file(rules_dir, yaml.safe_dump({"cases": [GOOD_CASE, GOOD_CASE]}))
    with pytest.raises(RulesInvalid) as exc:
        load_cases(rules_dir)
    assert [e.message.split(" is ")[0] for e in exc.value.errors] == ["name 'c1'", "lead id 'c1'"]


@pytest.mark.slow
def test_one_catch_up_tick_decides_what_ticks_at_every_export_time_decide(
    shipped: tuple[list[tuple[str, Case]], Outcome],
) -> None:
    """The check's one tick at the end of the batch against a tick at every export time, as a
    live schedule would run: the same outcome, so the fixtures specify the live behaviour."""
    cases, once = shipped
    assert run_engine(SHIPPED, [c for _, c in cases], every_export=True) == once


@pytest.mark.slow
def test_a_case_whose_lead_is_quarantined_fails_with_the_quarantine_reason(
    rules_dir: Path,
) -> None:
    """A lead the engine refuses (created an hour after the export that carries it) is a
    failure that says why, never a silent pass or a crash."""
    shutil.rmtree(rules_dir / "tests")
    late = {**GOOD_CASE, "lead": {**GOOD_CASE["lead"], "seen_at": "2026-12-01T10:00:00+05:30"}}
    _write_case_file(rules_dir, yaml.safe_dump({"cases": [late]}))
    count, failures = check_cases(load_rules(rules_dir))
    assert count == 1
    assert [(f.case, f.what) for f in failures] == [("c1", "lead")]
    assert failures[0].got.startswith("not loaded: ")
    assert "no row with this id" not in failures[0].got, failures[0].got


def test_rules_without_fixtures_pass_check_saying_so(rules_dir: Path) -> None:
    shutil.rmtree(rules_dir / "tests")
    assert check_cases(load_rules(rules_dir)) == (0, [])
