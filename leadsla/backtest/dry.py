"""Channels that accept every message without sending it: a replay that delivers through them
runs delivery's own planning (suppression, quiet hours, budgets, digests) and records what it
would have sent, and nothing leaves the machine."""

from __future__ import annotations

from dataclasses import dataclass

from leadsla.delivery.senders import Outgoing, Senders

#: Every channel an outbox row can name (leadsla.store schema.sql ``outbox.channel``).
ALL_CHANNELS = ["crm_csv", "email", "slack", "teams", "whatsapp", "webhook", "crm_webhook"]


@dataclass
class DrySenders(Senders):
    """Every channel configured, every send accepted, nothing sent."""

    def configured(self, channel: str, recipient: str) -> bool:
        return True

    def live_channels(self) -> list[str]:
        return list(ALL_CHANNELS)

    def send(self, out: Outgoing) -> None:
        return None  # accepted: what delivery would send is what the outbox records as sent

    def close(self) -> None:
        return None
