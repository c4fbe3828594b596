"""Property tests: business-time arithmetic against a literal minute-stepping reference.

The reference steps UTC minutes and applies the module's semantics word for word (local wall
time ``L``, local dates ``{L.date(), L.date() - 1}``, non-holiday, ``d + s <= L < d + e``). It
knows nothing of offsets, transitions or intervals, so agreement across DST gaps and folds,
holidays, windows crossing midnight and lunch breaks is real evidence. Per-UTC-day minute flags
are memoised so the reference stays cheap while remaining minute-stepping.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.calendars import BusinessCalendar

MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Plain-data specs: the reference reads these, never the object under test. Window edges sit
# inside the DST gap/fold hours on transition Sundays, where an off-by-one-transition bug shows.
SPECS: dict[str, dict[str, Any]] = {
    # Office with a lunch break; a Friday night shift crossing midnight; a Saturday night shift
    # 22:00–01:00; on Sunday 02:00–03:00 (all gap in spring, after the fold in autumn) and an
    # overlapping 02:30–04:00 (half gap in spring). Holidays next to both transitions (the
    # Friday one also removes that night's shift).
    "ny_office": {
        "tz": "America/New_York",
        "windows": {d: [(540, 720), (780, 1050)] for d in range(4)}
        | {
            4: [(540, 720), (780, 1050), (1320, 1800)],
            5: [(1320, 1500)],
            6: [(120, 180), (150, 240)],
        },
        "holidays": {date(2026, 3, 9), date(2026, 10, 30), date(2026, 11, 8), date(2025, 7, 4)},
    },
    # Shop with overlapping weekday windows (08:00–20:00 and 19:00–21:00), and a Saturday night
    # window ending at 2880 (Monday 00:00) that covers the whole transition Sunday.
    "berlin_shop": {
        "tz": "Europe/Berlin",
        "windows": {d: [(480, 1200), (1140, 1260)] for d in range(5)}
        | {5: [(480, 1200), (1380, 2880)]},
        "holidays": {date(2026, 3, 30), date(2026, 10, 23), date(2026, 12, 25), date(2027, 1, 1)},
    },
    # Split day plus nights 21:00–07:00 on weekdays; Saturday night ends at 02:00 and Sunday
    # has 02:00–03:00: Berlin's gap in spring (never business), its fold in autumn (twice).
    "berlin_night": {
        "tz": "Europe/Berlin",
        "windows": {d: [(600, 720), (780, 960), (1260, 1860)] for d in range(5)}
        | {5: [(1260, 1560)], 6: [(120, 180), (1260, 1860)]},
        "holidays": {date(2026, 3, 27), date(2026, 10, 26), date(2026, 12, 24)},
    },
    # Sparse: one hour on Wednesdays, and Sunday as two touching windows split at 02:30 (inside
    # the gap/fold) that also touch Saturday's 23:00–24:00: one merged run, 23 h / 25 h long.
    "ny_sparse": {
        "tz": "America/New_York",
        "windows": {2: [(600, 660)], 5: [(1380, 1440)], 6: [(0, 150), (150, 1440)]},
        "holidays": {date(2026, 3, 11)},
    },
}
CALS = {
    name: BusinessCalendar(
        calendar_id=name,
        tz=spec["tz"],
        windows={wd: tuple(ws) for wd, ws in spec["windows"].items()},
        holidays=frozenset(spec["holidays"]),
    )
    for name, spec in SPECS.items()
}
#: Largest amount added in the add properties, per calendar (keeps reference stepping short).
MAX_ADD_MIN = {"ny_office": 3000, "berlin_shop": 3000, "berlin_night": 3000, "ny_sparse": 1800}

TRANSITIONS = {
    "America/New_York": [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)],
    "Europe/Berlin": [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)],
}
RANDOM_FROM = datetime(2025, 1, 1, tzinfo=UTC)
RANDOM_MINUTES = 3 * 365 * 1440


# ---- the reference ---------------------------------------------------------------------------


@cache
def _walls(name: str, d: date) -> tuple[tuple[datetime, datetime], ...]:
    """Naive wall-clock [start, end) of the windows starting on local date ``d``."""
    spec = SPECS[name]
    if d in spec["holidays"]:
        return ()
    base = datetime.combine(d, time())
    return tuple(
        (base + timedelta(minutes=s), base + timedelta(minutes=e))
        for s, e in spec["windows"].get(d.weekday(), [])
    )


def ref_is_business(name: str, u: datetime) -> bool:
    """The module's definition, literally."""
    wall = u.astimezone(ZoneInfo(SPECS[name]["tz"])).replace(tzinfo=None)
    for d in (wall.date(), wall.date() - timedelta(days=1)):
        for start, end in _walls(name, d):
            if start <= wall < end:
                return True
    return False


@cache
def _day_flags(name: str, utc_day: date) -> bytes:
    """1 per business UTC minute of ``utc_day``: the minute [u, u + 1 min) is business time
    iff u is (windows and offsets change on whole minutes in these zones)."""
    start = datetime.combine(utc_day, time(), tzinfo=UTC)
    return bytes(ref_is_business(name, start + k * MIN) for k in range(1440))


def _flag(name: str, u: datetime) -> int:
    return _day_flags(name, u.date())[u.hour * 60 + u.minute]


def ref_minutes(name: str, a: datetime, b: datetime) -> int:
    """Business minutes in [a, b), minute-aligned UTC instants, a <= b."""
    total = 0
    u = a
    while u < b:
        day_end = datetime.combine(u.date() + timedelta(days=1), time(), tzinfo=UTC)
        stop = min(b, day_end)
        i0 = u.hour * 60 + u.minute
        i1 = i0 + int((stop - u) / MIN)
        total += sum(_day_flags(name, u.date())[i0:i1])
        u = stop
    return total


def ref_add(name: str, t: datetime, minutes: int) -> datetime:
    """Step minute by minute: forward, the end of the ``minutes``-th business minute (the
    earliest x); backward, the start of it (the latest x)."""
    left = abs(minutes)
    u = t
    while True:
        if minutes > 0:
            left -= _flag(name, u)
            u += MIN
        else:
            u -= MIN
            left -= _flag(name, u)
        if left == 0:
            return u


@cache
def ref_day(name: str, d: date) -> tuple[datetime, datetime] | None:
    """First open and last close (UTC) of the business time of local date ``d``'s own windows,
    stepping every UTC minute whose wall time could fall in them; None if not a business day."""
    walls = _walls(name, d)
    if not walls:
        return None
    zone = ZoneInfo(SPECS[name]["tz"])
    lo = min(w0 for w0, _ in walls).replace(tzinfo=UTC) - timedelta(hours=15)
    hi = max(w1 for _, w1 in walls).replace(tzinfo=UTC) + timedelta(hours=15)
    hits = []
    for k in range(int((hi - lo) / MIN)):
        u = lo + k * MIN
        wall = u.astimezone(zone).replace(tzinfo=None)
        if any(w0 <= wall < w1 for w0, w1 in walls):
            hits.append(u)
    return (hits[0], hits[-1] + MIN) if hits else None


def _local_date(name: str, t: datetime) -> date:
    return t.astimezone(ZoneInfo(SPECS[name]["tz"])).date()


def ref_end_of_business_day(name: str, t: datetime) -> datetime:
    d = _local_date(name, t) - timedelta(days=3)
    while True:
        r = ref_day(name, d)
        if r is not None and r[1] > t:
            return r[1]
        d += timedelta(days=1)


def ref_next_business_day_at(name: str, t: datetime, hhmm: str) -> datetime:
    d = _local_date(name, t) + timedelta(days=1)
    while ref_day(name, d) is None:
        d += timedelta(days=1)
    h, m = (int(x) for x in hhmm.split(":"))
    # zoneinfo's fold=0 reading of the wall time, as the module documents
    wall = datetime.combine(d, time(), tzinfo=ZoneInfo(SPECS[name]["tz"])) + timedelta(
        hours=h, minutes=m
    )
    return wall.astimezone(UTC)


# ---- strategies ------------------------------------------------------------------------------


def _near(tz: str) -> st.SearchStrategy[datetime]:
    return st.sampled_from(TRANSITIONS[tz]).flatmap(
        lambda t0: st.integers(-10 * 1440, 10 * 1440).map(lambda m: t0 + m * MIN)
    )


_anywhere = st.integers(0, RANDOM_MINUTES).map(lambda m: RANDOM_FROM + m * MIN)


@st.composite
def cal_and_instant(draw: st.DrawFn) -> tuple[str, datetime]:
    """A calendar and a whole-minute UTC instant: mostly within ±10 days of one of its zone's
    2026 transitions, sometimes anywhere in 2025–2027."""
    name = draw(st.sampled_from(sorted(SPECS)))
    tz = SPECS[name]["tz"]
    t = draw(st.one_of(_near(tz), _near(tz), _near(tz), _anywhere))
    return name, t


SPAN = st.integers(0, 5 * 1440)
JITTER = st.integers(0, 59_999_999)  # µs, for properties that do not need the reference
PROPS = settings(max_examples=200, deadline=None)


def _tab_us(tab: pa.Table, col: str) -> list[int]:
    if col in ("open_at", "close_at"):
        return [int(v) for v in tab.column(col).cast(pa.int64()).to_pylist()]
    # what calendars/sql.py does: CAST(round(cum_s * 1e6) AS BIGINT)
    return [round(v * 1e6) for v in tab.column(col).to_pylist()]


def _us(t: datetime) -> int:
    return (t - EPOCH) // US


# ---- properties ------------------------------------------------------------------------------


@pytest.mark.slow
@PROPS
@given(ci=cal_and_instant(), span=SPAN)
def test_business_seconds_equals_reference(ci: tuple[str, datetime], span: int) -> None:
    name, a = ci
    b = a + span * MIN
    expected = ref_minutes(name, a, b) * 60
    assert CALS[name].business_seconds(a, b) == expected
    assert CALS[name].business_seconds(b, a) == -expected
    assert CALS[name].business_minutes(a, b) == expected / 60


def _amount(data: st.DataObject, name: str, t: datetime, *, forward: bool, step: int) -> float:
    """Business seconds to add from ``t`` (a positive multiple of ``step`` seconds when
    random): half the time exactly the business time up to a close ahead (forward) or back to
    an open behind — the edge cases of "earliest"/"latest" a random amount almost never hits.
    """
    cal = CALS[name]
    if data.draw(st.booleans(), label="to_edge"):
        span = timedelta(days=8)
        ivs = cal.intervals(t, t + span) if forward else cal.intervals(t - span, t)
        if ivs:
            a, b = data.draw(st.sampled_from(ivs), label="edge_interval")
            whole = cal.business_seconds(t, b) if forward else cal.business_seconds(a, t)
            if whole > 0:
                return whole
    return step * data.draw(st.integers(1, MAX_ADD_MIN[name] * 60 // step), label="amount")


@pytest.mark.slow
@PROPS
@given(ci=cal_and_instant(), data=st.data())
def test_add_minutes_matches_reference(ci: tuple[str, datetime], data: st.DataObject) -> None:
    name, t = ci
    cal = CALS[name]
    m = round(_amount(data, name, t, forward=True, step=60) / 60)
    x = cal.add_business_minutes(t, m)
    assert x == ref_add(name, t, m)
    assert x.tzinfo is UTC
    assert cal.business_seconds(t, x) == m * 60
    assert cal.business_seconds(t, x - MIN) < m * 60  # earliest: a minute less is not enough
    m = round(_amount(data, name, t, forward=False, step=60) / 60)
    y = cal.add_business_minutes(t, -m)
    assert y == ref_add(name, t, -m)
    assert cal.business_seconds(y, t) == m * 60
    assert cal.business_seconds(y + MIN, t) < m * 60  # latest: a minute later is not enough


@PROPS
@given(ci=cal_and_instant(), jitter=JITTER, data=st.data())
def test_add_seconds_is_inverse_and_extreme(
    ci: tuple[str, datetime], jitter: int, data: st.DataObject
) -> None:
    name, t0 = ci
    cal = CALS[name]
    t = t0 + jitter * US
    s = _amount(data, name, t, forward=True, step=1)
    x = cal.add_business_seconds(t, s)
    assert x >= t
    assert cal.business_seconds(t, x) == s
    assert cal.business_seconds(t, x - US) < s
    s = _amount(data, name, t, forward=False, step=1)
    y = cal.add_business_seconds(t, -s)
    assert y <= t
    assert cal.business_seconds(y, t) == s
    assert cal.business_seconds(y + US, t) < s
    assert cal.add_business_seconds(t, 0) == t


@PROPS
@given(ci=cal_and_instant(), span=SPAN, cut=st.floats(0, 1), jitter=JITTER)
def test_business_seconds_is_additive(
    ci: tuple[str, datetime], span: int, cut: float, jitter: int
) -> None:
    name, a = ci
    cal = CALS[name]
    c = a + span * MIN + jitter * US
    b = a + (c - a) * cut
    whole = cal.business_seconds(a, c)
    # exact in µs; the float sum of two parts may differ from the whole by an ulp
    assert round((cal.business_seconds(a, b) + cal.business_seconds(b, c)) * 1e6) == round(
        whole * 1e6
    )
    assert round((cal.business_seconds(a, b) - cal.business_seconds(c, b)) * 1e6) == round(
        whole * 1e6
    )


@PROPS
@given(ci=cal_and_instant(), span=SPAN, jitter=JITTER, data=st.data())
def test_sql_positions_agree(
    ci: tuple[str, datetime], span: int, jitter: int, data: st.DataObject
) -> None:
    """``pos``/``at`` as calendars/sql.py writes them, evaluated with bisect over the table."""
    name, t = ci
    cal = CALS[name]
    lo = t - timedelta(days=2) + jitter * US
    hi = t + timedelta(days=5 + 14)
    tab = cal.interval_table(lo, hi)
    opens, closes = _tab_us(tab, "open_at"), _tab_us(tab, "close_at")
    cs, ce = _tab_us(tab, "cum_start_s"), _tab_us(tab, "cum_end_s")
    assert tab.column("calendar_id").to_pylist() == [name] * len(opens)

    def pos(u: int) -> int:
        i = bisect.bisect_right(opens, u) - 1  # ASOF: last open_at <= u
        if i < 0:
            return 0  # coalesce(..., 0)
        return cs[i] + min(max(u - opens[i], 0), closes[i] - opens[i])

    def at(p: int) -> int | None:
        j = bisect.bisect_left(cs, p) - 1  # ASOF: last cum_start < p
        if j < 0 or p > ce[j]:
            return None
        return opens[j] + p - cs[j]

    a = t + data.draw(JITTER, label="a_jitter") * US
    b = a + span * MIN
    assert pos(_us(b)) - pos(_us(a)) == round(cal.business_seconds(a, b) * 1e6)
    # merged: no two rows touch, so every close is a real end of business time
    assert all(c < o for c, o in zip(closes, opens[1:], strict=False))
    assert all(o < c for o, c in zip(opens, closes, strict=True))
    s = _amount(data, name, a, forward=True, step=1)
    got = at(pos(_us(a)) + round(s * 1e6))
    if got is not None:
        assert got == _us(cal.add_business_seconds(a, s))


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    ci=cal_and_instant(),
    jitter=st.integers(-60_000_000, 60_000_000),
    span=SPAN,
    hhmm=st.sampled_from(["00:00", "02:30", "09:00", "10:00", "23:59", "24:00"]),
)
def test_business_days_and_anchors_match_reference(
    ci: tuple[str, datetime], jitter: int, span: int, hhmm: str
) -> None:
    """Business days, end_of_business_day and next_business_day_at against the stepped days
    (02:30 is inside the gap on spring-forward Sundays)."""
    name, t0 = ci
    cal = CALS[name]
    t = t0 + jitter * US
    assert cal.end_of_business_day(t) == ref_end_of_business_day(name, t)
    assert cal.next_business_day_at(t, hhmm) == ref_next_business_day_at(name, t, hhmm)
    end = t + span * MIN + US
    tab = cal.business_day_table(t, end)
    expected = []
    d, last = _local_date(name, t), _local_date(name, end - US)
    while d <= last:
        r = ref_day(name, d)
        if r is not None:
            expected.append(
                {"calendar_id": name, "local_date": d, "day_open_at": r[0], "day_close_at": r[1]}
            )
        d += timedelta(days=1)
    assert tab.to_pylist() == expected
