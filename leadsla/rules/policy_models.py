"""``sla_rules/policies.yaml``: SLA policies: the milestone a clock times, its deadline on a
calendar, and the ladder of steps (task, reminder, escalate, reassign)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from leadsla.rules.base import HHMM, Id, Intent, Strict


class Deadline(Strict):
    """When the milestone is due. Exactly one of ``within_minutes`` (business minutes after the
    clock starts) or ``anchor`` (calendar-anchored)."""

    within_minutes: float | None = Field(default=None, gt=0)
    anchor: Literal["end_of_business_day", "next_business_day_at"] | None = None
    at: HHMM | None = Field(default=None, description="local time for next_business_day_at")
    min_remaining_minutes: float = Field(
        default=0,
        ge=0,
        description="end_of_business_day: with less business time than this left today, the "
        "deadline is the end of the next business day",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Deadline:
        if (self.within_minutes is None) == (self.anchor is None):
            raise ValueError("give exactly one of within_minutes or anchor")
        if self.anchor == "next_business_day_at" and self.at is None:
            raise ValueError("anchor next_business_day_at needs at: 'HH:MM'")
        if self.anchor != "next_business_day_at" and self.at is not None:
            raise ValueError("at: is only for anchor next_business_day_at")
        return self


StepKind = Literal["task", "reminder", "escalate", "reassign"]


class Step(Strict):
    """One rung of the ladder. Its threshold is business minutes after the clock start
    (``after_start``) or relative to the deadline (``before_due`` / ``after_due``)."""

    id: Id
    kind: StepKind
    after_start: float | None = Field(default=None, ge=0)
    before_due: float | None = Field(default=None, ge=0)
    after_due: float | None = Field(default=None, ge=0)
    recommended_action: str | None = None

    @model_validator(mode="after")
    def _one_offset(self) -> Step:
        given = [v for v in (self.after_start, self.before_due, self.after_due) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of after_start, before_due, after_due")
        return self

    @property
    def base(self) -> Literal["start", "due"]:
        return "start" if self.after_start is not None else "due"

    @property
    def offset_minutes(self) -> float:
        if self.after_start is not None:
            return self.after_start
        if self.before_due is not None:
            return -self.before_due
        assert self.after_due is not None
        return self.after_due


Milestone = Literal["first_response", "qualification", "next_step_update"]

#: What a running first-response clock does when a later export changes the lead's intent inputs
#: so that another rule, with another intent or policy, matches (leadsla.engine.reclassify).
Reclassify = Literal["keep", "from_arrival", "from_change", "earlier"]


class Policy(Strict):
    id: Id
    intent: Intent | None = Field(
        default=None,
        description="the default policy for leads of this intent (intent rules may name "
        "another policy explicitly)",
    )
    calendar: Id
    milestone: Milestone = Field(
        default="first_response",
        description="first_response: clock from arrival to first response (with "
        "response_signal: activities, the owner's first logged action); qualification: from "
        "first response to a qualified/disqualified/booked outcome; next_step_update: from "
        "first response to the next status change the CRM shows (or a closing outcome)",
    )
    deadline: Deadline
    steps: list[Step]
    max_hops: int = Field(
        default=2, ge=0, description="reassignments before escalating to the team lead instead"
    )
    team: Id | None = Field(default=None, description="queue team for this policy (review)")
    reclassify: Reclassify = Field(
        default="keep",
        description="when a later export changes a waiting lead's intent inputs so that this "
        "policy now applies: keep (the lead keeps its intent, policy and deadline), "
        "from_arrival (this policy's deadline counted from the lead's arrival), from_change "
        "(counted from the export that changed it), earlier (whichever of the original "
        "deadline and the one from the change comes first)",
    )
    recommended_action: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _steps_unique(self) -> Policy:
        ids = [s.id for s in self.steps]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"step ids must be unique within a policy: {dupes}")
        return self


class PoliciesFile(Strict):
    policies: list[Policy]
