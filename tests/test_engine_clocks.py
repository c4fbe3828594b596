"""The clocks step on its own: first-response deadlines on the shipped Kolkata calendar
(Mon–Sat 09:30–18:30, Indian public holidays), and which leads' clocks a tick looks at."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from leadsla.engine.clocks import select_clocks, set_due

from .engine_db import calendars, engine_db, ist, lead, rows, shipped_rules

NOW = ist(2026, 11, 30, 12)


@pytest.mark.parametrize(
    ("policy", "created", "due"),
    [
        # 15 business minutes from Saturday 18:25: 5 on Saturday, Sunday closed, 10 on Monday
        ("high_first_response", ist(2026, 11, 28, 18, 25), ist(2026, 11, 30, 9, 40)),
        # created on Sunday: the clock starts at Monday's open
        ("high_first_response", ist(2026, 11, 29, 11), ist(2026, 11, 30, 9, 45)),
        # Tuesday 24 November is a public holiday (Guru Nanak Jayanti): Monday 18:20 + 15
        # runs 10 minutes on Monday and 5 on Wednesday
        ("high_first_response", ist(2026, 11, 23, 18, 20), ist(2026, 11, 25, 9, 35)),
        # end of business day with two hours left: Saturday 17:00 has only 90 minutes, so the
        # deadline is Monday's close
        ("mid_same_day", ist(2026, 11, 28, 17), ist(2026, 11, 30, 18, 30)),
        ("mid_same_day", ist(2026, 11, 28, 10), ist(2026, 11, 28, 18, 30)),
        # 1080 business minutes = two nine-hour days, over Sunday
        ("low_nurture", ist(2026, 11, 27, 12), ist(2026, 11, 30, 12)),
    ],
)
def test_due_at_on_the_shipped_calendar(
    tmp_path: Path, policy: str, created: datetime, due: datetime
) -> None:
    with engine_db(tmp_path) as con:
        lead(con, "L", created, policy_id=policy)
        lead(con, "unclassified", created)  # no policy yet: no deadline
        lead(con, "set", created, policy_id=policy, due_at=NOW)  # has one: left alone
        calendars(con, NOW)
        set_due(con)
        got = dict(rows(con, "SELECT lead_id, due_at FROM lead_state"))
        assert got == {"L": due, "unclassified": None, "set": NOW}
        # the Python reference agrees
        cal = shipped_rules().business_calendars["kolkata_office"]
        if policy != "mid_same_day":
            minutes = shipped_rules().policies[policy].deadline.within_minutes
            assert minutes is not None
            assert cal.add_business_minutes(created, minutes) == due


def test_selects_the_leads_whose_clocks_can_have_a_step_due(tmp_path: Path) -> None:
    t0 = ist(2026, 11, 30, 10)
    with engine_db(tmp_path) as con:
        kw = {"policy_id": "high_first_response"}
        lead(con, "new", t0, **kw)  # never evaluated
        lead(con, "due", t0, evaluated_until=t0, next_step_at=NOW - timedelta(minutes=1), **kw)
        lead(con, "ahead", t0, evaluated_until=t0, next_step_at=NOW + timedelta(minutes=1), **kw)
        lead(con, "answered", t0, evaluated_until=t0, next_step_at=NOW + timedelta(hours=1),
             response_at=t0, responded_seen_at=t0, **kw)  # response not logged yet  # fmt: skip
        lead(con, "none", t0, evaluated_until=t0)  # no policy, no response: no clock
        select_clocks(con, NOW, full=False)
        assert {r[0] for r in rows(con, "SELECT lead_id FROM clock_leads")} == {
            "new",
            "due",
            "answered",
        }
        # after a rules change every lead with a clock is looked at
        select_clocks(con, NOW, full=True)
        assert {r[0] for r in rows(con, "SELECT lead_id FROM clock_leads")} == {
            "new",
            "due",
            "ahead",
            "answered",
        }
