"""Reclassify: a later export changes a waiting lead's intent inputs so that another rule, with
another intent or policy, matches. The new policy's ``reclassify`` setting
(sla_rules/policies.yaml) chooses what happens to its first-response clock: ``keep`` (the
default: intent, policy and deadline stay as first classified), ``from_arrival``,
``from_change`` or ``earlier``; a ``reclassified`` event at the change records the choice, the
old and new intent, rule and policy, and the deadline before and after.

Judged as of the export, like every step, so a catch-up tick records what ticks every few
minutes record: around each lead export's merge (:func:`before_merge`, :func:`after_merge`),
the export's new leads are classified from it (their first sight, not a later export's
values), and a changed lead's old clock is decided up to the export (its steps until then are
the old policy's) before the new clock starts there. Only when some policy does not keep:
otherwise none of this runs and intent stays fixed at classification.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import pyarrow as pa

from leadsla.engine import classify as _classify
from leadsla.engine import ladder
from leadsla.engine.assign import assign
from leadsla.engine.calendar_range import cover_calendars
from leadsla.engine.clocks import select_clocks, set_due
from leadsla.engine.temp_tables import register_table
from leadsla.rules import RuleSet
from leadsla.sql import scalar

#: The lead-state columns intent rules read (their values, or whether they are empty).
INPUTS = (*("crm_owner" if f == "owner" else f for f in _classify.EMPTY_FIELDS), "lead_score")


def enabled(rules: RuleSet) -> bool:
    """Whether any policy acts on a reclassification (else intent is fixed at first sight)."""
    return any(p.reclassify != "keep" for p in rules.policies.values())


def before_merge(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """The intent inputs of the export's (``incoming``) classified leads, before it merges."""
    if enabled(rules):
        _classify.STEP.run(con, "inputs_before", inputs=INPUTS)


def after_merge(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, export_at: datetime, now: datetime
) -> int:
    """After one lead export merged: classify its new leads, then reclassify the leads whose
    intent inputs it changed, as of ``export_at``. Returns how many were reclassified."""
    if not enabled(rules):
        return 0
    cover_calendars(con, rules, now)
    if scalar(con, "SELECT count(*) FROM lead_state WHERE intent IS NULL"):
        classified = _classify.classify(con, rules, now)
        assign(con, rules, now, classified=classified > 0)
        set_due(con)
    _classify.STEP.run(con, "changed", inputs=INPUTS)
    if not scalar(con, "SELECT count(*) FROM reclass_leads"):
        return 0
    _classify.STEP.run(con, "classified", empty_fields=_classify.EMPTY_FIELDS, changed=True)
    _decide_until(con, rules, export_at, now)
    register_table(
        con,
        "reclass_settings",
        pa.table(
            {
                "policy_id": [p.id for p in rules.policies.values()],
                "reclassify": [p.reclassify for p in rules.policies.values()],
            }
        ),
        work=True,
    )
    params = {"export_at": export_at}
    _classify.STEP.run(con, "reclass", params)
    n = int(scalar(con, "SELECT count(*) FROM reclass") or 0)
    if n:
        _classify.STEP.run(con, "reclass_src")
        _classify.STEP.run(con, "reclass_clock")
        events = {**params, "now": now, "rules_version": rules.version}
        _classify.STEP.run(con, "reclass_events", events)
        _classify.STEP.run(con, "reclass_state")
    return n


def _decide_until(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, until: datetime, now: datetime
) -> None:
    """The steps of the changed leads' clocks with thresholds up to ``until`` (the export),
    recorded at ``now``, and their watermark moved to ``until``: the ladder rounds of
    ``leads.evaluate_leads`` over just these leads."""
    select_clocks(con, until, full=False, changed=True)
    ladder.start(con)
    max_hops = max((p.max_hops for p in rules.policies.values()), default=0)
    for _ in range(max_hops + 2):
        if not ladder.due_steps(con, until, "clock_src"):
            break
        ladder.record_steps(con, rules, now)
        if ladder.next_round(con) == 0:
            break
    ladder.close(con, until)
