"""``sla_rules/routing.yaml``: which team a lead goes to (first matching rule by priority, a
default team), shared inboxes, and whether a CRM owner is kept."""

from __future__ import annotations

from pydantic import Field

from leadsla.rules.base import Id, Intent, Strict


class RouteCondition(Strict):
    service_interest: list[str] | None = None
    lead_source: list[str] | None = None
    form_type: list[str] | None = None
    campaign: list[str] | None = None
    city: list[str] | None = None
    territory: list[str] | None = None
    company_size: list[str] | None = None
    intent: list[Intent] | None = None
    lead_score_min: float | None = None
    lead_score_max: float | None = None


class RouteRule(Strict):
    id: Id
    priority: int
    when: RouteCondition
    team: Id


class RoutingFile(Strict):
    rules: list[RouteRule]
    default_team: Id
    shared_inboxes: list[str] = Field(
        default_factory=list,
        description="owner values that mean nobody owns the lead yet (a shared inbox)",
    )
    keep_crm_owner: bool = Field(
        default=True, description="a lead that arrives with a known owner keeps that owner"
    )
