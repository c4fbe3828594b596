"""Business-time arithmetic: a table of cases, and hypothesis properties against a literal
minute-stepping reference (DST in New York and Berlin, holidays, lunch breaks, night shifts)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.calendars import BusinessCalendar, parse_hhmm
from leadsla.calendars.sql import (
    at_sql,
    index_intervals,
    index_ranges,
    interval_at,
    interval_of,
    pos_sql,
    range_join,
)

IST = ZoneInfo("Asia/Kolkata")
MON_SAT = dict.fromkeys(range(6), ((570, 1110),))  # 09:30-18:30
KOLKATA = BusinessCalendar("k", "Asia/Kolkata", MON_SAT, frozenset({date(2026, 11, 24)}))
LUNCH = BusinessCalendar("l", "Asia/Kolkata", dict.fromkeys(range(5), ((540, 780), (840, 1080))))
NIGHT = BusinessCalendar("n", "Asia/Kolkata", dict.fromkeys(range(5), ((1320, 1800),)))
ALWAYS = BusinessCalendar("a", "UTC", {}, always_open=True)


def ist(y: int, mo: int, d: int, h: int, mi: int) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=IST)


@pytest.mark.parametrize(
    ("cal", "start", "minutes", "expected"),
    [
        # Friday 18:25 + 15: 5 today, 10 on Saturday
        (KOLKATA, ist(2026, 11, 20, 18, 25), 15, ist(2026, 11, 21, 9, 40)),
        # Saturday 18:25 + 15: Sunday is off
        (KOLKATA, ist(2026, 11, 21, 18, 25), 15, ist(2026, 11, 23, 9, 40)),
        # Monday 18:25 + 15: Tuesday 24th is a holiday
        (KOLKATA, ist(2026, 11, 23, 18, 25), 15, ist(2026, 11, 25, 9, 40)),
        # landing exactly on the close returns the close, not the next morning
        (KOLKATA, ist(2026, 11, 20, 18, 15), 15, ist(2026, 11, 20, 18, 30)),
        # before opening: the clock starts at the open
        (KOLKATA, ist(2026, 11, 20, 7, 0), 15, ist(2026, 11, 20, 9, 45)),
        # lunch 13:00-14:00 is skipped
        (LUNCH, ist(2026, 11, 20, 12, 50), 20, ist(2026, 11, 20, 14, 10)),
        # a night shift 22:00-06:00 carries across midnight
        (NIGHT, ist(2026, 11, 19, 23, 50), 20, ist(2026, 11, 20, 0, 10)),
        # 24/7
        (ALWAYS, ist(2026, 11, 22, 3, 0), 90, ist(2026, 11, 22, 4, 30)),
        # zero minutes is the start itself, even out of hours
        (KOLKATA, ist(2026, 11, 22, 3, 0), 0, ist(2026, 11, 22, 3, 0)),
        # going backwards lands on the open when it must
        (KOLKATA, ist(2026, 11, 23, 9, 40), -10, ist(2026, 11, 23, 9, 30)),
    ],
)  # fmt: skip
def test_add_business_minutes(
    cal: BusinessCalendar, start: datetime, minutes: float, expected: datetime
) -> None:
    assert cal.add_business_minutes(start, minutes) == expected


@pytest.mark.parametrize(
    ("t", "eod", "next_10"),
    [
        # before the open: today's close; next business morning is tomorrow
        (ist(2026, 11, 20, 8, 0), ist(2026, 11, 20, 18, 30), ist(2026, 11, 21, 10, 0)),
        # during the day
        (ist(2026, 11, 21, 12, 0), ist(2026, 11, 21, 18, 30), ist(2026, 11, 23, 10, 0)),
        # after the close on Monday: Tuesday is a holiday, so Wednesday
        (ist(2026, 11, 23, 19, 0), ist(2026, 11, 25, 18, 30), ist(2026, 11, 25, 10, 0)),
    ],
)  # fmt: skip
def test_calendar_anchors(t: datetime, eod: datetime, next_10: datetime) -> None:
    assert KOLKATA.end_of_business_day(t) == eod
    assert KOLKATA.next_business_day_at(t, "10:00") == next_10


def test_errors_are_clear() -> None:
    with pytest.raises(ValueError, match="naive"):
        KOLKATA.add_business_minutes(datetime(2026, 11, 20, 9, 0), 5)
    with pytest.raises(ValueError, match="no business time"):
        BusinessCalendar("x", "UTC", {}).add_business_minutes(ist(2026, 1, 1, 0, 0), 5)
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hhmm("9.30")
    with pytest.raises(ValueError, match="start < end"):
        BusinessCalendar("x", "UTC", {0: ((600, 500),)})


# ---- the reference: step every UTC minute and apply the semantics literally -------------


def reference_minutes(cal: BusinessCalendar, a: datetime, b: datetime) -> int:
    tz = ZoneInfo(cal.tz)
    n = 0
    u = a
    while u < b:
        wall = u.astimezone(tz).replace(tzinfo=None)
        for d in (wall.date(), wall.date() - timedelta(days=1)):
            if d in cal.holidays:
                continue
            base = datetime(d.year, d.month, d.day)
            if any(base + timedelta(minutes=s) <= wall < base + timedelta(minutes=e)
                   for s, e in cal.windows.get(d.weekday(), ())):  # fmt: skip
                n += 1
                break
        u += timedelta(minutes=1)
    return n


WEEKDAYS = dict.fromkeys(range(5), ((480, 720), (780, 1020)))  # lunch break
NIGHTS = dict.fromkeys(range(6), ((1380, 1560),))  # 23:00-02:00, across midnight and DST hours
CALS = [
    BusinessCalendar("ny", "America/New_York", WEEKDAYS, frozenset({date(2026, 3, 9)})),
    BusinessCalendar("ny_night", "America/New_York", NIGHTS),
    BusinessCalendar(
        "berlin", "Europe/Berlin", {**WEEKDAYS, 6: ((60, 240),)}, frozenset({date(2026, 10, 26)})
    ),
    BusinessCalendar("berlin_night", "Europe/Berlin", dict.fromkeys(range(7), ((90, 210),))),
]
# DST transitions of 2026: New York 8 Mar / 1 Nov, Berlin 29 Mar / 25 Oct
ANCHORS = [datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
           datetime(2026, 3, 29, tzinfo=UTC), datetime(2026, 10, 25, tzinfo=UTC)]  # fmt: skip

starts = st.builds(
    lambda anchor, minutes: anchor + timedelta(minutes=minutes),
    st.sampled_from(ANCHORS),
    st.integers(min_value=-3 * 1440, max_value=3 * 1440),
)
PROPS = settings(max_examples=150, deadline=None)


@pytest.mark.slow
@PROPS
@given(cal=st.sampled_from(CALS), a=starts, span=st.integers(min_value=0, max_value=3 * 1440))
def test_business_minutes_match_the_minute_stepping_reference(
    cal: BusinessCalendar, a: datetime, span: int
) -> None:
    b = a + timedelta(minutes=span)
    assert cal.business_minutes(a, b) == reference_minutes(cal, a, b)


@PROPS
@given(cal=st.sampled_from(CALS), t=starts, minutes=st.integers(min_value=1, max_value=900))
def test_add_is_the_earliest_inverse(cal: BusinessCalendar, t: datetime, minutes: int) -> None:
    x = cal.add_business_minutes(t, minutes)
    assert cal.business_minutes(t, x) == minutes
    # earliest: a minute earlier is not enough
    assert cal.business_minutes(t, x - timedelta(minutes=1)) < minutes


@PROPS
@given(cal=st.sampled_from(CALS), a=starts, s1=st.integers(0, 2000), s2=st.integers(0, 2000))
def test_business_time_is_additive(cal: BusinessCalendar, a: datetime, s1: int, s2: int) -> None:
    b, c = a + timedelta(minutes=s1), a + timedelta(minutes=s1 + s2)
    assert cal.business_minutes(a, c) == cal.business_minutes(a, b) + cal.business_minutes(b, c)


@pytest.mark.slow
@settings(max_examples=25, deadline=None)
@given(
    cal=st.sampled_from(CALS),
    t=starts,
    minutes=st.lists(st.integers(min_value=1, max_value=1500), min_size=1, max_size=8),
)
def test_sql_positions_agree_with_python(
    cal: BusinessCalendar, t: datetime, minutes: list[int]
) -> None:
    """The engine's lookups and arithmetic over interval_table give the same deadlines."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    iv = cal.interval_table(t - timedelta(days=5), t + timedelta(days=20))
    con.register("iv", iv)
    con.execute(
        "CREATE TEMP TABLE cal_intervals AS SELECT calendar_id, open_at, close_at, "
        "CAST(round(cum_start_s * 1e6) AS BIGINT) AS cum_start_us, "
        "CAST(round(cum_end_s * 1e6) AS BIGINT) AS cum_end_us FROM iv"
    )
    index_intervals(con)
    con.execute("CREATE TABLE q (start_at TIMESTAMPTZ, add_us BIGINT, calendar_id VARCHAR)")
    con.executemany("INSERT INTO q VALUES (?, ?, ?)",
                    [(t, m * 60_000_000, cal.calendar_id) for m in minutes])  # fmt: skip
    rows = con.execute(
        f"""
        WITH p AS (
            SELECT q.*, {pos_sql("q.start_at", "i")} + q.add_us AS target
            FROM q {interval_at("i", "q.calendar_id", "q.start_at")}
        )
        SELECT p.add_us, {at_sql("p.target", "j", "p.start_at")}
        FROM p {interval_of("j", "p.calendar_id", "p.target")}
        """
    ).fetchall()
    assert len(rows) == len(minutes)
    for add_us, got in rows:
        assert got == cal.add_business_minutes(t, add_us / 60_000_000)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    cuts=st.dictionaries(
        st.sampled_from(["a", "b"]),
        st.lists(st.integers(0, 40 * 3_600_000_000), min_size=1, max_size=12, unique=True),
        min_size=1,
    ),
    probes=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(-5, 50 * 3_600_000_000)),
        min_size=1,
        max_size=40,
    ),
)
def test_range_index_finds_what_asof_finds(
    cuts: dict[str, list[int]], probes: list[tuple[str, int]]
) -> None:
    """``range_join`` on an ``index_ranges`` table picks the row an ASOF join picks, for both
    directions the engine uses (last start <= x, first end >= x), before the first row, past
    the last and in a part with no rows at all."""
    con = duckdb.connect()
    con.execute("CREATE TEMP TABLE pts (part VARCHAR, k BIGINT)")
    con.executemany("INSERT INTO pts VALUES (?, ?)",
                    [(p, k) for p, ks in cuts.items() for k in ks])  # fmt: skip
    con.execute("CREATE TEMP TABLE q (part VARCHAR, x BIGINT)")
    con.executemany("INSERT INTO q VALUES (?, ?)", probes)
    # last k <= x: each row owns [k, next k)
    index_ranges(
        con,
        "idx_last",
        "SELECT *, lead(k) OVER (PARTITION BY part ORDER BY k) AS nk FROM pts",
        "r.part",
        "r.k",
        "r.nk",
    )
    # first k >= x: each row owns (previous k, k]
    index_ranges(
        con,
        "idx_first",
        "SELECT *, lag(k) OVER (PARTITION BY part ORDER BY k) AS pk FROM pts",
        "r.part",
        "r.pk + 1",
        "r.k + 1",
    )
    for idx, asof in (("idx_last", "q.x >= p.k"), ("idx_first", "q.x <= p.k")):
        got = con.execute(
            f"SELECT q.part, q.x, i.k FROM q {range_join(idx, 'i', 'q.part', 'q.x')} ORDER BY ALL"
        ).fetchall()
        want = con.execute(
            f"SELECT q.part, q.x, p.k FROM q ASOF LEFT JOIN pts p ON p.part = q.part AND {asof}"
            " ORDER BY ALL"
        ).fetchall()
        assert got == want, idx
