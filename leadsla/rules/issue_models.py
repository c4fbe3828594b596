"""``sla_rules/issues.yaml``: seed 002's escalation SOP for lead *issues* as data.

An issue is a blocker an agent cannot clear (serviceability, pricing, a technical fault, ...).
The file holds the SOP's tables: issue types with their ownership matrix row, the SLA classes
("immediate", "same day"), the three levels, what makes a lead high-value, which leads climb,
the mandatory details, the non-blockers, the repeated-pattern rule and the message formats.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from leadsla.rules.base import Id, Intent, Strict
from leadsla.rules.records import ISSUE_FIELDS, SOP_MANDATORY


class SlaClass(Strict):
    """How long the owning team has to respond, on its own business calendar."""

    within_minutes: float | None = Field(default=None, gt=0, description="business minutes")
    anchor: Literal["end_of_business_day"] | None = Field(
        default=None, description="end_of_business_day: 'same day' on the team's calendar"
    )
    min_remaining_minutes: float = Field(
        default=0,
        ge=0,
        description="with end_of_business_day: an issue raised with less business time left "
        "than this is due at the end of the next business day",
    )

    @model_validator(mode="after")
    def _one(self) -> SlaClass:
        if (self.within_minutes is None) == (self.anchor is None):
            raise ValueError("give exactly one of within_minutes or anchor")
        return self


class IssueType(Strict):
    id: Id
    label: str = Field(description="how the type reads in a subject line, e.g. 'Pickup Not "
                       "Available'")  # fmt: skip
    example: str = ""
    teams: list[Id] = Field(min_length=1, description="the owning teams, in order")
    mode: Literal["first_available", "all"] = Field(
        default="first_available",
        description="first_available ('A / B'): the first team with an available member; "
        "all ('A + B'): every team is notified",
    )
    sla: Id = Field(description="an sla_classes key: immediate, same_day, ...")
    note_reason: str = Field(description="the admin note's reason, e.g. 'pincode not "
                             "serviceable'")  # fmt: skip
    direct_to_management: bool = Field(
        default=False, description="level 3 at once (the SOP: customer escalation risk)"
    )


class Level(Strict):
    level: Literal[1, 2, 3]
    name: str
    within_minutes: float | None = Field(
        default=None,
        gt=0,
        description="business minutes this level has before the next one is called; level 1 "
        "takes the issue type's SLA class instead",
    )


class HighValue(Strict):
    devices: list[str] = Field(
        default_factory=list, description="case-insensitive substrings of the device name"
    )
    min_estimated_value: float | None = Field(
        default=None, description="a lead's estimated_value at or above this is high-value"
    )

    @field_validator("devices")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [d.strip().lower() for d in v if d.strip()]


class RepeatRule(Strict):
    count: int = Field(default=3, ge=2, description="this many unresolved issues ...")
    within_days: int = Field(default=7, ge=1, description="... raised within this many days")


class Messages(Strict):
    """Jinja templates (StrictUndefined). Plain text: they become a subject line and an admin
    note, so HTML escaping would corrupt them; delivery escapes them where they meet HTML."""

    subject: str
    admin_note: str
    holding_line: str
    rejected: str


class FeedTeams(Strict):
    """Teams a feed names (an issue's ``team``) that org.yaml does not list, such as an
    incident log's assignment groups: they are routed and reported under their own name, and
    an org.yaml team stands in for them (its lead, channel, calendar and members)."""

    stand_in: Id | None = Field(
        default=None,
        description="the org.yaml team that acts for teams a feed names and org.yaml does not "
        "list; without it, an issue naming such a team goes to its type's teams",
    )


class IssuesFile(Strict):
    sla_classes: dict[Id, SlaClass]
    types: list[IssueType]
    levels: list[Level] = Field(min_length=3, max_length=3)
    management_team: Id = Field(description="team whose members and lead are level 3")
    high_value: HighValue = Field(default_factory=HighValue)
    climb_intents: list[Intent] = Field(
        default=["high"],
        description="issues on leads of these intents climb past level 1 when unanswered; "
        "high-value, direct-to-management and repeated issues climb whatever the intent",
    )
    climb_without_lead: bool = Field(
        default=False,
        description="issues with no known lead (an incident feed) climb past level 1 when "
        "unanswered, as if their lead's intent were in climb_intents",
    )
    feed_teams: FeedTeams = Field(default_factory=FeedTeams)
    repeat: RepeatRule = Field(default_factory=RepeatRule)
    mandatory_fields: list[str] = Field(
        default_factory=lambda: list(SOP_MANDATORY),
        description="details an issue must carry to be escalated (a source may set its own)",
    )
    non_blockers: list[str] = Field(
        default_factory=lambda: [
            "customer_thinking",
            "callback_requested",
            "confirmed_not_serviceable",
            "not_interested",
        ],
        description="no_escalation_reason values that mean 'not a blocker': never escalated",
    )
    impacts: list[str] = Field(
        default_factory=lambda: ["conversion_risk", "high_value", "complaint_risk", "other"],
        description="the impact vocabulary; free text after a colon is kept ('other: ...')",
    )
    messages: Messages

    @field_validator("mandatory_fields")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = sorted(set(v) - set(ISSUE_FIELDS))
        if bad:
            raise ValueError(f"unknown issue fields {bad}; known: {', '.join(ISSUE_FIELDS)}")
        return v

    @model_validator(mode="after")
    def _refs(self) -> IssuesFile:
        if [lv.level for lv in self.levels] != [1, 2, 3]:
            raise ValueError("levels must be 1, 2 and 3 in that order")
        for lv in self.levels[1:]:
            if lv.within_minutes is None:
                raise ValueError(f"level {lv.level} needs within_minutes")
        for t in self.types:
            if t.sla not in self.sla_classes:
                raise ValueError(
                    f"type {t.id!r}: sla {t.sla!r} is not one of {sorted(self.sla_classes)}"
                )
        return self
