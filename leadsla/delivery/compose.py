"""What a message says, composed when delivery sends it: subject and bodies of person-facing
messages (``render_pending``, templates in :mod:`leadsla.delivery.render`) and the payload of CRM
actions (``crm_payloads``). The outbox row written with the event (engine step ``outbox``)
already fixes who gets what; the text depends only on the event and the rules, so composing it
late gives the same message.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from leadsla.delivery.render import _local, render_message
from leadsla.engine.temp_tables import register_table as _register
from leadsla.events import EventType
from leadsla.rules import RuleSet
from leadsla.rules.delivery_models import NotificationsFile
from leadsla.sql import run

#: The details fields a CRM action reads (:func:`crm_payloads`).
_CRM_FIELDS = ("task.lead_name", "due_at", "intent", "high_value", "admin_note")


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
               l.intent, l.record_url, l.city, e.lead_id, l.owner
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
        subject, text, html = render_message(rules.root / "templates" / "messages", r[1], ctx)
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
    if event_type == EventType.ISSUE_ESCALATED:
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
     details, name, source, interest, intent, url, city, lead_id, lead_owner) = r  # fmt: skip
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
    holder = target if etype == "reassigned" else (owner or lead_owner)
    named = {"owner": holder, "raiser": d.get("raised_by")}
    if role in named and named[role] != rid:  # the outbox gave a role nobody fills to a lead
        why.append(("Sent to you", f"as its team's lead: it has no {role} the org lists"))
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
