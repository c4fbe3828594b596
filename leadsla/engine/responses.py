"""Responses: ``first_response`` (with business minutes to respond), ``sla_met`` when it beat the
deadline, and ``recovered_after_escalation`` when it came after an escalation step, for the
responses that became known. A response is credited to the owner the export shows beside it,
never to whoever holds the lead when the tick runs. The qualification clock counts as new until
this has run for the lead."""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.events import ESCALATION_EVENTS, OWNER_EVENTS, in_list
from leadsla.rules import RuleSet
from leadsla.sql import scalar

STEP = EngineStep(
    "responses",
    reads=("lead_state", "lead_history", "members", "sla_events"),
    returns="work.resp",
)


def log_responses(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> None:
    """Record the responses not logged yet and mark them logged on lead state."""
    STEP.run(con, "resp_base")
    if not scalar(con, "SELECT count(*) FROM resp_base"):
        return
    STEP.run(con, "resp_src", owner_events=in_list(OWNER_EVENTS))
    STEP.run(con, "resp", escalation_events=in_list(ESCALATION_EVENTS))
    STEP.run(con, "events", {"now": now, "rules_version": rules.version})
    STEP.run(con, "response_logged")
