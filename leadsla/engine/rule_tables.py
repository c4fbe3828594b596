"""The rule files as small DuckDB tables (policies and their steps, intent and routing rules,
members, teams, issue types and routes, sources), joined against all leads at once. Their values
are data, never SQL text. They are kept across ticks on a connection (re-registered when the
rule set changes)."""

from __future__ import annotations

import hashlib
from typing import Any

import duckdb
import pyarrow as pa

from leadsla.engine.temp_tables import register_table
from leadsla.rules import RuleSet

US = 60_000_000  # microseconds in a minute


def issue_clock_id(kind: str, calendar_id: str) -> str:
    """Id of the clock a lead issue level runs on: an SLA class (level 1) or ``l2``/``l3``,
    on one team calendar. These clocks sit in the ``policies`` table beside the lead policies
    so that issue deadlines come from the same business-calendar SQL (``clock_sql``)."""
    return f"issue:{kind}:{calendar_id}"


def issue_clock_rows(rules: RuleSet) -> list[tuple[Any, ...]]:
    """One clock per (SLA class or level 2/3, team calendar): issues.yaml as policies rows."""
    iss = rules.issues
    version = hashlib.sha256(iss.model_dump_json().encode()).hexdigest()[:12]
    rows: list[tuple[Any, ...]] = []
    for cal in sorted({t.calendar for t in rules.org.teams}):
        for cls_id, cls in iss.sla_classes.items():
            rows.append((issue_clock_id(cls_id, cal), version, None, "issue", cal,
                         cls.within_minutes, cls.anchor, cls.min_remaining_minutes, 0, None,
                         ""))  # fmt: skip
        for lv in iss.levels[1:]:
            rows.append((issue_clock_id(f"l{lv.level}", cal), version, None, "issue", cal,
                         lv.within_minutes, None, 0.0, 0, None, ""))  # fmt: skip
    return rows


def register_rules(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Policies, steps, intent and routing rules, members: the rule files as tables."""
    _register_policies(con, rules)
    _register_org(con, rules)
    _register_matching(con, rules)
    _register_issues(con, rules)


def _register_policies(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """``policies`` (lead policies and issue clocks) and ``policy_steps`` (each policy's ladder
    and its implicit ``sla_check`` at the deadline)."""
    pols = list(rules.policies.values())
    rows = [
        (p.id, rules.policy_version(p.id), p.intent, p.milestone, p.calendar,
         p.deadline.within_minutes, p.deadline.anchor, p.deadline.min_remaining_minutes,
         p.max_hops, p.team, p.recommended_action)
        for p in pols
    ] + issue_clock_rows(rules)  # fmt: skip
    cols = list(zip(*rows, strict=True))
    register_table(
        con,
        "policies",
        pa.table(
            {
                "policy_id": cols[0],
                "policy_version": cols[1],
                "intent": pa.array(cols[2], pa.string()),
                "milestone": cols[3],
                "calendar_id": cols[4],
                "within_us": pa.array(
                    [None if m is None else round(m * US) for m in cols[5]], pa.int64()
                ),
                "anchor": pa.array(cols[6], pa.string()),
                "min_remaining_us": [round(m * US) for m in cols[7]],
                "max_hops": cols[8],
                "team": pa.array(cols[9], pa.string()),
                "recommended_action": cols[10],
            }
        ),
    )
    steps: dict[str, list[object]] = {
        k: [] for k in ("policy_id", "step_id", "kind", "base", "offset_us", "ord", "rec")
    }
    for p in pols:
        # sla_check is the implicit step at the deadline: sla_missed when nobody responded.
        all_steps = [
            (s.id, s.kind, s.base, s.offset_minutes, s.recommended_action) for s in p.steps
        ] + [("sla_check", "sla_check", "due", 0.0, None)]
        for n, (sid, kind, base, off, rec) in enumerate(all_steps):
            steps["policy_id"].append(p.id)
            steps["step_id"].append(sid)
            steps["kind"].append(kind)
            steps["base"].append(base)
            steps["offset_us"].append(round(off * US))
            steps["ord"].append(n)
            steps["rec"].append(rec)
    register_table(
        con,
        "policy_steps",
        pa.table(
            {
                "policy_id": pa.array(steps["policy_id"], pa.string()),
                "step_id": pa.array(steps["step_id"], pa.string()),
                "kind": pa.array(steps["kind"], pa.string()),
                "base": pa.array(steps["base"], pa.string()),
                "offset_us": pa.array(steps["offset_us"], pa.int64()),
                "ord": pa.array(steps["ord"], pa.int32()),
                "step_action": pa.array(steps["rec"], pa.string()),
            }
        ),
    )


def _register_org(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """``members``, ``teams`` and ``shared_inboxes``."""
    members = rules.org.members
    teams = rules.teams
    register_table(
        con,
        "members",
        pa.table(
            {
                "member_id": [m.id for m in members],
                "member_name": [m.name for m in members],
                "email": [m.email for m in members],
                "team": [m.team for m in members],
                "manager": pa.array([m.manager for m in members], pa.string()),
                "available": [m.available for m in members],
                "capacity": [m.capacity for m in members],
                "seniority": [m.seniority for m in members],
                "team_lead": [teams[m.team].lead for m in members],
                "ord": list(range(len(members))),
                # where delivery reaches a member, and whose office hours apply
                "slack_id": pa.array([m.slack_id for m in members], pa.string()),
                "phone": pa.array([m.phone for m in members], pa.string()),
                "calendar_id": [teams[m.team].calendar for m in members],
            }
        ),
    )
    register_table(
        con,
        "teams",
        pa.table(
            {
                "team": [t.id for t in rules.org.teams],
                "team_lead": [t.lead for t in rules.org.teams],
                "calendar_id": [t.calendar for t in rules.org.teams],
                "channel": pa.array([t.channel for t in rules.org.teams], pa.string()),
            }
        ),
    )
    register_table(
        con,
        "shared_inboxes",
        pa.table(
            {"inbox": pa.array([s.lower() for s in rules.routing.shared_inboxes], pa.string())}
        ),
    )


def _register_matching(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """``intent_rules``, ``route_rules`` and ``qual_policies`` (the later clocks per intent)."""

    def lst(values: list[str] | None) -> list[str] | None:
        return None if values is None else [v.lower() for v in values]

    irules = rules.intent_rules
    big = 2**31 - 1
    register_table(
        con,
        "intent_rules",
        pa.table(
            {
                "rule_id": [r.id for r in irules],
                "priority": [
                    r.priority if r is not rules.intents.fallback else big for r in irules
                ],
                "intent": [r.intent for r in irules],
                "policy_id": pa.array(
                    [r.policy or _default_policy(rules, r.intent) for r in irules], pa.string()
                ),
                "team": pa.array([r.team for r in irules], pa.string()),
                "recommended_action": [r.recommended_action for r in irules],
                **{
                    k: pa.array([lst(getattr(r.when, k)) for r in irules], pa.list_(pa.string()))
                    for k in (
                        "form_type",
                        "lead_source",
                        "service_interest",
                        "campaign",
                        "city",
                        "territory",
                        "message_keywords",
                    )
                },
                "missing": pa.array([r.when.missing for r in irules], pa.list_(pa.string())),
                "missing_any": pa.array(
                    [r.when.missing_any for r in irules], pa.list_(pa.string())
                ),
                "score_min": pa.array([r.when.lead_score_min for r in irules], pa.float64()),
                "score_max": pa.array([r.when.lead_score_max for r in irules], pa.float64()),
            }
        ),
    )
    rr = rules.routing.rules
    register_table(
        con,
        "route_rules",
        pa.table(
            {
                "route_id": pa.array([r.id for r in rr], pa.string()),
                "priority": pa.array([r.priority for r in rr], pa.int64()),
                "team": pa.array([r.team for r in rr], pa.string()),
                **{
                    k: pa.array([lst(getattr(r.when, k)) for r in rr], pa.list_(pa.string()))
                    for k in (
                        "service_interest",
                        "lead_source",
                        "form_type",
                        "campaign",
                        "city",
                        "territory",
                        "company_size",
                        "intent",
                    )
                },
                "score_min": pa.array([r.when.lead_score_min for r in rr], pa.float64()),
                "score_max": pa.array([r.when.lead_score_max for r in rr], pa.float64()),
            }
        ),
    )
    intents = ("high", "mid", "low", "unclear")
    qual = {i: getattr(rules.policy_for(i, "qualification"), "id", None) for i in intents}
    nxt = {i: getattr(rules.policy_for(i, "next_step_update"), "id", None) for i in intents}
    register_table(
        con,
        "qual_policies",
        pa.table(
            {
                "intent": list(qual),
                "qual_policy_id": pa.array(list(qual.values()), pa.string()),
                "next_policy_id": pa.array([nxt[i] for i in qual], pa.string()),
            }
        ),
    )


def _register_issues(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """``issue_types``, ``issue_routes``, ``issue_sources`` and ``sources``."""
    iss = rules.issues
    register_table(
        con,
        "issue_types",
        pa.table(
            {
                "type_id": [t.id for t in iss.types],
                "label": [t.label for t in iss.types],
                "sla": [t.sla for t in iss.types],
                "mode": [t.mode for t in iss.types],
                "direct": [t.direct_to_management for t in iss.types],
                "note_reason": [t.note_reason for t in iss.types],
            }
        ),
    )
    routes = [(t.id, team, k) for t in iss.types for k, team in enumerate(t.teams)]
    register_table(
        con,
        "issue_routes",
        pa.table(
            {
                "type_id": pa.array([r[0] for r in routes], pa.string()),
                "team": pa.array([r[1] for r in routes], pa.string()),
                "ord": pa.array([r[2] for r in routes], pa.int64()),
            }
        ),
    )
    isrc = [s for s in rules.sources if s.entity == "issues" and s.mandatory_fields is not None]
    register_table(
        con,
        "issue_sources",
        pa.table(
            {
                "source_id": pa.array([s.id for s in isrc], pa.string()),
                "mandatory": pa.array([s.mandatory_fields for s in isrc], pa.list_(pa.string())),
            }
        ),
    )
    srcs = rules.sources
    register_table(
        con,
        "sources",
        pa.table(
            {
                "source_id": [s.id for s in srcs],
                "response_signal": [s.response_signal for s in srcs],
                "record_url": pa.array([s.record_url for s in srcs], pa.string()),
            }
        ),
    )


def _default_policy(rules: RuleSet, intent: str) -> str | None:
    p = rules.policy_for(intent)
    return p.id if p else None
