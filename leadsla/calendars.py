"""Business-time arithmetic: the one place business minutes are computed.

SLA clocks run on business time, and an SLA that is a few minutes off in Python but right in
SQL (or right in winter and wrong in summer) is a wrong escalation. So every business-time
question — in Python here, and in SQL through :meth:`BusinessCalendar.interval_table` — is
answered from one set of UTC intervals built by one function.

Semantics
---------
A calendar has a zone ``tz`` (IANA), per-weekday *windows* ``(start, end)`` in local wall-clock
minutes since local midnight of the day they start on (``0 <= start < end <= 2880``; an end
above 1440 crosses midnight into the next day, so 22:00–06:00 is ``(1320, 1800)`` and belongs
to the day it starts on), ``holidays`` (local dates; a holiday removes every window that
*starts* on it), and ``always_open`` (24/7: every instant is business time, windows and
holidays are ignored).

* **Business instant.** A UTC instant ``u`` is business time iff its local wall-clock time
  ``L`` (``u`` in ``tz``, as a naive wall time) satisfies: for some local date ``d`` in
  ``{L.date(), L.date() - 1 day}`` that is not a holiday, a window ``(s, e)`` of
  ``d.weekday()`` has ``d + s minutes <= L < d + e minutes`` (naive wall-clock arithmetic).
  This is what a person reading the clock on the office wall would say, minute by minute: wall
  times skipped by a spring-forward gap never occur, so they are never business time; wall
  times repeated by a fall-back fold occur twice, so they count twice.
* ``business_seconds(a, b)``: the measure of business instants in ``[a, b)``, in seconds;
  ``-business_seconds(b, a)`` when ``b < a``.
* ``add_business_seconds(t, s)``: for ``s > 0`` the *earliest* ``x >= t`` with
  ``business_seconds(t, x) == s`` — landing exactly on a close returns that close (15 business
  minutes from 18:15 with a close at 18:30 is 18:30 that day, not next morning's open). For
  ``s < 0`` the *latest* ``x <= t`` with ``business_seconds(x, t) == -s`` — landing exactly on
  an open returns that open. ``s == 0`` returns ``t`` (in UTC). Amounts are resolved to the
  microsecond, the resolution of :class:`~datetime.datetime`.
* **Business day**: a local date with at least one non-holiday window starting on it that
  covers some business time (a window lying entirely inside a spring-forward gap covers none,
  so a day made only of such windows is not a business day: it has no open or close). Its
  *open* / *close* are the first / last UTC instant of its own windows' business time, after
  DST mapping, regardless of whether a neighbouring day's window continues it. For 24/7
  calendars every local date is a business day from local midnight to the next local midnight.
* ``end_of_business_day(t)``: the close of the first business day (in date order) whose close
  is after ``t``. For 24/7 calendars that is the next local midnight after ``t``.
* ``next_business_day_at(t, "HH:MM")``: wall time HH:MM on the first business day whose local
  date is strictly after ``t``'s local date. A wall time that does not exist (a spring-forward
  gap) resolves like zoneinfo's ``fold=0``: with the offset in force before the transition, so
  02:30 on a 02:00→03:00 night is 03:30 daylight time; an ambiguous (folded) wall time is its
  first occurrence. ``tables.py`` builds its anchors the same way.

All inputs must be timezone-aware (naive ones raise :class:`ValueError`: a guessed zone would
silently shift every SLA); all outputs are UTC. Nothing here reads the clock.

Implementation
--------------
Intervals are built in integer microseconds since the Unix epoch, so Python and SQL (which
works in microseconds) agree exactly. The zone's UTC offset transitions are found per UTC year
by sampling every hour and bisecting to the second (cached per zone and year). Inside each
constant-offset UTC segment a window's wall-clock ``[start, end)`` maps to UTC by subtracting
the offset and is clipped to the segment — which is the semantics above, solved for ``u``
instead of stepped minute by minute. The pieces are merged (overlapping or touching), laid out
with cumulative business time ("positions"), and cached per calendar; every question is then
a bisect. Searches that need more range extend the cache and give up with a ``ValueError``
after three years without business time (e.g. a calendar with no windows).
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

__all__ = ["BusinessCalendar", "parse_hhmm"]

_US = 1_000_000  # microseconds per second
_MINUTE_US = 60 * _US
_DAY_US = 86_400 * _US
_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH_WEEKDAY = date(1970, 1, 1).weekday()  # Thursday
#: Searches give up after this long without business time (a calendar with no windows).
_GIVE_UP_US = 3 * 366 * _DAY_US
#: How far the interval cache reaches past a request when built, and how much it grows by.
_PAD_US = 35 * _DAY_US
_GROW_US = 120 * _DAY_US
#: Day batches scanned by the anchor searches.
_DAY_BATCH = 14
#: Supported instants; the margins keep padding and year lookups inside datetime's range.
_LIMIT_LO_US = (datetime(2, 1, 1, tzinfo=UTC) - _EPOCH) // _ONE_US
_LIMIT_HI_US = (datetime(9998, 12, 31, tzinfo=UTC) - _EPOCH) // _ONE_US

_HHMM = re.compile(r"(\d\d):(\d\d)")

Window = tuple[int, int]


def parse_hhmm(s: str) -> int:
    """Minutes since local midnight for ``"HH:MM"``; ``"24:00"`` is 1440 (a window's end).

    Strict two-digit form, the same as the rule files' schema, so a value that passes schema
    validation always parses here and nothing like ``"9.30"`` or ``"9:30am"`` is half-read.
    """
    m = _HHMM.fullmatch(s) if isinstance(s, str) else None
    if m is None:
        raise ValueError(f"not a time of day in HH:MM form (00:00–24:00): {s!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and mi != 0):
        raise ValueError(f"not a time of day in HH:MM form (00:00–24:00): {s!r}")
    return h * 60 + mi


# ---- instants as integer microseconds -------------------------------------------------------


def _us(t: datetime) -> int:
    """Microseconds since the epoch of an aware datetime; naive ones are refused."""
    if not isinstance(t, datetime):
        raise TypeError(f"expected a datetime, got {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(
            f"naive datetime {t.isoformat()!r}: pass a timezone-aware time (e.g. with tzinfo=UTC)"
        )
    us = (t - _EPOCH) // _ONE_US
    if not _LIMIT_LO_US <= us <= _LIMIT_HI_US:
        raise ValueError(f"{t.isoformat()} is outside the supported years 0002–9998")
    return us


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _offset_us(zone: ZoneInfo, utc_s: int) -> int:
    """UTC offset of ``zone`` at the UTC second ``utc_s``."""
    off = datetime.fromtimestamp(utc_s, zone).utcoffset()
    if off is None:  # pragma: no cover - ZoneInfo always answers for aware datetimes
        raise ValueError(f"zone {zone.key} has no UTC offset at {utc_s}")
    return off // _ONE_US


@lru_cache(maxsize=2048)
def _year_transitions(tz: str, year: int) -> tuple[tuple[int, int], ...]:
    """Offset changes of ``tz`` in the UTC year (Jan 1 of ``year``, Jan 1 of ``year + 1``]:
    ``(instant µs, offset µs from then on)``.

    Hourly sampling then bisection to the second finds every transition of real zones (they are
    whole seconds apart and never come and go within an hour) at a cost of ~9k offset lookups
    per zone-year, paid once per process.
    """
    zone = ZoneInfo(tz)
    t = (datetime(year, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
    end = (datetime(year + 1, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(seconds=1)
    off = _offset_us(zone, t)
    out: list[tuple[int, int]] = []
    while t < end:
        nxt = min(t + 3600, end)
        if _offset_us(zone, nxt) == off:
            t = nxt
            continue
        lo, hi = t, nxt  # offset(lo) == off != offset(hi): the change is in (lo, hi]
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset_us(zone, mid) == off:
                lo = mid
            else:
                hi = mid
        off = _offset_us(zone, hi)
        out.append((hi * _US, off))
        t = hi  # rescan from the change: a second one in the same hour is not skipped
    return tuple(out)


def _year_of(us: int) -> int:
    return _dt(us).year


def _segments(tz: str, lo: int, hi: int) -> list[tuple[int, int, int]]:
    """``(start, end, offset)`` pieces (µs) of ``[lo, hi)`` with a constant UTC offset."""
    off = _offset_us(ZoneInfo(tz), lo // _US)
    out: list[tuple[int, int, int]] = []
    a = lo
    for year in range(_year_of(lo), _year_of(hi) + 1):
        for t, new_off in _year_transitions(tz, year):
            if lo < t < hi:
                out.append((a, t, off))
                a, off = t, new_off
    out.append((a, hi, off))
    return out


def _merge_sorted(pairs: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Merge sorted ``[a, b)`` pieces that overlap or touch, so positions are one axis."""
    opens: list[int] = []
    closes: list[int] = []
    for a, b in pairs:
        if closes and a <= closes[-1]:
            if b > closes[-1]:
                closes[-1] = b
        else:
            opens.append(a)
            closes.append(b)
    return opens, closes


# ---- the calendar ---------------------------------------------------------------------------


class _Windows(Mapping[int, tuple[Window, ...]]):
    """Read-only, hashable weekday → windows mapping: a frozen calendar must not change under
    its cache, and it must hash so calendars can key caches and sets."""

    __slots__ = ("_items",)

    def __init__(self, items: dict[int, tuple[Window, ...]]) -> None:
        self._items = dict(sorted(items.items()))

    def __getitem__(self, key: int) -> tuple[Window, ...]:
        return self._items[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._items)


@dataclass(frozen=True, slots=True)
class _Span:
    """Merged business intervals of ``[lo, hi)`` (µs); ``cum[i]`` is the business time of the
    intervals before ``i`` (``len(cum) == len(opens) + 1``). Immutable, so a reader never sees
    a half-extended cache; extending swaps in a new span."""

    lo: int
    hi: int
    opens: list[int]
    closes: list[int]
    cum: list[int]

    @classmethod
    def of(cls, lo: int, hi: int, opens: list[int], closes: list[int]) -> _Span:
        cum = list(accumulate((b - a for a, b in zip(opens, closes, strict=True)), initial=0))
        return cls(lo, hi, opens, closes, cum)

    def pos(self, x: int) -> int:
        """Business µs in ``[lo, x)``: the same formula the SQL side evaluates."""
        i = bisect.bisect_right(self.opens, x) - 1
        if i < 0:
            return 0
        return self.cum[i] + min(x - self.opens[i], self.closes[i] - self.opens[i])


class _State:
    """Per-calendar derived data and the interval cache (kept out of equality and hashing)."""

    __slots__ = ("holidays", "span", "windows", "zone")

    def __init__(
        self, zone: ZoneInfo, windows: list[tuple[Window, ...]], holidays: set[int]
    ) -> None:
        self.zone = zone
        self.windows = windows  # per weekday, in µs from local midnight
        self.holidays = holidays  # epoch day numbers
        self.span: _Span | None = None


@dataclass(frozen=True)
class BusinessCalendar:
    """Working windows per weekday in a zone, minus holidays; or 24/7 (``always_open``).

    See the module docstring for the exact semantics. Instances are immutable and cache their
    intervals, so reuse one per calendar rather than rebuilding it per question.
    """

    calendar_id: str
    tz: str
    windows: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date] = frozenset()
    always_open: bool = False
    _state: _State = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"calendar {self.calendar_id!r}: unknown time zone {self.tz!r}"
            ) from exc
        norm: dict[int, tuple[Window, ...]] = {}
        for wd, spans in dict(self.windows).items():
            if isinstance(wd, bool) or not isinstance(wd, int) or not 0 <= wd <= 6:
                raise ValueError(
                    f"calendar {self.calendar_id!r}: weekday {wd!r} is not 0 (Monday) .. 6 (Sunday)"
                )
            out: list[Window] = []
            for span in spans:
                s, e = span
                ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (s, e))
                if not ok or not 0 <= s < e <= 2880:
                    raise ValueError(
                        f"calendar {self.calendar_id!r}: window {span!r} on weekday {wd} must be "
                        "whole minutes with 0 <= start < end <= 2880"
                    )
                out.append((s, e))
            if out:
                norm[wd] = tuple(sorted(out))
        hol: set[int] = set()
        for h in self.holidays:
            if isinstance(h, datetime) or not isinstance(h, date):
                raise ValueError(f"calendar {self.calendar_id!r}: holiday {h!r} is not a date")
            hol.add(h.toordinal() - _EPOCH_ORDINAL)
        object.__setattr__(self, "windows", _Windows(norm))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        per_day = [
            tuple((s * _MINUTE_US, e * _MINUTE_US) for s, e in norm.get(wd, ())) for wd in range(7)
        ]
        object.__setattr__(self, "_state", _State(zone, per_day, hol))

    # ---- building intervals ------------------------------------------------------------------

    def _pieces(
        self, lo: int, hi: int, days: tuple[int, int] | None = None
    ) -> Iterator[tuple[int, int, int]]:
        """``(epoch day, open, close)`` UTC pieces (µs) of the windows that start on non-holiday
        days (only days in the inclusive range ``days`` if given), clipped to ``[lo, hi)``.

        Inside a constant-offset segment, wall time is UTC plus the offset, so the semantics'
        ``d + s <= L < d + e`` is exactly ``d + s - off <= u < d + e - off``.
        """
        st = self._state
        for s0, s1, off in _segments(self.tz, lo, hi):
            w0, w1 = s0 + off, s1 + off  # the wall-clock range this segment shows
            # windows of day n cover wall [n, n + 2 days): only these days can touch [w0, w1)
            n_lo, n_hi = w0 // _DAY_US - 1, (w1 - 1) // _DAY_US
            if days is not None:
                n_lo, n_hi = max(n_lo, days[0]), min(n_hi, days[1])
            for n in range(n_lo, n_hi + 1):
                if n in st.holidays:
                    continue
                base = n * _DAY_US
                for ws, we in st.windows[(n + _EPOCH_WEEKDAY) % 7]:
                    a, b = max(base + ws, w0), min(base + we, w1)
                    if a < b:
                        yield n, a - off, b - off

    def _build(self, lo: int, hi: int) -> list[tuple[int, int]]:
        if self.always_open:
            return [(lo, hi)] if lo < hi else []
        return sorted((a, b) for _, a, b in self._pieces(lo, hi))

    def _covering(self, lo: int, hi: int) -> _Span:
        """The cached span, extended (with some slack) until it covers ``[lo, hi]``."""
        lo, hi = max(lo, _LIMIT_LO_US), min(hi, _LIMIT_HI_US)
        sp = self._state.span
        if sp is not None and sp.lo <= lo and hi <= sp.hi:
            return sp
        if sp is None:
            new_lo = max(lo - _PAD_US, _LIMIT_LO_US)
            new_hi = min(hi + _PAD_US, _LIMIT_HI_US)
            opens, closes = _merge_sorted(self._build(new_lo, new_hi))
        else:
            new_lo = (
                sp.lo if lo >= sp.lo else max(min(lo - _PAD_US, sp.lo - _GROW_US), _LIMIT_LO_US)
            )
            new_hi = (
                sp.hi if hi <= sp.hi else min(max(hi + _PAD_US, sp.hi + _GROW_US), _LIMIT_HI_US)
            )
            pairs = self._build(new_lo, sp.lo)
            pairs.extend(zip(sp.opens, sp.closes, strict=True))
            pairs.extend(self._build(sp.hi, new_hi))
            opens, closes = _merge_sorted(pairs)  # joins intervals split at the old edges
        sp = _Span.of(new_lo, new_hi, opens, closes)
        self._state.span = sp  # one reference swap: concurrent readers keep a consistent span
        return sp

    def _clipped(self, lo: int, hi: int) -> tuple[list[int], list[int]]:
        if hi <= lo:
            return [], []
        sp = self._covering(lo, hi)
        i = bisect.bisect_right(sp.closes, lo)  # first interval closing after lo
        j = bisect.bisect_left(sp.opens, hi)  # first interval opening at or after hi
        opens, closes = sp.opens[i:j], sp.closes[i:j]
        if opens:
            opens[0] = max(opens[0], lo)
            closes[-1] = min(closes[-1], hi)
        return opens, closes

    # ---- business days -----------------------------------------------------------------------

    def _local_day(self, us: int) -> int:
        """Epoch day number of the local date of instant ``us``."""
        return (us + _offset_us(self._state.zone, us // _US)) // _DAY_US

    def _local_midnight(self, n: int, minutes: int = 0) -> int:
        """UTC µs of wall time ``minutes`` after local midnight of epoch day ``n`` (fold=0)."""
        d = date.fromordinal(n + _EPOCH_ORDINAL)
        wall = datetime.combine(d, time(0), tzinfo=self._state.zone) + timedelta(minutes=minutes)
        return _us(wall)  # aware + timedelta is wall-clock arithmetic; fold stays 0

    def _days(self, first: int, last: int) -> list[tuple[int, int, int]]:
        """``(epoch day, open µs, close µs)`` of the business days in ``[first, last]``."""
        if last < first:
            return []
        if self.always_open:
            edges = [self._local_midnight(n) for n in range(first, last + 2)]
            return [(first + k, edges[k], edges[k + 1]) for k in range(last - first + 1)]
        bounds: dict[int, tuple[int, int]] = {}
        # a day's windows show wall [n, n + 2 days); offsets are under a day either way
        lo = max((first - 1) * _DAY_US, _LIMIT_LO_US)
        hi = min((last + 3) * _DAY_US, _LIMIT_HI_US)
        for n, a, b in self._pieces(lo, hi, (first, last)):
            got = bounds.get(n)
            bounds[n] = (a, b) if got is None else (min(got[0], a), max(got[1], b))
        return [(n, *bounds[n]) for n in sorted(bounds)]

    def _scan_days(self, first: int, t: datetime) -> Iterator[tuple[int, int, int]]:
        """Business days from epoch day ``first`` on, in date order, for up to three years."""
        n = first
        while (n - first) * _DAY_US <= _GIVE_UP_US and n * _DAY_US < _LIMIT_HI_US - 3 * _DAY_US:
            yield from self._days(n, n + _DAY_BATCH - 1)
            n += _DAY_BATCH
        raise ValueError(
            f"calendar {self.calendar_id!r} has no business day within 3 years after "
            f"{t.isoformat()}: does it have any windows?"
        )

    def _no_time(self, t: datetime, direction: str) -> ValueError:
        return ValueError(
            f"calendar {self.calendar_id!r} has no business time within 3 years {direction} "
            f"{t.isoformat()}: does it have any windows?"
        )

    # ---- public API --------------------------------------------------------------------------

    def intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Merged UTC business intervals clipped to ``[start, end)``, in order.

        Touching intervals are one (a 24h window followed by the next day's is continuous
        business time), so consumers never see an artificial seam.
        """
        opens, closes = self._clipped(_us(start), _us(end))
        return [(_dt(a), _dt(b)) for a, b in zip(opens, closes, strict=True)]

    def business_seconds(self, a: datetime, b: datetime) -> float:
        """Business time in ``[a, b)`` in seconds; negative (``-business_seconds(b, a)``) when
        ``b < a``, so elapsed-vs-remaining arithmetic needs no special cases."""
        ua, ub = _us(a), _us(b)
        if ub < ua:
            return -self.business_seconds(b, a)
        sp = self._covering(ua, ub)
        return (sp.pos(ub) - sp.pos(ua)) / _US

    def business_minutes(self, a: datetime, b: datetime) -> float:
        """:meth:`business_seconds` in minutes, the unit SLAs are written in."""
        return self.business_seconds(a, b) / 60.0

    def add_business_seconds(self, t: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of business time after ``t`` (before it if negative).

        Forward: the earliest such instant, so a deadline that uses up the day exactly is due
        at that day's close, not the next open. Backward: the latest such instant, so it lands
        on an open rather than the previous close. Resolved to the microsecond.
        """
        ut = _us(t)
        if not math.isfinite(seconds):
            raise ValueError(f"business seconds must be finite, got {seconds!r}")
        amount = round(seconds * _US)
        if amount == 0:
            return _dt(ut)
        if amount > 0:
            return _dt(self._forward(ut, amount, t))
        return _dt(self._backward(ut, -amount, t))

    def _forward(self, ut: int, amount: int, t: datetime) -> int:
        hi = ut
        while True:
            sp = self._covering(ut, hi)
            target = sp.pos(ut) + amount
            if target <= sp.cum[-1]:
                # the interval with cum_start < target <= cum_end: the earliest instant
                i = bisect.bisect_left(sp.cum, target, 1) - 1
                return sp.opens[i] + (target - sp.cum[i])
            seen = max(ut, sp.closes[-1]) if sp.closes else ut
            if sp.hi - seen > _GIVE_UP_US or sp.hi >= _LIMIT_HI_US:
                raise self._no_time(t, "after")
            hi = sp.hi + 1

    def _backward(self, ut: int, amount: int, t: datetime) -> int:
        lo = ut
        while True:
            sp = self._covering(lo, ut)
            target = sp.pos(ut) - amount
            if target >= 0 and sp.opens:
                # the interval with cum_start <= target < cum_end: the latest instant
                j = bisect.bisect_right(sp.cum, target, 0, len(sp.opens)) - 1
                return sp.opens[j] + (target - sp.cum[j])
            seen = min(ut, sp.opens[0]) if sp.opens else ut
            if seen - sp.lo > _GIVE_UP_US or sp.lo <= _LIMIT_LO_US:
                raise self._no_time(t, "before")
            lo = sp.lo - 1

    def add_business_minutes(self, t: datetime, minutes: float) -> datetime:
        """:meth:`add_business_seconds` in minutes."""
        return self.add_business_seconds(t, minutes * 60.0)

    def end_of_business_day(self, t: datetime) -> datetime:
        """Close of the first business day (date order) whose close is after ``t``: before
        the open that is today's close, after the close it is the next business day's."""
        ut = _us(t)
        # three days back: a day's windows (up to 48 h long) may still be open at t
        for _, _, close in self._scan_days(self._local_day(ut) - 3, t):
            if close > ut:
                return _dt(close)
        raise AssertionError("unreachable: _scan_days raises when it runs out")  # pragma: no cover

    def next_business_day_at(self, t: datetime, hhmm: str) -> datetime:
        """Local ``hhmm`` on the first business day whose local date is after ``t``'s.

        A wall time inside a spring-forward gap resolves as zoneinfo's ``fold=0`` does (the
        pre-transition offset: 02:30 becomes 03:30 daylight time); a folded one is its first
        occurrence. ``"24:00"`` is the following midnight.
        """
        ut = _us(t)
        minutes = parse_hhmm(hhmm)
        for n, _, _ in self._scan_days(self._local_day(ut) + 1, t):
            return _dt(self._local_midnight(n, minutes))
        raise AssertionError("unreachable: _scan_days raises when it runs out")  # pragma: no cover

    def interval_table(self, start: datetime, end: datetime) -> pa.Table:
        """Business intervals over ``[start, end)`` with cumulative business seconds.

        This is how SQL does business time set-wise: with ``i`` the last row whose
        ``open_at <= t``, ``pos(t) = cum_start_s + clamp(t - open_at, 0, close_at - open_at)``;
        with ``j`` the row whose ``cum_start_s < p <= cum_end_s``,
        ``at(p) = open_at + (p - cum_start_s)``. Differences of positions are
        :meth:`business_seconds` and ``at(pos(t) + s)`` is :meth:`add_business_seconds`, exactly
        (all values are whole microseconds). Rows are merged intervals sorted by ``open_at``,
        the first and last clipped to the range; a 24/7 calendar is one row ``[start, end)``.
        """
        opens, closes = self._clipped(_us(start), _us(end))
        cum = list(accumulate((b - a for a, b in zip(opens, closes, strict=True)), initial=0))
        ts = pa.timestamp("us", tz="UTC")
        return pa.table(
            {
                "calendar_id": pa.array([self.calendar_id] * len(opens), pa.string()),
                "open_at": pa.array(opens, ts),
                "close_at": pa.array(closes, ts),
                "cum_start_s": pa.array([c / _US for c in cum[:-1]], pa.float64()),
                "cum_end_s": pa.array([c / _US for c in cum[1:]], pa.float64()),
            }
        )

    def business_day_table(self, start: datetime, end: datetime) -> pa.Table:
        """One row per business day whose local date ``[start, end)`` touches: ``local_date``
        and the day's first open / last close in UTC (``day_open_at``, ``day_close_at``).

        SQL joins this for ``end_of_business_day`` and ``next_business_day_at`` anchors, so it
        uses the same day definition as those methods (see the module docstring).
        """
        us, ue = _us(start), _us(end)
        days = self._days(self._local_day(us), self._local_day(ue - 1)) if ue > us else []
        ts = pa.timestamp("us", tz="UTC")
        cols: dict[str, Any] = {
            "calendar_id": pa.array([self.calendar_id] * len(days), pa.string()),
            "local_date": pa.array(
                [date.fromordinal(n + _EPOCH_ORDINAL) for n, _, _ in days], pa.date32()
            ),
            "day_open_at": pa.array([o for _, o, _ in days], ts),
            "day_close_at": pa.array([c for _, _, c in days], ts),
        }
        return pa.table(cols)
