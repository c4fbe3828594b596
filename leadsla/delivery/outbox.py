"""Enqueue: turn the events a tick just recorded into outbox rows, in the same transaction.

Set-based: one INSERT ... SELECT joins the events recorded at ``now`` to the routes and the org
(recipient roles -> addresses), so a tick with ten thousand steps costs the same handful of
statements as one with ten. Subject and bodies are rendered later, when delivery sends a row
(``render_pending``). ``message_id`` is derived from content (event, channel, recipient), so
re-running a tick at the same ``now`` enqueues nothing twice; it is the email ``Message-ID``
and the webhook ``Idempotency-Key``, which lets receivers de-duplicate across a crash.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from leadsla.delivery.render import _local, render
from leadsla.engine.temp_tables import register_table as _register
from leadsla.rules import RuleSet
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.sql import run, scalar
from leadsla.state import EVENT_COLS, event_id_sql

#: Events that leave a CRM action (write-back), whether or not a person is notified.
CRM_EVENTS = ("task_created", "reassigned", "escalated", "issue_escalated")


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


_RCPT = "coalesce(a.address, a.role || ':' || coalesce(a.rid, '?'))"

#: The details fields routing reads, parsed once per event (a JSON path per field would parse
#: every event's details once per field).
_FIELDS = ("step", "intent", "team", "raised_by")

#: The details fields a CRM action reads (:func:`crm_payloads`).
_CRM_FIELDS = ("task.lead_name", "due_at", "intent", "high_value", "admin_note")

#: Events that do not say their owner, intent or team take them from lead state: a join over
#: every lead, so it runs only when some event needs it.
FILL_FROM_STATE = """
UPDATE notif_ev n SET owner = coalesce(n.owner, l.owner), intent = coalesce(n.intent, l.intent),
       team = coalesce(n.team, l.team)
FROM lead_state l
WHERE l.lead_id = n.lead_id AND (n.owner IS NULL OR n.intent IS NULL OR n.team IS NULL)
"""

ENQUEUE_SQL = f"""
CREATE OR REPLACE TABLE work.notif_ev AS
WITH e AS (
    SELECT event_id, event_type, lead_id, issue_id, level, owner, target, policy_id,
           json_extract_string(details, {[f"$.{f}" for f in _FIELDS]}) AS x,
           -- issue events carry their teams and resolved recipients; nothing else needs the
           -- whole document, and keeping it out keeps the joins and windows below narrow
           CASE WHEN issue_id IS NOT NULL THEN details END AS issue_details
    FROM sla_events
    WHERE recorded_at = $now AND list_contains($event_types, event_type)
      -- an event recorded at now can only have outbox rows created at now (same
      -- transaction): looking only there keeps a re-run cheap however large the outbox grows
      AND event_id NOT IN (SELECT event_id FROM outbox WHERE created_at = $now)
)
SELECT e.* EXCLUDE (x), {
    ", ".join(f"x[{i + 1}] AS {f.replace('.', '_')}" for i, f in enumerate(_FIELDS))
},
       ps.kind AS step_kind
FROM e LEFT JOIN policy_steps ps ON ps.policy_id = e.policy_id AND ps.step_id = x[1];

CREATE OR REPLACE TABLE work.notif_new AS
WITH pick AS (  -- the first route (file order) whose conditions the event meets
    SELECT ev.event_id, arg_min(r.route_id, r.ord) AS route_id
    FROM notif_ev ev JOIN notif_routes r ON r.event_type = ev.event_type
     AND (r.step_kinds IS NULL OR list_contains(r.step_kinds, ev.step_kind))
     AND (r.levels IS NULL OR list_contains(r.levels, ev.level))
     AND (r.intents IS NULL OR list_contains(r.intents, ev.intent))
    GROUP BY ev.event_id
), m AS (
    SELECT ev.*, r.route_id, r.urgency
    FROM notif_ev ev JOIN pick USING (event_id) JOIN notif_routes r USING (route_id)
), t AS (
    SELECT m.*, tg.role, tg.channel, tg.tord,
           unnest(CASE WHEN json_type(m.issue_details->'teams') = 'ARRAY'
                       THEN CAST(m.issue_details->'teams' AS VARCHAR[]) ELSE [m.team] END)
               AS eteam
    FROM m JOIN notif_targets tg USING (route_id)
), w AS (  -- who: a member id for person roles
    SELECT t.*, coalesce(t.eteam, om.team) AS rteam,
           CASE t.role
               WHEN 'owner' THEN CASE WHEN t.event_type = 'reassigned' THEN t.target
                                      ELSE t.owner END
               WHEN 'manager' THEN coalesce(om.manager, tm.team_lead)
               WHEN 'team_lead' THEN tm.team_lead
               WHEN 'raiser' THEN t.raised_by
               WHEN 'senior_agent' THEN sa.member_id END AS member_id
    FROM t
    LEFT JOIN members om ON om.member_id = t.owner
    LEFT JOIN teams tm ON tm.team = coalesce(t.eteam, om.team)
    LEFT JOIN (SELECT team, arg_min(member_id, ord) AS member_id FROM members
               WHERE seniority = 'senior' AND available GROUP BY team) sa
      ON sa.team = coalesce(t.eteam, om.team)
), issue_rcpt AS (  -- issue events carry their own resolved recipients (issue ladder)
    SELECT w.event_id, w.role, r->>'id' AS rid, r->>'email' AS remail
    FROM (SELECT DISTINCT event_id, role, issue_details FROM w WHERE issue_id IS NOT NULL) w,
         unnest(CAST(coalesce(w.issue_details->'recipients', '[]') AS JSON[])) AS u(r)
    WHERE r->>'role' = w.role
), a AS (
    SELECT w.*, mm.member_id AS rid,
           CASE w.channel WHEN 'email' THEN coalesce(ir.remail, mm.email)
                          WHEN 'slack' THEN mm.slack_id
                          WHEN 'whatsapp' THEN mm.phone
                          WHEN 'webhook' THEN 'member:' || mm.member_id END AS address,
           coalesce(mm.calendar_id, tc.calendar_id) AS calendar_id
    FROM w
    LEFT JOIN issue_rcpt ir ON ir.event_id = w.event_id AND ir.role = w.role
    LEFT JOIN members mm ON mm.member_id = coalesce(ir.rid, w.member_id)
    LEFT JOIN teams tc ON tc.team = w.rteam
    WHERE w.role NOT IN ('management', 'team_channel')
    UNION ALL BY NAME
    SELECT w.*, w.rteam AS rid,
           CASE WHEN w.channel IN ('slack', 'teams', 'whatsapp') THEN tm.channel
                WHEN w.channel = 'webhook' THEN 'team:' || w.rteam END AS address,
           tm.calendar_id
    FROM w LEFT JOIN teams tm ON tm.team = w.rteam
    WHERE w.role = 'team_channel'
    UNION ALL BY NAME
    SELECT w.*, 'management' AS rid, g.email AS address, $default_calendar AS calendar_id
    FROM (SELECT DISTINCT ON (event_id, channel) * FROM w WHERE role = 'management') w,
         notif_mgmt g
)
SELECT {event_id_sql("a.event_id", "a.channel", _RCPT)} AS message_id, a.*
FROM a
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY a.tord) = 1;

INSERT INTO outbox (message_id, event_id, event_type, lead_id, issue_id, channel, recipient,
                    recipient_role, team, urgency, status, attempts, next_attempt_at,
                    last_error, created_at, route_id, calendar_id, recipient_id)
SELECT message_id, event_id, event_type, lead_id, issue_id, channel,
       coalesce(address, role || ':' || coalesce(rid, '?')), role, rteam, urgency,
       CASE WHEN address IS NULL THEN 'dead' ELSE 'pending' END, 0,
       CASE WHEN urgency = 'digest'
            THEN time_bucket(to_minutes($digest_minutes), $now) + to_minutes($digest_minutes)
            ELSE $now END,
       CASE WHEN address IS NULL
            THEN 'no ' || channel || ' address for ' || role || ' ' || coalesce(rid, '?') END,
       $now, route_id, calendar_id, rid
FROM notif_new
WHERE message_id NOT IN (SELECT message_id FROM outbox WHERE created_at = $now);

INSERT INTO sla_events ({EVENT_COLS})
SELECT {event_id_sql("message_id", "'notification_dead'")}, 'notification_dead', lead_id,
       issue_id, $now, $now, 'delivery:' || route_id, NULL, NULL, NULL, recipient,
       json_object('message_id', message_id, 'event_id', event_id, 'channel', channel,
                   'attempts', 0, 'error', last_error)
FROM outbox WHERE created_at = $now AND status = 'dead' AND attempts = 0
  AND message_id NOT IN (SELECT json_extract_string(details, '$.message_id') FROM sla_events
                         WHERE event_type = 'notification_dead' AND recorded_at = $now);

INSERT INTO outbox (message_id, event_id, event_type, lead_id, issue_id, channel, recipient,
                    recipient_role, team, urgency, status, attempts, next_attempt_at,
                    created_at)
SELECT {event_id_sql("ev.event_id", "c.channel")}, ev.event_id, ev.event_type, ev.lead_id,
       ev.issue_id, c.channel, 'crm', 'crm', ev.team, 'normal', 'pending', 0, $now, $now
FROM notif_ev ev, (SELECT unnest($crm_channels) AS channel) c
WHERE list_contains($crm_events, ev.event_type)
  AND ({event_id_sql("ev.event_id", "c.channel")}) NOT IN (
      SELECT message_id FROM outbox WHERE created_at = $now);
"""


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
        "crm_events": list(CRM_EVENTS),
        "crm_channels": crm_channels,
        "digest_minutes": n.digest.every_minutes,
        "default_calendar": rules.org.default_calendar,
        "event_types": sorted({r.when.event_type for r in n.routes} | set(CRM_EVENTS)),
    }
    first, *rest = [stmt for stmt in ENQUEUE_SQL.split(";\n") if stmt.strip()]
    run(con, first, params)
    if scalar(
        con,
        "SELECT count(*) FROM notif_ev WHERE lead_id IS NOT NULL "
        "AND (owner IS NULL OR intent IS NULL OR team IS NULL)",
    ):
        run(con, FILL_FROM_STATE)
    for stmt in rest:
        run(con, stmt, params)
    return int(scalar(con, "SELECT count(*) FROM outbox") or 0) - before


CRM_PAYLOAD_SQL = f"""
UPDATE outbox t SET payload = p.payload
FROM (
    SELECT o.message_id, json_object(
           'action', CASE e.event_type WHEN 'task_created' THEN 'create_task'
                         WHEN 'reassigned' THEN 'reassign' WHEN 'escalated' THEN 'update_priority'
                         ELSE 'add_note' END,
           'lead_id', e.lead_id, 'issue_id', e.issue_id, 'event_type', e.event_type,
           'owner', CASE WHEN e.event_type = 'reassigned' THEN e.target ELSE e.owner END,
           'task_subject', CASE WHEN e.event_type = 'task_created'
                                THEN 'First response: ' || coalesce(e.x[1], e.lead_id) END,
           'task_due_at', CASE WHEN e.event_type = 'task_created' THEN e.x[2] END,
           'priority', CASE WHEN e.event_type = 'escalated'
                              OR (e.event_type = 'issue_escalated'
                                  AND coalesce(TRY_CAST(e.x[4] AS BOOLEAN), false)) THEN 'High'
                            WHEN e.event_type = 'task_created' AND e.x[3] = 'high'
                            THEN 'High' END,
           'note', CASE WHEN e.event_type = 'issue_escalated' THEN e.x[5]
                        WHEN e.event_type = 'reassigned'
                        THEN 'Reassigned by leadsla: no response from ' || e.owner END)
           AS payload
    FROM outbox o JOIN (
        SELECT event_id, event_type, lead_id, issue_id, owner, target,
               json_extract_string(details, {[f"$.{f}" for f in _CRM_FIELDS]}) AS x
        FROM sla_events
    ) e USING (event_id)
    WHERE o.channel LIKE 'crm%' AND o.payload IS NULL AND {{due}}
) p
WHERE t.message_id = p.message_id
"""


def crm_payloads(con: duckdb.DuckDBPyConnection, due: str, params: dict[str, Any]) -> None:
    """``payload`` (the CRM action) of the CRM rows about to be delivered (``due``, an SQL
    condition on ``o``) that have none yet.

    Like subject and bodies (:func:`render_pending`) it waits until a row is delivered: the
    outbox row written with the event fixes which action goes where, and a tick whose CRM
    write-back nobody collects (or a first load of a CRM's history) builds no JSON for it. The
    action depends only on its event, so building it later gives the same payload."""
    run(con, CRM_PAYLOAD_SQL.format(due=due), params)


def render_pending(
    con: duckdb.DuckDBPyConnection,
    rules: RuleSet,
    n: NotificationsFile,
    now: datetime,
    due: str,
    params: dict[str, Any],
) -> None:
    """Subject and bodies for the messages about to be sent (``due``, an SQL condition on
    ``o``) that have none yet.

    Rendering waits until a message is due on a usable channel: the outbox row written with
    the event already fixes who gets what (recipient, channel, idempotency key, the event's
    immutable details), and a first load of a CRM's history, or a tick with no channel
    configured, must not render hundreds of thousands of messages nobody will receive. The
    text depends only on the event and the rules, so rendering later gives the same message."""
    cur = con.execute(
        f"""
        SELECT o.message_id, o.event_type, o.recipient_role, o.recipient_id, o.calendar_id,
               e.rule_id, e.policy_id, e.level, e.owner, e.target, e.occurred_at,
               CAST(e.details AS VARCHAR), l.name, l.lead_source, l.service_interest,
               l.intent, l.record_url, l.city, e.lead_id
        FROM outbox o JOIN sla_events e USING (event_id)
        LEFT JOIN lead_state l ON l.lead_id = e.lead_id
        WHERE o.subject IS NULL AND o.channel NOT LIKE 'crm%' AND {due}
        """,
        {k: v for k, v in params.items() if f"${k}" in due},
    )
    rows = cur.fetchall()
    out: dict[str, list[Any]] = {"message_id": [], "subject": [], "body_text": [], "body_html": []}
    for r in rows:
        ctx = context(rules, n, r, now)
        subject, text, html = render(rules.root / "templates" / "messages", r[1], ctx)
        out["message_id"].append(r[0])
        out["subject"].append(subject)
        out["body_text"].append(text)
        out["body_html"].append(html)
    if not rows:
        return
    _register(con, "rendered", pa.table(out), work=True)
    run(
        con,
        """
        UPDATE outbox o SET subject = r.subject, body_text = r.body_text,
               body_html = r.body_html
        FROM rendered r WHERE o.message_id = r.message_id
        """,
    )


def _name(rules: RuleSet, member_id: str | None) -> str:
    m = rules.members.get(member_id or "")
    return m.name if m else (member_id or "nobody")


def next_step_text(
    rules: RuleSet, event_type: str, policy_id: str | None, d: dict[str, Any]
) -> str:
    """What happens next if nobody acts, from the policy ladder (or the issue ladder)."""
    if event_type == "issue_escalated":
        level = int(d.get("level") or 1)
        return (
            f"it goes to level {level + 1} ({'team lead' if level == 1 else 'management'})"
            if level < 3
            else "management tracks it until closure"
        )
    p = rules.policies.get(policy_id or "")
    step = d.get("step")
    if p is None or step is None:
        return ""
    ids = [s.id for s in p.steps]
    if step not in ids:
        return ""
    later = p.steps[ids.index(step) + 1 :]
    if not later:
        return "the SLA miss is logged for the daily review"
    nxt = later[0]
    what = {
        "task": "a task is created",
        "reminder": "the owner is reminded",
        "escalate": "the owner's manager is alerted",
        "reassign": "the lead is reassigned to another owner",
    }[nxt.kind]
    return f"{what} (step {nxt.id})"


def context(
    rules: RuleSet, n: NotificationsFile, r: tuple[Any, ...], now: datetime
) -> dict[str, Any]:
    (mid, etype, role, rid, cal_id, rule_id, policy_id, level, owner, target, occurred,
     details, name, source, interest, intent, url, city, lead_id) = r  # fmt: skip
    d: dict[str, Any] = json.loads(details) if details else {}
    cal = rules.calendars.get(cal_id or rules.org.default_calendar)
    tz = cal.timezone if cal else "UTC"
    due = d.get("due_at")
    overdue = 0.0
    if due:
        due_t = datetime.fromisoformat(str(due))
        overdue = round(max(0.0, (now - due_t).total_seconds() / 60), 1)
    recipient_name = (
        _name(rules, rid)
        if role not in ("management", "team_channel")
        else ("team" if role == "team_channel" else "management team")
    )
    why = [
        ("Rule", rule_id or "-"),
        ("Fired at", _local(occurred, tz)),
        ("Due", _local(due, tz)),
        ("Minutes overdue", str(overdue)),
    ]
    if etype.startswith("issue_"):
        why = [("Rule", rule_id or "-"), ("Reason", str(d.get("reason", "-")))]
    return {
        "message_id": mid,
        "event_type": etype,
        "rule_id": rule_id or "-",
        "role": role,
        "recipient_name": recipient_name,
        "tz": tz,
        "org": rules.org.name,
        "level": level,
        "d": d,
        "lead": {
            "id": lead_id,
            "name": name or d.get("lead_name"),
            "source": source,
            "service_interest": interest,
            "intent": intent,
            "record_url": url or d.get("record_url"),
            "city": city,
        },
        "owner_name": _name(rules, owner),
        "previous_owner_name": _name(rules, owner),
        "new_owner_name": _name(rules, target),
        "due_at": due,
        "minutes_overdue": overdue,
        "reason": d.get("reason"),
        "recommended_action": d.get("recommended_action"),
        "completion_status": d.get("completion_status", "open"),
        "next_step": next_step_text(rules, etype, policy_id, d),
        "holding_line": d.get("holding_line") or n.holding_line,
        "why": why,
    }
