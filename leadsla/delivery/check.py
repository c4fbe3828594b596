"""The endpoints of ``notifications.yaml``'s channels: their names (env var or Prefect block)
and, at run time, their values."""

from __future__ import annotations

from collections.abc import Mapping

from leadsla.rules.delivery_models import NotificationsFile


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
