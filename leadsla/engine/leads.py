"""Classify, assign and evaluate every open lead in one set-based pass at logical time ``now``.

``evaluate_leads(con, rules, now)`` runs the lead steps in order, each over all open leads at
once (SQL, no loop over leads):

1. **classify** (:mod:`~leadsla.engine.classify`) leads without an intent;
2. **assign** (:mod:`~leadsla.engine.assign`) leads without an owner;
3. **clocks** (:mod:`~leadsla.engine.clocks`): the hop-0 deadline of new leads, and the leads
   whose clocks can have a step due;
4. **ladder** (:mod:`~leadsla.engine.ladder`): rounds of due steps and their events; a
   reassignment starts the ladder again for the new owner (hop + 1), and the loop repeats over
   the first-response clocks of the leads just moved until no reassignment fires, at most
   ``max_hops + 1`` rounds; the clocks that start at the response are computed once, after the
   last round;
5. **responses** (:mod:`~leadsla.engine.responses`), after the steps, so a response seen in a
   catch-up tick can recover an escalation; then the ladder's watermark.

Catch-up is exact: one tick after any gap records the events ticks every 5 minutes record over
the same exports (``tests/test_catchup.py``). Everything an event says is taken as of its own
moment, never as of ``now``: a step names the owner as of its threshold, a response the owner
the export shows beside it, an assignment and a classification the CRM owner the lead arrived
with. (Round-robin capacity is still judged on the load at the tick: with a member at capacity,
cadences may pick differently.)

Work tables built from ``lead_state`` in a transaction may remember each lead's rowid
(``srid``), so an UPDATE joins on an integer the scan gets for free instead of reading and
hashing a million lead ids. A rowid is stable until its row is deleted; DuckDB turns an UPDATE
of a LIST column (``previous_owners``, at reassignment) into a delete and an insert, so a work
table is only used this way before any such UPDATE runs after it was built (the statements that
follow reassignments join on ``lead_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from leadsla.engine import ladder
from leadsla.engine.assign import assign
from leadsla.engine.calendar_range import cover_calendars
from leadsla.engine.classify import classify
from leadsla.engine.clocks import select_clocks, set_due
from leadsla.engine.responses import log_responses
from leadsla.rules import RuleSet
from leadsla.sql import scalar


@dataclass
class EvalResult:
    classified: int
    assigned: int
    step_events: int
    reassigned: int
    rounds: int


#: What lead state says there is to do at ``now``; a tick that loaded nothing and has none of
#: the first three returns at once.
_WORK = """
SELECT count(*) FILTER (WHERE intent IS NULL),
       count(*) FILTER (WHERE policy_id IS NOT NULL AND evaluated_until IS NULL),
       count(*) FILTER (WHERE next_step_at <= $now),
       count(*) FILTER (WHERE owner IS NULL
                        AND (closed_seen_at IS NULL OR closed_seen_at > first_seen_at)
                        AND needs_review IS DISTINCT FROM 'no eligible owner'),
       count(*) FILTER (WHERE due_at IS NULL)
FROM lead_state
"""


def evaluate_leads(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime, *, loaded: bool = True
) -> EvalResult:
    """Everything after loading, at logical time ``now``, inside the caller's transaction.
    The rule tables must be registered on ``con`` (``register_rules``). ``loaded=False`` says
    this tick loaded no export, which lets a tick with nothing due return at once."""
    work = con.execute(_WORK, {"now": now}).fetchall()[0]
    unclassified, unevaluated, due_now, unowned, no_due = work
    if not loaded and not (unclassified or unevaluated or due_now):
        # nothing arrived and no step is due yet: the watermark may stay where it is, since
        # no threshold lies between it and now (that is what next_step_at says)
        return EvalResult(0, 0, 0, 0, 0)
    # next_step_at was computed under the rules of the last tick; other rules, other clocks
    last_rules = scalar(con, "SELECT rules_version FROM tick_log ORDER BY now DESC LIMIT 1")
    full = last_rules is not None and last_rules != rules.version
    cover_calendars(con, rules, now)
    classified = classify(con, rules, now) if unclassified else 0
    assigned = assign(con, rules, now, classified=classified > 0) if unowned or classified else 0
    if no_due or classified:
        set_due(con)
    select_clocks(con, now, full=full)
    ladder.start(con)
    total = reassigned = rounds = 0
    max_hops = max((p.max_hops for p in rules.policies.values()), default=0)
    while rounds <= max_hops + 1:
        rounds += 1
        if not ladder.due_steps(con, now, "clock_src"):
            break
        total += ladder.record_steps(con, rules, now)
        moved = ladder.next_round(con)
        reassigned += moved
        if moved == 0:
            break
    total += ladder.later_round(con, rules, now)
    log_responses(con, rules, now)
    ladder.close(con, now)
    return EvalResult(classified, assigned, total, reassigned, rounds)
