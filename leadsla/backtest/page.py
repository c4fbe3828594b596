"""The backtest's outputs: ``backtest.json``, the CSVs and ``backtest.html``, a page a person
reads (the charts drawn with the review's chart style, :mod:`leadsla.report.charts`)."""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from jinja2 import Environment, select_autoescape

from leadsla.backtest.compare import METRICS, Comparison
from leadsla.delivery.safety import write_csv
from leadsla.report.charts import _STYLE, _png

#: Changed leads listed on the page and in the JSON; the CSV holds them all.
LISTED = 100

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

HTML = _ENV.from_string(
    """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Backtest: {{ candidate }} against {{ baseline }}</title>
<style>body{font-family:Arial,Helvetica,sans-serif;color:#222;max-width:900px;margin:16px auto}
table{border-collapse:collapse;margin-bottom:16px}td,th{padding:3px 8px;border-bottom:1px solid
#ddd;font-size:13px;text-align:left}th{color:#555}</style>
</head><body>
<h1>Backtest: {{ candidate }} against {{ baseline }}</h1>
<p>Both rule sets replayed over the same exports from {{ start }} to {{ end }}.
{{ changed_count }} lead(s) changed. Messages are what delivery would have sent after its
noise control (budgets, quiet hours, digests); nothing was sent.</p>
<table><tr><th></th><th>baseline</th><th>candidate</th><th>difference</th></tr>
{% for label, b, c, d in totals %}<tr><td>{{ label }}</td><td>{{ b }}</td><td>{{ c }}</td>
<td>{{ d }}</td></tr>{% endfor %}</table>
{% for caption, png in charts %}<h2>{{ caption }}</h2>
<img src="data:image/png;base64,{{ png }}" alt="{{ caption }}" width="640">{% endfor %}
{% if fixtures %}<h2>Rule fixtures the candidate moves ({{ fixtures|length }})</h2>
<p>Update these cases in the same commit as the rule change (sla_rules/tests/).</p>
{% for f in fixtures %}<pre>{{ f }}</pre>{% endfor %}{% endif %}
<h2>Where the counts differ (by event type, policy, team, owner, recipient)</h2>
{% if breakdown %}<table><tr><th>by</th><th>key</th><th>metric</th><th>baseline</th>
<th>candidate</th></tr>{% for r in breakdown %}<tr><td>{{ r.dimension }}</td><td>{{ r.key }}</td>
<td>{{ r.metric }}</td><td>{{ r.baseline }}</td><td>{{ r.candidate }}</td></tr>{% endfor %}
</table>{% else %}<p>No difference.</p>{% endif %}
<h2>Changed leads (first {{ listed|length }} of {{ changed_count }}; all in changed_leads.csv)</h2>
{% if listed %}<table><tr><th>lead</th><th>how</th><th>only with the baseline</th>
<th>only with the candidate</th></tr>{% for r in listed %}<tr><td>{{ r.lead_id }}</td>
<td>{{ r.how }}</td><td>{{ r.only_baseline }}</td><td>{{ r.only_candidate }}</td></tr>
{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
</body></html>
"""
)


def _by_day_chart(daily: list[dict[str, Any]]) -> bytes:
    """Per day, the candidate's count minus the baseline's, one bar per metric."""
    diff: dict[str, dict[date, int]] = defaultdict(dict)
    for r in daily:
        diff[r["metric"]][r["day"]] = r["candidate"] - r["baseline"]
    days = sorted({r["day"] for r in daily})
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots()
        width = 0.8 / len(METRICS)
        for i, metric in enumerate(METRICS):
            xs = [k + i * width for k in range(len(days))]
            ax.bar(xs, [diff[metric].get(d, 0) for d in days], width, label=metric)
        ax.set_xticks([k + 0.4 - width / 2 for k in range(len(days))],
                      [d.strftime("%d %b") for d in days])  # fmt: skip
        ax.axhline(0, color="#888", linewidth=0.8)
        ax.set_ylabel("candidate - baseline")
        ax.legend(fontsize=7)
        return _png(fig)


def _by_rule_chart(by_rule: list[dict[str, Any]]) -> bytes:
    """Steps per rule whose count differs, the candidate's minus the baseline's."""
    rows = [r for r in by_rule if r["metric"] == "steps" and r["candidate"] != r["baseline"]]
    rows = rows[:15]
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots()
        if rows:
            names = [r["rule_id"] for r in rows][::-1]
            ax.barh(names, [r["candidate"] - r["baseline"] for r in rows][::-1], color="#1a5fb4")
            ax.axvline(0, color="#888", linewidth=0.8)
        else:
            ax.text(0.5, 0.5, "no rule fires differently", ha="center", transform=ax.transAxes)
        ax.set_xlabel("steps, candidate - baseline")
        return _png(fig)


def summary(cmp: Comparison, meta: dict[str, Any]) -> dict[str, Any]:
    """``backtest.json``: every event type's count per side, the metrics, SLA met %, the
    changed leads' count and first ones, and the breakdowns."""
    return {
        **meta,
        "baseline": cmp.events["baseline"],
        "candidate": cmp.events["candidate"],
        "changed_leads": len(cmp.changed),
        "metrics": cmp.metrics,
        "sla_met_pct": cmp.met_pct,
        "changed_leads_listed": cmp.changed[:LISTED],
        "breakdown": [r for r in cmp.breakdown if r["baseline"] != r["candidate"]],
        "daily": cmp.daily,
        "by_rule": cmp.by_rule,
    }


def _csv(path: Path, rows: list[dict[str, Any]], header: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        write_csv(fh, header, ([r[h] for h in header] for r in rows))


def write_outputs(cmp: Comparison, meta: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write ``backtest.json``, ``backtest.html``, ``changed_leads.csv``, ``breakdown.csv``,
    ``daily.csv`` and ``by_rule.csv`` into ``out``; returns the JSON's content."""
    data = summary(cmp, meta)
    (out / "backtest.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    changed_cols = ["lead_id", "how", "only_baseline", "only_candidate", "baseline_policy",
                    "candidate_policy", "baseline_owner", "candidate_owner"]  # fmt: skip
    _csv(out / "changed_leads.csv", cmp.changed, changed_cols)
    pair = ["baseline", "candidate"]
    _csv(out / "breakdown.csv", cmp.breakdown, ["dimension", "key", "metric", *pair])
    _csv(out / "daily.csv", cmp.daily, ["day", "metric", *pair])
    _csv(out / "by_rule.csv", cmp.by_rule, ["rule_id", "metric", *pair])
    met = cmp.met_pct
    totals: list[tuple[str, Any, Any, Any]] = [
        (m, cmp.metrics["baseline"][m], cmp.metrics["candidate"][m],
         f"{cmp.metrics['candidate'][m] - cmp.metrics['baseline'][m]:+d}")
        for m in METRICS
    ]  # fmt: skip
    totals.append(("SLA met %", met["baseline"], met["candidate"], ""))
    charts = [
        ("Difference by day", _by_day_chart(cmp.daily)),
        ("Difference in steps by rule", _by_rule_chart(cmp.by_rule)),
    ]
    html = HTML.render(
        baseline=meta["baseline_rules"], candidate=meta["candidate_rules"],
        start=meta["from"], end=meta["to"], changed_count=len(cmp.changed), totals=totals,
        charts=[(c, base64.b64encode(png).decode()) for c, png in charts],
        breakdown=data["breakdown"][:200], listed=cmp.changed[:LISTED],
        fixtures=meta["fixture_failures"],
    )  # fmt: skip
    (out / "backtest.html").write_text(html, encoding="utf-8")
    return data
