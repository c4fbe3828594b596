"""The event types the lead steps choose between or look up, in one place. (A statement that
writes one type of event names it in its SQL.)"""

from __future__ import annotations

# event types: to come from leadsla.events

#: The event each kind of ladder step records (a reassignment with no eligible owner is recorded
#: as ``escalated``, level 2).
STEP_EVENT = {
    "task": "task_created",
    "reminder": "reminder_sent",
    "escalate": "escalated",
    "reassign": "reassigned",
    "sla_check": "sla_missed",
}

#: Events that gave a lead its owner (the owner as of a moment is the newest of them).
OWNER_EVENTS = ("lead_assigned", "reassigned")

#: Events a response after them recovers (``recovered_after_escalation``).
ESCALATION_EVENTS = ("escalated", "reassigned")


def in_list(types: tuple[str, ...]) -> str:
    """``types`` as the items of an SQL ``IN (...)`` list."""
    return ", ".join(f"'{t}'" for t in types)
