"""``sla_rules/org.yaml``: the teams and members (managers, capacity, availability) that
leads are routed to and escalated through."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from leadsla.rules.base import Id, Strict


class Member(Strict):
    id: Id = Field(description="the owner value CRM exports use for this person")
    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    team: Id
    manager: Id | None = Field(default=None, description="member id of this person's manager")
    available: bool = Field(default=True, description="false: on leave, gets no new leads")
    capacity: int = Field(default=60, ge=0, description="most open leads this person may hold")
    seniority: Literal["junior", "mid", "senior"] = "mid"
    slack_id: str | None = Field(default=None, description="Slack member id for direct messages")
    phone: str | None = Field(default=None, description="WhatsApp number, E.164 (+91...)")


class Team(Strict):
    id: Id
    name: str
    lead: Id = Field(description="member id of the team lead (level-2 escalations)")
    calendar: Id
    kind: Literal["sales", "support", "review", "functional", "management"] = "sales"
    channel: str | None = Field(default=None, description="team channel name for alerts")


class OrgFile(Strict):
    name: str
    default_calendar: Id
    management: list[str] = Field(description="emails of the management list")
    teams: list[Team]
    members: list[Member]
