"""Instants as integer microseconds, a zone's constant-offset UTC segments, and merged business
intervals laid out on one axis of cumulative business time (positions): the ground the Python
reference (:mod:`leadsla.calendars.reference`) stands on. See :mod:`leadsla.calendars`."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from zoneinfo import ZoneInfo

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
