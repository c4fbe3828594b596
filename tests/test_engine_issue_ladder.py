"""Step ``issue_ladder`` alone, on a handful of routed issues: which levels fire, when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadsla.engine.calendar_range import cover_calendars as prepare
from leadsla.engine.issue_ladder import climb
from leadsla.engine.rule_tables import register_rules
from leadsla.events import content_id
from leadsla.rules import RuleSet, load_rules

from ._stepdb import rows, step_db

REPO = Path(__file__).resolve().parent.parent
IST = timezone(timedelta(hours=5, minutes=30))


def at(hhmm: str) -> datetime:
    """Monday 23 November 2026, Kolkata office time (business hours)."""
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 11, 23, h, m, tzinfo=IST).astimezone(UTC)


def _issue(con: duckdb.DuckDBPyConnection, issue_id: str, **over: Any) -> None:
    """A valid, routed 'technical' issue (SLA class immediate: 30 business minutes) raised at
    10:00; ``over`` changes any column."""
    row: dict[str, Any] = {
        "issue_id": issue_id, "lead_id": "L1", "raised_at": at("10:00"), "raised_by": "rahul",
        "issue_type": "technical", "city": "Mumbai", "device": "Samsung A15",
        "verdict": "valid", "valid_from": at("10:00"), "teams": ["tech", "cx"],
        "calendar_id": "kolkata_office", "sla_class": "immediate", "intent": "high",
        "high_value": False, "climbs": True, "first_seen_at": at("10:00"),
        "last_export_at": at("10:00"), **over,
    }  # fmt: skip
    names = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    con.execute(f"INSERT INTO issue_state ({names}) VALUES ({marks})", list(row.values()))


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules(REPO / "sla_rules")


def _ladder(rules: RuleSet, now: datetime, **over: Any) -> list[tuple[int, str, str]]:
    con = step_db()
    register_rules(con, rules)
    _issue(con, "I1", **over)
    prepare(con, rules, now)
    climb(con, rules, now)
    return [
        (r["level"], r["target"], r["occurred_at"].astimezone(IST).strftime("%H:%M"))
        for r in rows(
            con,
            "SELECT level, target, occurred_at FROM sla_events "
            "WHERE event_type = 'issue_escalated' ORDER BY level",
        )
    ]


CASES = [
    # (now, changes to the issue, expected (level, target, threshold) of each escalation)
    ("10:05", {}, [(1, "tech+cx", "10:00")]),  # level 1 at the raise
    ("12:00", {}, [(1, "tech+cx", "10:00"), (2, "ankit+maya", "10:30"),
                   (3, "management", "11:30")]),  # 30 then 60 business minutes
    ("12:00", {"climbs": False}, [(1, "tech+cx", "10:00")]),  # only level 1 may fire
    ("12:00", {"responded_seen_at": at("10:20")}, [(1, "tech+cx", "10:00")]),  # answered
    ("10:05", {"direct_reason": "cx_risk"},
     [(1, "tech+cx", "10:00"), (3, "management", "10:00")]),  # straight to management
]  # fmt: skip


@pytest.mark.parametrize(("now", "over", "expected"), CASES)
def test_levels_fire_as_of_their_thresholds(
    rules: RuleSet, now: str, over: dict[str, Any], expected: list[tuple[int, str, str]]
) -> None:
    assert _ladder(rules, at(now), **over) == expected


def test_a_second_climb_at_the_same_now_adds_nothing(rules: RuleSet) -> None:
    con = step_db()
    register_rules(con, rules)
    _issue(con, "I1")
    prepare(con, rules, at("12:00"))
    assert climb(con, rules, at("12:00")) == 3
    assert climb(con, rules, at("12:00")) == 0
    ids = [r["event_id"] for r in rows(con, "SELECT event_id FROM sla_events ORDER BY level")]
    assert ids == [content_id("I1", "issue_escalated", str(n)) for n in (1, 2, 3)]
    state = rows(con, "SELECT max_level, next_at FROM issue_state")[0]
    assert state["max_level"] == 3
