"""Load ``sla_rules/`` into a validated :class:`RuleSet`, or report every error at once.

An ops person edits several YAML files; fixing one error per run is slow and hostile. So the
loader parses every file, validates each against its model, then checks the references between
files (a policy's calendar, a member's manager, a routing rule's team) and returns all problems
together, each with the file, the key path and what to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from leadsla.calendars import BusinessCalendar, parse_hhmm
from leadsla.rules.base import WEEKDAYS
from leadsla.rules.calendar_models import CalendarRule, CalendarsFile
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.rules.intent_models import IntentRule, IntentsFile
from leadsla.rules.issue_models import IssuesFile
from leadsla.rules.org_models import Member, OrgFile, Team
from leadsla.rules.policy_models import PoliciesFile, Policy
from leadsla.rules.routing_models import RoutingFile
from leadsla.rules.source_models import Source

M = TypeVar("M", bound=BaseModel)

#: Years of public holidays to expand. Wide enough for replaying history and for deadlines a
#: few weeks ahead; the holidays package computes them in milliseconds.
HOLIDAY_YEARS = range(2015, 2036)


@dataclass(frozen=True)
class RuleError:
    """One problem in the rules: where (file and key path) and what to do about it."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key or '<file>'}: {self.message}"


class RulesInvalid(Exception):
    """Raised when the rules cannot be used; carries every error found."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class RuleSet:
    """Everything in ``sla_rules/``, validated and cross-checked."""

    root: Path
    calendars: dict[str, CalendarRule]
    org: OrgFile
    intents: IntentsFile
    policies: dict[str, Policy]
    routing: RoutingFile
    sources: list[Source]
    issues: IssuesFile
    version: str = field(compare=False)
    #: ``notifications.yaml`` (optional: without it nothing is enqueued for delivery)
    notifications: NotificationsFile | None = None

    @cached_property
    def members(self) -> dict[str, Member]:
        return {m.id: m for m in self.org.members}

    @cached_property
    def teams(self) -> dict[str, Team]:
        return {t.id: t for t in self.org.teams}

    @cached_property
    def business_calendars(self) -> dict[str, BusinessCalendar]:
        return {cid: build_calendar(c) for cid, c in self.calendars.items()}

    @property
    def intent_rules(self) -> list[IntentRule]:
        """Rules in the order they are tried, the fallback last."""
        return [*sorted(self.intents.rules, key=lambda r: r.priority), self.intents.fallback]

    def policy_for(self, intent: str, milestone: str = "first_response") -> Policy | None:
        for p in self.policies.values():
            if p.intent == intent and p.milestone == milestone:
                return p
        return None

    def policy_version(self, policy_id: str) -> str:
        """Version of one policy's timing: the step identity part of event ids. Texts
        (descriptions, recommended actions) are left out, so editing wording re-fires nothing."""
        p = self.policies[policy_id]
        timing = p.model_dump(
            mode="json", exclude={"description": True, "recommended_action": True}
        )
        for step in timing["steps"]:
            step.pop("recommended_action", None)
        return _digest(timing)[:12]


def build_calendar(rule: CalendarRule) -> BusinessCalendar:
    """Turn a calendar rule into the arithmetic object, expanding holidays into dates."""
    days: set[date] = set(rule.holidays.dates)
    if rule.holidays.country:
        import holidays as holidays_pkg

        public = holidays_pkg.country_holidays(
            rule.holidays.country, subdiv=rule.holidays.subdivision, years=HOLIDAY_YEARS
        )
        days.update(public.keys())
    days.difference_update(rule.holidays.exclude)
    windows: dict[int, tuple[tuple[int, int], ...]] = {}
    for day_name, spans in rule.hours.items():
        out = []
        for w in spans:
            start, end = parse_hhmm(w.start), parse_hhmm(w.end)
            if end <= start:  # crosses midnight
                end += 1440
            out.append((start, end))
        windows[WEEKDAYS.index(day_name)] = tuple(sorted(out))
    return BusinessCalendar(
        calendar_id=rule.id,
        tz=rule.timezone,
        windows=windows,
        holidays=frozenset(days),
        always_open=rule.always_open,
    )


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_yaml(path: Path, rel: str, errors: list[RuleError]) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except FileNotFoundError:
        errors.append(RuleError(rel, "", "file is missing: copy it from the shipped sla_rules/"))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        errors.append(RuleError(rel, where, f"not valid YAML: {getattr(exc, 'problem', exc)}"))
        return None
    if not isinstance(data, dict):
        errors.append(RuleError(rel, "", "expected a mapping of keys at the top level"))
        return None
    return data


def _validate(model: type[M], data: Any, rel: str, errors: list[RuleError]) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            msg = err["msg"]
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelled?); see the schema for the allowed keys"
            elif err["type"] == "missing":
                msg = "required key is missing"
            elif msg.startswith("Value error, "):
                msg = msg.removeprefix("Value error, ")
            errors.append(RuleError(rel, _loc(err["loc"]), msg))
        return None


def load_rules(root: Path | str) -> RuleSet:
    """Load and validate the rule directory. Raises :class:`RulesInvalid` listing every error."""
    root = Path(root)
    errors: list[RuleError] = []
    if not root.is_dir():
        raise RulesInvalid([RuleError(str(root), "", "rules directory does not exist")])
    raw: dict[str, Any] = {}
    parsed: dict[str, Any] = {}
    for name, model in (
        ("calendars.yaml", CalendarsFile),
        ("org.yaml", OrgFile),
        ("intents.yaml", IntentsFile),
        ("policies.yaml", PoliciesFile),
        ("routing.yaml", RoutingFile),
        ("issues.yaml", IssuesFile),
    ):
        data = _read_yaml(root / name, name, errors)
        raw[name] = data
        parsed[name] = _validate(model, data, name, errors) if data is not None else None
    sources: list[Source] = []
    source_files = sorted((root / "sources").glob("*.yaml"))
    if not source_files:
        errors.append(RuleError("sources/", "", "no source files: add sources/<name>.yaml"))
    for path in source_files:
        rel = f"sources/{path.name}"
        data = _read_yaml(path, rel, errors)
        raw[rel] = data
        src = _validate(Source, data, rel, errors) if data is not None else None
        if src is not None:
            sources.append(src)
    notifications: NotificationsFile | None = None
    if (root / "notifications.yaml").exists():
        data = _read_yaml(root / "notifications.yaml", "notifications.yaml", errors)
        raw["notifications.yaml"] = data
        if data is not None:
            notifications = _validate(NotificationsFile, data, "notifications.yaml", errors)
    if errors:
        raise RulesInvalid(errors)
    cals: CalendarsFile = parsed["calendars.yaml"]
    org: OrgFile = parsed["org.yaml"]
    intents: IntentsFile = parsed["intents.yaml"]
    policies: PoliciesFile = parsed["policies.yaml"]
    routing: RoutingFile = parsed["routing.yaml"]
    issues: IssuesFile = parsed["issues.yaml"]
    _cross_check(cals, org, intents, policies, routing, sources, errors)
    _check_issues(issues, org, sources, errors)
    if notifications is not None:
        from leadsla.delivery.check import check_notifications

        errors.extend(check_notifications(notifications, org))
    if errors:
        raise RulesInvalid(errors)
    return RuleSet(
        root=root,
        calendars={c.id: c for c in cals.calendars},
        org=org,
        intents=intents,
        policies={p.id: p for p in policies.policies},
        routing=routing,
        sources=sources,
        issues=issues,
        version=_digest(raw)[:12],
        notifications=notifications,
    )


def _dupes(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(i)
        seen.add(i)
    return out


Err = Callable[[str, str, str], None]


def _cross_check(
    cals: CalendarsFile,
    org: OrgFile,
    intents: IntentsFile,
    policies: PoliciesFile,
    routing: RoutingFile,
    sources: list[Source],
    errors: list[RuleError],
) -> None:
    """References between files. Each error names the referring file and key."""

    def err(file: str, key: str, msg: str) -> None:
        errors.append(RuleError(file, key, msg))

    _check_unique_ids(cals, org, policies, sources, err)
    _check_org_refs(cals, org, err)
    _check_policy_refs(cals, org, policies, err)
    _check_intent_refs(org, intents, policies, err)
    team_ids = {t.id for t in org.teams}
    if routing.default_team not in team_ids:
        err("routing.yaml", "default_team", f"unknown team {routing.default_team!r}")
    for d in _dupes(str(r.priority) for r in routing.rules):
        err("routing.yaml", "rules", f"two rules share priority {d}")
    for i, rr in enumerate(routing.rules):
        if rr.team not in team_ids:
            err("routing.yaml", f"rules[{i}].team", f"unknown team {rr.team!r}")


def _check_unique_ids(
    cals: CalendarsFile, org: OrgFile, policies: PoliciesFile, sources: list[Source], err: Err
) -> None:
    for d in _dupes(c.id for c in cals.calendars):
        err("calendars.yaml", "calendars", f"calendar id {d!r} is defined twice")
    for d in _dupes(t.id for t in org.teams):
        err("org.yaml", "teams", f"team id {d!r} is defined twice")
    for d in _dupes(m.id for m in org.members):
        err("org.yaml", "members", f"member id {d!r} is defined twice")
    for d in _dupes(p.id for p in policies.policies):
        err("policies.yaml", "policies", f"policy id {d!r} is defined twice")
    for d in _dupes(s.id for s in sources):
        err("sources/", "id", f"source id {d!r} is used by two files")


def _check_org_refs(cals: CalendarsFile, org: OrgFile, err: Err) -> None:
    cal_ids = {c.id for c in cals.calendars}
    team_ids = {t.id for t in org.teams}
    member_ids = {m.id for m in org.members}
    if org.default_calendar not in cal_ids:
        err("org.yaml", "default_calendar", f"unknown calendar {org.default_calendar!r}")
    for i, t in enumerate(org.teams):
        if t.calendar not in cal_ids:
            err("org.yaml", f"teams[{i}].calendar", f"unknown calendar {t.calendar!r}")
        if t.lead not in member_ids:
            err("org.yaml", f"teams[{i}].lead", f"unknown member {t.lead!r}: add it to members")
        if not any(m.team == t.id for m in org.members):
            err("org.yaml", "teams", f"team {t.id!r} has no members")
    for i, m in enumerate(org.members):
        if m.team not in team_ids:
            err("org.yaml", f"members[{i}].team", f"unknown team {m.team!r}")
        if m.manager is not None and m.manager not in member_ids:
            err("org.yaml", f"members[{i}].manager", f"unknown member {m.manager!r}")


def _check_policy_refs(cals: CalendarsFile, org: OrgFile, policies: PoliciesFile, err: Err) -> None:
    cal_ids = {c.id for c in cals.calendars}
    team_ids = {t.id for t in org.teams}
    seen_pairs: set[tuple[str, str]] = set()
    for i, p in enumerate(policies.policies):
        if p.calendar not in cal_ids:
            err("policies.yaml", f"policies[{i}].calendar", f"unknown calendar {p.calendar!r}")
        if p.team is not None and p.team not in team_ids:
            err("policies.yaml", f"policies[{i}].team", f"unknown team {p.team!r}")
        if p.intent is None:
            continue
        pair = (p.intent, p.milestone)
        if pair in seen_pairs:
            err(
                "policies.yaml",
                f"policies[{i}]",
                f"two policies for intent {p.intent!r} and milestone {p.milestone!r}",
            )
        seen_pairs.add(pair)


def _check_intent_refs(
    org: OrgFile, intents: IntentsFile, policies: PoliciesFile, err: Err
) -> None:
    team_ids = {t.id for t in org.teams}
    policy_ids = {p.id for p in policies.policies}
    all_rules = [*intents.rules, intents.fallback]
    for d in _dupes(str(r.priority) for r in intents.rules):
        err("intents.yaml", "rules", f"two rules share priority {d}: the order would be a guess")
    for d in _dupes(r.id for r in all_rules):
        err("intents.yaml", "rules", f"rule id {d!r} is used twice")
    for i, r in enumerate(all_rules):
        key = f"rules[{i}]" if i < len(intents.rules) else "fallback"
        if r.policy is not None and r.policy not in policy_ids:
            err("intents.yaml", f"{key}.policy", f"unknown policy {r.policy!r}")
        if r.policy is None and not any(
            p.intent == r.intent and p.milestone == "first_response" for p in policies.policies
        ):
            err(
                "intents.yaml",
                f"{key}.intent",
                f"no first_response policy for intent {r.intent!r} in policies.yaml",
            )
        if r.team is not None and r.team not in team_ids:
            err("intents.yaml", f"{key}.team", f"unknown team {r.team!r}")


def _check_issues(
    issues: IssuesFile, org: OrgFile, sources: list[Source], errors: list[RuleError]
) -> None:
    """issues.yaml's teams exist and can act; issue sources name known fields."""
    team_ids = {t.id for t in org.teams}
    for i, t in enumerate(issues.types):
        for j, team in enumerate(t.teams):
            if team not in team_ids:
                errors.append(
                    RuleError(
                        "issues.yaml",
                        f"types[{i}].teams[{j}]",
                        f"unknown team {team!r}: add it to org.yaml teams",
                    )
                )
    for d in _dupes(t.id for t in issues.types):
        errors.append(RuleError("issues.yaml", "types", f"issue type {d!r} is defined twice"))
    if issues.management_team not in team_ids:
        errors.append(
            RuleError(
                "issues.yaml",
                "management_team",
                f"unknown team {issues.management_team!r}: add it to org.yaml teams",
            )
        )
    for s in sources:
        if s.mandatory_fields is not None and s.entity != "issues":
            errors.append(
                RuleError(
                    f"sources/{s.id}.yaml",
                    "mandatory_fields",
                    "only an issues source has mandatory fields",
                )
            )
