"""The review run end to end: snapshot, dbt build, publish, render per recipient, write, send.

Called by ``leadsla report`` and by the ``daily_review`` flow (which runs dbt through
prefect-dbt instead of :func:`leadsla.warehouse.build`, then calls :func:`render_all` and
:func:`send_all`). ``as_of`` is always passed in.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from leadsla import warehouse
from leadsla.progress import Report, silent
from leadsla.report import data as report_data
from leadsla.report.render import Rendered, email, render
from leadsla.rules.loader import RuleSet
from leadsla.smtp import SmtpSettings, send

MANAGEMENT = "management"


@dataclass(frozen=True)
class Recipient:
    """Who gets one report: management (team None, everything) or a team's lead (their team)."""

    key: str
    team: str | None
    name: str
    emails: tuple[str, ...]


@dataclass
class Paths:
    """Where the review keeps its files, all derived from the tick's database path."""

    warehouse: Path
    published: Path

    @classmethod
    def beside(cls, db: Path) -> Paths:
        """Absolute paths beside the tick's file: dbt resolves relative ones against its own
        project folder, which would put a relative ``db``'s warehouse inside the package."""
        db = Path(db).absolute()
        return cls(
            warehouse=db.parent / "warehouse" / "warehouse.duckdb",
            # not marts.duckdb: that catalog name would shadow the schema marts in queries
            published=db.parent / "leadsla_marts.duckdb",
        )


@dataclass
class ReportRun:
    """What a run produced: files per recipient, who was sent what, build statuses."""

    report_date: date
    out_dir: Path
    published: Path
    files: dict[str, list[Path]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    headline: dict[str, Any] = field(default_factory=dict)

    def human(self) -> str:
        lines = [f"report for {self.report_date}: {self.out_dir}"]
        lines += [f"  {k}: {', '.join(p.name for p in v)}" for k, v in self.files.items()]
        lines.append(f"marts (read-only copy for analysts): {self.published}")
        if self.sent:
            lines.append(f"sent to: {', '.join(self.sent)}")
        return "\n".join(lines)


def org_zone(rules: RuleSet) -> str:
    """The org's zone: the default calendar's (a report day is a day there)."""
    return rules.calendars[rules.org.default_calendar].timezone


def day_as_of(report_date: date, zone: str, now: datetime) -> datetime:
    """The logical now of a report on ``report_date``: the end of that day in the org's zone,
    or ``now`` if the day is not over yet."""
    end = datetime.combine(report_date + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return min(end.astimezone(UTC), now.astimezone(UTC))


def dbt_vars(rules: RuleSet, as_of: datetime) -> dict[str, Any]:
    """The dbt vars of a review build, from the rules (zone, policy windows) and as_of."""
    return warehouse.dbt_vars(
        as_of=as_of,
        org_timezone=org_zone(rules),
        policy_windows={pid: p.deadline.within_minutes for pid, p in rules.policies.items()},
    )


def recipients(rules: RuleSet) -> list[Recipient]:
    """Management (the org's management list) and the lead of each team that owns leads,
    scoped to the team. The SOP's functional teams (BD, Ops, ...) own lead *issues*, not
    leads: their escalations are in the management report."""
    out = [Recipient(MANAGEMENT, None, "Management", tuple(rules.org.management))]
    for team in rules.org.teams:
        if team.kind in ("functional", "management"):
            continue
        lead = rules.members.get(team.lead)
        if lead is not None:
            out.append(Recipient(team.id, team.id, team.name, (lead.email,)))
    return out


def prepare(
    db: Path, paths: Paths, variables: dict[str, Any], *, retry_for_s: float = 300.0
) -> warehouse.BuildResult:
    """Snapshot the tick's tables, build and test with dbt, publish when everything passed.

    A failing test (a stale feed, a broken contract) raises: a report over a stale feed would
    tell managers a quiet day when the pipeline is stalled.
    """
    warehouse.snapshot(db, paths.warehouse, retry_for_s=retry_for_s)
    result = warehouse.build(paths.warehouse, variables)
    if not result.ok:
        raise warehouse.WarehouseError(
            "dbt build failed; the report was not produced:\n  " + "\n  ".join(result.failures)
        )
    warehouse.publish(paths.warehouse, paths.published)
    return result


def render_all(
    published: Path, report_date: date, rules: RuleSet, out: Path
) -> tuple[list[tuple[Recipient, Rendered]], dict[str, list[Path]], dict[str, Any]]:
    """Render every recipient's report from the published marts and write them to
    ``out/<date>/``: ``<key>.html`` (charts embedded so it opens in a browser) and
    ``<key>.csv``. Returns the renderings, the files and the management headline."""
    day_dir = out / report_date.isoformat()
    day_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(published), read_only=True)
    rendered: list[tuple[Recipient, Rendered]] = []
    files: dict[str, list[Path]] = {}
    headline: dict[str, Any] = {}
    try:
        for r in recipients(rules):
            d = report_data.load(con, report_date, r.team)
            if r.team is None:
                headline = d.headline
            rep = render(d, org_name=rules.org.name, zone=org_zone(rules), scope_name=r.name)
            rendered.append((r, rep))
            html_path = day_dir / f"{r.key}.html"
            html_path.write_text(_embed_images(rep), encoding="utf-8")
            csv_path = day_dir / f"{r.key}.csv"
            csv_path.write_text(rep.csv, encoding="utf-8")
            files[r.key] = [html_path, csv_path]
    finally:
        con.close()
    return rendered, files, headline


def _embed_images(rep: Rendered) -> str:
    """The on-disk copy: cid: references become data: URIs (browsers do not resolve cid:)."""
    html = rep.html
    for cid, png in rep.images.items():
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png).decode())
    return html


def send_all(
    rendered: list[tuple[Recipient, Rendered]],
    settings: SmtpSettings,
    *,
    sender: Callable[[SmtpSettings, Any], None] = send,
) -> list[str]:
    """Email each report to its recipient; returns the addresses sent to."""
    sent: list[str] = []
    for r, rep in rendered:
        if not r.emails:
            continue
        sender(settings, email(rep, to=list(r.emails), sender=settings.sender))
        sent.extend(r.emails)
    return sent


def run_report(
    *,
    db: Path,
    rules: RuleSet,
    out: Path,
    report_date: date,
    now: datetime,
    smtp: SmtpSettings | None = None,
    paths: Paths | None = None,
    progress: Report = silent,
) -> ReportRun:
    """The whole review for one day, in process (the CLI's path)."""
    paths = paths or Paths.beside(db)
    progress("building the marts (snapshot, dbt build, publish)", 0, None)
    prepare(db, paths, dbt_vars(rules, day_as_of(report_date, org_zone(rules), now)))
    progress(f"rendering the review of {report_date}", 0, None)
    rendered, files, headline = render_all(paths.published, report_date, rules, out)
    run = ReportRun(report_date, out / report_date.isoformat(), paths.published, files)
    run.headline = headline
    if smtp is not None:
        progress("emailing the reports", 0, len(rendered))
        run.sent = send_all(rendered, smtp)
    return run
