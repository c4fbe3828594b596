"""Classify, assign and evaluate every open lead in one set-based pass at logical time ``now``.

``evaluate(con, rules, now)`` is the SLA engine. It runs SQL over all open leads at once:

1. **Classify** leads without an intent: the first intent rule (by priority) that matches.
2. **Assign** leads without an owner: intent-rule or policy team, else the CRM owner when known,
   else routing rules; within a team, round robin over available members with spare capacity.
3. **Responses**: ``first_response``, ``sla_met`` and ``recovered_after_escalation`` for
   responses that became known.
4. **Steps**: each clock (lead × policy) gets its deadline on the policy's business calendar
   and each ladder step its threshold. A step is due when its threshold is in
   ``(evaluated_until, now]`` and, as of the threshold, the lead was not answered or closed
   according to the newest export dated at or before it (or the first export that showed the
   lead, when it arrived late). ``evaluated_until`` is what makes "each step once" cheap: a
   step whose threshold a previous tick passed was decided then, for good, so no anti-join
   against the event log is needed. Reassignment starts the ladder again for the new owner
   (hop + 1); the loop repeats over the first-response clocks of the leads just moved until no
   reassignment fires, at most ``max_hops + 1`` rounds. The clocks that start at the response
   (qualification, next step) are computed once, after the last round.

Catch-up is exact: one tick after any gap records the events ticks every 5 minutes record over
the same exports (``tests/test_catchup.py``). Everything an event says is taken as of its own
moment, never as of ``now``: a step names the owner as of its threshold (assignment,
reassignments, and CRM owner changes an export showed by then), a response the owner the
export shows beside it, an assignment and a classification the CRM owner the lead arrived with.
(Round-robin capacity is still judged on the load at the tick: with a member at capacity,
cadences may pick differently.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import duckdb

from leadsla.events import EVENT_COLS, event_id_sql
from leadsla.rules import RuleSet
from leadsla.rules.models import TimestampBounds
from leadsla.sql import run, scalar
from leadsla.tables import (
    at_sql,
    clock_sql,
    interval_at,
    interval_of,
    pos_sql,
    register_calendars,
)

#: Calendar tables reach this far past ``now``: deadlines further out are computed as unknown
#: (not yet due), which is all the engine needs; two months covers any sane policy.
HORIZON = timedelta(days=62)

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


@dataclass
class EvalResult:
    classified: int
    assigned: int
    step_events: int
    reassigned: int
    rounds: int


#: Rows found again by ``rowid`` (``srid``): a work table built from ``lead_state`` in this
#: transaction remembers each lead's rowid, so an UPDATE joins on an integer the scan gets for
#: free instead of reading and hashing a million lead ids. A rowid is stable until its row is
#: deleted; DuckDB turns an UPDATE of a LIST column (``previous_owners``, at reassignment) into
#: a delete and an insert, so a work table is only used this way before any such UPDATE runs
#: after it was built (the watermark UPDATE at the end, which follows reassignments, joins on
#: ``lead_id``).


def prepare(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> None:
    """Calendar tables covering every open clock and ``now`` + ``HORIZON``.

    They are rebuilt only when the range they cover no longer suffices, so a replay on one
    connection pays for them once a month of logical time, not every tick. Rule tables are
    registered by the caller once per connection (``register_rules``)."""
    # every clock this tick may compute: open ones, and deadlines or responses not yet settled
    # (an old closed lead loaded today still needs its deadline on the real calendar)
    # Clamped to [the earliest timestamp any source accepts, now] in SQL: whatever state
    # holds (a year-0001 or year-9999 value loaded before bounds existed, which DuckDB would
    # hand back as text or not at all), the calendar range stays a real, bounded one.
    floor = min((s.timestamp_bounds.earliest for s in rules.sources), default=None)
    floor = floor or TimestampBounds().earliest
    oldest = scalar(
        con,
        "SELECT CASE WHEN min(t) IS NOT NULL THEN least(greatest(min(t), $floor), $now) END"
        " FROM ("
        " SELECT min(least(hop_started_at, created_at, response_at)) AS t FROM lead_state"
        " WHERE closed_seen_at IS NULL OR due_at IS NULL OR NOT response_logged"
        " UNION ALL SELECT min(raised_at) FROM issue_state"
        " WHERE verdict IS DISTINCT FROM 'rejected' AND NOT resolved_logged)",
        {"floor": datetime.combine(floor, time(), UTC), "now": now},
    )
    need_lo = (oldest if isinstance(oldest, datetime) else now) - timedelta(days=1)
    need_hi = now + HORIZON
    have = (
        con.execute("SELECT lo, hi FROM cal_range").fetchall()
        if scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'cal_range'")
        else []
    )
    if have and have[0][0] <= need_lo and have[0][1] >= need_hi:
        return
    lo, hi = need_lo - timedelta(days=30), need_hi + timedelta(days=30)
    register_calendars(con, rules, lo, hi)
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE cal_range AS SELECT $lo AS lo, $hi AS hi",
        {"lo": lo, "hi": hi},
    )


def classify(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Intent for leads that have none: exactly one rule each, the first match by priority."""
    empty = ", ".join(
        f"CASE WHEN nullif(trim(CAST(l.{f} AS VARCHAR)), '') IS NULL THEN '{f}' END"
        if f != "owner"
        else "CASE WHEN nullif(trim(l.crm_owner), '') IS NULL THEN 'owner' END"
        for f in EMPTY_FIELDS
    )

    def has(col: str, val: str) -> str:
        return f"(r.{col} IS NULL OR list_contains(r.{col}, lower(trim(l.{val}))))"

    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.classified AS
        WITH l AS (
            SELECT l.*, l.rowid AS srid,
                   list_filter([{empty}], lambda x: x IS NOT NULL) AS empty_fields
            FROM lead_state l WHERE l.intent IS NULL
        )
        SELECT l.lead_id, l.srid, r.rule_id, r.intent, r.policy_id, r.team AS rule_team,
               r.recommended_action
        FROM l JOIN intent_rules r
          ON {has("form_type", "form_type")} AND {has("lead_source", "lead_source")}
         AND {has("service_interest", "service_interest")} AND {has("campaign", "campaign")}
         AND {has("city", "city")} AND {has("territory", "territory")}
         AND (r.message_keywords IS NULL OR len(list_filter(r.message_keywords,
              lambda k: contains(lower(coalesce(l.message, '')), k))) > 0)
         AND (r.missing IS NULL OR list_has_all(l.empty_fields, r.missing))
         AND (r.missing_any IS NULL OR list_has_any(l.empty_fields, r.missing_any))
         AND (r.score_min IS NULL OR l.lead_score >= r.score_min)
         AND (r.score_max IS NULL OR l.lead_score <= r.score_max)
        QUALIFY row_number() OVER (PARTITION BY l.lead_id ORDER BY r.priority) = 1
        """,
    )
    n = int(scalar(con, "SELECT count(*) FROM classified") or 0)
    if n == 0:
        return 0
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("c.lead_id", "'intent_classified'")}, 'intent_classified',
               c.lead_id, NULL, l.created_at, $now, c.rule_id, c.policy_id, NULL,
               coalesce(f.crm_owner, l.crm_owner),
               NULL, json_object('intent', c.intent, 'rule_id', c.rule_id,
                                 'rules_version', $rules_version)
        FROM classified c JOIN lead_state l ON l.rowid = c.srid
        -- the owner the lead arrived with, whatever later exports loaded in this tick say
        LEFT JOIN (SELECT lead_id, arg_min(crm_owner, valid_from) AS crm_owner
                   FROM lead_history WHERE lead_id IN (SELECT lead_id FROM classified)
                   GROUP BY lead_id) f ON f.lead_id = c.lead_id
        """,
        {"now": now, "rules_version": rules.version},
    )
    run(
        con,
        """
        UPDATE lead_state s SET intent = c.intent, intent_rule_id = c.rule_id,
            policy_id = c.policy_id, qual_policy_id = q.qual_policy_id,
            next_policy_id = q.next_policy_id,
            recommended_action = coalesce(nullif(c.recommended_action, ''),
                                          p.recommended_action),
            team = coalesce(c.rule_team, p.team),
            needs_review = CASE WHEN c.intent = 'unclear' THEN 'unclear intent' END
        FROM classified c JOIN policies p USING (policy_id)
        LEFT JOIN qual_policies q ON q.intent = c.intent
        WHERE s.rowid = c.srid
        """,
    )
    return n


def _member_load(con: duckdb.DuckDBPyConnection) -> None:
    """``member_load``: leads each member holds that still wait for a first response, the load
    that capacity is judged against."""
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.member_load AS
        SELECT owner AS member_id, count(*) AS open_leads FROM lead_state
        WHERE closed_seen_at IS NULL AND responded_seen_at IS NULL AND owner IS NOT NULL
        GROUP BY owner
        """,
    )


def assign(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, *, classified: bool = False
) -> int:
    """Owner for leads that have none.

    A queue team named by the intent rule or policy (support, review) wins; otherwise a lead
    keeps a CRM owner who is a known member (unless ``keep_crm_owner`` is off), and leads with
    no owner or a shared-inbox owner are routed: routing rules by priority, else the default
    team. Within the team, round robin: each available member's spare capacity becomes slots
    ordered (round, rotation position), and the k-th lead in arrival order takes the k-th slot.
    """
    keep = rules.routing.keep_crm_owner
    # just classified (``classified`` holds them): assigned even when a later export's CRM
    # owner change, loaded in the same catch-up tick, already gave them an owner
    fresh = (
        "OR (l.owner_origin = 'crm' AND l.lead_id IN (SELECT lead_id FROM classified))"
        if classified
        else ""
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.to_assign AS
        WITH cand AS (
            -- not yet assigned; open when first seen (a tick right after would have)
            SELECT l.*, l.rowid AS srid FROM lead_state l
            WHERE (l.owner IS NULL {fresh})
              AND l.intent IS NOT NULL
              AND (l.closed_seen_at IS NULL OR l.closed_seen_at > l.first_seen_at)
              AND l.needs_review IS DISTINCT FROM 'no eligible owner'
        ), first_row AS (
            -- the CRM owner of the export that first showed the lead: a catch-up tick assigns
            -- as a tick right after it would have, whatever later exports say
            SELECT lead_id, arg_min(crm_owner, valid_from) AS crm_owner FROM lead_history
            WHERE lead_id IN (SELECT lead_id FROM cand)
            GROUP BY lead_id
        ), l AS (
            SELECT l.lead_id, l.srid, l.created_at, l.first_seen_at,
                   coalesce(f.crm_owner, l.crm_owner) AS crm_owner, l.team AS forced_team,
                   l.intent, l.owner AS cur_owner,
                   l.service_interest, l.lead_source, l.form_type, l.campaign, l.city,
                   l.territory, l.company_size, l.lead_score,
                   m.member_id AS crm_member, m.team AS crm_member_team
            FROM cand l
            LEFT JOIN first_row f USING (lead_id)
            LEFT JOIN members m
              ON m.member_id = coalesce(f.crm_owner, l.crm_owner)
             AND lower(coalesce(f.crm_owner, l.crm_owner)) NOT IN (SELECT inbox FROM shared_inboxes)
        ), routed AS (
            SELECT l.lead_id, r.route_id, r.team
            FROM l JOIN route_rules r
              ON (r.service_interest IS NULL
                  OR list_contains(r.service_interest, lower(trim(l.service_interest))))
             AND (r.lead_source IS NULL
                  OR list_contains(r.lead_source, lower(trim(l.lead_source))))
             AND (r.form_type IS NULL OR list_contains(r.form_type, lower(trim(l.form_type))))
             AND (r.campaign IS NULL OR list_contains(r.campaign, lower(trim(l.campaign))))
             AND (r.city IS NULL OR list_contains(r.city, lower(trim(l.city))))
             AND (r.territory IS NULL OR list_contains(r.territory, lower(trim(l.territory))))
             AND (r.company_size IS NULL
                  OR list_contains(r.company_size, lower(trim(l.company_size))))
             AND (r.intent IS NULL OR list_contains(r.intent, l.intent))
             AND (r.score_min IS NULL OR l.lead_score >= r.score_min)
             AND (r.score_max IS NULL OR l.lead_score <= r.score_max)
            QUALIFY row_number() OVER (PARTITION BY l.lead_id ORDER BY r.priority) = 1
        )
        SELECT l.lead_id, l.srid, l.created_at, l.first_seen_at, l.cur_owner,
               CASE WHEN l.forced_team IS NOT NULL THEN l.forced_team
                    WHEN {keep} AND l.crm_member IS NOT NULL THEN l.crm_member_team
                    ELSE coalesce(r.team, $default_team) END AS team,
               CASE WHEN {keep} AND l.crm_member IS NOT NULL
                     AND (l.forced_team IS NULL OR l.forced_team = l.crm_member_team)
                    THEN l.crm_member END AS kept_owner,
               CASE WHEN l.forced_team IS NOT NULL THEN 'queue:' || l.forced_team
                    WHEN {keep} AND l.crm_member IS NOT NULL THEN 'crm_owner'
                    ELSE coalesce('route:' || r.route_id, 'default_team') END AS why
        FROM l LEFT JOIN routed r USING (lead_id)
        """,
        {"default_team": rules.routing.default_team},
    )
    if not scalar(con, "SELECT count(*) FROM to_assign"):
        return 0
    _member_load(con)
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.rr_pick AS
        WITH need AS (
            SELECT a.*, row_number() OVER (PARTITION BY team
                                           ORDER BY first_seen_at, created_at, lead_id) AS k
            FROM to_assign a WHERE kept_owner IS NULL
        ), elig AS (
            SELECT m.member_id, m.team, m.capacity - coalesce(ld.open_leads, 0) AS spare,
                   row_number() OVER (PARTITION BY m.team ORDER BY m.ord) - 1 AS idx,
                   count(*) OVER (PARTITION BY m.team) AS n
            FROM members m LEFT JOIN member_load ld USING (member_id)
            WHERE m.available AND m.capacity > coalesce(ld.open_leads, 0)
        ), slots AS (
            SELECT e.member_id, e.team,
                   row_number() OVER (
                       PARTITION BY e.team
                       ORDER BY g.round, (e.idx - coalesce(rr.assigned, 0) % e.n + e.n) % e.n
                   ) AS k
            FROM elig e
            CROSS JOIN LATERAL (SELECT unnest(range(least(e.spare, 100000))) AS round) g
            LEFT JOIN rr_state rr ON rr.team = e.team
        )
        SELECT need.lead_id, s.member_id
        FROM need LEFT JOIN slots s ON s.team = need.team AND s.k = need.k
        """,
    )
    run(
        con,
        """
        UPDATE lead_state l SET team = a.team,
            -- a CRM owner change after the lead arrived stands (it came later)
            owner = coalesce(a.cur_owner, a.kept_owner, p.member_id),
            owner_origin = CASE WHEN a.cur_owner IS NOT NULL THEN l.owner_origin
                                WHEN a.kept_owner IS NOT NULL THEN 'crm'
                                WHEN p.member_id IS NOT NULL THEN 'routing' END,
            needs_review = CASE WHEN coalesce(a.cur_owner, a.kept_owner, p.member_id) IS NULL
                                THEN 'no eligible owner' ELSE l.needs_review END
        FROM to_assign a LEFT JOIN rr_pick p USING (lead_id)
        WHERE l.rowid = a.srid
        """,
    )
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("a.lead_id", "'lead_assigned'")}, 'lead_assigned', a.lead_id,
               NULL, CASE WHEN a.kept_owner IS NOT NULL THEN l.created_at
                          ELSE l.first_seen_at END,
               $now, a.why, l.policy_id, NULL, coalesce(a.kept_owner, p.member_id),
               coalesce(a.kept_owner, p.member_id),
               json_object('team', a.team, 'assigned_by', a.why, 'crm_owner', l.crm_owner,
                           'rules_version', $rules_version)
        FROM to_assign a JOIN lead_state l ON l.rowid = a.srid
        LEFT JOIN rr_pick p ON p.lead_id = a.lead_id
        WHERE coalesce(a.kept_owner, p.member_id) IS NOT NULL
        """,
        {"now": now, "rules_version": rules.version},
    )
    run(
        con,
        """
        INSERT INTO rr_state
        SELECT DISTINCT a.team, 0 FROM to_assign a
        WHERE a.team NOT IN (SELECT team FROM rr_state)
        """,
    )
    run(
        con,
        """
        UPDATE rr_state r SET assigned = r.assigned + x.n
        FROM (SELECT a.team, count(p.member_id) AS n FROM to_assign a
              JOIN rr_pick p USING (lead_id) GROUP BY a.team) x
        WHERE r.team = x.team
        """,
    )
    return int(scalar(con, "SELECT count(*) FROM to_assign") or 0)


def set_due(con: duckdb.DuckDBPyConnection) -> None:
    """The hop-0 first-response deadline of leads that do not have one yet."""
    run(
        con,
        "CREATE OR REPLACE TABLE work.due_src AS SELECT lead_id, rowid AS srid, policy_id, "
        "created_at AS start_at FROM lead_state WHERE due_at IS NULL AND policy_id IS NOT NULL",
    )
    run(
        con,
        f"""
        UPDATE lead_state l SET due_at = d.due_at
        FROM ({clock_sql("due_src")}) d WHERE l.rowid = d.srid
        """,
    )


def log_responses(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> None:
    """``first_response`` (with business minutes to respond), ``sla_met`` when it beat the
    deadline, and ``recovered_after_escalation`` when it came after an escalation step. The
    qualification clock counts as new until this has run for the lead."""
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.resp_base AS
        SELECT lead_id, rowid AS srid, policy_id, created_at AS start_at, response_at, due_at,
               owner, response_via, responded_seen_at, first_seen_at
        FROM lead_state
        WHERE response_at IS NOT NULL AND NOT coalesce(response_logged, false)
          AND policy_id IS NOT NULL
        """,
    )
    if not scalar(con, "SELECT count(*) FROM resp_base"):
        return
    # The response is the owner's the export shows beside it: the CRM owner of the export row
    # that first showed it (the newest history row at or before then), when a member; else who
    # leadsla had given the lead at the response (its assignment or latest reassignment by
    # then). Never who holds it when the tick runs: a catch-up tick sees later owners.
    # Built by CREATE, not by an UPDATE of the work table (see the response_logged UPDATE).
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.resp_src AS
        SELECT r.* REPLACE (coalesce(x.credited, r.owner) AS owner)
        FROM resp_base r LEFT JOIN (
            SELECT r.lead_id,
                   coalesce(m.member_id,
                            (SELECT arg_max(e.target, e.occurred_at) FROM sla_events e
                             WHERE e.lead_id = r.lead_id
                               AND e.event_type IN ('lead_assigned', 'reassigned')
                               AND e.occurred_at <= r.response_at)) AS credited
            FROM resp_base r
            ASOF LEFT JOIN (SELECT lead_id, valid_from, crm_owner FROM lead_history
                            WHERE lead_id IN (SELECT lead_id FROM resp_base)) h
              ON h.lead_id = r.lead_id AND r.responded_seen_at >= h.valid_from
            LEFT JOIN members m ON m.member_id = h.crm_owner
        ) x USING (lead_id)
        """,
    )
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.resp AS
        WITH c AS ({clock_sql("resp_src")})
        SELECT c.*, {pos_sql("c.response_at", "i")} - c.start_pos AS bus_us,
               (SELECT max(e.occurred_at) FROM sla_events e
                WHERE e.lead_id = c.lead_id AND e.event_type IN ('escalated', 'reassigned')
                  AND e.occurred_at < c.response_at) AS escalated_at
        FROM c {interval_at("i", "c.calendar_id", "c.response_at")}
        """,
    )
    params = {"now": now, "rules_version": rules.version}
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        SELECT {event_id_sql("lead_id", "'first_response'")}, 'first_response', lead_id, NULL,
               response_at, $now, 'response:' || response_via, policy_id, NULL, owner, NULL,
               json_object('business_minutes', round(bus_us / 6e7, 2), 'due_at', due_at,
                           'via', response_via, 'seen_at', responded_seen_at)
        FROM resp
        UNION ALL
        SELECT {event_id_sql("lead_id", "'sla_met'")}, 'sla_met', lead_id, NULL, response_at,
               $now, policy_id || '.deadline', policy_id, NULL, owner, NULL,
               json_object('business_minutes', round(bus_us / 6e7, 2), 'due_at', due_at,
                           'rules_version', $rules_version)
        FROM resp WHERE response_at <= due_at
        UNION ALL
        SELECT {event_id_sql("lead_id", "'recovered_after_escalation'")},
               'recovered_after_escalation', lead_id, NULL, response_at, $now,
               policy_id || '.recovery', policy_id, NULL, owner, NULL,
               json_object('escalated_at', escalated_at,
                           'minutes_after_escalation',
                           round(date_diff('second', escalated_at, response_at) / 60.0, 2))
        FROM resp WHERE escalated_at IS NOT NULL
        """,
        params,
    )
    # by lead id, not rowid: this runs after the reassignments, whose UPDATE of a LIST column
    # moves rows (see the note at the top); a rowid join there segfaulted DuckDB 2.0 now and
    # then, or left response_logged unset, so the next tick logged the response again
    run(
        con,
        """
        UPDATE lead_state l SET response_logged = true
        FROM resp r WHERE l.lead_id = r.lead_id
        """,
        params,
    )


STEP_EVENT = {
    "task": "task_created",
    "reminder": "reminder_sent",
    "escalate": "escalated",
    "reassign": "reassigned",
    "sla_check": "sla_missed",
}


_CLOCK_LEAD_COLS = """lead_id, policy_id, qual_policy_id, next_policy_id, hop_started_at, hop,
    owner, team, source_id, first_seen_at, evaluated_until, responded_seen_at, closed_seen_at,
    progressed_seen_at, response_at, response_logged, previous_owners"""

#: First-response clocks (the hop ladder): open, or closed by something seen after the
#: watermark (a response that showed up late still leaves the steps due before it was seen).
_FIRST_CLOCKS = """
    SELECT l.lead_id, l.policy_id, l.hop_started_at AS start_at, l.hop, l.owner, l.team,
           l.source_id, l.first_seen_at, l.evaluated_until AS low,
           least(l.responded_seen_at, l.closed_seen_at) AS done_seen_at, l.previous_owners
    FROM {src} l
    WHERE l.policy_id IS NOT NULL
      AND (least(l.responded_seen_at, l.closed_seen_at) IS NULL OR l.evaluated_until IS NULL
           OR least(l.responded_seen_at, l.closed_seen_at) > l.evaluated_until)
"""

#: Clocks that start at the response: qualification (until closing) and next-step update
#: (until the next status change or closing). One not logged yet is new this tick.
_LATER_CLOCKS = """
    SELECT l.lead_id, l.qual_policy_id AS policy_id, l.response_at AS start_at, 0 AS hop,
           l.owner, l.team, l.source_id, l.first_seen_at,
           CASE WHEN l.response_logged THEN l.evaluated_until END AS low,
           l.closed_seen_at AS done_seen_at, l.previous_owners
    FROM clock_leads l
    WHERE l.qual_policy_id IS NOT NULL AND l.response_at IS NOT NULL
      AND (l.closed_seen_at IS NULL OR l.evaluated_until IS NULL
           OR l.closed_seen_at > l.evaluated_until)
    UNION ALL
    SELECT l.lead_id, l.next_policy_id, l.response_at, 0, l.owner, l.team, l.source_id,
           l.first_seen_at,
           CASE WHEN l.response_logged THEN l.evaluated_until END,
           least(l.progressed_seen_at, l.closed_seen_at), l.previous_owners
    FROM clock_leads l
    WHERE l.next_policy_id IS NOT NULL AND l.response_at IS NOT NULL
      AND (least(l.progressed_seen_at, l.closed_seen_at) IS NULL
           OR l.evaluated_until IS NULL
           OR least(l.progressed_seen_at, l.closed_seen_at) > l.evaluated_until)
"""


def _clocks(con: duckdb.DuckDBPyConnection, now: datetime, *, full: bool) -> None:
    """The clocks this tick looks at: ``clock_src`` (first-response, the hop ladder) and
    ``later_src`` (qualification and next-step, which start at the response).

    Only clocks that can have a step due are computed: new leads, new qualification clocks,
    and leads whose ``next_step_at`` (the earliest threshold still ahead when they were last
    evaluated) has come. A new export cannot pull a threshold earlier (it can only stop a
    clock), so a lead whose next threshold lies ahead has nothing due, whatever arrived.
    ``full`` computes every open clock (after a rules change moved the thresholds)."""
    moved = (
        ""
        if full
        else (
            "AND (l.evaluated_until IS NULL OR l.next_step_at <= $now"
            " OR (l.response_at IS NOT NULL AND NOT l.response_logged))"
        )
    )
    # One scan of lead state for the leads that may have a clock to look at, with what their
    # step events say about them (so recording the steps joins this, not every lead).
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.clock_leads AS
        SELECT {_CLOCK_LEAD_COLS}, name, intent, intent_rule_id, recommended_action,
               lead_source, service_interest, record_url
        FROM lead_state l
        WHERE (l.policy_id IS NOT NULL OR l.response_at IS NOT NULL) {moved}
        """,
        {"now": now},
    )
    run(con, "CREATE OR REPLACE TABLE work.clock_src AS " + _FIRST_CLOCKS.format(src="clock_leads"))
    run(con, "CREATE OR REPLACE TABLE work.later_src AS " + _LATER_CLOCKS)
    run(
        con,
        "CREATE OR REPLACE TABLE work.evaluated AS SELECT DISTINCT lead_id FROM "
        "(SELECT lead_id FROM clock_src UNION ALL SELECT lead_id FROM later_src)",
    )
    run(con, "CREATE OR REPLACE TABLE work.next_step (lead_id VARCHAR, next_at TIMESTAMPTZ)")
    run(con, "CREATE OR REPLACE TABLE work.all_moved (lead_id VARCHAR)")


def _moved_clocks(con: duckdb.DuckDBPyConnection) -> None:
    """``clock_src`` for the next round: the new hop of each lead just reassigned, as lead
    state now says (new owner, hop + 1, started at the reassignment's threshold). Only the
    first-response clock starts again: the clocks that start at the response are computed once,
    after the last round (``later_src``), so a reassignment never records them twice."""
    run(
        con,
        "CREATE OR REPLACE TABLE work.clock_src AS "
        + _FIRST_CLOCKS.format(
            src=f"(SELECT {_CLOCK_LEAD_COLS} FROM lead_state"
            " WHERE lead_id IN (SELECT lead_id FROM moved))"
        ),
    )


def _due_steps(con: duckdb.DuckDBPyConnection, now: datetime, src: str) -> int:
    """Fill ``due_steps`` with every ladder step of the clocks in ``src`` due in
    (watermark, now], and note in ``next_step`` the earliest threshold still ahead."""
    run(
        con,
        f"""
        CREATE OR REPLACE TABLE work.due_steps AS
        WITH c AS ({clock_sql(src)}),
        s AS (
            SELECT c.*, st.step_id, st.kind, st.ord, st.step_action,
                   (CASE st.base WHEN 'start' THEN c.start_pos ELSE c.due_pos END)
                   + st.offset_us AS thr_pos
            FROM c JOIN policy_steps st USING (policy_id)
            WHERE st.kind <> 'sla_check' OR c.hop = 0
        ), t AS (
            SELECT s.*, {at_sql("s.thr_pos", "j", "s.start_at")} AS threshold_at
            FROM s {interval_of("j", "s.calendar_id", "s.thr_pos")}
        )
        SELECT * FROM t
        WHERE NOT coalesce(done_seen_at <= greatest(threshold_at, first_seen_at), false)
          AND (low IS NULL OR threshold_at IS NULL OR threshold_at > low)
        """,
    )
    # the earliest step still ahead of each clock: a tick with nothing due can skip the pass
    # (a threshold beyond the calendar horizon counts as due for a look in a month)
    run(
        con,
        """
        INSERT INTO next_step
        SELECT lead_id, min(coalesce(threshold_at, $now + INTERVAL 30 DAY)) AS next_at
        FROM due_steps WHERE threshold_at IS NULL OR threshold_at > $now GROUP BY lead_id
        """,
        {"now": now},
    )
    run(
        con, "DELETE FROM due_steps WHERE threshold_at IS NULL OR threshold_at > $now", {"now": now}
    )
    return int(scalar(con, "SELECT count(*) FROM due_steps") or 0)


def _record_steps(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Reassignments first (they pick the new owner), then every due step as an event."""
    _owners_as_of(con)
    _member_load(con)
    # New owner: same team, available, never a previous owner, spare capacity. The choice is
    # a stable hash of (lead, hop, member), not the current load: load depends on when the
    # tick runs, and the same exports must give the same events at any cadence.
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.reassign_pick AS
        WITH r AS (
            SELECT d.*, p.max_hops FROM due_steps d JOIN policies p USING (policy_id)
            WHERE d.kind = 'reassign' AND d.hop < p.max_hops
        ), cands AS (
            SELECT r.lead_id, m.member_id, coalesce(ld.open_leads, 0) AS load, m.capacity,
                   row_number() OVER (PARTITION BY r.lead_id
                       ORDER BY hash(r.lead_id || '|' || r.hop || '|' || m.member_id),
                                m.member_id)
                       AS pref
            FROM r JOIN members m ON m.team = r.team AND m.available
            LEFT JOIN member_load ld USING (member_id)
            WHERE m.member_id IS DISTINCT FROM r.owner
              AND NOT list_contains(coalesce(r.previous_owners, []), m.member_id)
              AND coalesce(ld.open_leads, 0) < m.capacity
        ), first AS (
            SELECT * FROM cands WHERE pref = 1
        )
        SELECT r.lead_id, f.member_id AS new_owner,
               f.member_id IS NOT NULL AND row_number() OVER (
                   PARTITION BY f.member_id ORDER BY r.threshold_at, r.lead_id
               ) <= f.capacity - f.load AS ok
        FROM r LEFT JOIN first f USING (lead_id)
        """,
    )
    params = {"now": now, "rules_version": rules.version}
    run(
        con,
        f"""
        INSERT INTO sla_events ({EVENT_COLS})
        WITH lag AS (
            SELECT d.lead_id, d.policy_id, d.step_id, d.hop,
                   date_diff('second', m.export_at, d.threshold_at) / 60.0 AS lag_min
            FROM due_steps d ASOF LEFT JOIN (
                SELECT source_id, export_at FROM export_manifest WHERE status = 'loaded'
            ) m ON m.source_id = d.source_id AND d.threshold_at >= m.export_at
        )
        SELECT {
            event_id_sql(
                "d.lead_id",
                "d.policy_id",
                "p.policy_version",
                "CAST(d.hop AS VARCHAR)",
                "d.step_id",
            )
        },
               CASE WHEN d.kind = 'reassign' AND coalesce(rp.ok, false) THEN 'reassigned'
                    WHEN d.kind = 'reassign' THEN 'escalated'
                    ELSE {_case_kind("d.kind")} END,
               d.lead_id, NULL, d.threshold_at, $now, d.policy_id || '.' || d.step_id,
               d.policy_id,
               CASE WHEN d.kind = 'escalate' THEN 1
                    WHEN d.kind = 'reassign' AND NOT coalesce(rp.ok, false) THEN 2 END,
               d.owner,
               CASE WHEN d.kind IN ('task', 'reminder') THEN d.owner
                    WHEN d.kind = 'escalate' THEN coalesce(m.manager, t.team_lead)
                    WHEN d.kind = 'reassign' AND coalesce(rp.ok, false) THEN rp.new_owner
                    WHEN d.kind = 'reassign' THEN t.team_lead END,
               json_object(
                   'step', d.step_id, 'hop', d.hop, 'intent', l.intent,
                   'intent_rule_id', l.intent_rule_id, 'policy_version', p.policy_version,
                   'rules_version', $rules_version, 'threshold_at', d.threshold_at,
                   'due_at', d.due_at, 'clock_started_at', d.start_at,
                   'business_minutes', round((d.thr_pos - d.start_pos) / 6e7, 2),
                   'export_lag_minutes', round(lg.lag_min, 2),
                   'seen_late', d.first_seen_at > d.threshold_at,
                   'team', d.team,
                   'recommended_action', coalesce(d.step_action, l.recommended_action),
                   'reason', CASE WHEN d.kind = 'reassign' AND rp.lead_id IS NULL
                                  THEN 'hop limit reached'
                                  WHEN d.kind = 'reassign' AND NOT coalesce(rp.ok, false)
                                  THEN 'no eligible owner' END,
                   -- the seed's task fields travel with the task; later steps refer to it
                   'task', CASE WHEN d.kind = 'task' THEN json_object(
                       'lead_name', l.name, 'owner', d.owner, 'due_at', d.due_at,
                       'lead_source', l.lead_source, 'service_interest', l.service_interest,
                       'intent', l.intent,
                       'recommended_action', coalesce(d.step_action, l.recommended_action),
                       'record_url', l.record_url, 'completion_status', 'open') END)
        FROM due_steps d
        JOIN policies p USING (policy_id)
        JOIN clock_leads l USING (lead_id)  -- what lead state said when the clocks were read
        LEFT JOIN members m ON m.member_id = d.owner
        LEFT JOIN teams t ON t.team = d.team
        LEFT JOIN reassign_pick rp ON rp.lead_id = d.lead_id AND d.kind = 'reassign'
        LEFT JOIN lag lg ON lg.lead_id = d.lead_id AND lg.policy_id = d.policy_id
             AND lg.step_id = d.step_id AND lg.hop = d.hop
        """,
        params,
    )
    n = int(scalar(con, "SELECT count(*) FROM due_steps") or 0)
    # The ladder starts again for the new owner, from the reassignment's threshold.
    run(
        con,
        """
        UPDATE lead_state l SET
            previous_owners = list_append(coalesce(l.previous_owners, []), d.owner),
            -- a CRM owner change seen after the threshold (loaded by a catch-up tick) stands
            owner = CASE WHEN later.lead_id IS NULL THEN rp.new_owner ELSE l.owner END,
            owner_origin = CASE WHEN later.lead_id IS NULL THEN 'reassigned'
                                ELSE l.owner_origin END,
            hop = l.hop + 1, hop_started_at = d.threshold_at
        FROM reassign_pick rp JOIN due_steps d ON d.lead_id = rp.lead_id AND d.kind = 'reassign'
        LEFT JOIN (SELECT DISTINCT m.lead_id, d2.threshold_at FROM crm_moves m
                   JOIN due_steps d2 ON d2.lead_id = m.lead_id AND d2.kind = 'reassign'
                   WHERE m.since > d2.threshold_at) later
          ON later.lead_id = d.lead_id
        WHERE l.lead_id = rp.lead_id AND rp.ok
        """,
    )
    run(
        con,
        """
        UPDATE lead_state l SET needs_review = 'no eligible owner'
        FROM reassign_pick rp WHERE l.lead_id = rp.lead_id AND NOT coalesce(rp.ok, false)
        """,
    )
    return n


def _owners_as_of(con: duckdb.DuckDBPyConnection) -> None:
    """Each due step names the owner as of its threshold, whenever the tick runs: the newest
    of the lead's assignment, its reassignments and the CRM owner changes to a member that an
    export dated at or before the threshold showed (a step before the assignment names the
    assigned owner). The clock's owner is lead state's, which a catch-up tick has already
    moved to what later exports say; only leads whose CRM owner changed after their first
    export can differ, so only they read the event log. ``crm_moves`` keeps those changes."""
    run(
        con,
        """
        CREATE OR REPLACE TABLE work.crm_moves AS
        SELECT h.lead_id, h.valid_from AS since, h.crm_owner AS owner
        FROM (
            SELECT lead_id, valid_from, crm_owner,
                   lag(crm_owner) OVER (PARTITION BY lead_id ORDER BY valid_from) AS prev,
                   row_number() OVER (PARTITION BY lead_id ORDER BY valid_from) AS n
            FROM lead_history WHERE lead_id IN (SELECT lead_id FROM due_steps)
        ) h JOIN members m ON m.member_id = h.crm_owner
        WHERE h.n > 1 AND h.crm_owner IS DISTINCT FROM h.prev
        """,
    )
    if not scalar(con, "SELECT count(*) FROM crm_moves"):
        return
    run(
        con,
        """
        UPDATE due_steps d SET owner = x.owner
        FROM (
            SELECT d.lead_id, d.policy_id, d.hop, d.step_id,
                   coalesce(arg_max(f.owner, f.k) FILTER (WHERE f.since <= d.threshold_at),
                            arg_min(f.owner, f.k)) AS owner
            FROM due_steps d JOIN (
                -- on a tie the reassignment comes after the export it was judged on
                SELECT lead_id, since, owner, (since, 0) AS k FROM crm_moves
                UNION ALL
                SELECT lead_id, occurred_at, target, (occurred_at, 1) FROM sla_events
                WHERE lead_id IN (SELECT lead_id FROM crm_moves) AND target IS NOT NULL
                  AND event_type IN ('lead_assigned', 'reassigned')
            ) f ON f.lead_id = d.lead_id
            GROUP BY ALL
        ) x
        WHERE x.lead_id = d.lead_id AND x.policy_id = d.policy_id AND x.hop = d.hop
          AND x.step_id = d.step_id
        """,
    )


def _case_kind(col: str) -> str:
    return (
        "CASE " + " ".join(f"WHEN {col} = '{k}' THEN '{v}'" for k, v in STEP_EVENT.items()) + " END"
    )


def evaluate(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, *, loaded: bool = True
) -> EvalResult:
    """Everything after loading, at logical time ``now``, inside the caller's transaction.
    The rule tables must be registered on ``con`` (``register_rules``). ``loaded=False`` says
    this tick loaded no export, which lets a tick with nothing due return at once."""
    work = con.execute(
        """
        SELECT count(*) FILTER (WHERE intent IS NULL),
               count(*) FILTER (WHERE policy_id IS NOT NULL AND evaluated_until IS NULL),
               count(*) FILTER (WHERE next_step_at <= $now),
               count(*) FILTER (WHERE owner IS NULL
                                AND (closed_seen_at IS NULL OR closed_seen_at > first_seen_at)
                                AND needs_review IS DISTINCT FROM 'no eligible owner'),
               count(*) FILTER (WHERE due_at IS NULL)
        FROM lead_state
        """,
        {"now": now},
    ).fetchall()[0]
    unclassified, unevaluated, due_now, unowned, no_due = work
    if not loaded and not (unclassified or unevaluated or due_now):
        # nothing arrived and no step is due yet: the watermark may stay where it is, since
        # no threshold lies between it and now (that is what next_step_at says)
        return EvalResult(0, 0, 0, 0, 0)
    # next_step_at was computed under the rules of the last tick; other rules, other clocks
    last_rules = scalar(con, "SELECT rules_version FROM tick_log ORDER BY now DESC LIMIT 1")
    full = last_rules is not None and last_rules != rules.version
    prepare(con, rules, now)
    classified = classify(con, rules, now) if unclassified else 0
    assigned = assign(con, rules, now, classified=classified > 0) if unowned or classified else 0
    if no_due or classified:
        set_due(con)
    total = reassigned = rounds = 0
    max_hops = max((p.max_hops for p in rules.policies.values()), default=0)
    _clocks(con, now, full=full)
    while rounds <= max_hops + 1:
        rounds += 1
        if not _due_steps(con, now, "clock_src"):
            break
        total += _record_steps(con, rules, now)
        run(con, "CREATE OR REPLACE TABLE work.moved AS SELECT lead_id FROM reassign_pick WHERE ok")
        moved = int(scalar(con, "SELECT count(*) FROM moved") or 0)
        reassigned += moved
        if moved == 0:
            break
        # next round: only the new hops of the leads just reassigned
        run(con, "INSERT INTO all_moved SELECT lead_id FROM moved")
        run(con, "DELETE FROM next_step WHERE lead_id IN (SELECT lead_id FROM moved)")
        _moved_clocks(con)
    # The clocks that start at the response, once, after the last reassignment: their steps
    # name the owner the ladder ended with, whichever round moved the lead.
    run(
        con,
        """
        UPDATE later_src c SET owner = l.owner, previous_owners = l.previous_owners
        FROM lead_state l
        WHERE l.lead_id = c.lead_id AND c.lead_id IN (SELECT lead_id FROM all_moved)
        """,
    )
    if _due_steps(con, now, "later_src"):
        total += _record_steps(con, rules, now)
    # after the steps, so a response seen in a catch-up tick can recover an escalation
    log_responses(con, rules, now)
    run(
        con,
        """
        UPDATE lead_state l SET evaluated_until = $now, next_step_at = n.next_at
        FROM evaluated e
        LEFT JOIN (SELECT lead_id, min(next_at) AS next_at FROM next_step GROUP BY lead_id) n
          USING (lead_id)
        WHERE l.lead_id = e.lead_id
        """,
        {"now": now},
    )
    return EvalResult(classified, assigned, total, reassigned, rounds)
