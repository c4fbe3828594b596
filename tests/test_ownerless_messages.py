"""Every message goes to someone real: a lead without an owner (the review queue out of
capacity), an owner or a team the org does not list, is told to the lead of its team (else of
routing's default team), never to an owner called "?"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.delivery.senders import Senders
from leadsla.delivery.timeouts import SendLimits
from leadsla.engine.outbox import enqueue
from leadsla.engine.rule_tables import register_rules
from leadsla.events import EventType, content_id, insert_events
from leadsla.pipelines.tick import run_tick
from leadsla.rules import RuleSet, load_rules
from leadsla.smtp import SmtpSettings

from ._stepdb import rows, step_db
from .conftest import SmtpSink, WriteLeads

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(REPO / "sla_rules")


def _resolves(rules: RuleSet, r: dict[str, Any]) -> bool:
    """The row names a member, a team of the org, or the management list."""
    if r["recipient_role"] == "management":
        return r["recipient_id"] == "management" and r["recipient"] in rules.org.management
    if r["recipient_role"] == "team_channel":
        return r["recipient_id"] in rules.teams
    return r["recipient_id"] in rules.members


# owners: a member, someone the org does not list, nobody; teams: one of the org's, a team it
# does not have, none (the event does not say)
OWNERS = st.sampled_from(["rahul", "kavya", "divya", "ghost", None])
TEAMS = st.sampled_from(["inbound", "review", "solutions", "nowhere", None])
KINDS = st.sampled_from(
    [
        (EventType.TASK_CREATED, None, "task"),
        (EventType.REMINDER_SENT, None, "reminder"),
        (EventType.ESCALATED, 1, "escalate"),
        (EventType.ESCALATED, 2, "escalate"),
        (EventType.REASSIGNED, None, "reassign"),
        (EventType.ISSUE_REJECTED, None, None),  # to the raiser: a member, a stranger, nobody
    ]
)
EVENTS = st.lists(
    st.tuples(KINDS, OWNERS, OWNERS, TEAMS, st.sampled_from(["high", "mid", "low", "unclear"])),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EVENTS)
def test_every_message_resolves_to_a_member_or_a_team(
    rules: RuleSet, evs: list[tuple[Any, ...]]
) -> None:
    con = step_db()
    register_rules(con, rules)
    batch = []
    for i, ((kind, level, step), owner, target, team, intent) in enumerate(evs):
        lead = f"L{i}"
        details = {"step": step, "intent": intent, **({"team": team} if team else {})}
        issue = None
        if kind == EventType.ISSUE_REJECTED:
            details, issue = {"raised_by": owner, "reason": "missing_fields"}, f"I{i}"
        batch.append(
            {"event_id": content_id(lead, kind, str(level)), "event_type": kind.value,
             "lead_id": lead, "issue_id": issue, "occurred_at": NOW, "recorded_at": NOW,
             "level": level, "owner": owner, "target": target, "details": json.dumps(details)}
        )  # fmt: skip
    insert_events(con, batch)
    enqueue(con, rules, NOW)
    people = rows(
        con,
        "SELECT recipient, recipient_role, recipient_id, status, last_error FROM outbox "
        "WHERE channel NOT LIKE 'crm%'",
    )
    assert people  # every event above has a route with a person or a team on it
    for r in people:
        assert _resolves(rules, r), r
        assert not r["recipient"].endswith(":?"), r
        assert r["status"] == "pending", r  # the shipped org has an address for each of them
    dead = rows(con, "SELECT * FROM sla_events WHERE event_type = 'notification_dead'")
    assert dead == []


def test_a_named_owner_still_gets_their_own_message(rules: RuleSet) -> None:
    """The fallback is for nobody, not instead of somebody: a member who owns the lead (or
    is reassigned it) is the one told."""
    con = step_db()
    register_rules(con, rules)
    insert_events(
        con,
        [
            {"event_id": content_id("A", "t"), "event_type": "task_created", "lead_id": "A",
             "occurred_at": NOW, "recorded_at": NOW, "owner": "divya",
             "details": json.dumps({"step": "task", "intent": "high", "team": "inbound"})},
            {"event_id": content_id("B", "t"), "event_type": "task_created", "lead_id": "B",
             "occurred_at": NOW, "recorded_at": NOW, "owner": None,
             "details": json.dumps({"step": "task", "intent": "high", "team": "solutions"})},
        ],
    )  # fmt: skip
    enqueue(con, rules, NOW)
    got = rows(
        con,
        "SELECT lead_id, recipient, recipient_id FROM outbox WHERE channel = 'email' "
        "ORDER BY lead_id",
    )
    assert [(r["lead_id"], r["recipient_id"]) for r in got] == [("A", "divya"), ("B", "arjun")]


def test_a_lead_the_full_review_queue_cannot_take_is_told_to_the_queues_lead(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    """The Olist case through a real tick: the review queue has no spare capacity, so the
    unclear lead never gets an owner; its task goes to the queue's lead, not to "owner:?"."""
    path = rules_dir / "org.yaml"
    org = yaml.safe_load(path.read_text(encoding="utf-8"))
    for m in org["members"]:
        if m["team"] == "review":
            m["capacity"] = 0
    path.write_text(yaml.safe_dump(org, sort_keys=False), encoding="utf-8")
    write_leads(
        "20261123T040500Z",
        [{"lead_id": "U1", "created_at": "2026-11-23 09:35", "name": "U", "email": "u@x.io",
          "form_type": "contact_form", "status": "new"}],  # no service interest: unclear
    )  # fmt: skip
    db = tmp_path / "t.duckdb"
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 14:30 IST: past the reminder too
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=now)
    with duckdb.connect(str(db), read_only=True) as con:
        state = con.execute("SELECT owner, team FROM lead_state WHERE lead_id = 'U1'").fetchall()
        out = con.execute(
            "SELECT event_type, recipient, recipient_role, recipient_id, status FROM outbox "
            "WHERE lead_id = 'U1' AND channel = 'email' ORDER BY event_type"
        ).fetchall()
    assert state == [(None, "review")]
    assert out == [
        ("reminder_sent", "kavya@acme.example", "owner", "kavya", "pending"),
        ("task_created", "kavya@acme.example", "owner", "kavya", "pending"),
    ]


def test_the_teams_lead_is_mailed_and_told_why(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    smtp_sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    """Through a real SMTP server on loopback: the high-intent task of a lead nobody in a full
    team can take reaches the team's lead, whose mail says why it came to them."""
    sink, port = smtp_sink
    path = rules_dir / "org.yaml"
    org = yaml.safe_load(path.read_text(encoding="utf-8"))
    for m in org["members"]:
        if m["team"] == "inbound":
            m["capacity"] = 0
    path.write_text(yaml.safe_dump(org, sort_keys=False), encoding="utf-8")
    write_leads(
        "20261123T040500Z",
        [{"lead_id": "H1", "created_at": "2026-11-23 09:35", "name": "H", "email": "h@x.io",
          "form_type": "contact_form", "service_interest": "seo", "status": "new"},
         {"lead_id": "H2", "created_at": "2026-11-23 09:35", "name": "D", "email": "d@x.io",
          "form_type": "contact_form", "service_interest": "implementation", "status": "new",
          "owner": "divya"}],
    )  # fmt: skip
    channels = Senders(smtp=SmtpSettings(host="127.0.0.1", port=port, sender="sla@acme.example",
                                         timeouts=SendLimits(2, 5, 10)))  # fmt: skip
    now = datetime(2026, 11, 23, 4, 6, tzinfo=UTC)  # 09:36 IST
    run_tick(rules_dir=rules_dir, exports=str(exports), db=tmp_path / "t.duckdb", now=now,
             channels=channels)  # fmt: skip
    got = {tuple(r): m.get_body(("plain",)).get_content() for r, m in sink.messages}
    assert sorted(got) == [("divya@acme.example",), ("priya@acme.example",)]  # priya: inbound
    text = got[("priya@acme.example",)]
    assert "Hi Priya Nair" in text
    assert "as its team's lead: it has no owner the org lists" in text
    assert "Hi Divya Menon" in got[("divya@acme.example",)]
    assert "team's lead" not in got[("divya@acme.example",)]  # she owns hers: no stand-in
