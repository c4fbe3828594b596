"""The calendar tables a tick needs: they cover every clock still open and ``now`` + ``HORIZON``.

They are rebuilt only when the range they cover no longer suffices, so a replay on one
connection pays for them once a month of logical time, not every tick. Lead clocks and issue
clocks share them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import duckdb

from leadsla.calendars.sql import register_calendars
from leadsla.engine.temp_tables import keep
from leadsla.rules import RuleSet
from leadsla.rules.source_models import TimestampBounds
from leadsla.sql import run, scalar

#: Calendar tables reach this far past ``now``: deadlines further out are computed as unknown
#: (not yet due), which is all the engine needs; two months covers any sane policy.
HORIZON = timedelta(days=62)


def cover_calendars(con: duckdb.DuckDBPyConnection, rules: RuleSet, now: datetime) -> None:
    """Calendar tables covering every open clock and ``now`` + ``HORIZON``. Rule tables are
    registered by the caller once per connection (``register_rules``)."""
    # every clock this tick may compute: open ones, and deadlines or responses not yet settled
    # (an old closed lead loaded today still needs its deadline on the real calendar)
    # Clamped to [the earliest timestamp any source accepts, now] in SQL: whatever state
    # holds (a year-0001 or year-9999 value loaded before bounds existed, which DuckDB would
    # hand back as text or not at all), the calendar range stays a real, bounded one.
    floor = min((s.timestamp_bounds.earliest for s in rules.sources), default=None)
    floor = floor or TimestampBounds().earliest
    oldest = scalar(
        con,
        "SELECT CASE WHEN min(t) IS NOT NULL THEN least(greatest(min(t), $floor), $now) END"
        " FROM ("
        " SELECT min(least(hop_started_at, created_at, response_at)) AS t FROM lead_state"
        " WHERE closed_seen_at IS NULL OR due_at IS NULL OR NOT response_logged"
        " UNION ALL SELECT min(raised_at) FROM issue_state"
        " WHERE verdict IS DISTINCT FROM 'rejected' AND NOT resolved_logged)",
        {"floor": datetime.combine(floor, time(), UTC), "now": now},
    )
    need_lo = (oldest if isinstance(oldest, datetime) else now) - timedelta(days=1)
    need_hi = now + HORIZON
    have = (
        con.execute("SELECT lo, hi FROM cal_range").fetchall()
        if scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'cal_range'")
        else []
    )
    if have and have[0][0] <= need_lo and have[0][1] >= need_hi:
        return
    lo, hi = need_lo - timedelta(days=30), need_hi + timedelta(days=30)
    register_calendars(con, rules, lo, hi)
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE cal_range AS SELECT $lo AS lo, $hi AS hi",
        {"lo": lo, "hi": hi},
    )
    keep(con, "cal_range")
