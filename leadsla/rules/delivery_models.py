"""``notifications.yaml``: who hears about which step, on which channel, and how loudly.

Delivery policy is data like every other rule: routes (event -> recipient roles and channels),
urgency, quiet hours, per-recipient budgets, digests, retries, and where each channel's endpoint
comes from. Endpoints are named by *environment variable* or *Prefect block*, never by value,
so no secret can land in ``sla_rules/`` (and from there in git).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from leadsla.rules.base import Id, Intent, Strict
from leadsla.rules.policy_models import StepKind

Role = Literal[
    "owner", "manager", "team_lead", "management", "team_channel", "raiser", "senior_agent"
]
Channel = Literal["email", "slack", "teams", "whatsapp", "webhook"]
Urgency = Literal["immediate", "normal", "digest"]
#: Events a route may send a message for (members of :class:`leadsla.events.EventType`; a
#: Literal so that the rule files' JSON Schema lists them).
NotifiedEvent = Literal[
    "task_created",
    "reminder_sent",
    "escalated",
    "reassigned",
    "sla_missed",
    "issue_escalated",
    "issue_rejected",
]
EnvName = str
CrmAction = Literal["reassign", "create_task", "update_priority", "add_note"]
CRM_ACTIONS: tuple[CrmAction, ...] = ("reassign", "create_task", "update_priority", "add_note")


class RouteWhen(Strict):
    """All given keys must hold; a list matches any of its values."""

    event_type: NotifiedEvent
    step_kind: list[StepKind] | None = Field(default=None, description="policy step kinds")
    level: list[int] | None = Field(default=None, description="escalation levels (issues 1-3)")
    intent: list[Intent] | None = Field(default=None, description="the lead's intent")


class Target(Strict):
    to: Role
    via: Channel


class Route(Strict):
    """Each event takes the first route (in file order) whose ``when`` matches."""

    id: Id
    when: RouteWhen
    send: list[Target] = Field(min_length=1)
    urgency: Urgency = Field(
        default="normal",
        description="immediate: ignores quiet hours and budgets; normal: waits for the "
        "recipient's business hours and budget; digest: batched into one message per slot",
    )


class Endpoint(Strict):
    """Where a secret endpoint comes from: an environment variable or a Prefect block name (a
    ``Secret`` block, resolved by the flow). Never the value itself."""

    env: EnvName | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]*$")
    block: str | None = Field(default=None, description="Prefect Secret block name")

    @model_validator(mode="after")
    def _one(self) -> Endpoint:
        if (self.env is None) == (self.block is None):
            raise ValueError("give exactly one of env (variable name) or block (block name)")
        return self


class SlackChannel(Strict):
    bot_token: Endpoint | None = Field(
        default=None, description="bot token for chat.postMessage direct messages"
    )
    api_url: str = Field(default="https://slack.com/api", description="Slack Web API base URL")
    webhooks: dict[str, Endpoint] = Field(
        default_factory=dict, description="team channel name -> its incoming webhook URL"
    )


class TeamsChannel(Strict):
    webhooks: dict[str, Endpoint] = Field(
        default_factory=dict, description="team channel name -> its incoming webhook URL"
    )


class UrlChannel(Strict):
    url: Endpoint = Field(description="endpoint receiving a JSON POST per message")


class EmailChannel(Strict):
    block: str | None = Field(
        default=None,
        description="EmailServerCredentials block the flow uses (the CLI reads "
        "LEADSLA_SMTP_URL / LEADSLA_EMAIL_FROM)",
    )


class Channels(Strict):
    email: EmailChannel = Field(default_factory=EmailChannel)
    slack: SlackChannel = Field(default_factory=SlackChannel)
    teams: TeamsChannel = Field(default_factory=TeamsChannel)
    whatsapp: UrlChannel | None = Field(
        default=None, description="a WhatsApp gateway (or apprise API) taking {to, text}"
    )
    webhook: UrlChannel | None = None


class Retry(Strict):
    """Exponential backoff with deterministic jitter (derived from the message id, so a replay
    schedules the same retries) and a cap."""

    max_attempts: int = Field(default=6, ge=1)
    base_seconds: float = Field(default=60, gt=0)
    factor: float = Field(default=2.0, ge=1)
    cap_seconds: float = Field(default=3600, gt=0)
    jitter: float = Field(default=0.2, ge=0, le=1, description="+- this fraction of the delay")


class Timeouts(Strict):
    """How long one send may take, per channel (SMTP and each webhook)."""

    connect_seconds: float = Field(
        default=5,
        gt=0,
        le=120,
        description="name lookup, TCP connect and the server's greeting (SMTP banner, TLS, login)",
    )
    read_seconds: float = Field(default=10, gt=0, le=600, description="any one later read")
    total_seconds: float = Field(
        default=30, gt=0, le=1800, description="one send, from its start to the server's answer"
    )


class Breaker(Strict):
    """A channel endpoint that keeps failing is paused for the rest of a delivery run."""

    after_failures: int = Field(
        default=3,
        ge=1,
        description="consecutive failed sends (timeouts, unreachable or unresolvable host, "
        "SMTP 4xx, HTTP 5xx/429) that pause an endpoint for the rest of the run; its "
        "messages stay queued (notification_deferred) and the next run tries again",
    )


class QuietHours(Strict):
    enabled: bool = Field(
        default=True,
        description="non-immediate messages wait until the recipient's calendar is open "
        "(member: their team's calendar; management: the org default calendar)",
    )


class Budget(Strict):
    per_hour: int = Field(
        default=12,
        ge=1,
        description="most messages per recipient and channel per hour; the "
        "rest roll into one digest",
    )


class Digest(Strict):
    every_minutes: int = Field(
        default=120, ge=5, description="digest slot length: one digest per recipient per slot"
    )


class CrmWriteback(Strict):
    folder: str = Field(
        default="crm_outbox", description="import-ready CSV per tick (relative to the db)"
    )
    webhook: Endpoint | None = Field(
        default=None, description="also POST each action here (Idempotency-Key header)"
    )
    actions: list[CrmAction] = Field(
        default_factory=lambda: list(CRM_ACTIONS), description="actions written back"
    )


class NotificationsFile(Strict):
    routes: list[Route]
    channels: Channels = Field(default_factory=Channels)
    retry: Retry = Field(default_factory=Retry)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    breaker: Breaker = Field(default_factory=Breaker)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    budget: Budget = Field(default_factory=Budget)
    digest: Digest = Field(default_factory=Digest)
    crm: CrmWriteback = Field(default_factory=CrmWriteback)
    holding_line: str = Field(
        default="I'm checking this with our team and will update you shortly. "
        "Thank you for your patience.",
        description="SOP-approved line for the agent; used when an issue event has none",
    )
