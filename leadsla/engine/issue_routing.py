"""Step ``issue_routing``: where a valid issue goes, decided once (a routed issue keeps its
route).

The ownership matrix ("A / B": the first team with someone available; "A + B": every team),
the first team's calendar and SLA class, high value (premium device or estimated value), the
senior agent of a high-value issue, and whether it may climb past level 1 (the lead's intent,
high value, direct-to-management types, repeated patterns; with ``climb_without_lead``, an
issue whose lead is unknown). A feed's own team and SLA class (canonical ``team``,
``sla_class``) replace the type's; a team org.yaml does not list is routed when
``feed_teams.stand_in`` names the org team that acts for it. A repeated pattern counts the
issues known when this one became valid (its completion's export, or its first one), not those
a later tick happens to have loaded.
"""

from __future__ import annotations

from typing import Any

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.rules import RuleSet

STEP = EngineStep(
    "issue_routing",
    reads=("issue_state", "issue_types", "issue_routes", "members", "lead_state", "teams"),
    returns="issue_state",
)


def route_issues(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Route every valid issue that has no route yet."""
    iss = rules.issues
    params: dict[str, Any] = {
        "premium": list(iss.high_value.devices),
        "min_value": iss.high_value.min_estimated_value,
        "repeat": iss.repeat.count,
        "days": iss.repeat.within_days,
        "climb": list(iss.climb_intents),
        "without_lead": iss.climb_without_lead,
        "stand_in": iss.feed_teams.stand_in,
        "classes": list(iss.sla_classes),
    }
    STEP.run(con, "route", params)
    STEP.run(con, "apply", params)
