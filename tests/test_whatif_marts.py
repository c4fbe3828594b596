"""The what-if marts on a small log whose answers are known by hand: real exports, one real
catch-up tick, a real dbt-duckdb build of the marts they read.

Eight high-intent leads (window 15 business minutes, reminder at 10) arrive on Monday
2026-11-23 at 10:00 Kolkata time and are answered 5, 12, 15, 18, 22, 29 and 31 minutes later or
never; one arrives at 18:20, ten business minutes before closing, and is answered on Wednesday
at 09:45, 25 business minutes after arrival (Tuesday is Guru Nanak Jayanti, a holiday). One
mid-intent lead has a deadline at the end of the business day (no single window). Exports
follow each answer by a minute, so a reminder fires only while its lead is waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from leadsla import warehouse
from leadsla.pipelines.review import Paths, marts_vars
from leadsla.pipelines.tick import run_tick
from leadsla.rules import load_rules
from tests.conftest import LEAD_ROW, WriteLeads

MON = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)  # Monday 10:00 in Kolkata (+05:30)

#: lead id -> (created, answered) as minutes after MON (None: never answered)
LEADS: dict[str, tuple[int, int | None]] = {
    "A": (0, 5),
    "B": (0, 12),
    "C": (0, 15),  # on the deadline: met
    "D": (0, 18),
    "E": (0, 22),
    "F": (0, 29),
    "G": (0, 31),  # after the first reassignment (30)
    "H": (0, None),
    "I": (500, 2865),  # Mon 18:20 -> Wed 09:45 over a night and a holiday: 10 + 15
}
MID = "J"  # audit request: deadline at the end of the business day, answered at 10:40


def _iso(minutes: int) -> str:
    return (MON + timedelta(minutes=minutes)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


def _write_exports(write_leads: WriteLeads) -> None:
    """One export a minute after each arrival and each answer, each the CRM's state then."""
    answers = [a for _, a in LEADS.values() if a is not None] + [40]
    for at in sorted({1, 501, *(a + 1 for a in answers)}):
        rows = [
            {**LEAD_ROW, "lead_id": lid, "created_at": _iso(c),
             "first_response_at": _iso(a) if a is not None and a < at else ""}
            for lid, (c, a) in LEADS.items() if c < at
        ] + [{**LEAD_ROW, "lead_id": MID, "created_at": _iso(0), "form_type": "audit_request",
              "first_response_at": _iso(40) if at > 40 else ""}]  # fmt: skip
        write_leads((MON + timedelta(minutes=at)).strftime("%Y%m%dT%H%M%SZ"), rows)


def _build(rules_dir: Path, exports: Path, tmp_path: Path, now: datetime) -> Path:
    db = tmp_path / "leadsla.duckdb"
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=now)
    paths = Paths.beside(db)
    paths.warehouse.parent.mkdir(parents=True)
    warehouse.snapshot(db, paths.warehouse)
    result = warehouse.build(
        paths.warehouse,
        marts_vars(load_rules(rules_dir), now),
        extra=["--select", "+path:models/marts/whatif"],
    )
    assert result.ok, result.failures
    # the marts' own data tests (keys, accepted offsets) ran in the build and passed
    whatif_tests = {k: v for k, v in result.statuses.items() if "whatif" in k and "test." in k}
    assert whatif_tests
    assert set(whatif_tests.values()) == {"pass"}, whatif_tests
    return paths.warehouse


def test_window_misses_and_reminder_rates_match_the_hand_count(
    rules_dir: Path, exports: Path, write_leads: WriteLeads, tmp_path: Path
) -> None:
    _write_exports(write_leads)
    now = MON + timedelta(days=2, hours=2)  # Wednesday 12:00: one catch-up tick over it all
    wh = _build(rules_dir, exports, tmp_path, now)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        misses = dict(
            con.execute(
                "SELECT window_offset_minutes, missed_leads FROM marts.rpt_whatif_window_misses "
                "WHERE policy_id = 'high_first_response'"
            ).fetchall()
        )
        # answered after 5, 12, 15, 18, 22, 25, 29, 31 business minutes, and H never:
        # a miss when later than 15 + offset (a tie is met), H at every offset
        assert misses == {-15: 9, -10: 8, -5: 8, 0: 6, 5: 5, 10: 3, 15: 2}
        observed = con.execute(
            "SELECT count(*) FILTER (WHERE is_missed), count(*) FROM marts.fct_lead_sla "
            "WHERE policy_id = 'high_first_response'"
        ).fetchall()[0]
        assert observed == (misses[0], 9)  # offset 0 is what the existing mart says
        row = con.execute(
            "SELECT configured_window_business_minutes, whatif_window_business_minutes, "
            "settled_leads, responded_leads, pending_leads, missed_pct, missed_change "
            "FROM marts.rpt_whatif_window_misses WHERE whatif_id = 'high_first_response:-5'"
        ).fetchall()
        assert row == [(15.0, 10.0, 9, 8, 0, 88.9, 2)]
        # an end-of-day deadline has no single window to shift: counted, never guessed
        assert con.execute(
            "SELECT count(*), count(missed_leads), max(settled_leads) "
            "FROM marts.rpt_whatif_window_misses WHERE policy_id = 'mid_same_day'"
        ).fetchall() == [(7, 0, 1)]

        reminders = con.execute(
            "SELECT step_id, reminder_offset_business_minutes, reminders, fired_after_response, "
            "answered_after, answered_by_deadline, answered_after_pct, answered_by_deadline_pct, "
            "median_minutes_to_response FROM marts.rpt_whatif_reminder_response "
            "WHERE policy_id = 'high_first_response'"
        ).fetchall()
        # hop 0: B C D E F G I waiting at 10 minutes (I's reminder at Monday's closing), H on
        # all three hops; all but H answered afterwards, B and C by their deadline; minutes from
        # reminder to answer 2 5 8 12 19 21 and I's 2355 over the holiday
        assert reminders == [("reminder", 10.0, 10, 0, 7, 2, 70.0, 20.0, 12.0)]
    finally:
        con.close()


def test_a_reminder_on_a_late_feed_is_left_out_of_the_rates(
    rules_dir: Path, exports: Path, write_leads: WriteLeads, tmp_path: Path
) -> None:
    """The answer at 5 minutes reaches leadsla only in an export at 11 minutes: the reminder
    at 10 fired, but it did not prompt the answer."""
    late = {**LEAD_ROW, "lead_id": "K", "created_at": _iso(0)}
    write_leads((MON + timedelta(minutes=1)).strftime("%Y%m%dT%H%M%SZ"), [late])
    write_leads(
        (MON + timedelta(minutes=11)).strftime("%Y%m%dT%H%M%SZ"),
        [{**late, "first_response_at": _iso(5)}],
    )
    wh = _build(rules_dir, exports, tmp_path, MON + timedelta(hours=2))
    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.execute(
            "SELECT reminders, fired_after_response, answered_after, answered_after_pct "
            "FROM marts.rpt_whatif_reminder_response WHERE policy_id = 'high_first_response'"
        ).fetchall() == [(1, 1, 0, None)]
        # met at 5 minutes: no window from 0 to 30 misses it
        assert con.execute(
            "SELECT sum(missed_leads) FILTER (WHERE window_offset_minutes > -15), "
            "max(missed_leads) FILTER (WHERE window_offset_minutes = -15) "
            "FROM marts.rpt_whatif_window_misses WHERE policy_id = 'high_first_response'"
        ).fetchall() == [(0, 1)]
    finally:
        con.close()
