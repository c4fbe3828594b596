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
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.calendars import BusinessCalendar

MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Plain-data specs: the reference reads these, never the object under test.
SPECS: dict[str, dict[str, Any]] = {
    # Office with a lunch break; a Friday night shift crossing midnight; a Saturday night shift
    # 22:00–07:00 spanning Sunday's 02:00 gap/fold; an overlapping Sunday 01:30–03:00 window
    # that partly falls in the gap (spring) or the fold (autumn). Holidays next to both
    # transitions, including the autumn Sunday itself (only the window *starting* on it goes).
    "ny_office": {
        "tz": "America/New_York",
        "windows": {
            0: [(540, 720), (780, 1050)],
            1: [(540, 720), (780, 1050)],
            2: [(540, 720), (780, 1050)],
            3: [(540, 720), (780, 1050)],
            4: [(540, 720), (780, 1050), (1320, 1800)],
            5: [(1320, 1860)],
            6: [(90, 180)],
        },
        "holidays": {date(2026, 3, 9), date(2026, 10, 30), date(2026, 11, 1), date(2025, 7, 4)},
    },
    # Shop Mon–Sat 08:00–20:00 plus a Saturday night window ending at 2880 (Monday 00:00), so
    # it touches the next week's Monday window only across a whole Sunday.
    "berlin_shop": {
        "tz": "Europe/Berlin",
        "windows": {d: [(480, 1200)] for d in range(5)} | {5: [(480, 1200), (1380, 2880)]},
        "holidays": {date(2026, 3, 30), date(2026, 10, 23), date(2026, 12, 25), date(2027, 1, 1)},
    },
    # Every night 21:00–07:00 (covering Berlin's 02:00/03:00 transitions) and a split day;
    # nights and days touch nothing, but consecutive nights overlap nothing either.
    "berlin_night": {
        "tz": "Europe/Berlin",
        "windows": {d: [(600, 720), (780, 960), (1260, 1860)] for d in range(5)}
        | {5: [(1260, 1860)], 6: [(1260, 1860)]},
        "holidays": {date(2026, 3, 28), date(2026, 10, 25), date(2026, 10, 26)},
    },
    # Sparse: one hour on Wednesdays, and a full day (0–1440) on Sunday that touches
    # Saturday's 23:00–24:00 window, so merged intervals span two windows.
    "ny_sparse": {
        "tz": "America/New_York",
        "windows": {2: [(600, 660)], 5: [(1380, 1440)], 6: [(0, 1440)]},
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


@lru_cache(maxsize=None)
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


@lru_cache(maxsize=None)
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
    # what tables.py does: CAST(round(cum_s * 1e6) AS BIGINT)
    return [round(v * 1e6) for v in tab.column(col).to_pylist()]


def _us(t: datetime) -> int:
    return (t - EPOCH) // US


# ---- properties ------------------------------------------------------------------------------


@PROPS
@given(ci=cal_and_instant(), span=SPAN)
def test_business_seconds_equals_reference(ci: tuple[str, datetime], span: int) -> None:
    name, a = ci
    b = a + span * MIN
    expected = ref_minutes(name, a, b) * 60
    assert CALS[name].business_seconds(a, b) == expected
    assert CALS[name].business_seconds(b, a) == -expected
    assert CALS[name].business_minutes(a, b) == expected / 60


@PROPS
@given(ci=cal_and_instant(), data=st.data())
def test_add_minutes_matches_reference(ci: tuple[str, datetime], data: st.DataObject) -> None:
    name, t = ci
    cal = CALS[name]
    m = data.draw(st.integers(1, MAX_ADD_MIN[name]), label="minutes")
    x = cal.add_business_minutes(t, m)
    assert x == ref_add(name, t, m)
    assert x.tzinfo is UTC
    assert cal.business_seconds(t, x) == m * 60
    assert cal.business_seconds(t, x - MIN) < m * 60  # earliest: a minute less is not enough
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
    s = data.draw(st.integers(1, MAX_ADD_MIN[name] * 60), label="seconds")
    x = cal.add_business_seconds(t, s)
    assert x >= t
    assert cal.business_seconds(t, x) == s
    assert cal.business_seconds(t, x - US) < s
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
    """``pos``/``at`` as tables.py writes them in SQL, evaluated with bisect over the table."""
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
    s = data.draw(st.integers(1, MAX_ADD_MIN[name] * 60), label="seconds")
    got = at(pos(_us(a)) + s * 1_000_000)
    if got is not None:
        assert got == _us(cal.add_business_seconds(a, s))
