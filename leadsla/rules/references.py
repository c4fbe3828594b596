"""References between rule files (a policy's calendar, a member's manager, a routing rule's
team, an issue type's teams): each error names the referring file and key."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from leadsla.rules.calendar_models import CalendarsFile
from leadsla.rules.errors import RuleError
from leadsla.rules.intent_models import IntentsFile
from leadsla.rules.issue_models import IssuesFile
from leadsla.rules.org_models import OrgFile
from leadsla.rules.policy_models import PoliciesFile
from leadsla.rules.routing_models import RoutingFile
from leadsla.rules.source_models import Source


def _dupes(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i in ids:
        if i in seen:
            out.append(i)
        seen.add(i)
    return out


Err = Callable[[str, str, str], None]


def check_references(
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


def check_issue_references(
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
    stand_in = issues.feed_teams.stand_in
    if stand_in is not None and stand_in not in team_ids:
        errors.append(
            RuleError(
                "issues.yaml",
                "feed_teams.stand_in",
                f"unknown team {stand_in!r}: add it to org.yaml teams",
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
