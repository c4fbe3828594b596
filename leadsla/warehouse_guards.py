"""What the review refuses before it builds: a database that is not its warehouse's own, and
a stale feed. Each refusal is one plain sentence naming what was found and what is needed.
Nothing here reads the clock: the review's ``as_of`` is passed in."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

#: A feed is stale when its newest tick is older than this at the review's as_of (dbt var
#: ``max_feed_age_minutes``, passed from here; the data test assert_feed_not_stale judges the
#: same): ticks run every 5 minutes, so 60 is about a dozen missed ticks, long enough to rule
#: out a blip.
MAX_FEED_AGE_MINUTES = 60


class WarehouseError(RuntimeError):
    """A snapshot or dbt build that failed; the message says which step and why."""


def check_origin(con: duckdb.DuckDBPyConnection, db: Path, warehouse: Path) -> None:
    """Refuse ``db`` when the warehouse holds events its log does not: the warehouse was built
    from another database (two databases in one folder, a path reused), and mixing the two
    would count neither. The oldest and newest events copied are probed in ``db``'s log by id
    and ``recorded_at`` (the log is in recorded order, so DuckDB's zone maps skip the rest)."""
    has_raw = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'raw' AND table_name = 'sla_events'"
    ).fetchall()[0][0]
    if not has_raw:
        return
    probes = con.execute(
        "(SELECT event_id, recorded_at FROM raw.sla_events ORDER BY recorded_at, event_id LIMIT 1)"
        " UNION ALL "
        "(SELECT event_id, recorded_at FROM raw.sla_events "
        "ORDER BY recorded_at DESC, event_id DESC LIMIT 1)"
    ).fetchall()
    missing = [
        p
        for p in probes
        if not con.execute(
            "SELECT count(*) FROM src.sla_events WHERE event_id = ? AND recorded_at = ?", list(p)
        ).fetchall()[0][0]
    ]
    if not missing:
        return
    origin = con.execute(
        "SELECT max(database) FROM raw.origin"
        if con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'raw' AND table_name = 'origin'"
        ).fetchall()[0][0]
        else "SELECT 'another database'"
    ).fetchall()[0][0]
    raise WarehouseError(
        f"the warehouse {warehouse} was built from {origin}, not from {db.absolute()} (its "
        f"events are not in that log): give each database its own folder, or delete "
        f"{warehouse.parent} to rebuild it from {db.absolute()}"
    )


def _when(t: datetime, zone: str) -> str:
    """``2026-11-23 23:00 Asia/Kolkata (17:30 UTC)``: the org's time, then UTC."""
    local = t.astimezone(ZoneInfo(zone))
    utc = t.astimezone(ZoneInfo("UTC"))
    return f"{local:%Y-%m-%d %H:%M} {zone} ({utc:%H:%M} UTC)"


def check_feed_fresh(warehouse: Path, variables: dict[str, Any]) -> None:
    """Refuse a review whose feed is stale at its ``as_of``: the newest tick at or before it is
    older than ``max_feed_age_minutes`` (or there is none). Reads the snapshot's tick log."""
    as_of = datetime.fromisoformat(str(variables["as_of"]))
    zone = str(variables["org_timezone"])
    max_age = int(variables.get("max_feed_age_minutes", MAX_FEED_AGE_MINUTES))
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        newest = con.execute(
            "SELECT max(now) FROM raw.tick_log WHERE now <= ?", [as_of]
        ).fetchall()[0][0]
    finally:
        con.close()
    needed = as_of - timedelta(minutes=max_age)
    if newest is not None and newest >= needed:
        return
    last = "there is no tick" if newest is None else f"the last tick was at {_when(newest, zone)}"
    raise WarehouseError(
        f"the feed is stale: {last}, and the review as of {_when(as_of, zone)} needs a tick at "
        f"or after {_when(needed, zone)} ({max_age} minutes before it); tick up to then "
        "(`leadsla tick`, or `leadsla replay` over the exports) and run the review again"
    )
