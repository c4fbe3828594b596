"""The demo week: its dates, seed and the one helper its generated records share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
#: The demo week: Monday 16 to Sunday 22 November 2026, office time.
WEEK_START = datetime(2026, 11, 16, 0, 0, tzinfo=IST)
WEEK_END = WEEK_START + timedelta(days=7)
SEED = 20261116
#: The day the demo's review report covers: the week's last business day.
DEMO_REPORT_DAY = (WEEK_START + timedelta(days=4)).date()


def state_at(
    base: dict[str, Any],
    start: datetime,
    timeline: list[tuple[datetime, dict[str, Any]]],
    t: datetime,
    stamp: str,
) -> dict[str, Any] | None:
    """A generated record as an export at ``t`` shows it: its base values plus every change
    up to ``t``, with ``stamp`` set to the time of the last one (None before ``start``)."""
    if start > t:
        return None
    state = dict(base)
    state[stamp] = start
    for when, changes in timeline:
        if when > t:
            break
        state.update(changes)
        state[stamp] = when
    return state


def stamp(t: datetime) -> str:
    """A file name's export stamp: ``20261116T053000Z``."""
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
