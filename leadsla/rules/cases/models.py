"""``sla_rules/tests/*.yaml``: rule fixtures, cases that say what the shipped rules must do.

A case is one lead (or one lead issue, or both: an issue raised on the case's lead) with the
fields it arrives with, the exports that change it later (a response, an owner change), and
what the engine must decide: the intent, policy, team, first-response deadline and each step's
time (issues: the owning teams, the SLA class and each level's time). ``leadsla check`` runs
every case through the real engine (:mod:`leadsla.rules.cases.run`) and reports each mismatch.
Times are ISO 8601 with an offset; a naive time is refused.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from leadsla.rules.base import Id, Intent, Strict
from leadsla.rules.records import ISSUE_FIELDS, LEAD_FIELDS

#: How far past its arrival a case is followed when it gives no ``until``.
DEFAULT_HORIZON = timedelta(days=30)

StepEvent = Literal["task_created", "reminder_sent", "escalated", "reassigned"]


def _as_text(values: Any) -> Any:
    """Field values as the export's text: numbers and dates as YAML wrote them, times in ISO
    8601 (with their offset: a time without one is refused, as everywhere else)."""
    if not isinstance(values, dict):
        return values
    out = {}
    for key, v in values.items():
        if isinstance(v, datetime):
            if v.tzinfo is None:
                raise ValueError(
                    f"{key}: a time needs an offset: write e.g. 2026-12-01T11:00:00+05:30"
                )
            v = v.isoformat()
        elif isinstance(v, date | bool | int | float):
            v = str(v).lower() if isinstance(v, bool) else str(v)
        elif v is None:
            v = ""
        out[key] = v
    return out


#: Canonical field values: text, or numbers, dates and times YAML read as such.
FieldValues = Annotated[
    dict[str, str],
    BeforeValidator(_as_text),
    WithJsonSchema(
        {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
    ),
]


def _known(fields: dict[str, str], allowed: tuple[str, ...], what: str) -> dict[str, str]:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown {what} field(s) {', '.join(unknown)}: use the canonical names "
            f"({', '.join(allowed)})"
        )
    return fields


class Update(Strict):
    """A later export of the record: the fields it changes, seen at the export's time."""

    seen_at: AwareDatetime = Field(description="export time of the export that shows the change")
    fields: FieldValues = Field(
        min_length=1,
        description="changed canonical fields, e.g. first_response_at (a response), owner",
    )


class LeadInput(Strict):
    """The lead as its first export shows it."""

    lead_id: Id | None = Field(default=None, description="default: the case's name")
    arrival: AwareDatetime = Field(description="created_at: when the lead arrived")
    seen_at: AwareDatetime | None = Field(
        default=None, description="export time of its first export (default: the arrival)"
    )
    fields: FieldValues = Field(
        default_factory=dict, description="canonical lead fields: form_type, owner, email, ..."
    )
    updates: list[Update] = Field(default_factory=list)

    @property
    def first_seen(self) -> datetime:
        return self.seen_at or self.arrival

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        return _known(v, tuple(f for f in LEAD_FIELDS if f not in {"lead_id", "created_at"}),
                      "lead")  # fmt: skip


class IssueInput(Strict):
    """The issue as its first export shows it; it is raised on the case's lead unless
    ``fields.lead_id`` names another."""

    issue_id: Id | None = Field(default=None, description="default: the case's name")
    raised_at: AwareDatetime
    seen_at: AwareDatetime | None = Field(
        default=None, description="export time of its first export (default: raised_at)"
    )
    fields: FieldValues = Field(default_factory=dict, description="canonical issue fields")
    updates: list[Update] = Field(default_factory=list)

    @property
    def first_seen(self) -> datetime:
        return self.seen_at or self.raised_at

    @field_validator("fields")
    @classmethod
    def _fields(cls, v: dict[str, str]) -> dict[str, str]:
        return _known(v, tuple(f for f in ISSUE_FIELDS if f not in {"issue_id", "raised_at"}),
                      "issue")  # fmt: skip


class Step(Strict):
    """One step the lead's ladder must record, at its threshold."""

    step: Id = Field(description="the policy's step id: task, reminder, manager_escalation, ...")
    at: AwareDatetime
    hop: int = Field(default=0, ge=0, description="0 before any reassignment, then 1, 2, ...")
    policy: Id | None = Field(default=None, description="default: the case's expected policy")
    owner: Id | None = Field(
        default=None, description="the lead's owner at the threshold, checked when given"
    )
    event: StepEvent | None = Field(
        default=None, description="checked when given, e.g. escalated for a reassignment that "
        "reached the hop limit",
    )  # fmt: skip


class LeadExpect(Strict):
    intent: Intent
    policy: Id
    team: Id
    due: AwareDatetime = Field(description="the first-response deadline (hop 0)")
    steps: list[Step] = Field(
        description="every step event up to the case's horizon, in any order (empty: none)"
    )


class IssueLevel(Strict):
    level: Literal[1, 2, 3]
    at: AwareDatetime


class IssueExpect(Strict):
    verdict: Literal["valid", "rejected"] = "valid"
    teams: list[Id] = Field(default_factory=list, description="the owning teams (level 1)")
    sla: Id | None = Field(default=None, description="the sla_classes key it is timed on")
    levels: list[IssueLevel] = Field(
        default_factory=list, description="every escalation up to the horizon (empty: none)"
    )


class Case(Strict):
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=80)]
    note: str = ""
    until: AwareDatetime | None = Field(
        default=None,
        description="compare the steps up to this time (default: 30 days after the arrival)",
    )
    lead: LeadInput | None = None
    expect: LeadExpect | None = None
    issue: IssueInput | None = None
    expect_issue: IssueExpect | None = None

    @model_validator(mode="after")
    def _pairs(self) -> Case:
        if self.lead is None and self.issue is None:
            raise ValueError(
                "a case needs a lead (with expect) or an issue (with expect_issue), or both"
            )
        if (self.lead is None) != (self.expect is None):
            raise ValueError("give lead and expect together: add the one that is missing")
        if (self.issue is None) != (self.expect_issue is None):
            raise ValueError("give issue and expect_issue together: add the one that is missing")
        return self

    @property
    def lead_id(self) -> str | None:
        return None if self.lead is None else (self.lead.lead_id or self.name)

    @property
    def issue_id(self) -> str | None:
        return None if self.issue is None else (self.issue.issue_id or self.name)

    @property
    def horizon(self) -> datetime:
        start = self.lead.arrival if self.lead is not None else None
        if start is None and self.issue is not None:
            start = self.issue.raised_at
        assert start is not None
        return self.until or start + DEFAULT_HORIZON


class CasesFile(Strict):
    """One fixture file: a list of cases."""

    cases: list[Case] = Field(min_length=1)
