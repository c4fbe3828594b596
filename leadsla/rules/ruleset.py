"""The validated rule set: everything in ``sla_rules/``, cross-checked, with its version and the
business calendars built from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from leadsla.calendars import BusinessCalendar, parse_hhmm
from leadsla.rules.base import WEEKDAYS
from leadsla.rules.calendar_models import CalendarRule
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.rules.intent_models import IntentRule, IntentsFile
from leadsla.rules.issue_models import IssuesFile
from leadsla.rules.org_models import Member, OrgFile, Team
from leadsla.rules.policy_models import Policy
from leadsla.rules.routing_models import RoutingFile
from leadsla.rules.source_models import Source

#: Years of public holidays to expand. Wide enough for replaying history and for deadlines a
#: few weeks ahead; the holidays package computes them in milliseconds.
HOLIDAY_YEARS = range(2015, 2036)


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
        (descriptions, recommended actions) are left out, so editing wording re-fires nothing;
        so is ``reclassify``, which decides only what a later intent change does (recorded on
        its ``reclassified`` event), never when this policy's steps fire."""
        p = self.policies[policy_id]
        timing = p.model_dump(
            mode="json",
            exclude={"description": True, "recommended_action": True, "reclassify": True},
        )
        for step in timing["steps"]:
            step.pop("recommended_action", None)
        return digest(timing)[:12]


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


def digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()
