"""Delivery against servers that misbehave, on loopback: one that accepts and never answers,
one that answers a line at a time forever, a resolver that never answers; and delivery killed
with SIGKILL at random moments, rerun until done.

What must hold: every send gives up within its timeouts; after ``breaker.after_failures``
consecutive failures an endpoint is paused for the rest of the run and its messages stay
queued (recorded, never dead for that alone) until a later run delivers each exactly once;
a kill costs at most one duplicate, and never one of a message whose acceptance had been
committed.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadsla.delivery.deliver import deliver
from leadsla.delivery.senders import Outgoing, SendError, Senders
from leadsla.delivery.timeouts import LookupTimeout, SendLimits, resolve
from leadsla.pipelines.tick import run_tick
from leadsla.rules import load_rules
from leadsla.smtp import SmtpSettings
from leadsla.store import DuckDBStore

from .conftest import REPO, Posted, SmtpSink, WriteLeads

HIGH = {"form_type": "contact_form", "service_interest": "seo", "status": "new", "email": "a@x.io",
        "lead_source": "website", "created_at": "2026-11-23 09:35"}  # fmt: skip
OWNERS = ["rahul", "sneha", "amit"]
QUEUED_AT = datetime(2026, 11, 23, 4, 6, tzinfo=UTC)  # 09:36 IST: every lead's task is due
SEND_AT = datetime(2026, 11, 23, 4, 7, tzinfo=UTC)
LATER = datetime(2026, 11, 23, 4, 40, tzinfo=UTC)  # past the failed ones' backoff
FAST = SendLimits(connect_s=0.5, read_s=1.0, total_s=2.0)


def queue(n: int, rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads) -> Path:
    """``n`` high-intent leads whose task emails (immediate) are queued, none sent."""
    write_leads("20261123T040500Z", [{**HIGH, "lead_id": f"L{i:03d}", "owner": OWNERS[i % 3]}
                                     for i in range(n)])  # fmt: skip
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=QUEUED_AT)
    assert rows(db, "SELECT count(*) FROM outbox WHERE channel = 'email'") == [(n,)]
    return db


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def smtp_at(port: int, host: str = "127.0.0.1", **more: Any) -> Senders:
    return Senders(smtp=SmtpSettings(host=host, port=port, sender="sla@acme.example",
                                      timeouts=FAST), timeouts=FAST, **more)  # fmt: skip


class Stalled:
    """A loopback server that accepts every connection and then says nothing, or (``lines``)
    says one of them every 0.2 s forever: a greeting or a header that never ends."""

    def __init__(self, lines: bytes | None = None, first: bytes = b"") -> None:
        self.lines = lines
        self.first = first
        self.accepted = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.stop = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)
            if self.lines is not None:
                threading.Thread(target=self._dribble, args=(conn,), daemon=True).start()

    def _dribble(self, conn: socket.socket) -> None:
        assert self.lines is not None
        with contextlib.suppress(OSError):
            conn.sendall(self.first)
        while not self.stop.wait(0.2):
            try:
                conn.sendall(self.lines)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def stalled() -> Iterator[Callable[..., Stalled]]:
    made: list[Stalled] = []

    def make(lines: bytes | None = None, first: bytes = b"") -> Stalled:
        made.append(Stalled(lines, first))
        return made[-1]

    yield make
    for s in made:
        s.close()


def finishes(fn: Callable[[], Any], within: float = 60.0) -> Any:
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it never returns."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(within)
    assert not worker.is_alive(), f"still running after {within} s: it hangs"
    if "error" in box:
        raise box["error"]
    return box.get("value")


# ---- 1. a server that accepts and never answers: bounded, paused, queued, later exactly once --


@pytest.mark.slow
def test_stalled_smtp_server_pauses_email_keeps_the_rest_queued_and_a_later_run_sends_once(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    stalled: Callable[..., Stalled], smtp_sink: tuple[SmtpSink, int],
    http_sink: Posted,
) -> None:  # fmt: skip
    """Email is paused; the CRM webhook, another endpoint, delivers all its actions."""
    db = queue(8, rules_dir, exports, tmp_path, write_leads)
    rules = load_rules(rules_dir)
    assert rules.notifications is not None
    assert rules.notifications.breaker.after_failures == 3  # the shipped default
    server = stalled()
    channels = smtp_at(server.port, endpoints={"crm": f"{http_sink.url}/crm"})
    started = time.monotonic()
    with DuckDBStore(db) as store:
        res = finishes(lambda: deliver(store, rules, channels, SEND_AT, crm_dir=tmp_path / "crm"))
    took = time.monotonic() - started
    # three attempts, each given up at the connect timeout (no greeting), then email paused
    assert server.accepted == 3
    assert (res.sent, res.failed, res.dead, res.paused) == (8, 3, [], {"email": 5})
    keys = {h["Idempotency-Key"] for h, _ in http_sink.requests}
    assert len(keys) == 8  # the CRM webhook is another endpoint: not paused
    errors = rows(db, "SELECT DISTINCT details->>'error' FROM sla_events "
                      "WHERE event_type = 'notification_failed'")  # fmt: skip
    assert errors == [("smtp: no answer in time (timed out)",)]
    # nothing is dead; all eight stay queued: three to retry after backoff, five held
    assert rows(db, "SELECT status, count(*) FROM outbox WHERE channel = 'email' GROUP BY 1") == [
        ("pending", 8)
    ]
    held = rows(db, "SELECT details->>'reason', count(*) FROM sla_events "
                    "WHERE event_type = 'notification_deferred' GROUP BY 1")  # fmt: skip
    assert len(held) == 1
    assert held[0][0] == (
        "paused: email failed 3 times in a row (last: smtp: no answer in time "
        "(timed out)); the next run tries again"
    )
    assert held[0][1] == 5
    print(f"\nstalled SMTP server: gave up after {took:.2f} s "
          f"(connect timeout {FAST.connect_s} s, breaker 3), 8 messages left queued")  # fmt: skip
    # the same run time again (a retried task): the held messages are not recorded twice
    with DuckDBStore(db) as store:
        again = deliver(store, rules, smtp_at(server.port), SEND_AT, crm_dir=tmp_path / "crm")
    assert again.paused == {"email": 2}  # the three failed ones wait for backoff
    assert rows(db, "SELECT count(*) FROM sla_events WHERE event_type = 'notification_deferred'"
                ) == [(5,)]  # fmt: skip
    # the server works again: every message arrives exactly once
    sink, port = smtp_sink
    with DuckDBStore(db) as store:
        done = deliver(store, rules, smtp_at(port), LATER, crm_dir=tmp_path / "crm")
    assert (done.sent, done.failed, done.paused) == (8, 0, {})
    assert len(sink.ids()) == 8
    assert set(sink.ids().values()) == {1}
    assert rows(db, "SELECT DISTINCT status FROM outbox WHERE channel = 'email'") == [("sent",)]
    assert rows(db, "SELECT count(*), count(DISTINCT details->>'message_id') FROM sla_events "
                    "WHERE event_type = 'notification_sent' AND details->>'channel' = 'email'"
                ) == [(8, 8)]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize(
    ("reply", "failed", "dead", "paused"),
    [
        # 550: this message is refused; the server works, so the channel is never paused
        ("550 5.7.1 rejected", 6, 6, {}),
        # 451 from the server itself, three in a row: paused, the other three stay queued
        ("451 4.3.0 try again later", 3, 0, {"email": 3}),
    ],
)
def test_the_breaker_counts_only_failures_of_the_endpoint(
    reply: str, failed: int, dead: int, paused: dict[str, int], rules_dir: Path, exports: Path,
    tmp_path: Path, write_leads: WriteLeads, smtp_sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    db = queue(6, rules_dir, exports, tmp_path, write_leads)
    sink, port = smtp_sink
    sink.refuse = reply
    with DuckDBStore(db) as store:
        res = deliver(
            store, load_rules(rules_dir), smtp_at(port), SEND_AT, crm_dir=tmp_path / "crm"
        )
    assert (res.failed, len(res.dead), res.paused) == (failed, dead, paused)
    assert rows(db, "SELECT count(*) FROM outbox WHERE status = 'dead'") == [(dead,)]


# ---- 2. a server that never stops talking: the total deadline ---------------------------------


@pytest.mark.slow
def test_a_greeting_that_never_ends_is_cut_at_the_total_deadline(
    stalled: Callable[..., Stalled],
) -> None:
    """Each line comes within the read timeout, so only the total deadline can end it."""
    server = stalled(b"220-still greeting you\r\n")
    ch = smtp_at(server.port)
    out = Outgoing("k1", "email", "rahul@acme.example", "s", "t", "<p>t</p>")
    with pytest.raises(SendError) as exc:
        finishes(lambda: ch.send(out))
    assert exc.value.transient
    assert str(exc.value) == "smtp: no answer within 2 s in total"
    ch.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (None, "webhook: timed out"),  # accepts, never answers: the read timeout
        (b"X-Slow: 1\r\n", "webhook: no answer within 2 s in total"),  # headers forever
    ],
)
def test_http_channels_give_up_on_a_silent_or_endless_server(
    stalled: Callable[..., Stalled], lines: bytes | None, error: str
) -> None:
    server = stalled(lines, first=b"HTTP/1.1 200 OK\r\n")
    ch = Senders(endpoints={"webhook": f"http://127.0.0.1:{server.port}/hook"}, timeouts=FAST)
    out = Outgoing("k2", "webhook", "member:rahul", "s", "t", "", {"lead_id": "L1"})
    with pytest.raises(SendError) as exc:
        finishes(lambda: ch.send(out))
    assert exc.value.transient
    assert str(exc.value) == error
    assert "127.0.0.1" not in str(exc.value)  # never the endpoint (a webhook URL is a secret)
    ch.close()


# ---- 3. names that do not resolve, fast or never ------------------------------------------


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test leaves loopback, so the resolver is played here: ``*.stuck.example`` never
    answers (a dead DNS server), ``*.invalid`` does not exist; everything else is real."""
    real = socket.getaddrinfo
    release = threading.Event()

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".stuck.example"):
            release.wait()
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield
    release.set()


def test_a_lookup_that_never_answers_gives_up_at_the_connect_timeout(resolver: None) -> None:
    with pytest.raises(LookupTimeout, match=r"name lookup of mail\.stuck\.example took longer"):
        finishes(lambda: resolve("mail.stuck.example", 25, 0.3))
    assert resolve("127.0.0.1", 25, 0.3)  # an address never waits for a resolver


@pytest.mark.slow
@pytest.mark.parametrize("host", ["mail.stuck.example", "mail.nowhere.invalid"])
def test_unresolvable_smtp_host_counts_for_the_breaker(
    resolver: None, host: str, rules_dir: Path, exports: Path, tmp_path: Path,
    write_leads: WriteLeads,
) -> None:  # fmt: skip
    db = queue(5, rules_dir, exports, tmp_path, write_leads)
    rules = load_rules(rules_dir)
    with DuckDBStore(db) as store:
        res = finishes(
            lambda: deliver(store, rules, smtp_at(25, host=host), SEND_AT, crm_dir=tmp_path / "crm")
        )
    assert (res.failed, res.dead, res.paused) == (3, [], {"email": 2})
    (error,) = rows(db, "SELECT DISTINCT details->>'error' FROM sla_events "
                        "WHERE event_type = 'notification_failed'")[0]  # fmt: skip
    assert error == (
        "smtp: name lookup of mail.stuck.example took longer than 0.5 s"
        if "stuck" in host
        else "smtp: name lookup of mail.nowhere.invalid failed (Name or service not known)"
    )


@pytest.mark.parametrize("host", ["hook.stuck.example", "hook.nowhere.invalid"])
def test_unresolvable_webhook_host_fails_fast(resolver: None, host: str) -> None:
    ch = Senders(endpoints={"webhook": f"https://{host}/T/B/secret"}, timeouts=FAST)
    with pytest.raises(SendError) as exc:
        finishes(lambda: ch.send(Outgoing("k3", "webhook", "member:rahul", "s", "t", "")))
    assert exc.value.transient
    assert str(exc.value).startswith("webhook: name lookup failed")
    assert "secret" not in str(exc.value)
    ch.close()


# ---- 4. SIGKILL at random moments: at most one duplicate per kill -----------------------------


@pytest.mark.slow
def test_random_sigkills_during_delivery_cost_at_most_one_duplicate_each(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads,
    smtp_sink: tuple[SmtpSink, int],
) -> None:  # fmt: skip
    """A worker process delivers 60 emails to a real SMTP server; it is SIGKILLed ten times at
    random moments after it started sending (seeded), each time rerun; then it runs to the
    end. Every message arrives; duplicates <= kills; a message whose acceptance had been
    committed before a kill is never sent again."""
    sink, port = smtp_sink
    n = 60
    db = queue(n, rules_dir, exports, tmp_path, write_leads)
    worker = [sys.executable, str(REPO / "tests" / "_delivery_worker.py"), str(rules_dir),
              str(db), SEND_AT.isoformat(), str(port)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "LEADSLA_CRASH_AT"}
    rng = random.Random(16)
    kills = 0
    committed_at_kill: list[tuple[set[str], Counter[str]]] = []
    for _ in range(10):
        before = len(sink.messages)
        proc = subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)  # fmt: skip
        target = before + rng.randint(1, 4)
        while len(sink.messages) < target and proc.poll() is None:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.02))  # anywhere in mark, send, record
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert proc.returncode == 0, err.decode()
        committed = {f"<{m}@leadsla>" for (m,) in rows(
            db, "SELECT message_id FROM outbox WHERE channel = 'email' "
                "AND status IN ('accepted', 'sent')")}  # fmt: skip
        committed_at_kill.append((committed, sink.ids()))
    done = subprocess.run(worker, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    got = sink.ids()
    expected = {f"<{m}@leadsla>" for (m,) in rows(db, "SELECT message_id FROM outbox "
                                                       "WHERE channel = 'email'")}  # fmt: skip
    assert set(got) == expected  # every message arrived
    duplicates = sum(c - 1 for c in got.values())
    assert kills >= 8  # the kills really landed during delivery
    assert duplicates <= kills
    for committed, seen in committed_at_kill:  # committed acceptance: never sent again
        assert all(got[m] == seen[m] for m in committed)
    assert rows(db, "SELECT DISTINCT status FROM outbox WHERE channel = 'email'") == [("sent",)]
    assert rows(db, "SELECT count(*), count(DISTINCT details->>'message_id') FROM sla_events "
                    "WHERE event_type = 'notification_sent' AND details->>'channel' = 'email'"
                ) == [(n, n)]  # fmt: skip
    print(f"\nkill during delivery: {kills} SIGKILLs, {duplicates} duplicate(s) of {n} emails")
