"""Static checks of ``notifications.yaml`` against the org: every recipient a route can reach
must have an address on that route's channel, so a missing address is a ``leadsla check`` error
and not a message that dies at 3 a.m."""

from __future__ import annotations

from collections.abc import Mapping

from leadsla.rules.delivery_models import NotificationsFile
from leadsla.rules.errors import RuleError
from leadsla.rules.org_models import OrgFile

F = "notifications.yaml"
MEMBER_ROLES = ("owner", "manager", "team_lead", "raiser", "senior_agent")


def check_notifications(n: NotificationsFile, org: OrgFile) -> list[RuleError]:
    errors: list[RuleError] = []

    def err(key: str, msg: str) -> None:
        errors.append(RuleError(F, key, msg))

    for d in {r.id for r in n.routes if sum(x.id == r.id for x in n.routes) > 1}:
        err("routes", f"route id {d!r} is used twice")
    channels = {t.channel for t in org.teams if t.channel}
    for i, route in enumerate(n.routes):
        for j, t in enumerate(route.send):
            key = f"routes[{i}].send[{j}]"
            if t.to in MEMBER_ROLES:
                for k, m in enumerate(org.members):
                    if t.via == "slack" and not m.slack_id:
                        err(
                            key,
                            f"member {m.id!r} has no slack_id: add org.yaml "
                            f"members[{k}].slack_id or send {t.to} by email",
                        )
                    if t.via == "whatsapp" and not m.phone:
                        err(
                            key,
                            f"member {m.id!r} has no phone: add org.yaml "
                            f"members[{k}].phone or send {t.to} by email",
                        )
                    if t.via == "teams":
                        err(
                            key,
                            "Teams incoming webhooks reach channels, not people: send "
                            f"{t.to} by email or slack",
                        )
                        break
            elif t.to == "team_channel":
                if t.via == "email":
                    err(
                        key,
                        "a team channel has no email address: use slack, teams, "
                        "whatsapp or webhook",
                    )
                for k, team in enumerate(org.teams):
                    if not team.channel:
                        err(
                            key, f"team {team.id!r} has no channel: add org.yaml teams[{k}].channel"
                        )
            elif t.to == "management":
                if t.via not in ("email", "webhook"):
                    err(key, "the management list is email addresses: send it by email")
                if not org.management:
                    err(key, "org.yaml management is empty: add the management emails")
    for name, ep in {**n.channels.slack.webhooks, **n.channels.teams.webhooks}.items():
        if name not in channels:
            err("channels", f"webhook for unknown team channel {name!r} ({ep.env or ep.block})")
    return errors


def endpoint_names(n: NotificationsFile) -> dict[str, str]:
    """Endpoint key -> the env var or block that holds it (no values)."""
    out: dict[str, str] = {}
    c = n.channels
    if c.slack.bot_token:
        out["slack:bot"] = c.slack.bot_token.env or f"block:{c.slack.bot_token.block}"
    for name, ep in c.slack.webhooks.items():
        out[f"slack:{name}"] = ep.env or f"block:{ep.block}"
    for name, ep in c.teams.webhooks.items():
        out[f"teams:{name}"] = ep.env or f"block:{ep.block}"
    if c.whatsapp:
        out["whatsapp"] = c.whatsapp.url.env or f"block:{c.whatsapp.url.block}"
    if c.webhook:
        out["webhook"] = c.webhook.url.env or f"block:{c.webhook.url.block}"
    if n.crm.webhook:
        out["crm"] = n.crm.webhook.env or f"block:{n.crm.webhook.block}"
    return out


def resolve_endpoints(
    n: NotificationsFile, env: Mapping[str, str], blocks: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Endpoint key -> URL or token, from the environment or already-loaded block values (the
    flow loads Secret blocks; this package never imports Prefect). Missing ones are left out:
    their messages wait in the outbox."""
    blocks = blocks or {}
    out: dict[str, str] = {}
    for key, src in endpoint_names(n).items():
        value = blocks.get(src[6:]) if src.startswith("block:") else env.get(src)
        if value:
            out[key] = value
    return out
