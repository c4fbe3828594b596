"""The report's charts as PNG bytes (matplotlib's Agg backend: no display needed).

Charts only draw values handed to them from the marts; they compute nothing a reader sees as
a number.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

_STYLE: Any = {"figure.figsize": (6.4, 3.0), "figure.dpi": 100, "font.size": 9}


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def response_distribution(
    minutes: list[tuple[str, float]], windows: list[tuple[str, float]]
) -> bytes:
    """Histogram of business minutes to first response per intent, the policy windows as
    dashed lines: a fat tail beyond a line is an SLA that is missed or unrealistic."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots()
        by_intent: dict[str, list[float]] = defaultdict(list)
        for intent, m in minutes:
            by_intent[intent].append(m)
        if by_intent:
            top = max(max(v) for v in by_intent.values())
            bins = [x * max(top, 1.0) / 30 for x in range(31)]
            for intent in sorted(by_intent):
                ax.hist(by_intent[intent], bins=bins, alpha=0.6, label=intent)
        for policy, w in windows:
            ax.axvline(w, linestyle="--", color="#b00020", linewidth=1)
            ax.annotate(policy, (w, 0), rotation=90, fontsize=7, va="bottom", ha="right")
        ax.set_xlabel("business minutes to first response (last 7 days)")
        ax.set_ylabel("leads")
        if by_intent:
            ax.legend(title="intent")
        else:
            ax.text(0.5, 0.5, "no responses", ha="center", transform=ax.transAxes)
        return _png(fig)


def missed_by_source(rows: list[tuple[str, int]]) -> bytes:
    """Horizontal bars: missed first-response SLAs per lead source."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots()
        if rows:
            names = [r[0] for r in rows][::-1]
            ax.barh(names, [r[1] for r in rows][::-1], color="#c0392b")
        else:
            ax.text(0.5, 0.5, "no missed SLAs", ha="center", transform=ax.transAxes)
        ax.set_xlabel("missed SLAs")
        return _png(fig)


def escalations_by_level(rows: list[tuple[date, str, int]], end: date) -> bytes:
    """Stacked bars per day over the 14 days up to ``end``, one colour per kind and level."""
    days = [end - timedelta(days=13 - i) for i in range(14)]
    series: dict[str, dict[date, int]] = defaultdict(dict)
    for d, label, n in rows:
        series[label][d] = n
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots()
        bottom = [0] * len(days)
        for label in sorted(series):
            vals = [series[label].get(d, 0) for d in days]
            ax.bar([d.strftime("%d %b") for d in days], vals, bottom=bottom, label=label)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]  # stacking, not a figure
        ax.set_ylabel("escalations")
        ax.tick_params(axis="x", labelrotation=60)
        if series:
            ax.legend()
        return _png(fig)
