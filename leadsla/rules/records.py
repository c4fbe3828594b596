"""The canonical records every source mapping produces (DESIGN.md's contracts) and what a CRM
status means to leadsla. Column names in SQL are only ever taken from these closed lists, so
rule values never become SQL text."""

from __future__ import annotations

from typing import Literal

#: Fields of the canonical lead record (DESIGN.md).
LEAD_FIELDS: tuple[str, ...] = (
    "lead_id",
    "created_at",
    "name",
    "email",
    "phone",
    "lead_source",
    "campaign",
    "form_type",
    "service_interest",
    "message",
    "city",
    "territory",
    "device",
    "company_size",
    "lead_score",
    "estimated_value",
    "owner",
    "status",
    "first_response_at",
    "updated_at",
)
LeadField = Literal[
    "lead_id",
    "created_at",
    "name",
    "email",
    "phone",
    "lead_source",
    "campaign",
    "form_type",
    "service_interest",
    "message",
    "city",
    "territory",
    "device",
    "company_size",
    "lead_score",
    "estimated_value",
    "owner",
    "status",
    "first_response_at",
    "updated_at",
]
ACTIVITY_FIELDS: tuple[str, ...] = (
    "activity_id",
    "lead_id",
    "occurred_at",
    "type",
    "actor",
    "direction",
)
#: The canonical lead issue record (DESIGN.md).
ISSUE_FIELDS: tuple[str, ...] = (
    "issue_id",
    "lead_id",
    "raised_at",
    "raised_by",
    "issue_type",
    "summary",
    "impact",
    "customer_name",
    "customer_phone",
    "device",
    "city",
    "status",
    "responded_at",
    "resolved_at",
    "resolution",
    "no_escalation_reason",
    "team",
    "sla_class",
)

#: The SOP's "Mandatory details" (§5 step 2), the default for every issue source.
SOP_MANDATORY: tuple[str, ...] = (
    "lead_id",
    "customer_name",
    "customer_phone",
    "device",
    "city",
    "summary",
    "impact",
)


#: The canonical record of each entity an export can carry.
ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "leads": LEAD_FIELDS,
    "activities": ACTIVITY_FIELDS,
    "issues": ISSUE_FIELDS,
}
ActivityField = Literal["activity_id", "lead_id", "occurred_at", "type", "actor", "direction"]

#: What a CRM status means to leadsla. ``open``: nobody has responded yet; ``answered``: a first
#: response happened, no outcome yet; the rest are the outcomes seed 000 asks to log.
StatusClass = Literal[
    "open",
    "answered",
    "contacted",
    "qualified",
    "disqualified",
    "booked",
    "lost",
    "no_response",
    "closed_lost_delayed_response",
]
OUTCOMES: tuple[str, ...] = (
    "contacted",
    "qualified",
    "disqualified",
    "booked",
    "lost",
    "no_response",
    "closed_lost_delayed_response",
)
#: Outcomes that end the SLA clock (the lead no longer waits for anyone).
CLOSING_OUTCOMES: tuple[str, ...] = (
    "qualified",
    "disqualified",
    "booked",
    "lost",
    "no_response",
    "closed_lost_delayed_response",
)
#: Outcomes that prove a person reached the lead: they count as a first response.
RESPONDED_OUTCOMES: tuple[str, ...] = ("contacted", "qualified", "disqualified", "booked")
