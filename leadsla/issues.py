"""Lead issues (seed 002's SOP): intake, validation, routing and the three-level ladder.

An agent who cannot move a lead forward raises an *issue* (a blocker: serviceability, pricing,
a technical fault, ...). Issues arrive as canonical ``issues*`` exports (or through
``leadsla issue raise``, which writes one) and go through the same tick as leads:

1. ``apply_issues`` (load): set-wise diff into ``issue_state``; new issues are ``issue_raised``.
   Then ``judge_issues``, in the same file's transaction: **validation** of every version the
   file shows, timed with its export: a non-blocker (``no_escalation_reason``), an unknown
   type or missing mandatory details is ``issue_rejected`` with what to add; a later,
   completed version of the same issue is validated again and proceeds, its clock starting
   at that export. A verdict depends on the exports alone, never on the ticks' cadence.
2. ``evaluate_issues`` (evaluate), set-based over all unsettled issues:
   - **routing** by the ownership matrix ("A / B": the first team with someone available;
     "A + B": every team), high-value (premium device or estimated value), senior agent,
     whether it may climb (the lead's intent, high value, direct-to-management types,
     repeated patterns);
   - **the ladder**: level 1 at the raise, level 2 when level 1's SLA passes unanswered, level 3
     when level 2's does (or at once for high-value, customer-risk and repeated issues), each
     judged as of its threshold like lead steps and each emitted once;
   - ``issue_responded`` / ``issue_resolved`` with business minutes since the raise.

Deadlines come from the same business-calendar SQL as leads: each SLA class and level is a
clock row in the ``policies`` table (``leadsla.tables.issue_clock_rows``). Only the few new
escalations and rejections are rendered in Python (subject line, admin note, holding line,
recipients from the org file): rendering is per message, deciding is per set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import jinja2
import pyarrow as pa

from leadsla.calendars.sql import clock_sql, interval_at, pos_sql
from leadsla.engine.calendar_range import cover_calendars as prepare
from leadsla.ingest import ExportFile
from leadsla.rules import RuleSet
from leadsla.rules.models import ISSUE_FIELDS, Source
from leadsla.sql import run, scalar
from leadsla.state import EVENT_COLS, event_id_sql, never_before_creation, sql_list

#: Statuses (lower case) that mean the owning team has responded / the issue is resolved, for
#: feeds that report a status instead of the timestamps.
RESPONDED_STATUSES = ("responded", "acknowledged", "in_progress", "working")
RESOLVED_STATUSES = ("resolved", "closed", "done")

INTENT_LABEL = {"high": "High-Intent", "mid": "Mid-Intent", "low": "Low-Intent",
                "unclear": "Unqualified"}  # fmt: skip


def apply_issues(
    con: duckdb.DuckDBPyConnection, f: ExportFile, source: Source, now: datetime
) -> int:
    """Merge ``incoming`` (one export's typed issue rows) into ``issue_state``; returns the
    rows superseded by a later line for the same issue."""
    params = {"export_at": f.export_at, "now": now, "source_id": source.id, "file": f.url}
    fingerprint = "hash(" + ", ".join(f"i.{c}" for c in ISSUE_FIELDS) + ")"
    responded = (
        f"coalesce(i.responded_at, CASE WHEN list_contains({sql_list(RESPONDED_STATUSES)}, "
        "lower(trim(i.status))) THEN $export_at END)"
    )
    resolved = (
        f"coalesce(i.resolved_at, CASE WHEN list_contains({sql_list(RESOLVED_STATUSES)}, "
        "lower(trim(i.status))) THEN $export_at END)"
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.ijoined AS
        SELECT i.*, {fingerprint} AS h, s.issue_id IS NULL AS is_new,
               {never_before_creation(responded, "i.raised_at")} AS resp,
               {never_before_creation(resolved, "i.raised_at")} AS reso
        FROM (SELECT * FROM incoming
              QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY line DESC) = 1) i
        LEFT JOIN issue_state s USING (issue_id)
        WHERE s.issue_id IS NULL OR s.row_hash IS DISTINCT FROM {fingerprint}
        """,
        params,
    )
    superseded = scalar(
        con,
        "SELECT (SELECT count(*) FROM incoming) - (SELECT count(DISTINCT issue_id) FROM incoming)",
    )
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("j.issue_id", "'issue_raised'")}, 'issue_raised', j.lead_id,
               j.issue_id, j.raised_at, $now, 'ingest', NULL, NULL, j.raised_by, NULL,
               json_object('source_id', $source_id, 'file', $file, 'line', j.line,
                           'issue_type', j.issue_type, 'impact', j.impact, 'city', j.city,
                           'device', j.device, 'export_at', $export_at)
        FROM ijoined j WHERE j.is_new
        """,
        params,
    )
    reported = [c for c in ISSUE_FIELDS if c not in ("responded_at", "resolved_at")]
    sets = ", ".join(f"{c} = j.{c}" for c in reported)
    run(
        con,
        f"""
        UPDATE issue_state s SET {sets}, row_hash = j.h, last_export_at = $export_at,
            responded_at = coalesce(s.responded_at, j.resp),
            resolved_at = coalesce(j.reso, s.resolved_at),
            responded_seen_at = coalesce(s.responded_seen_at,
                                         CASE WHEN j.resp IS NOT NULL THEN $export_at END),
            resolved_seen_at = coalesce(s.resolved_seen_at,
                                        CASE WHEN j.reso IS NOT NULL THEN $export_at END)
        FROM ijoined j WHERE s.issue_id = j.issue_id AND NOT j.is_new
        """,
        params,
    )
    cols = reported
    run(
        con,
        f"""
        INSERT INTO issue_state (source_id, {", ".join(cols)}, responded_at, resolved_at,
            first_seen_at, last_export_at, row_hash, responded_seen_at, resolved_seen_at)
        SELECT $source_id, {", ".join(f"j.{c}" for c in cols)}, j.resp, j.reso,
               $export_at, $export_at, j.h,
               CASE WHEN j.resp IS NOT NULL THEN $export_at END,
               CASE WHEN j.reso IS NOT NULL THEN $export_at END
        FROM ijoined j WHERE j.is_new
        """,
        params,
    )
    return int(superseded or 0)


@dataclass
class IssueResult:
    validated: int = 0
    rejected: int = 0
    escalations: int = 0
    responses: int = 0


def _field_missing(f: str) -> str:
    return f"WHEN '{f}' THEN nullif(trim(CAST({f} AS VARCHAR)), '') IS NULL"


def evaluate_issues(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> IssueResult:
    """Validate, route and climb every unsettled issue at ``now`` (inside the caller's
    transaction, after the lead evaluation so the calendar tables cover both)."""
    res = IssueResult()
    # work only when something changed, a threshold came, or a response/resolution waits
    pending = scalar(
        con,
        "SELECT count(*) FROM issue_state WHERE verdict_hash IS DISTINCT FROM row_hash "
        "OR (verdict = 'valid' AND teams IS NULL)"
        " OR (verdict = 'valid' AND NOT resolved_logged AND (resolved_at IS NOT NULL"
        " OR (responded_at IS NOT NULL AND NOT responded_logged)"
        " OR (NOT responded_logged AND max_level < CASE WHEN climbs THEN 3 ELSE 1 END"
        "     AND (next_at IS NULL OR next_at <= $now))))",
        {"now": now},
    )
    if not pending:
        return res
    # a version no load judged (a load without the rules): judged now, timed with its export
    res.validated, res.rejected = judge_issues(con, rules, now)
    prepare(con, rules, now)  # the calendar tables, shared with the lead clocks
    _route(con, rules)
    res.escalations = _climb(con, rules, now)
    res.responses = _responses(con, now)
    return res


def judge_issues(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> tuple[int, int]:
    """The verdict (valid, or ``issue_rejected`` with what to add) of every issue whose
    reported values changed since its verdict, timed with the export that showed them
    (``last_export_at``). The load runs it after each issues file, so every version an export
    shows is judged, whatever the ticks' cadence; returns (judged, rejected)."""
    iss = rules.issues
    params: dict[str, Any] = {
        "default_mandatory": list(iss.mandatory_fields),
        "non_blockers": [n.lower() for n in iss.non_blockers],
    }
    missing = "CASE f " + " ".join(_field_missing(f) for f in ISSUE_FIELDS) + " END"
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.iv AS
        WITH s AS (
            SELECT s.*, coalesce(src.mandatory, $default_mandatory) AS mand
            FROM issue_state s LEFT JOIN issue_sources src USING (source_id)
            WHERE s.verdict_hash IS DISTINCT FROM s.row_hash
        ), m AS (
            SELECT s.issue_id, s.row_hash, list_filter(s.mand, lambda f: {missing}) AS missing,
                   list_contains($non_blockers, lower(trim(s.no_escalation_reason)))
                       AS not_blocker,
                   t.type_id IS NOT NULL AS known_type
            FROM s LEFT JOIN issue_types t ON t.type_id = lower(trim(s.issue_type))
        )
        SELECT *, CASE WHEN not_blocker THEN 'not_a_blocker'
                       WHEN NOT known_type THEN 'unknown_type'
                       WHEN len(missing) > 0 THEN 'missing_fields' END AS reason
        FROM m
        """,
        params,
    )
    judged = int(scalar(con, "SELECT count(*) FROM iv") or 0)
    return judged, (_reject(con, rules, now) if judged else 0)


def _insert_events(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Append events rendered in Python (issue messages) in one batch."""
    if not rows:
        return
    cols = [c.strip() for c in EVENT_COLS.split(",")]
    table = pa.table(
        {
            c: pa.array(
                [r.get(c) for r in rows],
                pa.int32()
                if c == "level"
                else pa.timestamp("us", "UTC")
                if c in ("occurred_at", "recorded_at")
                else pa.string(),
            )
            for c in cols
        }
    )
    con.register("issue_events_arrow", table)
    run(
        con,
        f"INSERT INTO sla_events ({EVENT_COLS}) SELECT * REPLACE (CAST(details AS JSON) AS "
        "details) FROM issue_events_arrow",
    )
    con.unregister("issue_events_arrow")


def _env() -> jinja2.Environment:
    # Subject lines and admin notes are plain text (see issue_models.Messages); undefined
    # names fail loudly instead of rendering blanks into a message.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


def _one_line(text: str) -> str:
    """No CR/LF in a subject line or note (header injection, broken admin notes)."""
    return " ".join(text.split())


def _reject(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """``issue_rejected`` for each new verdict of 'not escalated', with what to add."""
    rows = con.execute(
        f"""
        SELECT v.issue_id, s.lead_id, s.raised_by, s.last_export_at, v.reason, v.missing,
               s.issue_type, s.no_escalation_reason,
               {
            event_id_sql(
                "v.issue_id", "'issue_rejected'", "v.reason", "array_to_string(v.missing, ',')"
            )
        } AS event_id
        FROM iv v JOIN issue_state s USING (issue_id)
        WHERE v.reason IS NOT NULL
          AND {
            event_id_sql(
                "v.issue_id", "'issue_rejected'", "v.reason", "array_to_string(v.missing, ',')"
            )
        }
              NOT IN (SELECT event_id FROM sla_events WHERE event_type = 'issue_rejected')
        ORDER BY v.issue_id
        """
    ).fetchall()
    template = _env().from_string(rules.issues.messages.rejected)
    known = [t.id for t in rules.issues.types]
    events = []
    for issue_id, lead_id, raised_by, seen_at, reason, miss, itype, ner, event_id in rows:
        why = {
            "not_a_blocker": f"not a blocker ({ner})",
            "unknown_type": f"unknown issue type {itype!r}; known types: {', '.join(known)}",
            "missing_fields": "mandatory details are missing",
        }[reason]
        message = _one_line(template.render(issue_id=issue_id, reason=why, missing=list(miss)))
        events.append(
            {
                "event_id": event_id,
                "event_type": "issue_rejected",
                "lead_id": lead_id,
                "issue_id": issue_id,
                "occurred_at": seen_at,
                "recorded_at": now,
                "rule_id": f"issues.{reason}",
                "owner": raised_by,
                "target": raised_by,
                "details": json.dumps(
                    {
                        "reason": reason,
                        "missing_fields": list(miss),
                        "known_types": known if reason == "unknown_type" else [],
                        "no_escalation_reason": ner,
                        "message_to_raiser": message,
                        "raised_by": raised_by,
                        "rules_version": rules.version,
                    }
                ),
            }
        )
    _insert_events(con, events)
    run(
        con,
        """
        UPDATE issue_state s SET verdict = CASE WHEN v.reason IS NULL THEN 'valid'
                                                ELSE 'rejected' END,
            verdict_hash = v.row_hash, reject_reason = v.reason, missing_fields = v.missing,
            -- the clock starts at the raise, or when a rejected issue was seen completed
            valid_from = CASE WHEN v.reason IS NOT NULL THEN NULL
                              WHEN s.valid_from IS NOT NULL THEN s.valid_from
                              WHEN s.verdict = 'rejected'
                                   THEN greatest(s.raised_at, s.last_export_at)
                              ELSE s.raised_at END
        FROM iv v WHERE s.issue_id = v.issue_id
        """,
    )
    return len(events)


def _route(con: duckdb.DuckDBPyConnection, rules: RuleSet) -> None:
    """Owning teams, calendar, SLA class, high value, senior agent and whether it may climb,
    for issues that became valid (once: a routed issue keeps its route). A repeated pattern
    counts the issues known when this one became valid (its completion's export, or its first
    one), not those a later tick happens to have loaded."""
    iss = rules.issues
    params: dict[str, Any] = {
        "premium": list(iss.high_value.devices),
        "min_value": iss.high_value.min_estimated_value,
        "repeat": iss.repeat.count,
        "days": iss.repeat.within_days,
        "climb": list(iss.climb_intents),
    }
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.iroute AS
        WITH v AS (
            SELECT s.*, greatest(s.valid_from, s.first_seen_at) AS known_at
            FROM issue_state s WHERE s.verdict = 'valid' AND s.teams IS NULL
        ), r AS (
            SELECT v.issue_id, rt.team, rt.ord, t.mode, t.sla, t.direct,
                   EXISTS (SELECT 1 FROM members m WHERE m.team = rt.team AND m.available)
                       AS avail
            FROM v JOIN issue_types t ON t.type_id = lower(trim(v.issue_type))
            JOIN issue_routes rt ON rt.type_id = t.type_id
        ), tm AS (
            SELECT issue_id, any_value(sla) AS sla, bool_or(direct) AS direct,
                   CASE WHEN any_value(mode) = 'all' THEN list(team ORDER BY ord)
                        ELSE [coalesce(arg_min(team, ord) FILTER (WHERE avail),
                                       arg_min(team, ord))] END AS teams
            FROM r GROUP BY issue_id
        ), ctx AS (
            SELECT v.issue_id, l.intent,
                   len(list_filter($premium, lambda d: contains(
                       lower(coalesce(v.device, l.device, '')), d))) > 0
                   OR coalesce(l.estimated_value >= $min_value, false) AS high_value
            FROM v LEFT JOIN lead_state l ON l.lead_id = v.lead_id
        ), rep AS (
            SELECT v.issue_id, count(*) AS n
            FROM v JOIN issue_state o
              ON lower(trim(o.issue_type)) = lower(trim(v.issue_type))
             AND (lower(trim(o.city)) = lower(trim(v.city)) OR o.lead_id = v.lead_id)
             AND o.raised_at BETWEEN v.raised_at - to_days(CAST($days AS INTEGER))
                                 AND v.raised_at
             AND o.first_seen_at <= v.known_at
             AND (o.resolved_at IS NULL OR o.resolved_at > v.raised_at
                  OR o.resolved_seen_at > v.known_at)
            GROUP BY v.issue_id
        )
        SELECT v.issue_id, tm.teams, t1.calendar_id, tm.sla, c.intent, c.high_value,
               CASE WHEN c.high_value THEN 'high_value'
                    WHEN tm.direct THEN lower(trim(v.issue_type))
                    WHEN coalesce(rep.n, 0) >= $repeat THEN 'repeated_pattern' END
                   AS direct_reason,
               CASE WHEN c.high_value THEN (
                   SELECT m.member_id FROM members m
                   WHERE m.team = tm.teams[1] AND m.available AND m.seniority = 'senior'
                   ORDER BY hash(v.issue_id || '|' || m.member_id), m.member_id LIMIT 1)
               END AS senior_agent
        FROM v JOIN tm USING (issue_id) JOIN ctx c USING (issue_id)
        LEFT JOIN rep USING (issue_id) LEFT JOIN teams t1 ON t1.team = tm.teams[1]
        """,
        params,
    )
    run(
        con,
        """
        UPDATE issue_state s SET teams = r.teams, calendar_id = r.calendar_id,
            sla_class = r.sla, intent = r.intent, high_value = r.high_value,
            direct_reason = r.direct_reason, senior_agent = r.senior_agent,
            climbs = list_contains($climb, r.intent) OR r.direct_reason IS NOT NULL
        FROM iroute r WHERE s.issue_id = r.issue_id
        """,
        params,
    )


def _climb(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Every level due at ``now`` that has not fired, as ``issue_escalated`` events."""
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.isrc1 AS
        SELECT s.*, 'issue:' || s.sla_class || ':' || s.calendar_id AS policy_id,
               s.valid_from AS start_at
        FROM issue_state s
        WHERE s.verdict = 'valid' AND s.teams IS NOT NULL AND NOT s.responded_logged
          AND NOT s.resolved_logged AND s.max_level < CASE WHEN s.climbs THEN 3 ELSE 1 END
          AND (s.next_at IS NULL OR s.next_at <= $now)
        """,
        {"now": now},
    )
    if not scalar(con, "SELECT count(*) FROM isrc1"):
        return 0
    run(con, f"CREATE OR REPLACE TABLE work.ic1 AS {clock_sql('isrc1')}")
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.isrc2 AS
        SELECT issue_id, 'issue:l2:' || calendar_id AS policy_id, due_at AS start_at
        FROM ic1 WHERE climbs AND due_at IS NOT NULL
        """,
    )
    run(con, f"CREATE OR REPLACE TABLE work.ic2 AS {clock_sql('isrc2')}")
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.isrc3 AS
        SELECT c.issue_id, 'issue:l3:' || c.calendar_id AS policy_id, c.due_at AS start_at,
               'sla_timeout' AS reason FROM ic2 c WHERE c.due_at IS NOT NULL
        UNION ALL
        SELECT issue_id, 'issue:l3:' || calendar_id, valid_from, direct_reason
        FROM isrc1 WHERE direct_reason IS NOT NULL
        """,
    )
    run(con, f"CREATE OR REPLACE TABLE work.ic3 AS {clock_sql('isrc3')}")
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.isteps AS
        SELECT issue_id, 1 AS level, valid_from AS threshold_at, 'initial' AS reason,
               due_at FROM ic1
        UNION ALL
        SELECT issue_id, 2, start_at, 'sla_timeout', due_at FROM ic2
        UNION ALL
        SELECT issue_id, 3, start_at, reason, due_at FROM ic3
        """,
    )
    # the earliest threshold still ahead: until then a tick need not look at the issue (one
    # beyond the calendar tables' horizon is looked at again in a month)
    run(
        con,
        """
        UPDATE issue_state s SET next_at = n.next_at
        FROM (SELECT c.issue_id, coalesce(min(coalesce(st.threshold_at, $now + INTERVAL 30 DAY))
                       FILTER (WHERE st.threshold_at IS NULL OR st.threshold_at > $now),
                       'infinity'::TIMESTAMPTZ) AS next_at
              FROM isrc1 c LEFT JOIN isteps st USING (issue_id) GROUP BY c.issue_id) n
        WHERE s.issue_id = n.issue_id
        """,
        {"now": now},
    )
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.iesc AS
        WITH first AS (
            SELECT * FROM isteps
            QUALIFY row_number() OVER (PARTITION BY issue_id, level
                                       ORDER BY threshold_at, reason) = 1
        )
        SELECT f.*, s.lead_id, s.raised_by, s.issue_type, s.city, s.device, s.teams,
               s.intent, s.high_value, s.senior_agent, s.calendar_id, s.sla_class
        FROM first f JOIN issue_state s USING (issue_id)
        WHERE f.level > s.max_level AND f.threshold_at IS NOT NULL AND f.threshold_at <= $now
          AND (s.climbs OR f.level = 1)
          -- a level is skipped once a higher one was called before it (management already
          -- has a high-value issue: the team lead is not called after them)
          AND NOT EXISTS (SELECT 1 FROM first h WHERE h.issue_id = f.issue_id
                          AND h.level > f.level AND h.threshold_at < f.threshold_at)
          -- as of the threshold: not answered according to what was known by then
          AND NOT coalesce(least(s.responded_seen_at, s.resolved_seen_at)
                           <= greatest(f.threshold_at, s.first_seen_at), false)
        ORDER BY f.issue_id, f.level
        """,
        {"now": now},
    )
    cur = con.execute("SELECT * FROM iesc")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    _insert_events(con, [_escalation_event(rules, r, now) for r in rows])
    run(
        con,
        """
        UPDATE issue_state s SET max_level = e.level
        FROM (SELECT issue_id, max(level) AS level FROM iesc GROUP BY issue_id) e
        WHERE s.issue_id = e.issue_id
        """,
    )
    return len(rows)


def _escalation_event(rules: RuleSet, r: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One ``issue_escalated`` with its rendered messages and recipients (the delivery work
    sends them; the details are the contract)."""
    iss = rules.issues
    types = {t.id: t for t in iss.types}
    itype = types[str(r["issue_type"]).strip().lower()]
    teams = list(r["teams"])
    org_teams, members = rules.teams, rules.members
    intent_label = INTENT_LABEL.get(r["intent"] or "", "Unknown-Intent")
    env = _env()
    ctx = {
        "intent_label": intent_label,
        "type_label": itype.label,
        "city": r["city"] or "",
        "team_names": " + ".join(org_teams[t].name for t in teams)
        if itype.mode == "all"
        else " / ".join(org_teams[t].name for t in teams),
        "note_reason": itype.note_reason,
        "level": r["level"],
    }
    recipients: list[dict[str, Any]] = []
    if r["level"] == 1:
        recipients = [
            {"role": "team", "id": t, "email": members[org_teams[t].lead].email,
             "channel": org_teams[t].channel}
            for t in teams
        ]  # fmt: skip
        target = "+".join(teams)
    elif r["level"] == 2:
        leads = list(dict.fromkeys(org_teams[t].lead for t in teams))
        recipients = [{"role": "team_lead", "id": m, "email": members[m].email} for m in leads]
        target = "+".join(leads)
    else:
        mgmt = org_teams[iss.management_team]
        recipients = [{"role": "management", "id": mgmt.lead,
                       "email": members[mgmt.lead].email}]  # fmt: skip
        recipients += [{"role": "management", "id": e, "email": e}
                       for e in rules.org.management if e != members[mgmt.lead].email]  # fmt: skip
        target = iss.management_team
    if r["senior_agent"]:
        m = members[r["senior_agent"]]
        recipients.append({"role": "senior_agent", "id": m.id, "email": m.email})
    details = {
        "level": r["level"],
        "level_name": iss.levels[r["level"] - 1].name,
        "teams": teams,
        "due_at": r["due_at"].isoformat() if r["due_at"] else None,
        "threshold_at": r["threshold_at"].isoformat(),
        "issue_type": itype.id,
        "city": r["city"],
        "device": r["device"],
        "intent": r["intent"],
        "high_value": bool(r["high_value"]),
        "priority": "high" if r["high_value"] else "normal",
        "senior_agent": r["senior_agent"],
        "reason": r["reason"],
        "sla_class": r["sla_class"],
        "subject": _one_line(env.from_string(iss.messages.subject).render(**ctx)),
        "admin_note": _one_line(env.from_string(iss.messages.admin_note).render(**ctx)),
        "holding_line": _one_line(env.from_string(iss.messages.holding_line).render(**ctx)),
        "recipients": recipients,
        "rules_version": rules.version,
    }
    return {
        "event_id": content_id(r["issue_id"], "issue_escalated", str(r["level"])),
        "event_type": "issue_escalated",
        "lead_id": r["lead_id"],
        "issue_id": r["issue_id"],
        "occurred_at": r["threshold_at"],
        "recorded_at": now,
        "rule_id": f"issues.{itype.id}.l{r['level']}",
        "policy_id": None,
        "level": r["level"],
        "owner": r["raised_by"],
        "target": target,
        "details": json.dumps(details),
    }


def content_id(*parts: str) -> str:
    """The same content id as ``event_id_sql`` (md5 of the parts joined by '|')."""
    return hashlib.md5("|".join(parts).encode()).hexdigest()


def _responses(con: duckdb.DuckDBPyConnection, now: datetime) -> int:
    """``issue_responded`` / ``issue_resolved`` with business minutes since the raise."""
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.iresp AS
        WITH r AS (
            SELECT issue_id, lead_id, raised_by, raised_at, calendar_id, max_level,
                   'issue_responded' AS kind, responded_at AS happened_at,
                   responded_seen_at AS seen_at,
                   NULL::VARCHAR AS resolution
            FROM issue_state
            WHERE verdict = 'valid' AND responded_at IS NOT NULL AND NOT responded_logged
            UNION ALL
            SELECT issue_id, lead_id, raised_by, raised_at, calendar_id, max_level,
                   'issue_resolved', resolved_at, resolved_seen_at, resolution
            FROM issue_state
            WHERE verdict = 'valid' AND resolved_at IS NOT NULL AND NOT resolved_logged
        ), a AS (
            SELECT r.*, {pos_sql("r.happened_at", "i")} AS at_pos
            FROM r {interval_at("i", "r.calendar_id", "r.happened_at")}
        )
        SELECT a.*, round((a.at_pos - {pos_sql("a.raised_at", "k")}) / 6e7, 2) AS bus_min
        FROM a {interval_at("k", "a.calendar_id", "a.raised_at")}
        """,
    )
    n = int(scalar(con, "SELECT count(*) FROM iresp") or 0)
    if not n:
        return 0
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("issue_id", "kind")}, kind, lead_id, issue_id, happened_at, $now,
               'issues.' || kind, NULL, max_level, raised_by, NULL,
               json_object('business_minutes', bus_min, 'seen_at', seen_at,
                           'highest_level', max_level, 'resolution', resolution)
        FROM iresp
        """,
        {"now": now},
    )
    run(
        con,
        """
        UPDATE issue_state s SET
            responded_logged = s.responded_logged OR list_contains(r.kinds, 'issue_responded'),
            resolved_logged = s.resolved_logged OR list_contains(r.kinds, 'issue_resolved')
        FROM (SELECT issue_id, list(kind) AS kinds FROM iresp GROUP BY issue_id) r
        WHERE s.issue_id = r.issue_id
        """,
    )
    return n


def write_issue(exports: str, record: dict[str, Any], now: datetime) -> str:
    """An issue raised by an agent or an integration (``leadsla issue raise``), written as a
    one-row canonical ``issues_<now>_raised_<id>.jsonl`` export: it then goes through exactly
    the validation, events and ladder of exported issues, and the exports folder stays the
    one record of what came in. Written under a temporary name and renamed, so a tick never
    reads half a file. Returns the file's URL."""
    import fsspec

    row = {f: record.get(f) for f in ISSUE_FIELDS}
    row["raised_at"] = row["raised_at"] or now.isoformat()
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(row["issue_id"]))
    fs, root = fsspec.core.url_to_fs(exports)
    fs.makedirs(root, exist_ok=True)
    path = f"{root.rstrip('/')}/issues_{now:%Y%m%dT%H%M%SZ}_raised_{safe}.jsonl"
    with fs.open(path + ".part", "w") as fh:
        fh.write(json.dumps(row, default=str) + "\n")
    fs.mv(path + ".part", path)
    return path
