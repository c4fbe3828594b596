"""What a report shows, read from the published marts only.

Every number in a report is a value selected from a mart (``rpt_daily_review`` for the
headline, the other marts for charts and tables): this module filters and orders, it does no
arithmetic, so a figure in an email can always be traced to one row of one mart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from leadsla.report.shadow import shadow_comparison

#: The team value of the whole-org rows in rpt_daily_review.
ALL = "all"

HEADLINE_COLUMNS = (
    "leads_in",
    "sla_met",
    "sla_missed",
    "sla_met_pct",
    "escalations",
    "issue_escalations",
    "recovered",
    "reassigned",
    "waiting_at_day_end",
    "median_business_minutes_to_respond",
    "qualified",
    "booked",
    "issues_resolved",
    "median_minutes_to_resolve_issue",
    "repeated_issue_patterns",
)

#: The columns of the CSV attachment (the rows behind the report), from fct_lead_sla.
CSV_COLUMNS = (
    "lead_id",
    "team_id",
    "owner_id",
    "intent",
    "policy_id",
    "lead_source",
    "service_interest",
    "created_at",
    "due_at",
    "first_response_at",
    "business_minutes_to_respond",
    "sla_status",
    "was_reminded",
    "was_escalated",
    "was_reassigned",
    "was_recovered",
    "outcome",
    "export_lag_minutes",
    "fired_only_because_of_feed_lag",
    "record_url",
)


@dataclass
class ReportData:
    """One recipient's slice of the marts for one day. ``team`` None is management."""

    report_date: date
    team: str | None
    headline: dict[str, Any]
    response_minutes: list[tuple[str, float]] = field(default_factory=list)
    windows: list[tuple[str, float]] = field(default_factory=list)
    missed_by_source: list[tuple[str, int]] = field(default_factory=list)
    escalations_by_level: list[tuple[date, str, int]] = field(default_factory=list)
    #: issue escalations of the report day per level (0: the feed gave none), for the headline
    issue_levels: list[tuple[int, int]] = field(default_factory=list)
    #: issue escalations of the report day per team (team, L1, L2, L3, total), busiest first
    issue_teams: list[dict[str, Any]] = field(default_factory=list)
    #: rows before the cut of each cut list (owners, missed, waiting): "10 of 17 shown"
    totals: dict[str, int] = field(default_factory=dict)
    overdue_owners: list[dict[str, Any]] = field(default_factory=list)
    missed_leads: list[dict[str, Any]] = field(default_factory=list)
    waiting_leads: list[dict[str, Any]] = field(default_factory=list)
    held_back: list[dict[str, Any]] = field(default_factory=list)
    sop_mistakes: list[dict[str, Any]] = field(default_factory=list)
    csv_rows: list[tuple[Any, ...]] = field(default_factory=list)
    shadow: list[dict[str, Any]] = field(default_factory=list)  # leadsla.report.shadow


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    rows = cur.fetchall()
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, r, strict=True)) for r in rows]


def load(
    con: duckdb.DuckDBPyConnection, report_date: date, team: str | None, *, top: int = 10
) -> ReportData:
    """Read one report's data from the marts in ``con`` (the published warehouse copy)."""
    scope = team or ALL
    # team None (management) sees every team: "team_id = ? OR ? IS NULL" keeps one query each
    t = [team, team]
    head = _dicts(
        con,
        f"SELECT {', '.join(HEADLINE_COLUMNS)} FROM marts.rpt_daily_review "
        "WHERE review_date = ? AND team_id = ?",
        [report_date, scope],
    )
    empty: dict[str, Any] = dict.fromkeys(HEADLINE_COLUMNS, 0)
    data = ReportData(report_date=report_date, team=team, headline=head[0] if head else empty)
    data.response_minutes = [
        (str(r[0]), float(r[1]))
        for r in con.execute(
            "SELECT intent, business_minutes_to_respond FROM marts.fct_lead_sla "
            "WHERE business_minutes_to_respond IS NOT NULL "
            "AND created_date BETWEEN ? - 6 AND ? AND (team_id = ? OR ? IS NULL)",
            [report_date, report_date, *t],
        ).fetchall()
    ]
    data.windows = [
        (str(r[0]), float(r[1]))
        for r in con.execute(
            "SELECT DISTINCT policy_id, window_business_minutes FROM marts.rpt_sla_realism "
            "WHERE window_business_minutes IS NOT NULL ORDER BY 2"
        ).fetchall()
    ]
    data.missed_by_source = [
        (str(r[0]), int(r[1]))
        for r in con.execute(
            "SELECT lead_source, missed FROM marts.rpt_missed_sla_by_source "
            "WHERE team_id = ? AND missed > 0 ORDER BY missed DESC, lead_source",
            [scope],
        ).fetchall()
    ]
    data.escalations_by_level = [
        (r[0], str(r[1]), int(r[2]))
        for r in con.execute(
            "SELECT escalated_date, escalation_kind || ' L' || level, escalations "
            "FROM marts.rpt_escalations_by_level_daily "
            "WHERE escalated_date BETWEEN ? - 13 AND ? AND team_id = ? ORDER BY 1, 2",
            [report_date, report_date, scope],
        ).fetchall()
    ]
    data.issue_levels = [
        (int(r[0]), int(r[1]))
        for r in con.execute(
            "SELECT level, escalations FROM marts.rpt_escalations_by_level_daily "
            "WHERE escalated_date = ? AND team_id = ? AND escalation_kind = 'issue' ORDER BY 1",
            [report_date, scope],
        ).fetchall()
    ]
    data.issue_teams = _dicts(
        con,
        "SELECT team_id, sum(escalations) FILTER (level = 1) AS l1, "
        "sum(escalations) FILTER (level = 2) AS l2, sum(escalations) FILTER (level = 3) AS l3, "
        "sum(escalations) AS escalations, count(*) OVER () AS total "
        "FROM marts.rpt_escalations_by_level_daily WHERE escalated_date = ? "
        "AND escalation_kind = 'issue' AND team_id <> ? AND (team_id = ? OR ? IS NULL) "
        "GROUP BY team_id ORDER BY escalations DESC, team_id LIMIT ?",
        [report_date, ALL, *t, top],
    )
    _cut_lists(con, data, [*t, top])
    data.held_back = _dicts(
        con,
        "SELECT held_back_kind, count(*) AS items FROM marts.rpt_held_back "
        "WHERE held_back_date = ? AND (team_id = ? OR ? IS NULL) GROUP BY 1 ORDER BY 1",
        [report_date, *t],
    )
    data.sop_mistakes = _dicts(
        con,
        "SELECT mistake, count(*) AS items FROM marts.rpt_sop_mistakes "
        "WHERE occurred_date = ? AND (team_id = ? OR ? IS NULL) GROUP BY 1 ORDER BY 1",
        [report_date, *t],
    )
    data.csv_rows = con.execute(
        f"SELECT {', '.join(CSV_COLUMNS)} FROM marts.fct_lead_sla "
        "WHERE (created_date = ? OR due_date = ?) AND (team_id = ? OR ? IS NULL) "
        "ORDER BY created_at, lead_id",
        [report_date, report_date, *t],
    ).fetchall()
    if team is None:  # ops read the management report: the shadow section goes there
        data.shadow = shadow_comparison(con, report_date)
    return data


def _cut_lists(con: duckdb.DuckDBPyConnection, data: ReportData, scoped: list[Any]) -> None:
    """The lists cut to the worst ``top`` (``scoped`` is team, team, top), each with its length
    before the cut in ``data.totals`` (count(*) over the filtered rows), so a report can say
    "10 of 17 shown"."""
    data.overdue_owners = _dicts(
        con,
        "SELECT owner_id, team_id, overdue_leads, oldest_due_at, "
        "round(max_minutes_waiting) AS max_minutes_waiting, count(*) OVER () AS total "
        "FROM marts.rpt_owners_overdue "
        "WHERE team_id = ? OR ? IS NULL ORDER BY overdue_leads DESC, owner_id LIMIT ?",
        scoped,
    )
    data.missed_leads = _dicts(
        con,
        "SELECT lead_id, team_id, owner_id, intent, lead_source, due_at, first_response_at, "
        "escalation_count, record_url, count(*) OVER () AS total FROM marts.fct_lead_sla "
        "WHERE due_date = ? AND is_missed AND (team_id = ? OR ? IS NULL) "
        "ORDER BY due_at, lead_id LIMIT ?",
        [data.report_date, *scoped],
    )
    data.waiting_leads = _dicts(
        con,
        "SELECT lead_id, team_id, owner_id, intent, created_at, due_at, is_overdue, "
        "round(minutes_waiting) AS minutes_waiting, record_url, count(*) OVER () AS total "
        "FROM marts.rpt_waiting_for_first_response WHERE team_id = ? OR ? IS NULL "
        "ORDER BY is_overdue DESC, minutes_waiting DESC, lead_id LIMIT ?",
        scoped,
    )
    data.totals = {
        name: int(rows[0]["total"]) if rows else 0
        for name, rows in (("overdue_owners", data.overdue_owners),
                           ("missed_leads", data.missed_leads),
                           ("waiting_leads", data.waiting_leads),
                           ("issue_teams", data.issue_teams))
    }  # fmt: skip


def teams(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Teams that appear in the daily review (every team with leads or issues)."""
    return [
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT team_id FROM marts.rpt_daily_review WHERE team_id <> ? ORDER BY 1",
            [ALL],
        ).fetchall()
    ]
