"""The deployed path, as docs/prefect_ops.md has ops run it: a real ``prefect server`` (its own
``PREFECT_HOME`` and SQLite database, an ephemeral port), ``leadsla prefect setup``, ``prefect
deploy --all`` reading ``prefect.yaml``, a real process worker, and one-off runs started with
``prefect deployment run``. Server and worker are stopped by their process ids at the end, also
when a test fails.

What it proves, in order: the scheduler creates upcoming runs for every scheduled deployment
(it did not with SQLAlchemy 2.1, see pyproject.toml); an sla-tick run on the worker records the
events a CLI tick at the same ``now`` records, with its two artifacts; the daily review
completes without an email block and, once ``leadsla prefect setup`` has made the block, emails
the reviews to a real SMTP server on loopback.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest

from leadsla.pipelines.tick import replay
from leadsla.rules import load_rules
from leadsla_demo import (
    DEMO_REPORT_DAY,
    WEEK_START,
    generate_issues,
    generate_leads,
    write_exports,
    write_issue_exports,
)

from .conftest import REPO, SmtpSink, free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("deployed")]

BIN = Path(sys.executable).parent
IST = ZoneInfo("Asia/Kolkata")
#: The one-off tick: Friday of the demo week, late evening, so that the review of that day
#: (as of midnight, org time) finds a tick in its last hour and the feed fresh.
TICK_NOW = datetime(2026, 11, 20, 23, 30, tzinfo=IST)
REVIEW_NOW = datetime(2026, 11, 21, 8, 0, tzinfo=IST)
#: How long the scheduler may take to create the first runs after `prefect deploy --all`. Its
#: loop runs every 60 s by default; on this 2-core machine the runs appeared after 10-30 s.
SCHEDULE_BOUND_S = 90.0
#: Server start (12-15 s on a fresh database here), and one flow run end to end.
START_BOUND_S = 120.0
RUN_BOUND_S = 300.0
#: From a failed run to the ops webhook's POST (the server's event pipeline; about 5 s here).
ALERT_BOUND_S = 60.0
DEPLOYMENTS = ("sla-tick/sla-tick", "daily-review/daily-review", "weekly-patterns/weekly-patterns")


@dataclass
class Deployed:
    home: Path  # LEADSLA_HOME: the checkout the worker runs the flows in
    env: dict[str, str]
    api: str
    scheduled: dict[str, int] = field(default_factory=dict)
    scheduled_after_s: float = 0.0

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A command from the venv's bin (``prefect``, ``leadsla``) in the checkout."""
        return subprocess.run(
            [str(BIN / args[0]), *args[1:]],
            cwd=self.home,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=RUN_BOUND_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def run_deployment(self, name: str, **params: str) -> UUID:
        """``prefect deployment run NAME -p k=v ... --watch``: returns the flow run's id."""
        args = ["prefect", "deployment", "run", name, "--watch"]
        for k, v in params.items():
            args += ["-p", f"{k}={v}"]
        out = self.cli(*args)
        found = re.search(r"flow-run/([0-9a-f-]{36})", out.stdout)
        assert found, out.stdout + out.stderr
        return UUID(found.group(1))

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.api}{path}", timeout=30).json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = httpx.post(f"{self.api}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def flow_run(self, run_id: UUID) -> dict[str, Any]:
        return dict(self.get(f"/flow_runs/{run_id}"))

    def artifact_keys(self, run_id: UUID) -> set[str]:
        rows = self.post("/artifacts/filter", {"flow_runs": {"id": {"any_": [str(run_id)]}}})
        return {r["key"] for r in rows if r.get("key")}

    def logs(self, run_id: UUID, expect: str | None = None) -> str:
        """Every log line of a run, in time order (the API pages 200 at a time). The worker's
        process ships its logs in batches, so with ``expect`` the lines are read again, for up
        to 30 s, until they hold it (the caller's assertion then tells)."""
        deadline = time.monotonic() + 30
        while True:
            rows: list[dict[str, Any]] = []
            while True:
                page = self.post(
                    "/logs/filter",
                    {"logs": {"flow_run_id": {"any_": [str(run_id)]}},
                     "sort": "TIMESTAMP_ASC", "limit": 200, "offset": len(rows)},
                )  # fmt: skip
                rows += page
                if len(page) < 200:
                    break
            text = "\n".join(r["message"] for r in rows)
            if expect is None or expect in text or time.monotonic() > deadline:
                return text
            time.sleep(1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process and its children by its process group id: TERM, then KILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _demo_checkout(root: Path) -> Path:
    """A checkout as the worker sees it (flows, rules, prefect.yaml) with the demo's exports
    up to Friday evening and its event log replayed up to two hours before the tick."""
    home = root / "checkout"
    home.mkdir()
    shutil.copytree(REPO / "flows", home / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "sla_rules", home / "sla_rules")
    shutil.copy(REPO / "prefect.yaml", home / "prefect.yaml")
    rules = load_rules(home / "sla_rules")
    cal = rules.business_calendars[rules.org.default_calendar]
    leads = generate_leads(cal)
    write_exports(leads, home / "exports")
    write_issue_exports(generate_issues(leads, cal), home / "exports")
    replay(
        rules_dir=home / "sla_rules",
        exports=str(home / "exports"),
        db=home / "leadsla.duckdb",
        start=WEEK_START,
        end=TICK_NOW - timedelta(hours=2),
        every=timedelta(hours=2),
    )
    return home


def _wait_for_schedules(d: Deployed) -> None:
    """Poll until the scheduler has created Scheduled runs for every deployment."""
    started = time.monotonic()
    ids = {name: d.get(f"/deployments/name/{name}")["id"] for name in DEPLOYMENTS}
    while time.monotonic() - started < SCHEDULE_BOUND_S:
        runs = d.post(
            "/flow_runs/filter",
            {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 200},
        )
        d.scheduled = {n: sum(r["deployment_id"] == i for r in runs) for n, i in ids.items()}
        if all(d.scheduled.values()):
            break
        time.sleep(2)
    d.scheduled_after_s = time.monotonic() - started
    # pausing deletes the scheduled runs: none of them may read the wall clock and tick the
    # demo's log at 2026's real date while the one-off runs below use it
    for i in ids.values():
        d.post(f"/deployments/{i}/pause_deployment", {})


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("deployed")
    home = _demo_checkout(root)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LEADSLA_"))}
    env = {
        **base,
        "PREFECT_HOME": str(root / "prefect_home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "LEADSLA_HOME": str(home),
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # the worker polls every 2 s instead of 10 s
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with (root / "server.log").open("wb") as log:
            procs.append(subprocess.Popen(
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                 "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                stdin=subprocess.DEVNULL,
            ))  # fmt: skip
        started = time.monotonic()
        while time.monotonic() - started < START_BOUND_S:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert procs[0].poll() is None, (root / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        d = Deployed(home=home, env=env, api=api)
        setup = d.cli("leadsla", "prefect", "setup")
        assert setup.returncode == 0, setup.stderr
        assert "created   work pool leadsla-process" in setup.stdout
        deploy = d.cli("prefect", "--no-prompt", "deploy", "--all")
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        _wait_for_schedules(d)
        with (root / "worker.log").open("wb") as log:
            procs.append(subprocess.Popen(
                [str(BIN / "prefect"), "worker", "start", "--pool", "leadsla-process"],
                cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, stdin=subprocess.DEVNULL,
            ))  # fmt: skip
        yield d
    finally:
        for proc in reversed(procs):
            _stop(proc)
    assert all(p.poll() is not None for p in procs)


def test_the_scheduler_creates_upcoming_runs_for_every_deployment(deployed: Deployed) -> None:
    assert all(deployed.scheduled.values()), deployed.scheduled
    assert deployed.scheduled_after_s < SCHEDULE_BOUND_S
    assert deployed.scheduled["sla-tick/sla-tick"] >= 3  # every 5 minutes: several ahead


def test_setup_is_idempotent(deployed: Deployed) -> None:
    again = deployed.cli("leadsla", "prefect", "setup")
    assert again.returncode == 0, again.stderr
    assert "unchanged work pool leadsla-process" in again.stdout
    assert not re.search(r"^(created|updated) ", again.stdout, re.MULTILINE), again.stdout
    bad = deployed.cli("leadsla", "prefect", "setup", env={"LEADSLA_SMTP_URL": "ftp://mail"})
    assert bad.returncode == 2
    assert "LEADSLA_SMTP_URL" in bad.stderr
    assert "Traceback" not in bad.stderr


def _events(db: Path) -> set[tuple[Any, ...]]:
    """The tick's decisions (delivery bookkeeping aside: the CLI here has no channel)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT event_id, event_type, lead_id, issue_id, occurred_at, recorded_at, owner, "
            "target, level, CAST(details AS VARCHAR) FROM sla_events "
            "WHERE event_type NOT LIKE 'notification_%'"
        ).fetchall()
    return set(rows)


@pytest.fixture(scope="module")
def ticked(deployed: Deployed) -> UUID:
    """The one-off tick at ``TICK_NOW`` on the worker (the reviews below need it), after a copy
    of the log was put aside for the CLI tick to compare with."""
    shutil.copy(deployed.home / "leadsla.duckdb", deployed.home / "cli.duckdb")
    return deployed.run_deployment("sla-tick/sla-tick", now=TICK_NOW.isoformat())


def test_a_one_off_tick_on_the_worker_records_what_a_cli_tick_records(
    deployed: Deployed, ticked: UUID
) -> None:
    home, run_id = deployed.home, ticked
    run = deployed.flow_run(run_id)
    assert run["state_type"] == "COMPLETED", deployed.logs(run_id)
    assert {"sla-tick-fired", "sla-tick-summary"} <= deployed.artifact_keys(run_id)

    cli = deployed.cli("leadsla", "tick", "--now", TICK_NOW.isoformat(), "--db", "cli.duckdb")
    assert cli.returncode == 0, cli.stderr
    flow_events, cli_events = _events(home / "leadsla.duckdb"), _events(home / "cli.duckdb")
    assert flow_events == cli_events
    recorded_now = [e for e in flow_events if e[5] == TICK_NOW]
    assert len(recorded_now) > 0  # the tick did something, and both did the same
    with duckdb.connect(str(home / "leadsla.duckdb"), read_only=True) as con:
        ticks = con.execute("SELECT count(*) FROM tick_log WHERE now = ?", [TICK_NOW]).fetchall()
    assert ticks == [(1,)]  # the tick is logged: the review's freshness check reads this


def test_the_review_completes_without_an_email_block_and_says_how_to_make_one(
    deployed: Deployed, ticked: UUID
) -> None:
    run_id = deployed.run_deployment(
        "daily-review/daily-review",
        report_date=DEMO_REPORT_DAY.isoformat(),
        now=REVIEW_NOW.isoformat(),
    )
    run = deployed.flow_run(run_id)
    logs = deployed.logs(run_id, expect="leadsla prefect setup")
    assert run["state_type"] == "COMPLETED", logs
    assert "leadsla prefect setup" in logs  # the missing block's warning names the command
    html = deployed.home / "reports" / DEMO_REPORT_DAY.isoformat() / "management.html"
    assert html.is_file()
    assert "<html" in html.read_text(encoding="utf-8").lower()
    assert (deployed.home / "leadsla_marts.duckdb").is_file()
    assert {"daily-review", "daily-review-summary"} <= deployed.artifact_keys(run_id)


def test_with_the_block_setup_makes_the_review_emails_every_manager(
    deployed: Deployed, ticked: UUID, smtp_sink: tuple[SmtpSink, int]
) -> None:
    sink, port = smtp_sink
    setup = deployed.cli(
        "leadsla", "prefect", "setup", env={"LEADSLA_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    )
    assert setup.returncode == 0, setup.stderr
    assert f"created   email block leadsla-smtp: smtp://127.0.0.1:{port}" in setup.stdout
    run_id = deployed.run_deployment(
        "daily-review/daily-review",
        report_date=DEMO_REPORT_DAY.isoformat(),
        now=REVIEW_NOW.isoformat(),
    )
    assert deployed.flow_run(run_id)["state_type"] == "COMPLETED", deployed.logs(run_id)
    rules = load_rules(deployed.home / "sla_rules")
    received = {r for rcpts, _ in sink.messages for r in rcpts}
    assert set(rules.org.management) <= received
    assert all(str(m["Subject"]).strip() for _, m in sink.messages)
    assert {"daily-review", "daily-review-summary"} <= deployed.artifact_keys(run_id)


class _Hook(http.server.BaseHTTPRequestHandler):
    """The ops channel: a webhook on loopback that keeps what it was sent."""

    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.received.append(json.loads(body or b"{}"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet in test output
        pass


def test_a_failed_tick_reaches_the_ops_channel_through_setups_automation(
    deployed: Deployed,
) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/ops"
        setup = deployed.cli("leadsla", "prefect", "setup", env={"LEADSLA_OPS_WEBHOOK_URL": url})
        assert setup.returncode == 0, setup.stderr
        for name in ("sla-tick failed", "sla-tick late", "daily-review failed"):
            assert f"created   automation leadsla: {name}" in setup.stdout
        # a tick pointed at a folder that does not exist fails, with the folder named
        run_id = deployed.run_deployment(
            "sla-tick/sla-tick", now=TICK_NOW.isoformat(), exports="no-such-folder"
        )
        assert deployed.flow_run(run_id)["state_type"] == "FAILED"
        assert "no-such-folder does not exist" in deployed.logs(run_id, expect="no-such-folder")
        started = time.monotonic()
        while not _Hook.received and time.monotonic() - started < ALERT_BOUND_S:
            time.sleep(0.5)
        texts = [m.get("text", "") for m in _Hook.received]
        assert any("an SLA tick failed" in t for t in texts), texts
    finally:
        server.shutdown()
        server.server_close()
