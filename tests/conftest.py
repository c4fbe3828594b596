"""Shared fixtures: a private copy of the shipped rules, helpers to write exports, and one
Prefect test server per session."""

from __future__ import annotations

import csv
import os
import shutil
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest
from aiosmtpd.controller import Controller

# Before anything imports prefect (its settings are read at import): there is no network for
# telemetry, and a test run must never try to phone home.
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"

REPO = Path(__file__).resolve().parent.parent

LEAD_HEADER = [
    "lead_id", "created_at", "name", "email", "phone", "lead_source", "form_type",
    "service_interest", "message", "city", "owner", "status", "first_response_at", "updated_at",
]  # fmt: skip


#: One canonical lead the tests vary (``{**LEAD_ROW, "lead_id": "L2"}``): a contact form for SEO,
#: in Kolkata office hours, owned by a member.
LEAD_ROW = {
    "lead_id": "L1",
    "created_at": "2026-11-23 10:00",
    "name": "A",
    "email": "a@x.io",
    "form_type": "contact_form",
    "service_interest": "seo",
    "owner": "rahul",
}


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A copy of sla_rules/ that a test may edit."""
    dst = tmp_path / "sla_rules"
    shutil.copytree(REPO / "sla_rules", dst)
    return dst


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    d = tmp_path / "exports"
    d.mkdir()
    return d


WriteLeads = Callable[..., Path]


@pytest.fixture
def write_leads(exports: Path) -> WriteLeads:
    """Write a canonical leads CSV: rows are dicts over LEAD_HEADER (missing keys empty)."""

    def write(stamp: str, rows: Sequence[dict[str, str]], name: str = "leads") -> Path:
        path = exports / f"{name}_{stamp}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=LEAD_HEADER)
            w.writeheader()
            for r in rows:
                w.writerow({k: r.get(k, "") for k in LEAD_HEADER})
        return path

    return write


# ---- Prefect ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A throwaway Prefect server (temporary SQLite database) for the whole session.

    Session-scoped because starting it costs 5-13 s; requested only by the tests that run
    flows, so the rest of the suite never pays for it. The timeout is generous because a cold
    start on a busy 2-core CI machine has taken over 12 s.
    """
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# ---- the demo week with its review (reporting tests) -------------------------------------------


@pytest.fixture(scope="session")
def demo_week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo week replayed every 2 hours, with the review built, published and written.

    Session-scoped: the replay and the dbt build together cost tens of seconds, and every
    reporting test reads the same result (tests that change data work on copies). Every 2
    hours instead of 30 minutes keeps the same leads and event types at a quarter of the ticks.
    """
    from datetime import timedelta

    from leadsla_demo import run_demo

    out = tmp_path_factory.mktemp("demo_week")
    run_demo(out=out, rules_dir=REPO / "sla_rules", every=timedelta(hours=2))
    return out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``make test`` runs on both cores (pytest-xdist, ``--dist loadgroup``): every test that
    reads the demo week runs in one worker, so the week is replayed once (about a fifth of the
    suite's time) while the other worker takes the rest."""
    for item in items:
        if "demo_week" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("demo_week"))
            item.add_marker(pytest.mark.demo_week)  # `make test-fast` leaves these out


# ---- a real SMTP server on loopback ------------------------------------------------------------


class SmtpSink:
    """What an aiosmtpd server on loopback received, parsed. Setting ``refuse`` (e.g. ``"451
    4.3.0 try again later"``) answers every DATA with it: a server that is down for a while."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.mail_from: list[str] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        msg = BytesParser(policy=default).parsebytes(envelope.content)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        self.mail_from.append(envelope.mail_from)
        return "250 OK"

    def ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for _, m in self.messages)


def free_port() -> int:
    """A free loopback port (aiosmtpd cannot start on port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


# ---- a loopback HTTP endpoint ----------------------------------------------------------------


@dataclass
class Posted:
    """What a loopback endpoint received: each POST's headers and body, in order."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def http_sink() -> Iterator[Posted]:
    """An HTTP endpoint on loopback that answers every POST with 200 and keeps what it got."""
    posted = Posted(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            posted.requests.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    posted.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield posted
    finally:
        server.shutdown()
        server.server_close()


def outbox_rows(db: Path) -> list[tuple[Any, ...]]:
    """What each message of the outbox says and to whom, sorted (``created_at``, the tick that
    wrote it, left out: cadences differ there by design)."""
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(con.execute(
            "SELECT message_id, event_id, event_type, lead_id, issue_id, channel, recipient, "
            "team, urgency FROM outbox"
        ).fetchall())  # fmt: skip


def three_cadences(
    rules_dir: Path, exports: Path, tmp_path: Path, start: datetime, end: datetime
) -> tuple[Path, Path, Path]:
    """The same exports ticked three ways into three databases: every 5 minutes from ``start``
    to ``end``, once at ``end`` (one tick after the whole gap), and every 2 hours."""
    from leadsla.pipelines.tick import replay, run_tick

    every5, gap, every2h = (tmp_path / f"{n}.duckdb" for n in ("every5", "gap", "every2h"))
    for db, every in ((every5, timedelta(minutes=5)), (every2h, timedelta(hours=2))):
        replay(rules_dir=rules_dir, exports=str(exports), db=db, start=start, end=end,
               every=every)  # fmt: skip
    run_tick(rules_dir=rules_dir, exports=str(exports), db=gap, now=end)
    return every5, gap, every2h
