"""Clocks: which of the leads' clocks this tick looks at, and the first-response deadline.

Every lead with a policy has a first-response clock (hop 0 from its creation, hop n from its
n-th reassignment); a response starts the qualification and next-step clocks. ``set_due`` gives
each new lead its hop-0 deadline on the policy's business calendar; ``select_clocks`` leaves
``work.clock_leads``: the leads whose clocks can have a step due, with what the ladder and its
events need of them. A new export cannot pull a threshold earlier (it can only stop a clock), so a
lead whose next threshold (``next_step_at``) lies ahead has nothing due, whatever arrived.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep

STEP = EngineStep("clocks", reads=("lead_state", "work.classified"), returns="work.clock_leads")


def set_due(con: duckdb.DuckDBPyConnection) -> None:
    """The hop-0 first-response deadline of leads that do not have one yet."""
    STEP.run(con, "due_src")
    STEP.run(con, "set_due")


def select_clocks(
    con: duckdb.DuckDBPyConnection, now: datetime, *, full: bool, changed: bool = False
) -> None:
    """``work.clock_leads``: new leads, new qualification clocks, and leads whose
    ``next_step_at`` (the earliest threshold still ahead when they were last evaluated) has come.
    ``full`` takes every lead with a clock (after a rules change moved the thresholds);
    ``changed`` only the leads in ``work.classified`` whose intent inputs an export dated
    ``now`` changed (:mod:`~leadsla.engine.reclassify`)."""
    STEP.run(con, "clock_leads", {"now": now}, full=full, changed=changed)
