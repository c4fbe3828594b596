"""Static checks of ``notifications.yaml`` against the org: every recipient a route can reach
must have an address on that route's channel, so a missing address is a ``leadsla check`` error
and not a message that dies at 3 a.m."""

from __future__ import annotations

from leadsla.rules.delivery_models import NotificationsFile
from leadsla.rules.org_models import OrgFile

MEMBER_ROLES = ("owner", "manager", "team_lead", "raiser", "senior_agent")


def check_notifications(n: NotificationsFile, org: OrgFile) -> list[tuple[str, str]]:
    """Every problem found, as (key path in ``notifications.yaml``, what to do about it)."""
    errors: list[tuple[str, str]] = []

    def err(key: str, msg: str) -> None:
        errors.append((key, msg))

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
