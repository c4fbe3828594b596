"""``sla_rules/intents.yaml``: rules that classify a lead's intent (first match by priority,
a fallback), and may name its policy and team."""

from __future__ import annotations

from pydantic import Field

from leadsla.rules.base import Id, Intent, Strict
from leadsla.rules.records import LeadField


class LeadCondition(Strict):
    """All given keys must hold (AND); a list matches any of its values (OR). Text matches are
    case-insensitive."""

    form_type: list[str] | None = None
    lead_source: list[str] | None = None
    service_interest: list[str] | None = None
    campaign: list[str] | None = None
    city: list[str] | None = None
    territory: list[str] | None = None
    message_keywords: list[str] | None = Field(
        default=None, description="any of these words or phrases appears in the message"
    )
    missing: list[LeadField] | None = Field(
        default=None, description="every one of these fields is empty"
    )
    missing_any: list[LeadField] | None = Field(
        default=None, description="at least one of these fields is empty"
    )
    lead_score_min: float | None = None
    lead_score_max: float | None = None


class IntentRule(Strict):
    id: Id
    priority: int = Field(description="lower is tried first; each lead takes the first match")
    intent: Intent
    when: LeadCondition
    policy: Id | None = Field(
        default=None, description="policy to apply; default: the policy for this intent"
    )
    team: Id | None = Field(
        default=None, description="route to this team, overriding routing rules (e.g. support)"
    )
    recommended_action: str = ""


class IntentsFile(Strict):
    rules: list[IntentRule]
    fallback: IntentRule = Field(description="applies when no rule matches")
