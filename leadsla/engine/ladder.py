"""Ladder: the steps of each clock that are due at ``now``, recorded as events, and the
reassignments they make.

Each clock (lead × policy) gets its deadline on the policy's business calendar and each ladder
step its threshold. A step is due when its threshold is in ``(evaluated_until, now]`` and, as
of the threshold, the lead was not answered or closed according to the newest export dated at
or before it (or the first export that showed the lead, when it arrived late).
``evaluated_until`` is what makes "each step once" cheap: a step whose threshold a previous tick
passed was decided then, for good, so no anti-join against the event log is needed.

A round (:func:`due_steps`, :func:`record_steps`) looks at ``clock_src``; reassignment starts
the ladder again for the new owner (hop + 1), and :func:`next_round` puts the new hops of the
leads just moved in ``clock_src`` for the next round. The clocks that start at the response
(``later_src``) get one round after the last (:func:`later_round`). :func:`close` moves the
watermark of every lead looked at. A step names the owner as of its threshold (assignment,
reassignments, and CRM owner changes an export showed by then).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from leadsla.engine.step import EngineStep
from leadsla.events import OWNER_EVENTS, STEP_EVENT, in_list
from leadsla.rules import RuleSet
from leadsla.sql import scalar

STEP = EngineStep(
    "ladder",
    reads=(
        "work.clock_leads",
        "lead_state",
        "lead_history",
        "policy_steps",
        "policies",
        "members",
        "teams",
        "export_manifest",
        "sla_events",
    ),
    returns="work.due_steps",
)


def start(con: duckdb.DuckDBPyConnection) -> None:
    """The clocks of the leads the clocks step selected: ``clock_src`` (first response, the hop
    ladder) and ``later_src`` (qualification and next step, which start at the response), and
    the round's bookkeeping (``evaluated``, ``next_step``, ``all_moved``)."""
    for statement in ("clock_src", "later_src", "evaluated", "next_step", "all_moved"):
        STEP.run(con, statement)


def due_steps(con: duckdb.DuckDBPyConnection, now: datetime, src: str) -> int:
    """Fill ``due_steps`` with every ladder step of the clocks in ``src`` due in
    (watermark, now], and note in ``next_step`` the earliest threshold still ahead."""
    STEP.run(con, "due_steps", src=src)
    STEP.run(con, "note_next", {"now": now})
    STEP.run(con, "prune_due", {"now": now})
    return int(scalar(con, "SELECT count(*) FROM due_steps") or 0)


def record_steps(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """Reassignments first (they pick the new owner), then every due step as an event."""
    _owners_as_of(con)
    STEP.run(con, "member_load")
    STEP.run(con, "reassign_pick")
    params = {"now": now, "rules_version": rules.version}
    STEP.run(con, "step_events", params, step_event=tuple(STEP_EVENT.items()))
    n = int(scalar(con, "SELECT count(*) FROM due_steps") or 0)
    STEP.run(con, "reassign")
    STEP.run(con, "no_owner")
    return n


def _owners_as_of(con: duckdb.DuckDBPyConnection) -> None:
    """Each due step names the owner as of its threshold, whenever the tick runs: the newest
    of the lead's assignment, its reassignments and the CRM owner changes to a member that an
    export dated at or before the threshold showed (a step before the assignment names the
    assigned owner). The clock's owner is lead state's, which a catch-up tick has already
    moved to what later exports say; only leads whose CRM owner changed after their first
    export can differ, so only they read the event log. ``crm_moves`` keeps those changes."""
    STEP.run(con, "crm_moves")
    if not scalar(con, "SELECT count(*) FROM crm_moves"):
        return
    STEP.run(con, "owners_as_of", owner_events=in_list(OWNER_EVENTS))


def next_round(con: duckdb.DuckDBPyConnection) -> int:
    """The leads this round reassigned (``moved``): their new hops become ``clock_src``.
    Returns how many."""
    STEP.run(con, "moved")
    moved = int(scalar(con, "SELECT count(*) FROM moved") or 0)
    if moved:
        STEP.run(con, "note_moved")
        STEP.run(con, "forget_next")
        STEP.run(con, "moved_src")
    return moved


def later_round(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> int:
    """The steps of the clocks that start at the response, once, after the last reassignment:
    they name the owner the ladder ended with, whichever round moved the lead."""
    STEP.run(con, "later_owners")
    if due_steps(con, now, "later_src"):
        return record_steps(con, rules, now)
    return 0


def close(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """The watermark: every lead looked at is decided up to ``now``, and ``next_step_at`` says
    when it next has a step due."""
    STEP.run(con, "watermark", {"now": now})
