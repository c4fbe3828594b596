"""Two replayed databases, one per rule set, compared set-based in one DuckDB session.

Each database is attached read-only (as ``baseline`` and ``candidate``). Every counted thing is
a *unit* with a side, a metric, the day it happened (in the org's zone) and the dimensions it
is counted under:

- ``steps``: a ladder step (``task_created``, ``reminder_sent``, ``escalated``, ``reassigned``,
  ``sla_missed``, ``issue_escalated``); ``breaches``: ``sla_missed``; ``escalations``:
  ``escalated`` and ``issue_escalated``; ``reassignments``: ``reassigned``. Their recipient is
  the event's target, their team the lead's.
- ``messages``: what delivery sent (through :class:`leadsla.backtest.dry.DrySenders`, after its
  noise control): one per message, a digest once (in each group its messages touch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from leadsla.events import LEAD_STEP_EVENTS, EventType, in_list
from leadsla.sql import run

SIDES = ("baseline", "candidate")
METRICS = ("steps", "breaches", "escalations", "reassignments", "messages")
DIMENSIONS = ("event_type", "policy", "team", "owner", "recipient")

_STEPS = (*LEAD_STEP_EVENTS, EventType.ISSUE_ESCALATED)
_METRIC_OF = {
    "steps": _STEPS,
    "breaches": (EventType.SLA_MISSED,),
    "escalations": (EventType.ESCALATED, EventType.ISSUE_ESCALATED),
    "reassignments": (EventType.REASSIGNED,),
}


def _units_sql(side: str) -> str:
    events = " UNION ALL ".join(
        f"""
        SELECT '{side}' AS side, '{metric}' AS metric, e.event_id AS unit, e.occurred_at,
               e.event_type, e.policy_id AS policy, l.team, e.owner, e.target AS recipient,
               e.rule_id
        FROM {side}.sla_events e LEFT JOIN {side}.lead_state l USING (lead_id)
        WHERE e.event_type IN ({in_list(types)})
        """
        for metric, types in _METRIC_OF.items()
    )
    return f"""{events}
        UNION ALL
        SELECT '{side}', 'messages', coalesce(o.digest_id, o.message_id), o.sent_at,
               o.event_type, e.policy_id, o.team, e.owner, o.recipient, e.rule_id
        FROM {side}.outbox o LEFT JOIN {side}.sla_events e USING (event_id)
        WHERE o.status = 'sent'
    """


def _pair(n_base: str = "b", n_cand: str = "c") -> str:
    return (
        f"count(DISTINCT unit) FILTER (side = 'baseline') AS {n_base}, "
        f"count(DISTINCT unit) FILTER (side = 'candidate') AS {n_cand}"
    )


@dataclass
class Comparison:
    """What differs between the two replays (every list is ready to write as rows)."""

    events: dict[str, dict[str, int]]  # side -> every event type -> count
    metrics: dict[str, dict[str, int]]  # side -> metric -> count
    met_pct: dict[str, float | None]  # side -> SLA met %
    changed: list[dict[str, Any]]  # every changed lead, most changed first
    breakdown: list[dict[str, Any]] = field(default_factory=list)  # dimension, key, metric
    daily: list[dict[str, Any]] = field(default_factory=list)  # day, metric
    by_rule: list[dict[str, Any]] = field(default_factory=list)  # rule_id, metric


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, p: dict[str, Any]) -> list[dict[str, Any]]:
    cur = run(con, sql, p)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def compare(baseline: Path, candidate: Path, *, zone: str) -> Comparison:
    """Compare the replay in ``baseline`` with the one in ``candidate``; days are days in
    ``zone`` (the org's)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for side, db in zip(SIDES, (baseline, candidate), strict=True):
            path = str(db).replace("'", "''")
            con.execute(f"ATTACH '{path}' AS {side} (READ_ONLY)")
        con.execute(
            "CREATE TEMP TABLE units AS "
            + " UNION ALL ".join(f"SELECT * FROM ({_units_sql(s)})" for s in SIDES)
        )
        return _comparison(con, {"zone": zone})
    finally:
        con.close()


def _comparison(con: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> Comparison:
    events = {s: dict.fromkeys((t.value for t in EventType), 0) for s in SIDES}
    for side in SIDES:
        for t, n in run(
            con, f"SELECT event_type, count(*) FROM {side}.sla_events GROUP BY 1"
        ).fetchall():
            events[side][t] = int(n)
    metrics = {s: dict.fromkeys(METRICS, 0) for s in SIDES}
    for side, metric, n in run(con, "SELECT side, metric, count(DISTINCT unit) FROM units "
                                    "GROUP BY ALL").fetchall():  # fmt: skip
        metrics[side][metric] = int(n)
    breakdown = _dicts(
        con,
        " UNION ALL ".join(
            f"SELECT '{d}' AS dimension, coalesce({d}, '(none)') AS key, metric, "
            f"{_pair('baseline', 'candidate')} FROM units GROUP BY ALL"
            for d in DIMENSIONS
        )
        + " ORDER BY abs(candidate - baseline) DESC, dimension, key, metric",
        p,
    )
    daily = _dicts(
        con,
        f"SELECT CAST(timezone($zone, occurred_at) AS DATE) AS day, metric, "
        f"{_pair('baseline', 'candidate')} FROM units GROUP BY ALL ORDER BY day, metric",
        p,
    )
    by_rule = _dicts(
        con,
        f"SELECT coalesce(rule_id, '(none)') AS rule_id, metric, "
        f"{_pair('baseline', 'candidate')} FROM units GROUP BY ALL "
        "ORDER BY abs(candidate - baseline) DESC, rule_id, metric",
        p,
    )
    met = {side: _met_pct(con, side) for side in SIDES}
    return Comparison(events, metrics, met, _changed(con, p), breakdown, daily, by_rule)


def _met_pct(con: duckdb.DuckDBPyConnection, side: str) -> float | None:
    """Of the (lead, policy) clocks that were judged (met or missed), the share met."""
    row = run(
        con,
        f"""
        WITH judged AS (
            SELECT lead_id, policy_id, bool_or(event_type = 'sla_met') AS met
            FROM {side}.sla_events WHERE event_type IN ('sla_met', 'sla_missed')
            GROUP BY ALL)
        SELECT count(*), count(*) FILTER (met) FROM judged
        """,
    ).fetchall()[0]
    return round(100.0 * row[1] / row[0], 1) if row[0] else None


def _changed(con: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Every lead whose decisions differ (delivery outcomes are not decisions): how many of
    each event type per side, and the events only one side recorded."""
    lines = " UNION ALL ".join(
        f"""
        SELECT '{s}' AS side, lead_id, event_type,
               event_type || coalesce(' ' || rule_id, '') || ' at '
               || strftime(timezone($zone, occurred_at), '%Y-%m-%d %H:%M')
               || coalesce(' owner ' || owner, '') || coalesce(' to ' || target, '') AS line
        FROM {s}.sla_events
        WHERE lead_id IS NOT NULL AND event_type NOT LIKE 'notification_%'
        """
        for s in SIDES
    )
    return _dicts(
        con,
        f"""
        WITH e AS ({lines}),
        per AS (
            SELECT lead_id,
                   list(line ORDER BY line) FILTER (side = 'baseline') AS b,
                   list(line ORDER BY line) FILTER (side = 'candidate') AS c
            FROM e GROUP BY lead_id),
        diff AS (
            SELECT lead_id, coalesce(b, []) AS b, coalesce(c, []) AS c FROM per
            WHERE coalesce(b, []) <> coalesce(c, [])),
        kinds AS (
            SELECT lead_id, event_type, count(*) FILTER (side = 'baseline') AS nb,
                   count(*) FILTER (side = 'candidate') AS nc
            FROM e SEMI JOIN diff USING (lead_id) GROUP BY ALL HAVING nb <> nc),
        how AS (
            SELECT lead_id, string_agg(event_type || ' ' || nb || ' -> ' || nc, '; '
                                       ORDER BY event_type) AS how,
                   sum(abs(nc - nb)) AS size
            FROM kinds GROUP BY lead_id)
        SELECT d.lead_id,
               coalesce(h.how, 'same counts, other times or people') AS how,
               array_to_string(list_filter(d.b, lambda x: NOT list_contains(d.c, x)), '; ')
                   AS only_baseline,
               array_to_string(list_filter(d.c, lambda x: NOT list_contains(d.b, x)), '; ')
                   AS only_candidate,
               bl.policy_id AS baseline_policy, cl.policy_id AS candidate_policy,
               bl.owner AS baseline_owner, cl.owner AS candidate_owner
        FROM diff d LEFT JOIN how h USING (lead_id)
        LEFT JOIN baseline.lead_state bl USING (lead_id)
        LEFT JOIN candidate.lead_state cl USING (lead_id)
        ORDER BY coalesce(h.size, 0) DESC, d.lead_id
        """,
        p,
    )
