"""The Python reference of business time: :class:`BusinessCalendar` answers every business-time
question (and exports the intervals the SQL side, :mod:`leadsla.calendars.sql`, computes with)
with the semantics of :mod:`leadsla.calendars`."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from leadsla.calendars.axis import (
    _DAY_BATCH,
    _DAY_US,
    _EPOCH_ORDINAL,
    _EPOCH_WEEKDAY,
    _GIVE_UP_US,
    _GROW_US,
    _LIMIT_HI_US,
    _LIMIT_LO_US,
    _MINUTE_US,
    _PAD_US,
    _US,
    Window,
    _dt,
    _merge_sorted,
    _offset_us,
    _segments,
    _Span,
    _us,
    _Windows,
    parse_hhmm,
)


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
