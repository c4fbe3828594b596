"""Rules: the shipped defaults load, and every mistake is reported with file, key and fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadsla.cli import main
from leadsla.rules import RulesInvalid, load_rules
from leadsla.rules.calendar_models import CalendarRule
from leadsla.rules.ruleset import build_calendar
from leadsla.rules.schema import SCHEMAS, schema_text

REPO = Path(__file__).resolve().parent.parent


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_shipped_rules_encode_seed_000() -> None:
    rules = load_rules(REPO / "sla_rules")
    high = rules.policy_for("high")
    assert high is not None
    # the seed's example exactly: due 15, reminder 10, manager 20, reassignment 30
    assert high.deadline.within_minutes == 15
    assert [(s.kind, s.after_start) for s in high.steps] == [
        ("task", 0),
        ("reminder", 10),
        ("escalate", 20),
        ("reassign", 30),
    ]
    mid = rules.policy_for("mid")
    assert mid is not None
    assert mid.deadline.anchor == "end_of_business_day"
    assert [(s.kind, s.before_due, s.after_due) for s in mid.steps][1:] == [
        ("reminder", 120, None),
        ("escalate", None, 0),
    ]
    low = rules.policy_for("low")
    assert low is not None
    assert {s.kind for s in low.steps} == {"task", "reminder"}
    unclear = rules.policy_for("unclear")
    assert unclear is not None
    assert unclear.team == "review"
    assert unclear.deadline.within_minutes == 240
    cal = rules.calendars["kolkata_office"]
    assert cal.timezone == "Asia/Kolkata"
    assert set(cal.hours) == {"mon", "tue", "wed", "thu", "fri", "sat"}
    assert {s.crm for s in rules.sources} >= {"hubspot", "salesforce", "pipedrive", "zoho"}


def test_misspelled_key_and_unknown_zone_are_both_reported(rules_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _edit(
        rules_dir / "calendars.yaml", lambda d: d["calendars"][0].update(timezone="Asia/Kolkatta")
    )
    _edit(
        rules_dir / "policies.yaml",
        lambda d: d["policies"][0].update(max_hopz=d["policies"][0].pop("max_hops")),
    )
    assert main(["check", "--rules", str(rules_dir)]) == 2
    out = capsys.readouterr().out
    assert "calendars.yaml: calendars[0].timezone: unknown time zone 'Asia/Kolkatta'" in out
    assert "policies.yaml: policies[0].max_hopz: unknown key (misspelled?)" in out


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        # a policy pointing at a calendar that does not exist
        ("policies.yaml", lambda d: d["policies"][1].update(calendar="mars"),
         "policies.yaml: policies[1].calendar: unknown calendar 'mars'"),
        # a member whose manager is not a member
        ("org.yaml", lambda d: d["members"][2].update(manager="nobody"),
         "org.yaml: members[2].manager: unknown member 'nobody'"),
        # a routing rule to an unknown team
        ("routing.yaml", lambda d: d["rules"][0].update(team="ghosts"),
         "routing.yaml: rules[0].team: unknown team 'ghosts'"),
        # two intent rules with the same priority: the order would be a guess
        ("intents.yaml", lambda d: d["rules"][1].update(priority=d["rules"][0]["priority"]),
         "intents.yaml: rules: two rules share priority"),
        # a step with two offsets
        ("policies.yaml", lambda d: d["policies"][0]["steps"][1].update(after_due=5),
         "give exactly one of after_start, before_due, after_due"),
        # a deadline with neither form
        ("policies.yaml", lambda d: d["policies"][0].update(deadline={}),
         "give exactly one of within_minutes or anchor"),
        # a source mapping a field that is not canonical
        ("sources/hubspot.yaml", lambda d: d["columns"].update(colour="Colour"),
         "columns maps unknown canonical fields ['colour']"),
        # a window whose times are not times
        ("calendars.yaml", lambda d: d["calendars"][0]["hours"]["mon"][0].update(start="9:30am"),
         "calendars.yaml: calendars[0].hours.mon[0].start"),
        # holidays of a country, or a state, the holidays package does not know
        ("calendars.yaml", lambda d: d["calendars"][0]["holidays"].update(country="XX"),
         "calendars.yaml: calendars[0].holidays: country 'XX' is not a country the holidays "
         "package knows: give an ISO 3166 code such as DE"),
        ("calendars.yaml", lambda d: d["calendars"][0]["holidays"].update(subdivision="ZZ"),
         "calendars.yaml: calendars[0].holidays: subdivision 'ZZ' is not a subdivision of IN: "
         "give one of IN's codes such as"),
    ],
)  # fmt: skip
def test_rule_errors_name_file_key_and_fix(
    rules_dir: Path, file: str, change, expected: str
) -> None:  # type: ignore[no-untyped-def]
    _edit(rules_dir / file, change)
    with pytest.raises(RulesInvalid) as exc:
        load_rules(rules_dir)
    assert any(expected in str(e) for e in exc.value.errors), exc.value.errors


REGIONS = st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["in", " gb ", "US"]))
SUBDIVISIONS = st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["eng", "CA"]))


@settings(max_examples=60, deadline=None)
@given(country=REGIONS, subdivision=SUBDIVISIONS)
def test_any_holiday_region_is_a_calendar_or_a_plain_refusal(
    country: str | None, subdivision: str | None
) -> None:
    """Whatever calendars.yaml gives as country and subdivision, the calendar builds (in the
    holidays package's spelling) or validation refuses it: nothing fails later, in a tick."""
    spec = {"id": "c", "timezone": "UTC", "always_open": True,
            "holidays": {"country": country, "subdivision": subdivision}}  # fmt: skip
    refusal = ""
    try:
        rule = CalendarRule.model_validate(spec)
    except ValidationError as exc:
        refusal = str(exc)
    if refusal:
        assert "country" in refusal or "subdivision" in refusal
        return
    build_calendar(rule)  # the package accepts what validation let through
    if country is not None:
        assert rule.holidays.country == country.strip().upper()


def test_invalid_yaml_names_the_line(rules_dir: Path) -> None:
    (rules_dir / "routing.yaml").write_text("rules: [\n  - id: x\n")
    with pytest.raises(RulesInvalid) as exc:
        load_rules(rules_dir)
    assert "routing.yaml: line" in str(exc.value)


def test_policy_version_ignores_wording_but_not_timing(rules_dir: Path) -> None:
    before = load_rules(rules_dir)
    _edit(rules_dir / "policies.yaml", lambda d: d["policies"][0].update(recommended_action="x"))
    worded = load_rules(rules_dir)
    assert worded.policy_version("high_first_response") == before.policy_version(
        "high_first_response"
    )
    assert worded.version != before.version  # the rule set changed, though
    _edit(rules_dir / "policies.yaml", lambda d: d["policies"][0]["steps"][1].update(after_start=5))
    retimed = load_rules(rules_dir)
    assert retimed.policy_version("high_first_response") != before.policy_version(
        "high_first_response"
    )


def test_committed_schemas_match_the_models() -> None:
    # every rule file points at these; a stale schema would mislead editors
    for name, model in SCHEMAS.items():
        committed = REPO / "sla_rules" / "schema" / name
        assert committed.read_text() == schema_text(model), f"run `make schema` ({name})"
        json.loads(committed.read_text())


def test_every_rule_file_references_its_schema() -> None:
    for path in (REPO / "sla_rules").rglob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("=", 1)[1]).resolve()
        assert target.exists(), f"{path} points at missing {target}"
