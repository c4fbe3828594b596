"""Classify: the intent of each lead that has none, exactly one rule each, the first match by
priority; the rule's policy, team and recommended action go onto lead state, and an
``intent_classified`` event names the CRM owner the lead arrived with."""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.rules import RuleSet
from leadsla.sql import scalar

STEP = EngineStep(
    "classify",
    reads=(
        "lead_state",
        "lead_history",
        "intent_rules",
        "policies",
        "qual_policies",
        "sla_events",
        # reclassification (reclassify.py): an export's leads before it merges, the policies'
        # choices
        "incoming",
        "reclass_settings",
    ),
    returns="work.classified",
)

#: The fields an intent rule's ``missing`` / ``missing_any`` may name: empty when blank.
EMPTY_FIELDS = (
    "name",
    "email",
    "phone",
    "lead_source",
    "campaign",
    "form_type",
    "service_interest",
    "message",
    "city",
    "territory",
    "device",
    "company_size",
    "owner",
)


def classify(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Intent for leads that have none: exactly one rule each, the first match by priority.
    Leaves ``work.classified`` (lead, rule, intent, policy), which assignment reads."""
    STEP.run(con, "classified", empty_fields=EMPTY_FIELDS, changed=False)
    n = int(scalar(con, "SELECT count(*) FROM classified") or 0)
    if n == 0:
        return 0
    STEP.run(con, "events", {"now": now, "rules_version": rules.version})
    STEP.run(con, "update_state")
    return n
