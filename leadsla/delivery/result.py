"""What one delivery run did (the CLI, the flow's artifact and alerts read it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadsla.delivery.render import mask


@dataclass
class DeliveryResult:
    """What one delivery run did; ``dead`` lists messages that need a person (an alert)."""

    sent: int = 0
    failed: int = 0
    dead: list[dict[str, Any]] = field(default_factory=list)
    suppressed: int = 0
    deferred: int = 0
    waiting: int = 0  # due, but their channel is not configured: they wait in the outbox
    paused: dict[str, int] = field(default_factory=dict)  # endpoint -> messages held (breaker)
    crm_files: list[str] = field(default_factory=list)
    config_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "dead": len(self.dead),
            "suppressed": self.suppressed,
            "deferred": self.deferred,
            "waiting": self.waiting,
            "paused": self.paused,
            "crm_files": self.crm_files,
            "config_errors": self.config_errors,
        }

    @property
    def markdown(self) -> str:
        lines = [
            "# leadsla delivery",
            "",
            f"sent {self.sent}, failed attempts {self.failed}, dead {len(self.dead)}, "
            f"suppressed {self.suppressed}, deferred {self.deferred}, "
            f"waiting for a channel {self.waiting}",
        ]
        lines += [
            f"paused {endpoint} for the rest of the run (breaker): {held} message(s) stay queued"
            for endpoint, held in self.paused.items()
        ]
        lines += [f"configuration error: {e}" for e in self.config_errors]
        if self.dead:
            lines += [
                "",
                "## Dead messages (need a person)",
                "",
                "| message | channel | recipient | error |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| {d['message_id']} | {d['channel']} | {mask(d['recipient'])} | {d['error']} |"
                for d in self.dead
            ]
        return "\n".join(lines)
