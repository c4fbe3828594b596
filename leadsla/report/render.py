"""One report as HTML (inline CSS, no scripts, charts by Content-ID), text and CSV, and as an
email. Mail clients strip <style> blocks and block scripts, so every style is inline. Mart
values come from CRM exports: the CSV neutralises formulas and the text parts lose control
characters (:mod:`leadsla.delivery.safety`, shared with every message and CSV leadsla writes)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from jinja2 import Environment, select_autoescape

from leadsla.delivery.safety import clean_line, clean_text, write_csv
from leadsla.report import charts
from leadsla.report.data import CSV_COLUMNS, ReportData
from leadsla.report.shadow import shadow_tables
from leadsla.report.words import (
    HELD_BACK_WORDS,
    MISTAKE_WORDS,
    duration,
    level_label,
    local_time,
    shown,
    words,
)

CHART_NAMES = ("response_distribution", "missed_by_source", "escalations_by_level")

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

_TD = "padding:4px 8px;border-bottom:1px solid #eee;font-size:13px;"
_TH = "padding:4px 8px;border-bottom:2px solid #ccc;text-align:left;font-size:12px;color:#555;"

HTML = _ENV.from_string(
    """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body style="margin:0;padding:16px;background:#f6f7f9;
font-family:Arial,Helvetica,sans-serif;color:#222;">
<div style="max-width:720px;margin:0 auto;background:#fff;padding:20px;border-radius:6px;">
<h1 style="font-size:20px;margin:0 0 4px 0;">{{ title }}</h1>
<p style="margin:0 0 16px 0;color:#666;font-size:13px;">
{{ scope }} &middot; {{ day }} &middot; times in {{ zone }}</p>
<table role="presentation" style="width:100%;border-collapse:collapse;margin-bottom:16px;"><tr>
{% for label, value in headline %}
<td style="text-align:center;padding:8px;border:1px solid #eee;">
<div style="font-size:22px;font-weight:bold;" data-figure="{{ label }}">{{ value }}</div>
<div style="font-size:11px;color:#666;">{{ label }}</div></td>
{% endfor %}
</tr></table>
{% if levels %}<p style="margin:0 0 16px 0;font-size:13px;">Issue escalations this day by
level: <span data-figure="issue levels">{{ levels }}</span></p>{% endif %}
{% for cid, caption in charts %}
<h2 style="font-size:15px;margin:16px 0 6px 0;">{{ caption }}</h2>
<img src="cid:{{ cid }}" alt="{{ caption }}" width="640" style="display:block;max-width:100%;">
{% endfor %}
{% for t in tables %}
<h2 style="font-size:15px;margin:18px 0 6px 0;">{{ t.title }}</h2>
{% if t.rows %}
<table style="width:100%;border-collapse:collapse;">
<tr>{% for h in t.header %}<th style="{{ th }}">{{ h }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr>{% for cell in row %}<td style="{{ td }}">
{%- if cell is mapping %}<a href="{{ cell.href }}" style="color:#1a5fb4;">{{ cell.text }}</a>
{%- else %}{{ cell }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
{% else %}<p style="font-size:13px;color:#666;">None.</p>{% endif %}
{% endfor %}
<p style="font-size:11px;color:#888;margin-top:20px;">The headline counts this day; tables and
charts say their own period. Every figure comes from the leadsla marts. The attached CSV holds
the leads behind this report (times in UTC there).</p>
</div></body></html>
"""
)


@dataclass
class Rendered:
    """One report: the file stem, HTML, text, CSV and the chart PNGs by content id."""

    stem: str
    subject: str
    html: str
    text: str
    csv: str
    images: dict[str, bytes]


def _fmt(value: Any, zone: str = "UTC") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return local_time(value, zone)
    return str(value)


def issue_levels(data: ReportData) -> str:
    """The day's issue escalations per level, for the headline: ``L1 32 · L2 16 · L3 8``."""
    ordered = sorted(data.issue_levels, key=lambda r: (r[0] == 0, r[0]))  # "not given" last
    return " · ".join(f"{level_label(level)} {n}" for level, n in ordered)


def headline(data: ReportData) -> list[tuple[str, str]]:
    """The headline figures, label and value, straight from the rpt_daily_review row."""
    h = data.headline
    pct = h.get("sla_met_pct")
    return [
        ("leads in", _fmt(h["leads_in"])),
        ("SLA met %", "n/a" if pct is None else f"{pct:g}%"),
        ("escalations", _fmt(h["escalations"])),
        ("issue escalations", _fmt(h["issue_escalations"])),
        ("recovered", _fmt(h["recovered"])),
        ("missed", _fmt(h["sla_missed"])),
        ("waiting now", _fmt(h["waiting_at_day_end"])),
    ]


def _link(row: dict[str, Any]) -> dict[str, str] | str:
    url = row.get("record_url")
    return {"href": str(url), "text": str(row["lead_id"])} if url else str(row["lead_id"])


def _owner(value: Any) -> str:
    return "unassigned" if value is None else str(value)


def tables(data: ReportData, zone: str = "UTC") -> list[dict[str, Any]]:
    """Worst offenders and what was held back or done against the SOP, each titled with its
    period, times in the org's ``zone``, durations in days, hours and minutes."""
    n = data.totals
    return [
        {
            "title": shown("Owners with overdue first responses at the end of this day",
                           len(data.overdue_owners), n.get("overdue_owners", 0)),
            "header": ["owner", "team", "overdue leads", "oldest due", "longest wait"],
            "rows": [
                [_owner(r["owner_id"]), r["team_id"], r["overdue_leads"],
                 _fmt(r["oldest_due_at"], zone), duration(r["max_minutes_waiting"])]
                for r in data.overdue_owners
            ],
        },
        {
            "title": shown("Missed first-response SLAs due this day",
                           len(data.missed_leads), n.get("missed_leads", 0)),
            "header": ["lead", "team", "owner", "intent", "source", "due", "answered",
                       "escalations"],
            "rows": [
                [_link(r), r["team_id"], _owner(r["owner_id"]), _fmt(r["intent"]),
                 _fmt(r["lead_source"]), _fmt(r["due_at"], zone),
                 _fmt(r["first_response_at"], zone), r["escalation_count"]]
                for r in data.missed_leads
            ],
        },
        {
            "title": shown("Longest waiting for a first response at the end of this day",
                           len(data.waiting_leads), n.get("waiting_leads", 0)),
            "header": ["lead", "team", "owner", "intent", "due", "overdue", "waiting"],
            "rows": [
                [_link(r), r["team_id"], _owner(r["owner_id"]), _fmt(r["intent"]),
                 _fmt(r["due_at"], zone), "yes" if r["is_overdue"] else "no",
                 duration(r["minutes_waiting"])]
                for r in data.waiting_leads
            ],
        },
        {
            "title": shown("Issue escalations this day by owning team", len(data.issue_teams),
                           n.get("issue_teams", 0)),
            "header": ["team", "L1", "L2", "L3", "all levels"],
            "rows": [[r["team_id"], r["l1"] or 0, r["l2"] or 0, r["l3"] or 0, r["escalations"]]
                     for r in data.issue_teams],
        },
        {
            "title": "Held back this day (messages not sent as planned, steps fired on a late "
                     "export)",
            "header": ["what", "items"],
            "rows": [[words(r["held_back_kind"], HELD_BACK_WORDS), r["items"]]
                     for r in data.held_back],
        },
        {
            "title": "SOP mistakes this day",
            "header": ["mistake", "items"],
            "rows": [[words(r["mistake"], MISTAKE_WORDS), r["items"]] for r in data.sop_mistakes],
        },
    ]  # fmt: skip


def render_report(data: ReportData, *, org_name: str, zone: str, scope_name: str) -> Rendered:
    """Render ``data`` (one recipient's slice) into HTML, text, CSV and chart PNGs."""
    day = data.report_date.isoformat()
    stem = f"report_{data.team or 'management'}_{day}"
    images = {
        f"{name}.{stem}@leadsla": png
        for name, png in (
            ("response_distribution",
             charts.response_distribution(data.response_minutes, data.windows)),
            ("missed_by_source", charts.missed_by_source(data.missed_by_source)),
            ("escalations_by_level",
             charts.escalations_by_level(data.escalations_by_level, data.report_date)),
        )
    }  # fmt: skip
    captions = [
        "First response (business minutes) against the policy windows, last 7 days",
        "Missed SLAs by lead source, all time up to the end of this day",
        "Escalations by level, last 14 days",
    ]
    title = f"{org_name}: daily lead review"
    head = headline(data)
    levels = issue_levels(data)
    tabs = tables(data, zone) + shadow_tables(data.shadow)
    html = HTML.render(
        title=title,
        scope=scope_name,
        day=day,
        zone=zone,
        headline=head,
        levels=levels,
        charts=list(zip(images, captions, strict=True)),
        tables=tabs,
        td=_TD,
        th=_TH,
    )
    lines = [f"{title} - {scope_name} - {day} - times in {zone}", ""]
    lines += [f"{label:>18}: {value}" for label, value in head]
    if levels:
        lines.append(f"Issue escalations this day by level: {levels}")
    for t in tabs:
        lines += ["", t["title"]]
        if not t["rows"]:
            lines.append("  none")
        for row in t["rows"]:
            cells = [f"{c['text']} <{c['href']}>" if isinstance(c, dict) else str(c) for c in row]
            lines.append("  " + " | ".join(cells))
    lines += ["", "Charts in the HTML part:", *(f"  {c}" for c in captions)]
    lines += ["", "The leads behind the report are in the CSV (times in UTC there)."]
    buf = io.StringIO()
    write_csv(buf, CSV_COLUMNS, data.csv_rows)  # formulas neutralised, as every CSV we write
    return Rendered(
        stem=stem,
        subject=clean_line(f"[leadsla] {scope_name}: daily review {day}", 200),
        html=clean_text(html),
        text=clean_text("\n".join(lines) + "\n"),
        csv=buf.getvalue(),
        images=images,
    )


def email(rendered: Rendered, *, to: list[str], sender: str | None = None) -> EmailMessage:
    """multipart/mixed( multipart/alternative( text, multipart/related( html, PNGs ) ), CSV )."""
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["To"] = ", ".join(to)
    if sender:
        msg["From"] = sender
    msg["Message-ID"] = make_msgid(domain="leadsla")
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)  # set by add_alternative just above
    for cid, png in rendered.images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>",
                              filename=f"{cid.split('.')[0]}.png")  # fmt: skip
    msg.add_attachment(
        rendered.csv.encode("utf-8"),
        maintype="text",
        subtype="csv",
        filename=f"{rendered.stem}.csv",
    )
    return msg
