"""The review's recipients, and their reports rendered from the published marts, written to
files and emailed. The pipeline around it (build the marts first) is
``leadsla.pipelines.review``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from leadsla.report import data as report_data
from leadsla.report.render import Rendered, email, render_report
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
            rep = render_report(d, org_name=rules.org.name, zone=org_zone(rules), scope_name=r.name)
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


def published_rows(published: Path, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Rows of a query on the published marts as plain values (dates as ISO text), read-only."""
    con = duckdb.connect(str(published), read_only=True)
    try:
        cur = con.execute(sql, params)
        rows = cur.fetchall()
        names = [d[0] for d in cur.description or []]
    finally:
        con.close()
    return [
        {
            n: (str(v) if isinstance(v, datetime | date) else v)
            for n, v in zip(names, r, strict=True)
        }
        for r in rows
    ]
