"""``leadsla demo``: generate the week's exports and replay them tick by tick, then review."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from leadsla.delivery.senders import Senders
from leadsla.pipelines.tick import replay
from leadsla.progress import Report, silent
from leadsla.rules import load_rules
from leadsla.store import open_store
from leadsla_demo.exports import write_exports, write_issue_exports
from leadsla_demo.issues import generate_issues
from leadsla_demo.leads import generate_leads
from leadsla_demo.week import DEMO_REPORT_DAY, WEEK_END, WEEK_START


@dataclass
class DemoResult:
    out: Path
    exports: Path
    db: Path
    files: int
    ticks: int
    leads: int
    events_by_type: dict[str, int]
    sla_met_pct: float | None
    quarantined: int
    issue_levels: dict[int, int]
    seconds: float
    outbox: dict[str, int] = field(default_factory=dict)  # "channel status" -> messages
    report: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "exports": str(self.exports),
            "db": str(self.db),
            "files": self.files,
            "ticks": self.ticks,
            "leads": self.leads,
            "events_by_type": self.events_by_type,
            "sla_met_pct": self.sla_met_pct,
            "quarantined_rows": self.quarantined,
            "issue_escalations_by_level": self.issue_levels,
            "seconds": round(self.seconds, 1),
            "outbox": self.outbox,
            "report": None if self.report is None else str(self.report),
        }

    def human(self) -> str:
        width = max(len(k) for k in self.events_by_type) if self.events_by_type else 10
        lines = [
            f"leadsla demo: {self.leads} leads from {self.files} export files, "
            f"{self.ticks} ticks in {self.seconds:.1f} s",
            f"SLA met (first response by the deadline): "
            f"{'n/a' if self.sla_met_pct is None else f'{self.sla_met_pct:.1f}%'}",
            f"rows quarantined: {self.quarantined}",
            "issue escalations by level: "
            + (", ".join(f"L{k}: {v}" for k, v in self.issue_levels.items()) or "none"),
            "events by type:",
            *[f"  {k:<{width}}  {v:>6}" for k, v in self.events_by_type.items()],
            f"exports:   {self.exports}",
            f"event log: {self.db}  (table sla_events)",
            "outbox (messages by channel and status): "
            + (", ".join(f"{k} {v}" for k, v in self.outbox.items()) or "empty"),
        ]
        if self.report is not None:
            lines.append(f"report:    {self.report}/management.html  (one per manager beside it)")
        return "\n".join(lines)


def run_demo(
    *,
    out: Path,
    rules_dir: Path,
    every: timedelta = timedelta(minutes=30),
    progress: Report = silent,
    channels: Senders | None = None,
    report: bool = True,
) -> DemoResult:
    """Generate the week into ``out/exports`` and replay it into ``out/leadsla.duckdb``.

    Both are rebuilt from scratch, so running the demo twice gives the same event log. With
    ``channels`` (``LEADSLA_SMTP_URL`` set) each tick also delivers, and the database is kept
    instead: the outbox remembers what went out, so a second run delivers nothing new (the
    regenerated exports are identical, so the event log stays the same too).
    """
    started = time.perf_counter()
    rules = load_rules(rules_dir)
    cal = rules.business_calendars[rules.org.default_calendar]
    exports, db = out / "exports", out / "leadsla.duckdb"
    shutil.rmtree(exports, ignore_errors=True)
    for p in (db, db.with_suffix(".duckdb.wal")):
        if channels is None:
            p.unlink(missing_ok=True)
    (out / "leadsla_marts.duckdb").unlink(missing_ok=True)
    shutil.rmtree(out / "warehouse", ignore_errors=True)  # the review's copy of the old log
    progress("writing a week of CRM exports", 0, None)
    leads = generate_leads(cal)
    files = write_exports(leads, exports, rules.sources)
    files += write_issue_exports(generate_issues(leads, cal), exports)
    start = WEEK_START.astimezone(UTC)
    end = (WEEK_END + timedelta(hours=12)).astimezone(UTC)
    total = int((end - start) / every) + 1

    def tick_progress(now: datetime, n: int) -> None:
        progress(f"replaying {files} files, every {every}", n, total)

    ticks = replay(
        rules_dir=rules_dir,
        exports=str(exports),
        db=db,
        start=start,
        end=end,
        every=every,
        progress=tick_progress,
        channels=channels,
    )
    with open_store(db) as store:
        con = store.con
        by_type = dict(
            con.execute(
                "SELECT event_type, count(*) FROM sla_events GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        n_leads = con.execute("SELECT count(*) FROM lead_state").fetchall()[0]
        met = con.execute(
            """
            SELECT 100.0 * count(*) FILTER (WHERE response_at <= due_at)
                   / nullif(count(*) FILTER (WHERE due_at <= $end OR response_at IS NOT NULL), 0)
            FROM lead_state WHERE due_at IS NOT NULL
            """,
            {"end": end},
        ).fetchall()[0]
        q = con.execute("SELECT count(*) FROM quarantine WHERE action = 'rejected'").fetchall()[0]
        levels = dict(
            con.execute(
                "SELECT level, count(*) FROM sla_events WHERE event_type = 'issue_escalated' "
                "GROUP BY 1 ORDER BY 1"
            ).fetchall()
        )
        outbox = con.execute(
            "SELECT channel || ' ' || status, count(*) FROM outbox GROUP BY 1 ORDER BY 1"
        ).fetchall()
    report_dir = None
    if report:
        from leadsla.pipelines.review import daily_build, run_report

        # the week's last business day (Friday), reviewed as the 08:00 run would the next day
        run = run_report(
            db=db,
            rules=rules,
            out=out / "reports",
            plan=daily_build(rules, db, end, DEMO_REPORT_DAY),
            progress=progress,
        )
        report_dir = run.out_dir
    return DemoResult(
        out=out,
        exports=exports,
        db=db,
        files=files,
        ticks=ticks,
        leads=int(n_leads[0]) if n_leads else 0,
        events_by_type={k: int(v) for k, v in by_type.items()},
        sla_met_pct=None if not met or met[0] is None else float(met[0]),
        quarantined=int(q[0]) if q else 0,
        issue_levels={int(k): int(v) for k, v in levels.items()},
        seconds=time.perf_counter() - started,
        outbox={k: int(v) for k, v in outbox},
        report=report_dir,
    )
