"""The backtest, composed once: replay a candidate rule set and a baseline over the same
archived exports, each into its own scratch database, and write what differs.

Each replay delivers through :class:`leadsla.backtest.dry.DrySenders`, so delivery's own
planning (suppression, quiet hours, budgets, digests) decides what would have been sent and
nothing is. The scratch databases stay in ``out/scratch/<side>/`` for anyone who wants to
query them; a new run starts them afresh.

The two replays share nothing but the (read-only) exports, so on a machine with two cores or
more they run side by side, each in a process of its own with DuckDB on one thread: a backtest
takes about as long as one replay. Their progress comes back to the caller through a queue.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from leadsla.backtest.compare import SIDES, compare
from leadsla.backtest.dry import DrySenders
from leadsla.backtest.page import write_outputs
from leadsla.pipelines.tick import replay
from leadsla.rules import load_rules
from leadsla.rules.cases.check import check_cases

#: The cadence the replays tick at: delivery's budgets and quiet hours are judged per run, so
#: the backtest simulates the live schedule.
EVERY = timedelta(minutes=5)


def scratch_db(out: Path, side: str) -> Path:
    """Where one side's replay lives."""
    return out / "scratch" / side / "leadsla.duckdb"


def backtest(
    *,
    candidate: Path,
    baseline: Path,
    exports: str,
    start: datetime,
    end: datetime,
    out: Path,
    every: timedelta = EVERY,
    progress: Callable[[str, datetime, int], None] | None = None,
) -> dict[str, Any]:
    """Replay both rule sets from ``start`` to ``end`` and write the comparison into ``out``
    (``backtest.json``, ``backtest.html``, CSVs); returns ``backtest.json``'s content. Both
    rule sets are loaded first: an invalid one raises :class:`leadsla.rules.RulesInvalid`
    before anything runs. The candidate's rule fixtures that fail are listed
    (``fixture_failures``), not refused: showing what a change moves is the backtest's job."""
    rules = {"baseline": load_rules(baseline), "candidate": load_rules(candidate)}
    # the candidate's own fixtures, run before the replays: a deliberate change moves some of
    # them, and the page lists which (update them in the same commit)
    _, moved = check_cases(rules["candidate"])
    dirs = {"baseline": baseline, "candidate": candidate}
    zone = rules["baseline"].calendars[rules["baseline"].org.default_calendar].timezone
    for side in SIDES:
        db = scratch_db(out, side)
        if db.parent.exists():
            shutil.rmtree(db.parent)
        db.parent.mkdir(parents=True)
    replay_sides([SideRun(side, dirs[side], exports, out, start, end, every) for side in SIDES],
                 progress)  # fmt: skip
    cmp = compare(scratch_db(out, "baseline"), scratch_db(out, "candidate"), zone=zone)
    meta = {
        "baseline_rules": str(baseline),
        "candidate_rules": str(candidate),
        "baseline_version": rules["baseline"].version,
        "candidate_version": rules["candidate"].version,
        "exports": exports,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "every": str(every),
        "fixture_failures": [str(f) for f in moved],
    }
    return write_outputs(cmp, meta, out)


Progress = Callable[[str, datetime, int], None]


@dataclass(frozen=True)
class SideRun:
    """One side's replay: plain values, so a worker process can be handed it."""

    side: str
    rules_dir: Path
    exports: str
    out: Path
    start: datetime
    end: datetime
    every: timedelta

    def run(self, report: Callable[[datetime, int], None] | None) -> int:
        """Replay into the side's scratch database, delivering dry; returns its ticks."""
        return replay(
            rules_dir=self.rules_dir,
            exports=self.exports,
            db=scratch_db(self.out, self.side),
            start=self.start,
            end=self.end,
            every=self.every,
            progress=report,
            channels=DrySenders(),
        )


def _run_in_worker(job: SideRun, ticks: Any) -> int:
    """A worker process's side: DuckDB on one thread (the other side has the other core), each
    tick's time reported into ``ticks`` (a queue the caller drains)."""
    os.environ["LEADSLA_DUCKDB_THREADS"] = "1"
    return job.run(lambda now, n: ticks.put((job.side, now, n)))


def replay_sides(jobs: list[SideRun], progress: Progress | None) -> None:
    """The sides' replays: side by side in worker processes when the machine has two cores
    or more, else one after the other in this process. A worker's error is raised here."""
    if (os.cpu_count() or 1) < 2:
        for job in jobs:
            job.run(partial(progress, job.side) if progress else None)
        return
    ctx = multiprocessing.get_context("spawn")  # no inherited DuckDB or Prefect state
    with ctx.Manager() as manager, ProcessPoolExecutor(len(jobs), mp_context=ctx) as pool:
        ticks = manager.Queue()
        running: list[Future[int]] = [pool.submit(_run_in_worker, job, ticks) for job in jobs]
        while True:
            try:
                side, now, n = ticks.get(timeout=0.2)
            except queue.Empty:
                if all(f.done() for f in running):
                    break
                continue
            if progress:
                progress(side, now, n)
        for f in running:
            f.result()  # a worker's exception, raised in the caller
