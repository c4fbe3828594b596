"""Business-time arithmetic: the one place business minutes are computed.

SLA clocks run on business time, and an SLA that is a few minutes off in Python but right in
SQL (or right in winter and wrong in summer) is a wrong escalation. So every business-time
question is answered from one set of UTC intervals built by one function, in this package:

* ``axis.py``: instants as integer microseconds, a zone's offset segments, merged intervals;
* ``reference.py``: :class:`BusinessCalendar`, the Python reference, which also exports those
  intervals as tables (``interval_table``, ``business_day_table``);
* ``sql.py`` and ``clock.sql``: the same intervals as temp tables, and the SQL that computes
  positions, instants and every clock's deadline from them (what the engine runs).

``tests/test_calendars*.py`` check the SQL against the Python reference with hypothesis.

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
  first occurrence. ``sql.py`` builds its anchors the same way.

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

from leadsla.calendars.axis import parse_hhmm
from leadsla.calendars.reference import BusinessCalendar

__all__ = ["BusinessCalendar", "parse_hhmm"]
