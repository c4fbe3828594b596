"""The assign step on its own: queue teams, kept CRM owners, routing, and round robin over the
available members of the team with spare capacity, continuing the team's rotation."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.engine.assign import assign

from .engine_db import content_id, engine_db, insert, ist, lead, rows, shipped_rules

NOW = ist(2026, 11, 30, 11)
T0 = ist(2026, 11, 30, 10)
# the inbound team in org.yaml order; neha is not available
INBOUND = ["vikram", "priya", "rahul", "sneha", "amit"]


def _new(con: duckdb.DuckDBPyConnection, lead_id: str, minute: int, **cols: Any) -> None:
    at = T0 + timedelta(minutes=minute)
    lead(con, lead_id, at, intent="high", policy_id="high_first_response",
         service_interest="seo", **cols)  # fmt: skip


def test_round_robin_in_arrival_order_from_the_teams_rotation(tmp_path: Path) -> None:
    with engine_db(tmp_path) as con:
        insert(con, "rr_state", team="inbound", assigned=7)  # 7 % 5: the rotation is at rahul
        for k in range(6):
            _new(con, f"L{k}", 6 - k)  # L5 arrived first
        assert assign(con, shipped_rules(), NOW) == 6
        got = rows(con, "SELECT lead_id, owner, team, owner_origin FROM lead_state ORDER BY "
                        "first_seen_at")  # fmt: skip
        order = ["rahul", "sneha", "amit", "vikram", "priya", "rahul"]
        assert got == [(f"L{5 - k}", o, "inbound", "routing") for k, o in enumerate(order)]
        assert rows(con, "SELECT assigned FROM rr_state WHERE team = 'inbound'") == [(13,)]
        events = rows(con, "SELECT event_id, lead_id, target, rule_id FROM sla_events ORDER BY 2")
        assert events == [
            (content_id(lid, "lead_assigned"), lid, owner, "default_team")
            for lid, owner in sorted((f"L{5 - k}", o) for k, o in enumerate(order))
        ]


def test_capacity_skips_a_full_member(tmp_path: Path) -> None:
    with engine_db(tmp_path) as con:
        # vikram's capacity is 20: twenty open, unanswered leads fill it
        for k in range(20):
            lead(con, f"open{k}", T0 - timedelta(days=1), owner="vikram", intent="high")
        _new(con, "A", 1)
        _new(con, "B", 2)
        assign(con, shipped_rules(), NOW)
        got = rows(con, "SELECT lead_id, owner FROM lead_state WHERE lead_id IN ('A', 'B') "
                        "ORDER BY 1")  # fmt: skip
        assert got == [("A", "priya"), ("B", "rahul")]


def test_queue_team_crm_owner_and_routing_rules(tmp_path: Path) -> None:
    with engine_db(tmp_path) as con:
        # a CRM owner who is a member is kept, in the member's team
        _new(con, "kept", 1, crm_owner="divya")
        insert(con, "lead_history", lead_id="kept", valid_from=T0, crm_owner="divya")
        # a shared inbox is no owner: routed (implementation -> solutions)
        lead(con, "inbox", T0, intent="high", policy_id="high_first_response",
             service_interest="implementation", crm_owner="Sales Inbox")  # fmt: skip
        # a queue team named by the intent rule wins over routing
        lead(con, "queue", T0, intent="low", policy_id="support_handoff", team="support",
             service_interest="implementation")  # fmt: skip
        # closed before it was first seen: never assigned
        _new(con, "closed", 2, closed_seen_at=T0 + timedelta(minutes=2))
        assert assign(con, shipped_rules(), NOW) == 3
        got = rows(con, "SELECT lead_id, owner, team, owner_origin FROM lead_state "
                        "WHERE lead_id <> 'closed' ORDER BY 1")  # fmt: skip
        assert got == [
            ("inbox", "arjun", "solutions", "routing"),
            ("kept", "divya", "solutions", "crm"),
            ("queue", "meera", "support", "routing"),
        ]
        why = rows(con, "SELECT lead_id, rule_id FROM sla_events ORDER BY 1")
        assert why == [
            ("inbox", "route:implementation_to_solutions"),
            ("kept", "crm_owner"),
            ("queue", "queue:support"),
        ]
        assert rows(con, "SELECT owner FROM lead_state WHERE lead_id = 'closed'") == [(None,)]


CAPACITY = {"vikram": 20, "priya": 30, "rahul": 60, "sneha": 60, "amit": 60}


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_leads=st.integers(1, 10),
    assigned=st.integers(0, 50),
    spare=st.fixed_dictionaries({m: st.integers(0, 3) for m in INBOUND}),
)
def test_round_robin_is_the_kth_slot_of_the_rotation(
    n_leads: int, assigned: int, spare: dict[str, int]
) -> None:
    """For any rotation and spare capacities, the k-th lead to arrive takes the k-th slot: each
    eligible member (available, spare capacity) once per round, in org order rotated by the
    team's count of past assignments; leads beyond the slots get no owner (``no eligible
    owner``), and nobody goes past capacity."""
    eligible = [m for m in INBOUND if spare[m] > 0]
    turn = assigned % len(eligible) if eligible else 0
    slots = sorted(
        (rnd, (idx - turn) % len(eligible), m)
        for idx, m in enumerate(eligible)
        for rnd in range(spare[m])
    )
    expected = [slots[k][2] if k < len(slots) else None for k in range(n_leads)]
    with tempfile.TemporaryDirectory() as tmp, engine_db(Path(tmp)) as con:
        insert(con, "rr_state", team="inbound", assigned=assigned)
        con.executemany(
            "INSERT INTO lead_state (lead_id, created_at, first_seen_at, last_export_at, owner)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (f"{m}-open{k}", T0, T0, T0, m)
                for m in INBOUND
                for k in range(CAPACITY[m] - spare[m])
            ],
        )
        for k in range(n_leads):
            _new(con, f"new{k:02d}", k)
        assign(con, shipped_rules(), NOW)
        got = rows(con, "SELECT owner, needs_review FROM lead_state WHERE lead_id LIKE 'new%'"
                        " ORDER BY first_seen_at")  # fmt: skip
        assert [o for o, _ in got] == expected
        assert all((why == "no eligible owner") == (o is None) for o, why in got)
        load = dict(rows(con, "SELECT owner, count(*) FROM lead_state GROUP BY owner"))
        assert all(load.get(m, 0) <= CAPACITY[m] for m in INBOUND)
