"""The review's shadow section: while shadow rules run (``leadsla tick --shadow-rules``), ops
see where the candidate's steps differ from the live ones, from ``rpt_shadow_comparison``.

Like the rest of the report it selects and orders mart rows and adds nothing up; with no
shadow (the mart empty for the week), the section is left out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

#: The days up to the report's day that the section covers.
DAYS = 7


def shadow_comparison(con: duckdb.DuckDBPyConnection, report_date: date) -> list[dict[str, Any]]:
    """The mart's rows of the week up to ``report_date`` (none when no shadow ran in it, or
    when the published marts predate the mart)."""
    present = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
        "AND table_name = 'rpt_shadow_comparison'"
    ).fetchall()[0][0]
    if not present:
        return []
    cur = con.execute(
        "SELECT step_date, policy_id, step_type, live_steps, shadow_steps, difference "
        "FROM marts.rpt_shadow_comparison WHERE step_date BETWEEN ? - ? AND ? "
        "ORDER BY step_date DESC, abs(difference) DESC, policy_id, step_type",
        [report_date, DAYS - 1, report_date],
    )
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def shadow_tables(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The section as one of the report's tables: the rows whose counts differ (the table
    says "None." when the shadow agrees everywhere); nothing while no shadow runs."""
    if not rows:
        return []
    return [
        {
            "title": f"Shadow rules against the live ones, last {DAYS} days (steps that differ)",
            "header": ["day", "policy", "step", "live", "shadow", "difference"],
            "rows": [
                [r["step_date"].isoformat(), r["policy_id"], r["step_type"], r["live_steps"],
                 r["shadow_steps"], f"{r['difference']:+d}"]
                for r in rows
                if r["difference"]
            ],
        }
    ]  # fmt: skip
