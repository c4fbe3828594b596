"""Delivery as a specification, against real servers on loopback: an aiosmtpd server that
accepts, refuses and recovers; an ``http.server`` standing in for Slack, Teams and webhooks;
a subprocess SIGKILLed at every step of delivery; quiet hours, budgets and suppression at a
frozen ``now``."""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from leadsla.cli import main
from leadsla.delivery.deliver import deliver
from leadsla.delivery.render import mask
from leadsla.delivery.safety import clean_line, csv_cell
from leadsla.delivery.senders import Outgoing, SendError, Senders
from leadsla.delivery.timeouts import SendLimits
from leadsla.engine.outbox import enqueue
from leadsla.engine.rule_tables import register_rules
from leadsla.events import EVENT_COLS
from leadsla.pipelines.tick import Ticker, run_tick
from leadsla.rules import RulesInvalid, load_rules
from leadsla.smtp import SmtpSettings
from leadsla.store import DuckDBStore, transaction

from .conftest import REPO, SmtpSink, WriteLeads

IST = "+05:30"
HIGH = {"form_type": "contact_form", "service_interest": "seo", "status": "new", "email": "a@x.io",
        "owner": "rahul", "lead_source": "website"}  # fmt: skip


def at(hhmm: str, day: int = 23) -> datetime:
    """Monday 23 Nov 2026 (office 09:30-18:30 IST) at local ``hhmm``."""
    return datetime.fromisoformat(f"2026-11-{day:02d}T{hhmm}:00{IST}").astimezone(UTC)


# ---- a real SMTP server on loopback (tests/conftest.py) ------------------------------------


@pytest.fixture
def sink(smtp_sink: tuple[SmtpSink, int]) -> tuple[SmtpSink, int]:
    return smtp_sink


def email_channels(port: int) -> Senders:
    return Senders(smtp=SmtpSettings(host="127.0.0.1", port=port, sender="sla@acme.example",
                                      timeouts=SendLimits(2, 5, 10)))  # fmt: skip


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def note_events(db: Path) -> Counter[str]:
    return Counter(
        r[0] for r in rows(db, "SELECT event_type FROM sla_events WHERE event_type LIKE 'notif%'")
    )


# ---- 1. the right messages, once -------------------------------------------------------------


@pytest.mark.slow
def test_task_email_arrives_once_with_both_parts_and_escaped_crm_text(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    smtp_sink, port = sink
    evil = "<script>alert(1)</script> Zoë\r\nBcc: victim@evil.example"
    write_leads("20261123T040500Z", [{**HIGH, "lead_id": "H1", "name": evil,
                                      "created_at": "2026-11-23 09:35"}])  # fmt: skip
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("09:36"),
             channels=email_channels(port))  # fmt: skip
    assert len(smtp_sink.messages) == 1
    rcpts, msg = smtp_sink.messages[0]
    assert rcpts == ["rahul@acme.example"]  # the owner, from org.yaml
    (mid,) = rows(db, "SELECT message_id FROM outbox WHERE channel = 'email'")[0]
    assert msg["Message-ID"] == f"<{mid}@leadsla>"
    assert msg["Subject"].startswith("New lead to call: <script>")
    assert "\n" not in msg["Subject"]
    assert "Bcc" not in msg
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Due:" in text
    assert "H1" in text
    assert "Call within 15 minutes" in text
    assert "the owner is reminded" in text  # what happens next if nobody acts
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "high_first_response.task" in html  # why: the rule
    # a re-run at the same now and a later idle tick send nothing again
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("09:36"),
             channels=email_channels(port))  # fmt: skip
    assert len(smtp_sink.messages) == 1
    assert note_events(db)["notification_sent"] == 2  # the email and the CRM file row
    # CRM write-back: one import-ready file for the tick, with the task
    (crm,) = list((tmp_path / "crm_outbox").glob("*.csv"))
    assert crm.name == "crm_actions_20261123T040600Z.csv"
    got = list(csv.DictReader(crm.open(encoding="utf-8")))
    assert [(r["action"], r["lead_id"], r["owner"], r["priority"]) for r in got] == [
        ("create_task", "H1", "rahul", "High")
    ]
    assert got[0]["task_subject"].startswith("First response: <script>")


@pytest.mark.slow
def test_smtp_refuses_then_recovers_every_message_arrives_once(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    sink: tuple[SmtpSink, int], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    smtp_sink, port = sink
    write_leads("20261123T040500Z", [{**HIGH, "lead_id": "H2", "created_at": "2026-11-23 09:35"}])
    db = tmp_path / "t.duckdb"
    smtp_sink.refuse = "451 4.3.0 try again later"
    caplog.set_level(logging.WARNING, logger="leadsla.delivery")
    with Ticker(rules_dir=rules_dir, exports=str(exports), db=db,
                channels=email_channels(port)) as t:  # fmt: skip
        for hhmm in ("09:36", "09:41", "09:46", "09:51"):  # down for a stretch of ticks
            t.tick(at(hhmm))
        assert smtp_sink.messages == []
        failed = t.store.con.execute(
            "SELECT count(*) FROM sla_events WHERE event_type = 'notification_failed'"
        ).fetchall()[0][0]
        assert failed >= 3  # attempts at 09:36, after backoff, ... each on the record
        smtp_sink.refuse = None
        for hhmm in ("10:10", "10:15", "10:20"):  # up again (past the longest backoff)
            t.tick(at(hhmm))
    ids = smtp_sink.ids()
    assert ids
    assert set(ids.values()) == {1}
    pending = rows(db, "SELECT count(*) FROM outbox WHERE channel = 'email' "
                       "AND status NOT IN ('sent', 'suppressed')")  # fmt: skip
    assert pending == [(0,)]
    sent = rows(db, "SELECT count(*) FROM sla_events WHERE event_type = 'notification_sent' "
                    "AND details->>'channel' = 'email'")  # fmt: skip
    assert sent == [(len(ids),)]  # one record per message that arrived
    assert "451" in caplog.text
    assert "failed (attempt 1)" in caplog.text
    errors = rows(db, "SELECT DISTINCT details->>'error' FROM sla_events "
                      "WHERE event_type = 'notification_failed'")  # fmt: skip
    assert errors == [("smtp: 451 4.3.0 try again later",)]


# ---- 2. HTTP channels against a local server -------------------------------------------------


class Hook:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.statuses: list[int] = []  # answered in order; 200 when exhausted
        self.reply: dict[str, Any] = {}


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    h = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            h.requests.append((self.path, dict(self.headers), body))
            status = h.statuses.pop(0) if h.statuses else 200
            data = json.dumps(h.reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield h, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


OUT = Outgoing("abc123", "teams", "#inbound-sales", "Escalation L1", "Call now", "<p>x</p>",
               {"lead_id": "H"})  # fmt: skip


@pytest.mark.parametrize(
    ("channel", "recipient", "key", "path", "shape"),
    [
        # Slack incoming webhook (team channel): blocks with the subject in bold
        ("slack", "#inbound-sales", "slack:#inbound-sales", "/slack",
         lambda b: b["blocks"][0]["text"]["text"] == "*Escalation L1*"),
        # Teams incoming webhook: an Adaptive Card
        ("teams", "#inbound-sales", "teams:#inbound-sales", "/teams",
         lambda b: b["attachments"][0]["content"]["type"] == "AdaptiveCard"),
        # WhatsApp gateway: to + text
        ("whatsapp", "+919800000001", "whatsapp", "/wa",
         lambda b: b["to"] == "+919800000001" and "Call now" in b["text"]),
        # generic webhook: the message and its payload
        ("webhook", "member:rahul", "webhook", "/hook",
         lambda b: b["message_id"] == "abc123" and b["lead_id"] == "H"),
    ],
)  # fmt: skip
def test_http_channels_payloads_and_idempotency_key(
    hook: tuple[Hook, str], channel: str, recipient: str, key: str, path: str, shape: Any
) -> None:
    h, base = hook
    ch = Senders(endpoints={key: base + path})
    out = Outgoing(OUT.key, channel, recipient, OUT.subject, OUT.text, OUT.html, OUT.payload)
    assert ch.configured(channel, recipient)
    ch.send(out)
    (got_path, headers, body) = h.requests[0]
    assert got_path == path
    assert headers["Idempotency-Key"] == "abc123"
    assert shape(body)


def test_slack_dm_uses_the_bot_token_and_reports_api_errors(hook: tuple[Hook, str]) -> None:
    h, base = hook
    ch = Senders(endpoints={"slack:bot": "xoxb-secret-token"}, slack_api_url=base + "/api")
    h.reply = {"ok": True}
    ch.send(Outgoing("k1", "slack", "U123", "Reminder", "text", "", {}))
    path, headers, body = h.requests[0]
    assert path == "/api/chat.postMessage"
    assert body["channel"] == "U123"
    assert headers["Authorization"] == "Bearer xoxb-secret-token"
    h.reply = {"ok": False, "error": "channel_not_found"}
    with pytest.raises(SendError) as exc:
        ch.send(Outgoing("k2", "slack", "U404", "Reminder", "text", "", {}))
    assert not exc.value.transient
    assert "xoxb" not in str(exc.value)


@pytest.mark.slow
def test_5xx_is_retried_later_4xx_is_dead_at_once(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    hook: tuple[Hook, str], sink: tuple[SmtpSink, int], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """The manager escalation goes to #inbound-sales over Slack: a 503 is retried after
    backoff and arrives once; a CRM webhook answering 400 is not retried."""
    caplog.set_level(logging.WARNING, logger="leadsla.delivery")
    h, base = hook
    _, port = sink
    write_leads("20261123T040500Z", [{**HIGH, "lead_id": "H3", "created_at": "2026-11-23 09:35"}])
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("09:56"))  # queue only
    secret = base + "/slack/T000/B000/SECRETSECRET"
    ch = Senders(smtp=email_channels(port).smtp,
                  endpoints={"slack:#inbound-sales": secret, "crm": base + "/crm"})  # fmt: skip
    h.statuses = [503]
    rules = load_rules(rules_dir)
    with DuckDBStore(db) as store:
        first = deliver(store, rules, ch, at("09:56"), crm_dir=tmp_path / "crm")
    slack = [r for r in h.requests if r[0].startswith("/slack")]
    crm = [r for r in h.requests if r[0] == "/crm"]
    assert len(slack) == 1
    assert first.failed >= 1
    # all CRM webhook calls got 200 after the one 503 went to Slack: now make the CRM refuse
    assert crm
    assert all(r[1]["Idempotency-Key"] for r in crm)
    with DuckDBStore(db) as store:
        again = deliver(store, rules, ch, at("09:56") + timedelta(seconds=30))
    assert again.sent == 0  # backoff not over: nothing retried yet
    with DuckDBStore(db) as store:
        later = deliver(store, rules, ch, at("10:10"), crm_dir=tmp_path / "crm")
    slack = [r for r in h.requests if r[0].startswith("/slack")]
    assert len(slack) == 2
    assert later.sent >= 1
    assert slack[0][1]["Idempotency-Key"] == slack[1][1]["Idempotency-Key"]
    assert rows(db, "SELECT status, attempts FROM outbox WHERE channel = 'slack'") == [("sent", 2)]
    events = rows(db, "SELECT CAST(details AS VARCHAR) FROM sla_events "
                      "WHERE event_type LIKE 'notification_%'")  # fmt: skip
    assert not any("SECRETSECRET" in e[0] for e in events)  # no secret in any event
    assert "HTTP 503" in caplog.text
    assert "SECRETSECRET" not in caplog.text  # nor in a log line
    # a 400 from an endpoint: dead after one attempt, no retry
    with DuckDBStore(db) as store, transaction(store) as con:
        con.execute("UPDATE outbox SET status = 'pending', next_attempt_at = ? "
                    "WHERE channel = 'crm_webhook'", [at("10:20")])  # fmt: skip
    n_crm = len(rows(db, "SELECT 1 FROM outbox WHERE channel = 'crm_webhook'"))
    h.statuses = [400] * n_crm
    before = len(h.requests)
    with DuckDBStore(db) as store:
        res = deliver(store, rules, ch, at("10:20"), crm_dir=tmp_path / "crm")
    assert len(h.requests) - before == n_crm
    assert len(res.dead) == n_crm
    with DuckDBStore(db) as store:
        deliver(store, rules, ch, at("12:00"), crm_dir=tmp_path / "crm")
    assert len(h.requests) - before == n_crm  # never retried
    assert rows(db, "SELECT DISTINCT status FROM outbox WHERE channel = 'crm_webhook'") == [
        ("dead",)
    ]


# ---- 3. noise control with a frozen now ------------------------------------------------------


def insert_issue_events(
    db: Path, rules_dir: Path, now: datetime, events: list[dict[str, Any]]
) -> None:
    """Issue events as the issue ladder (issue 3) writes them, then enqueue at ``now``."""
    rules = load_rules(rules_dir)
    with DuckDBStore(db) as store, transaction(store) as con:
        register_rules(con, rules)
        for e in events:
            con.execute(
                f"INSERT INTO sla_events ({EVENT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, "
                "NULL, NULL, ?)",
                [e["id"], e["type"], e.get("lead_id"), e["issue_id"], now, now, e["rule"],
                 e.get("level"), json.dumps(e["details"])],
            )  # fmt: skip
        enqueue(con, rules, now)


def rejected(n: int) -> dict[str, Any]:
    return {"id": f"rej{n}", "type": "issue_rejected", "issue_id": f"I{n}", "lead_id": f"L{n}",
            "rule": "issues.mandatory",
            "details": {"reason": "missing mandatory details", "missing_fields": ["device"],
                        "known_types": ["pricing", "pickup"], "raised_by": "rahul",
                        "message_to_raiser": "Add the device and raise it again.",
                        "rules_version": "v1"}}  # fmt: skip


ESCALATED = {
    "id": "esc1", "type": "issue_escalated", "issue_id": "I9", "lead_id": "L9", "level": 3,
    "rule": "issues.pickup.l3",
    "details": {"level": 3, "teams": ["inbound"], "due_at": "2026-11-23T15:00:00+00:00",
                "issue_type": "Pickup", "city": "Mumbai", "device": "iPhone 15",
                "high_value": True, "reason": "no response from L2 within SLA",
                "subject": "Escalation | High-Intent Lead | Pickup Not Available | Mumbai",
                "admin_note": "=HYPERLINK(\"http://evil\") Escalated to Ops - vendor unavailable",
                "holding_line": "I'm checking this with our team and will update you shortly.",
                "recipients": [{"role": "management", "id": "vp",
                                "email": "vp.sales@acme.example"}],
                "rules_version": "v1"},
}  # fmt: skip


@pytest.mark.slow
def test_quiet_hours_hold_normal_messages_not_immediate_ones(
    rules_dir: Path, tmp_path: Path, sink: tuple[SmtpSink, int]
) -> None:
    smtp_sink, port = sink
    db = tmp_path / "t.duckdb"
    night = at("21:00")  # the office is closed
    insert_issue_events(db, rules_dir, night, [rejected(1), ESCALATED])
    rules = load_rules(rules_dir)
    with DuckDBStore(db) as store:
        res = deliver(store, rules, email_channels(port), night, crm_dir=tmp_path / "crm")
    # L3 is immediate: management (2 addresses) and the team lead get it at night
    got = sorted(r for rc, _ in smtp_sink.messages for r in rc)
    assert got == ["coo@acme.example", "priya@acme.example", "vp.sales@acme.example"]
    l3 = smtp_sink.messages[0][1]
    assert l3["Subject"] == "Escalation | High-Intent Lead | Pickup Not Available | Mumbai"
    assert "checking this with our team" in l3.get_body(("plain",)).get_content()
    # the rejection (normal) waits for the raiser's calendar to open: 09:30 IST on the next
    # business day, Wednesday (Tuesday 24 Nov 2026 is Guru Nanak Jayanti, a public holiday)
    assert res.deferred == 1
    (until,) = rows(db, "SELECT details->>'until' FROM sla_events "
                        "WHERE event_type = 'notification_deferred'")[0]  # fmt: skip
    assert datetime.fromisoformat(until) == at("09:30", day=25)
    with DuckDBStore(db) as store:
        deliver(store, rules, email_channels(port), at("09:29", day=25))
    assert len(smtp_sink.messages) == 3
    with DuckDBStore(db) as store:
        deliver(store, rules, email_channels(port), at("09:30", day=25))
    assert smtp_sink.messages[-1][0] == ["rahul@acme.example"]  # the raiser
    assert "Add the device" in smtp_sink.messages[-1][1].get_body(("plain",)).get_content()
    # CRM write-back: the admin note as a lead note, formula neutralised, priority High
    (crm,) = list((tmp_path / "crm").glob("*.csv"))
    (row,) = list(csv.DictReader(crm.open(encoding="utf-8")))
    assert row["action"] == "add_note"
    assert row["priority"] == "High"
    assert row["note"].startswith("'=HYPERLINK")


@pytest.mark.slow
def test_budget_rolls_the_rest_into_one_digest(
    rules_dir: Path, tmp_path: Path, sink: tuple[SmtpSink, int]
) -> None:
    smtp_sink, port = sink
    cfg = rules_dir / "notifications.yaml"
    data = yaml.safe_load(cfg.read_text())
    data["budget"] = {"per_hour": 2}
    cfg.write_text(yaml.safe_dump(data))
    db = tmp_path / "t.duckdb"
    now = at("11:00")
    insert_issue_events(db, rules_dir, now, [rejected(i) for i in range(5)])
    rules = load_rules(rules_dir)
    with DuckDBStore(db) as store:
        res = deliver(store, rules, email_channels(port), now)
    assert (res.sent, res.deferred) == (2, 3)
    reasons = rows(db, "SELECT DISTINCT details->>'reason' FROM sla_events "
                       "WHERE event_type = 'notification_deferred'")  # fmt: skip
    assert reasons == [("budget: over 2 per hour, rolled into the digest",)]
    # 11:00 IST is 05:30 UTC; the next 120-minute digest slot opens at 06:00 UTC
    with DuckDBStore(db) as store:
        deliver(store, rules, email_channels(port), datetime(2026, 11, 23, 5, 59, tzinfo=UTC))
        assert len(smtp_sink.messages) == 2
        deliver(store, rules, email_channels(port), datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert len(smtp_sink.messages) == 3
    digest = smtp_sink.messages[-1][1]
    assert digest["Subject"] == "3 lead updates for Rahul Mehta"
    assert digest.get_body(("plain",)).get_content().count("Issue not escalated") == 3
    assert rows(db, "SELECT count(DISTINCT digest_id), count(*) FROM outbox "
                    "WHERE digest_id IS NOT NULL AND status = 'sent'") == [(1, 3)]  # fmt: skip


@pytest.mark.slow
def test_answered_lead_gets_no_message(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    smtp_sink, port = sink
    lead = {**HIGH, "lead_id": "H4", "created_at": "2026-11-23 09:35"}
    write_leads("20261123T040500Z", [lead])
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("09:46"))  # no channel
    assert rows(db, "SELECT count(*) FROM outbox WHERE channel = 'email'") == [(2,)]
    write_leads("20261123T041700Z", [{**lead, "status": "contacted",
                                      "first_response_at": "2026-11-23 09:47",
                                      "updated_at": "2026-11-23 09:47"}])  # fmt: skip
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("09:48"),
             channels=email_channels(port))  # fmt: skip
    assert smtp_sink.messages == []
    assert note_events(db)["notification_suppressed"] == 2
    assert rows(db, "SELECT DISTINCT status FROM outbox WHERE channel = 'email'") == [
        ("suppressed",)
    ]


# ---- 4. rules: check ---------------------------------------------------------------------


def test_check_names_a_recipient_without_an_address(rules_dir: Path) -> None:
    cfg = rules_dir / "notifications.yaml"
    data = yaml.safe_load(cfg.read_text())
    data["routes"][0]["send"] = [{"to": "owner", "via": "slack"}]
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(RulesInvalid) as exc:
        load_rules(rules_dir)
    first = exc.value.errors[0]
    assert (first.file, first.key) == ("notifications.yaml", "routes[0].send[0]")
    assert "has no slack_id: add org.yaml members[0].slack_id" in first.message


def test_check_says_when_no_channel_is_configured(
    rules_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("LEADSLA_SMTP_URL", "LEADSLA_SLACK_WEBHOOK_INBOUND", "LEADSLA_CRM_WEBHOOK_URL"):
        monkeypatch.delenv(var, raising=False)
    assert main(["check", "--rules", str(rules_dir)]) == 0
    assert "no channel is configured" in capsys.readouterr().out
    monkeypatch.setenv("LEADSLA_SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("LEADSLA_SLACK_WEBHOOK_INBOUND", "https://hooks.example/T/B/secret")
    assert main(["check", "--rules", str(rules_dir)]) == 0
    out = capsys.readouterr().out
    assert "configured email, slack:#inbound-sales" in out
    assert "secret" not in out


@pytest.mark.parametrize(
    ("raw", "cell"),
    [
        ("=1+2", "'=1+2"),  # a formula
        ("+91 98765", "'+91 98765"),  # looks like a formula to a spreadsheet
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Escalated to BD", "Escalated to BD"),  # ordinary text untouched
        (None, ""),
    ],
)
def test_csv_cells_cannot_carry_formulas(raw: str | None, cell: str) -> None:
    assert csv_cell(raw) == cell


def test_logs_mask_contacts_and_subjects_lose_line_breaks() -> None:
    assert mask("call +91 98765 43210 or asha.rao@example.com") == (
        "call +91******10 or a***@example.com"
    )
    assert mask("smtp: 451 4.3.0 try later") == "smtp: 451 4.3.0 try later"  # codes stay
    assert clean_line("Hi\r\nBcc: x@evil.example\x00") == "Hi Bcc: x@evil.example"


def test_shipped_rules_have_no_secret_values() -> None:
    text = (REPO / "sla_rules" / "notifications.yaml").read_text()
    assert "hooks.slack.com" not in text
    assert "xoxb" not in text
    assert "://" not in text


# ---- 5. crash at every step, rerun: nothing lost, nothing repeated --------------------------


@pytest.mark.slow
@pytest.mark.parametrize("point", ["noise", "marked", "sent", "recorded", "crm_written"])
def test_sigkill_at_each_step_then_rerun(
    point: str, rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    smtp_sink, port = sink
    write_leads("20261123T040500Z", [
        {**HIGH, "lead_id": f"K{i}", "owner": o, "created_at": "2026-11-23 09:35"}
        for i, o in enumerate(["rahul", "sneha", "amit"])
    ])  # fmt: skip
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("09:36"))  # queue only
    now = at("09:37").isoformat()
    worker = [sys.executable, str(REPO / "tests" / "_delivery_worker.py"), str(rules_dir),
              str(db), now, str(port)]  # fmt: skip
    env = {**os.environ, "LEADSLA_CRASH_AT": point}
    killed = subprocess.run(worker, env=env, capture_output=True, text=True, check=False)
    assert killed.returncode == -9, killed.stderr  # really SIGKILLed
    env.pop("LEADSLA_CRASH_AT")
    rerun = subprocess.run(worker, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    ids = smtp_sink.ids()
    expected = {f"<{m}@leadsla>" for (m,) in rows(db, "SELECT message_id FROM outbox "
                                                       "WHERE channel = 'email'")}  # fmt: skip
    assert set(ids) == expected
    assert len(expected) == 3
    if point == "sent":
        # the one window no sender can close (accepted, not yet recorded): the first message
        # is sent again with the SAME Message-ID, so the receiver can drop the duplicate
        assert sorted(ids.values()) == [1, 1, 2]
    else:
        assert set(ids.values()) == {1}  # nothing repeated
    sent = rows(db, "SELECT details->>'message_id', count(*) FROM sla_events "
                    "WHERE event_type = 'notification_sent' GROUP BY 1")  # fmt: skip
    assert {c for _, c in sent} == {1}
    assert len(sent) == 6
    assert rows(db, "SELECT DISTINCT status FROM outbox WHERE channel <> 'crm_webhook'") == [
        ("sent",)
    ]
    assert len(list((db.parent / "crm_outbox").glob("*.csv"))) == 1
    assert not list((db.parent / "crm_outbox").glob("*.tmp"))
    shutil.rmtree(db.parent / "crm_outbox")
