"""Step ``outbox``: turn the events a tick just recorded into outbox rows, in the same
transaction.

Set-based: a few statements join the events recorded at ``now`` to the routes and the org
(recipient roles -> addresses), so a tick with ten thousand steps costs the same handful of
statements as one with ten. Subject and bodies are rendered later, when delivery sends a row
(:func:`leadsla.delivery.compose.render_pending`). ``message_id`` is derived from content
(event, channel, recipient), so re-running a tick at the same ``now`` enqueues nothing twice;
it is the email ``Message-ID`` and the webhook ``Idempotency-Key``, which lets receivers
de-duplicate across a crash. Deciding who hears what is part of the decision (the outbox is
written with the events it serves); sending is delivery's (:mod:`leadsla.delivery`).
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from leadsla.engine.step import EngineStep
from leadsla.engine.temp_tables import register_table as _register
from leadsla.events import CRM_EVENTS
from leadsla.rules import RuleSet
from leadsla.sql import scalar

STEP = EngineStep(
    "outbox",
    reads=("sla_events", "outbox", "policy_steps", "notif_routes", "notif_targets", "members",
           "teams", "notif_mgmt", "lead_state"),
    returns="outbox",
)  # fmt: skip


def register_delivery_rules(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Routes, their targets and the management list as small tables (values bound as data,
    never SQL text). Members and teams, with their addresses and calendars, are the rule
    tables ``register_rules`` already made."""
    n = rules.notifications
    assert n is not None
    routes, targets = n.routes, [(r.id, t.to, t.via) for r in n.routes for t in r.send]
    _register(
        con,
        "notif_routes",
        pa.table(
            {
                "route_id": [r.id for r in routes],
                "ord": list(range(len(routes))),
                "event_type": [r.when.event_type for r in routes],
                "step_kinds": pa.array([r.when.step_kind for r in routes], pa.list_(pa.string())),
                "levels": pa.array([r.when.level for r in routes], pa.list_(pa.int32())),
                "intents": pa.array([r.when.intent for r in routes], pa.list_(pa.string())),
                "urgency": [r.urgency for r in routes],
            }
        ),
    )
    _register(
        con,
        "notif_targets",
        pa.table(
            {
                "route_id": pa.array([t[0] for t in targets], pa.string()),
                "role": pa.array([t[1] for t in targets], pa.string()),
                "channel": pa.array([t[2] for t in targets], pa.string()),
                "tord": pa.array(list(range(len(targets))), pa.int32()),
            }
        ),
    )
    org = rules.org
    _register(con, "notif_mgmt", pa.table({"email": pa.array(org.management, pa.string())}))


def enqueue(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Outbox rows for every event recorded at ``now``; returns how many were added. Runs in
    the caller's (the evaluate) transaction."""
    n = rules.notifications
    if n is None:
        return 0
    if not scalar(con, "SELECT count(*) FROM sla_events WHERE recorded_at = $now", {"now": now}):
        return 0  # the idle tick: nothing recorded, nothing to say
    registered = scalar(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'notif_version'",
    )
    if not registered or scalar(con, "SELECT version FROM notif_version") != rules.version:
        register_delivery_rules(con, rules)  # once per connection and rule set, not per tick
        _register(con, "notif_version", pa.table({"version": [rules.version]}))
    before = int(scalar(con, "SELECT count(*) FROM outbox") or 0)
    crm_channels = ["crm_csv"] + (["crm_webhook"] if n.crm.webhook else [])
    params = {
        "now": now,
        "crm_events": [e.value for e in CRM_EVENTS],
        "crm_channels": crm_channels,
        "digest_minutes": n.digest.every_minutes,
        "default_calendar": rules.org.default_calendar,
        "default_team": rules.routing.default_team,  # the team of an event that names none
        "event_types": sorted(
            {r.when.event_type for r in n.routes} | {e.value for e in CRM_EVENTS}
        ),
    }
    STEP.run(con, "events", params)
    if scalar(
        con,
        "SELECT count(*) FROM notif_ev WHERE lead_id IS NOT NULL "
        "AND (owner IS NULL OR intent IS NULL OR team IS NULL)",
    ):
        STEP.run(con, "fill_from_state")
    for statement in ("messages", "insert", "dead", "crm"):
        STEP.run(con, statement, params)
    return int(scalar(con, "SELECT count(*) FROM outbox") or 0) - before
