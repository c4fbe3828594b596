"""The issue ladder's messages: ``issue_rejected`` and ``issue_escalated`` events with their
rendered text and recipients.

Only the few new escalations and rejections are rendered in Python (subject line, admin note,
holding line, recipients from the org file): rendering is per message, deciding is per set
(the steps ``issue_verdict`` and ``issue_ladder``). The details are the contract: delivery
sends what they say.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import jinja2

from leadsla.events import EventType, content_id
from leadsla.rules import RuleSet

INTENT_LABEL = {"high": "High-Intent", "mid": "Mid-Intent", "low": "Low-Intent",
                "unclear": "Unqualified"}  # fmt: skip


def _env() -> jinja2.Environment:
    # Subject lines and admin notes are plain text (see issue_models.Messages); undefined
    # names fail loudly instead of rendering blanks into a message.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


def one_line(text: str) -> str:
    """No CR/LF in a subject line or note (header injection, broken admin notes)."""
    return " ".join(text.split())


def rejection_event(rules: RuleSet, row: tuple[Any, ...], now: datetime) -> dict[str, Any]:
    """One ``issue_rejected`` with the message to the raiser (what to add), from a row of
    ``sql/issue_verdict/rejections.sql``."""
    issue_id, lead_id, raised_by, seen_at, reason, miss, itype, ner, event_id = row
    known = [t.id for t in rules.issues.types]
    why = {
        "not_a_blocker": f"not a blocker ({ner})",
        "unknown_type": f"unknown issue type {itype!r}; known types: {', '.join(known)}",
        "missing_fields": "mandatory details are missing",
    }[reason]
    template = _env().from_string(rules.issues.messages.rejected)
    message = one_line(template.render(issue_id=issue_id, reason=why, missing=list(miss)))
    return {
        "event_id": event_id,
        "event_type": EventType.ISSUE_REJECTED.value,
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


def _org_team(rules: RuleSet, team: str) -> Any:
    """The org.yaml team that acts for ``team``: itself, or for a team only a feed names, the
    stand-in (issues.yaml ``feed_teams``; routing sends no other such team)."""
    stand_in = rules.issues.feed_teams.stand_in
    return rules.teams.get(team) or rules.teams[stand_in or team]


def _recipients(rules: RuleSet, r: dict[str, Any], teams: list[str]) -> tuple[list[Any], str]:
    """Who a level calls (teams, their leads, or management; plus the senior agent of a
    high-value issue), and the event's ``target``. A team only the feed names is called
    through its stand-in's lead and channel, under its own name."""
    iss, members = rules.issues, rules.members
    org_teams = {t: _org_team(rules, t) for t in teams}
    org_teams[iss.management_team] = rules.teams[iss.management_team]
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
    return recipients, target


def escalation_event(rules: RuleSet, r: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One ``issue_escalated`` with its rendered messages and recipients, from a row of the
    issue ladder's ``iesc`` (the delivery work sends them; the details are the contract)."""
    iss = rules.issues
    itype = {t.id: t for t in iss.types}[str(r["issue_type"]).strip().lower()]
    teams = list(r["teams"])
    names = [rules.teams[t].name if t in rules.teams else t for t in teams]
    ctx = {
        "intent_label": INTENT_LABEL.get(r["intent"] or "", "Unknown-Intent"),
        "type_label": itype.label,
        "city": r["city"] or "",
        "team_names": " + ".join(names) if itype.mode == "all" else " / ".join(names),
        "note_reason": itype.note_reason,
        "level": r["level"],
    }
    env = _env()
    recipients, target = _recipients(rules, r, teams)
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
        "subject": one_line(env.from_string(iss.messages.subject).render(**ctx)),
        "admin_note": one_line(env.from_string(iss.messages.admin_note).render(**ctx)),
        "holding_line": one_line(env.from_string(iss.messages.holding_line).render(**ctx)),
        "recipients": recipients,
        "rules_version": rules.version,
    }
    return {
        "event_id": content_id(r["issue_id"], EventType.ISSUE_ESCALATED, str(r["level"])),
        "event_type": EventType.ISSUE_ESCALATED.value,
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
