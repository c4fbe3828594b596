"""``make bench``: replays at the speed of the data, measured in process.

1. The demo's week (its generator's exports, the shipped rules) replayed from scratch at its
   export times (``replay_demo_week_s``) and, for scale, on the demo's schedule of a tick
   every 30 minutes (``replay_demo_week_every30m_s``); the two are run alternately
   ``REPEATS`` times and the figures are medians. Both record the same events (the tests
   check it); the event count is kept as ``replay_demo_week_events``.
2. A backtest of the demo's Monday (08:00 to 20:00 office time, the live schedule of a tick
   every 5 minutes) with a candidate that reassigns at 20 instead of 30 business minutes
   (``backtest_demo_day_s``, the median of ``REPEATS`` runs): its two replays run side by side.
3. A ServiceNow-shaped year (``bench/servicenow_year.py``: 24,918 incidents in about 3,845
   hourly canonical issue exports) replayed from scratch at its export times, once
   (``replay_servicenow_year_s``). ``--hours N`` replays only the first N working hours (the
   key then says so: ``replay_servicenow_hours``).

Results are added to ``bench/out/results.json``. Run: ``python -m bench.replay_bench
[--hours N] [--repeats N] [--only demo|backtest|servicenow]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bench import run_stamp
from bench.servicenow_year import HOURS, INCIDENTS, working_hours, write_year
from leadsla.pipelines.backtest import backtest
from leadsla.pipelines.tick import replay
from leadsla.rules import load_rules
from leadsla_demo import (
    WEEK_END,
    WEEK_START,
    generate_issues,
    generate_leads,
    write_exports,
    write_issue_exports,
)

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
RULES = REPO / "sla_rules"


def _events(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM sla_events").fetchall()[0][0])


def _timed(exports: Path, db: Path, start: datetime, end: datetime,
           every: timedelta | None) -> tuple[float, float, int]:  # fmt: skip
    """Seconds (wall clock, then CPU time of this process's threads) for a replay from scratch
    into ``db``, and the ticks it made. The CPU time tells a busy machine from a slow replay."""
    for p in (db, db.with_suffix(".duckdb.wal")):
        p.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    ticks = replay(rules_dir=RULES, exports=str(exports), db=db, start=start, end=end,
                   every=every)  # fmt: skip
    return time.perf_counter() - started, time.process_time() - cpu, ticks


def demo_exports(work: Path) -> tuple[Path, int]:
    """The demo's week of lead and issue exports (its generators, the shipped rules), written
    once into ``work/demo_exports``; the folder and its number of files."""
    exports = work / "demo_exports"
    if exports.exists():
        return exports, len(list(exports.iterdir()))
    rules = load_rules(RULES)
    cal = rules.business_calendars[rules.org.default_calendar]
    leads = generate_leads(cal)
    files = write_exports(leads, exports, rules.sources)
    files += write_issue_exports(generate_issues(leads, cal), exports)
    return exports, files


def bench_demo_week(work: Path, repeats: int) -> dict[str, Any]:
    exports, files = demo_exports(work)
    start, end = WEEK_START.astimezone(UTC), (WEEK_END + timedelta(hours=12)).astimezone(UTC)
    fast: list[float] = []
    slow: list[float] = []
    ticks = {}
    for _ in range(repeats):  # alternately, so a drift of the machine's speed hits both
        for every, runs in ((None, fast), (timedelta(minutes=30), slow)):
            took, _, ticks[every] = _timed(exports, work / "demo.duckdb", start, end, every)
            runs.append(round(took, 2))
    return {
        "replay_demo_week_s": statistics.median(fast),
        "replay_demo_week_runs_s": fast,
        "replay_demo_week_every30m_s": statistics.median(slow),
        "replay_demo_week_every30m_runs_s": slow,
        "replay_demo_week_files": files,
        "replay_demo_week_ticks": ticks[None],
        "replay_demo_week_every30m_ticks": ticks[timedelta(minutes=30)],
        "replay_demo_week_events": _events(work / "demo.duckdb"),
    }


def bench_backtest_day(work: Path, repeats: int) -> dict[str, Any]:
    exports, _ = demo_exports(work)
    candidate = work / "candidate"
    shutil.copytree(RULES, candidate)
    policies = candidate / "policies.yaml"
    ladder = "{id: reassignment, kind: reassign, after_start: 30}"
    policies.write_text(policies.read_text().replace(ladder, ladder.replace("30", "20")))
    start = (WEEK_START + timedelta(hours=8)).astimezone(UTC)
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        backtest(candidate=candidate, baseline=RULES, exports=str(exports), start=start,
                 end=start + timedelta(hours=12), out=work / "backtest_out")  # fmt: skip
        runs.append(round(time.perf_counter() - started, 2))
    return {"backtest_demo_day_s": statistics.median(runs), "backtest_demo_day_runs_s": runs}


def bench_servicenow_year(work: Path, hours: int) -> dict[str, Any]:
    exports = work / "servicenow"
    files = write_year(exports, INCIDENTS, HOURS)
    slots = working_hours(HOURS)
    start = slots[0].astimezone(UTC)
    end = (slots[min(hours, HOURS) - 1] + timedelta(hours=1)).astimezone(UTC)
    took, cpu, ticks = _timed(exports, work / "servicenow.duckdb", start, end, None)
    return {
        "replay_servicenow_year_s": round(took, 1),
        "replay_servicenow_year_cpu_s": round(cpu, 1),
        "replay_servicenow_hours": min(hours, HOURS),
        "replay_servicenow_files": files,
        "replay_servicenow_ticks": ticks,
        "replay_servicenow_events": _events(work / "servicenow.duckdb"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=HOURS, help="working hours of the year replayed")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each demo-week replay")
    ap.add_argument("--only", choices=("demo", "backtest", "servicenow"), help="run one of them")
    args = ap.parse_args()
    work = OUT / "replay_work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    path = OUT / "results.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    new: dict[str, Any] = {}
    if args.only in (None, "demo"):
        new.update(bench_demo_week(work, args.repeats))
    if args.only in (None, "backtest"):
        new.update(bench_backtest_day(work, args.repeats))
    if args.only in (None, "servicenow"):
        new.update(bench_servicenow_year(work, args.hours))
    new["replay_date"], new["replay_commit"] = run_stamp()
    results.update(new)
    path.write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(new, indent=2))


if __name__ == "__main__":
    main()
