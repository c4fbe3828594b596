"""The backtest, composed once: replay a candidate rule set and a baseline over the same
archived exports, each into its own scratch database, and write what differs.

Each replay delivers through :class:`leadsla.backtest.dry.DrySenders`, so delivery's own
planning (suppression, quiet hours, budgets, digests) decides what would have been sent and
nothing is. The scratch databases stay in ``out/scratch/<side>/`` for anyone who wants to
query them; a new run starts them afresh.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
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
        replay(
            rules_dir=dirs[side],
            exports=exports,
            db=db,
            start=start,
            end=end,
            every=every,
            progress=partial(progress, side) if progress else None,
            channels=DrySenders(),
        )
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
