"""Write the figures of ``bench/out/results.json`` into ``docs/benchmarks.md``.

The page's prose says what each benchmark does and why the code is fast; its figures come only
from here, between the ``figures`` markers, so the page never quotes a run nobody can find.
``make bench`` runs this after the benchmarks. Run: ``python -m bench.page [--results PATH]``.
"""

from __future__ import annotations

import argparse
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PAGE = REPO / "docs" / "benchmarks.md"
START, END = "<!-- figures:start (bench/page.py) -->", "<!-- figures:end -->"


@dataclass(frozen=True)
class Target:
    """A benchmark key's target: ``value <op> limit``, in the issue's words."""

    limit: float
    op: str  # "<", "<=" or ">="

    def met(self, value: float) -> bool:
        ops: dict[str, Callable[[float, float], bool]] = {
            "<": operator.lt,
            "<=": operator.le,
            ">=": operator.ge,
        }
        return ops[self.op](value, self.limit)


#: What each key measures (the unit is in the key's suffix) and its target, where it has one.
KEYS: dict[str, tuple[str, Target | None]] = {
    "full_tick_over_bare_read": (
        "full tick over a bare DuckDB read of the same export",
        Target(4, "<="),
    ),
    "full_tick_s": ("one tick over a 1M-lead snapshot differing in 5% of rows", None),
    "bare_read_s": ("DuckDB `read_csv` of that snapshot alone", None),
    "noop_tick_s": ("a tick five minutes later with no new export", Target(1.5, "<")),
    "checkpoint_s": ("folding the tick's WAL into the file", None),
    "initial_load_s": ("first load of the 1M-lead snapshot into an empty database", None),
    "per_row_speedup": ("steady tick against a per-row Python loop, same steps", Target(20, ">=")),
    "per_row_first_pass_speedup": ("first sight of the open leads, same comparison", None),
    "peak_rss_mb": ("peak resident memory of `bench.run`", Target(2048, "<")),
    "dbt_full_s": ("first dbt build of the review's warehouse (10M events)", Target(20, "<")),
    "dbt_incremental_s": ("daily incremental dbt build (median of five)", Target(5, "<")),
    "dbt_parse_s": ("importing dbt and parsing the project", None),
    "dbt_parse_partial_s": ("the next day's parse (partial parse)", None),
    "dbt_full_with_unit_tests_s": ("first build with unit and development tests", None),
    "dbt_snapshot_incremental_s": ("copying one tick's events into the warehouse", None),
    "replay_demo_week_s": ("the demo's week replayed at its export times", Target(5, "<")),
    "replay_demo_week_every30m_s": ("the same week on the demo's 30-minute schedule", None),
    "replay_servicenow_year_s": (
        "a ServiceNow-shaped year (hourly issue exports) replayed at its export times",
        Target(60, "<"),
    ),
    "backtest_demo_day_s": (
        "a backtest of the demo's Monday, two rule sets every 5 minutes, side by side",
        None,
    ),
}
#: Keys that describe the run rather than measure it.
CONTEXT = ("measured_at", "commit", "date", "leads", "open_leads", "per_row_leads",
           "replay_commit", "replay_date", "replay_servicenow_hours")  # fmt: skip


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


def render(results: dict[str, Any]) -> str:
    """The figures block: the run's context, then one row per known key, then the rest."""
    lines = [START, ""]
    context = [f"{k} `{_fmt(results[k])}`" for k in CONTEXT if k in results]
    if context:
        lines += ["Run: " + "; ".join(context) + ".", ""]
    lines += ["| key | value | what | target |", "|---|---|---|---|"]
    for key, (what, target) in KEYS.items():
        if key not in results:
            continue
        value = results[key]
        runs = results.get(f"{key[:-2]}_runs_s") if key.endswith("_s") else None
        shown = _fmt(value) + (f" (runs {_fmt(runs)})" if runs else "")
        goal = ""
        if target is not None:
            goal = f"{target.op} {target.limit:g}: " + (
                "met" if target.met(value) else "**missed**"
            )
        lines.append(f"| `{key}` | {shown} | {what} | {goal} |")
    known = set(KEYS) | set(CONTEXT)
    rest = [k for k in sorted(results) if k not in known and not k.endswith("_runs_s")]
    if rest:
        lines += ["", "Other keys: " + "; ".join(f"`{k}` {_fmt(results[k])}" for k in rest) + "."]
    return "\n".join([*lines, "", END])


def write(page: Path, results: dict[str, Any]) -> None:
    """Replace the figures block of ``page`` (between the markers) with ``results``."""
    text = page.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{page} has no figures markers ({START} ... {END}): add them first")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    page.write_text(head + render(results) + tail, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "out" / "results.json")
    ap.add_argument("--page", type=Path, default=PAGE)
    args = ap.parse_args()
    if not args.results.exists():
        raise SystemExit(f"{args.results} does not exist: run `make bench` first")
    write(args.page, json.loads(args.results.read_text()))
    print(f"wrote the figures of {args.results} into {args.page}")


if __name__ == "__main__":
    main()
