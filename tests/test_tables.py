"""Temp tables on a long-lived connection: rule and calendar tables are kept across ticks (marked
where they are created), everything else a tick built is dropped."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from leadsla.engine.rule_tables import register_rules
from leadsla.engine.temp_tables import drop_work_tables, register_table
from leadsla.store import DuckDBStore

from .engine_db import calendars, ist, lead, shipped_rules

NOW = ist(2026, 11, 30, 12)


def _temp(store: DuckDBStore) -> set[str]:
    got = store.con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return {name for (name,) in got}


def test_kept_tables_survive_the_tick_and_work_does_not(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "t.duckdb")
    try:
        con = store.con
        register_rules(con, shipped_rules())
        lead(con, "L", NOW - timedelta(days=3), policy_id="high_first_response")
        calendars(con, NOW)
        kept = _temp(store)
        # the rule tables, the calendar tables and their range indexes
        assert {"policies", "policy_steps", "members", "intent_rules", "route_rules"} <= kept
        assert {"cal_range", "cal_intervals", "cal_days", "policy_anchor"} <= kept
        assert {"cal_at", "cal_pos", "day_pos", "anchor_at"} <= kept
        register_table(con, "tick_rows", pa.table({"x": [1]}), work=True)
        con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
        con.execute("CREATE TEMP VIEW scratch_view AS SELECT 1 AS x")
        # a kept table rebuilt by CREATE OR REPLACE is marked again by its builder
        register_table(con, "members", pa.table({"member_id": ["m"]}))
        drop_work_tables(con)
        assert _temp(store) == kept
        assert con.execute(
            "SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal"
        ).fetchall() == [(0,)]
    finally:
        store.close()
