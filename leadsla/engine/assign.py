"""Assign: an owner for each classified lead that has none.

A queue team named by the intent rule or policy (support, review) wins; otherwise a lead keeps a
CRM owner who is a known member (unless ``keep_crm_owner`` is off), and leads with no owner or a
shared-inbox owner are routed: routing rules by priority, else the default team. Within the
team, round robin: each available member's spare capacity (``member_load``) becomes slots
ordered (round, rotation position), and the k-th lead in arrival order takes the k-th slot.
``rr_state`` keeps each team's rotation across ticks. Capacity is judged on the load at the
tick: with a member at capacity, cadences may pick differently.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.rules import RuleSet
from leadsla.sql import scalar

STEP = EngineStep(
    "assign",
    reads=(
        "work.classified",
        "lead_state",
        "lead_history",
        "members",
        "shared_inboxes",
        "route_rules",
        "rr_state",
        "sla_events",
    ),
    returns="work.to_assign",
)


def assign(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, *, classified: bool = False
) -> int:
    """Owner for leads that have none; ``classified`` says ``work.classified`` holds the leads
    just classified (assigned even when a CRM owner change loaded in this tick gave them one).
    Returns how many leads it looked at (``work.to_assign``)."""
    STEP.run(
        con,
        "to_assign",
        {"default_team": rules.routing.default_team},
        keep=rules.routing.keep_crm_owner,
        fresh=classified,
    )
    if not scalar(con, "SELECT count(*) FROM to_assign"):
        return 0
    STEP.run(con, "member_load")
    STEP.run(con, "rr_pick")
    STEP.run(con, "update_state")
    STEP.run(con, "events", {"now": now, "rules_version": rules.version})
    STEP.run(con, "rr_teams")
    STEP.run(con, "rr_advance")
    return int(scalar(con, "SELECT count(*) FROM to_assign") or 0)
