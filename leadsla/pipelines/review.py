"""The review pipelines, composed once: build the marts (snapshot, dbt build, publish), then
the daily review (render per recipient, write, send) or the weekly patterns.

As for the tick, the sequence takes its steps as a hook (:class:`MartSteps`): ``leadsla
report`` and ``leadsla patterns`` run them in process (:class:`InProcess`, dbt through
``warehouse.build``), the ``daily_review`` and ``weekly_patterns`` flows pass their tasks (dbt
through prefect-dbt, so every model is a task in the UI). ``now`` is always passed in: the
report day and dbt's ``as_of`` derive from it here, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from leadsla import warehouse
from leadsla.progress import Report, silent
from leadsla.report.run import ReportRun, org_zone, published_rows, render_all, send_all
from leadsla.rules import RuleSet
from leadsla.smtp import SmtpSettings
from leadsla.warehouse_guards import check_feed_fresh

#: The stem of the default database (``leadsla.duckdb``), whose warehouse folder is plain
#: ``warehouse/``.
DEFAULT_DB_STEM = "leadsla"


@dataclass
class Paths:
    """Where the review keeps its files, all derived from the tick's database path."""

    warehouse: Path
    published: Path

    @classmethod
    def beside(cls, db: Path) -> Paths:
        """Absolute paths beside the tick's file, one warehouse and one published copy per
        database: ``x.duckdb`` builds in ``warehouse_x/`` and publishes ``x_marts.duckdb``, so two
        databases in one folder never share a warehouse. The default ``leadsla.duckdb`` keeps
        ``warehouse/`` (where every release so far built it) and ``leadsla_marts.duckdb``.

        Absolute because dbt resolves relative paths against its own project folder, which
        would put a relative ``db``'s warehouse inside the package."""
        db = Path(db).absolute()
        folder = "warehouse" if db.stem == DEFAULT_DB_STEM else f"warehouse_{db.stem}"
        return cls(
            warehouse=db.parent / folder / "warehouse.duckdb",
            # not marts.duckdb: that catalog name would shadow the schema marts in queries
            published=db.parent / f"{db.stem}_marts.duckdb",
        )


@dataclass(frozen=True)
class MartsBuild:
    """One build of the marts: the day it is for, dbt's vars, and where the files go."""

    day: date
    variables: dict[str, Any]
    paths: Paths


def day_as_of(report_date: date, zone: str, now: datetime) -> datetime:
    """The logical now of a report on ``report_date``: the end of that day in the org's zone,
    or ``now`` if the day is not over yet."""
    end = datetime.combine(report_date + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return min(end.astimezone(UTC), now.astimezone(UTC))


def marts_vars(rules: RuleSet, as_of: datetime) -> dict[str, Any]:
    """The dbt vars of a review build, from the rules (zone, policy windows) and as_of."""
    return warehouse.dbt_vars(
        as_of=as_of,
        org_timezone=org_zone(rules),
        policy_windows={pid: p.deadline.within_minutes for pid, p in rules.policies.items()},
    )


def yesterday(rules: RuleSet, now: datetime) -> date:
    """The day before ``now``'s, in the org's zone: what a scheduled review looks back on."""
    return now.astimezone(ZoneInfo(org_zone(rules))).date() - timedelta(days=1)


def daily_build(rules: RuleSet, db: Path, now: datetime, day: date | None = None) -> MartsBuild:
    """The daily review's build: ``day`` (default yesterday) as of the end of that day."""
    day = day or yesterday(rules, now)
    return MartsBuild(
        day, marts_vars(rules, day_as_of(day, org_zone(rules), now)), Paths.beside(db)
    )


def weekly_build(rules: RuleSet, db: Path, now: datetime) -> MartsBuild:
    """The weekly patterns' build: as of ``now``, named after yesterday."""
    return MartsBuild(yesterday(rules, now), marts_vars(rules, now), Paths.beside(db))


class MartSteps(Protocol):
    """Where each step of a marts build runs. ``build`` raises when a model or test failed."""

    def snapshot(self, db: Path, warehouse_path: Path) -> dict[str, int]: ...

    def build(self, warehouse_path: Path, variables: dict[str, Any]) -> None: ...

    def publish(self, warehouse_path: Path, published: Path) -> Path: ...


def build_marts(steps: MartSteps, db: Path, plan: MartsBuild) -> Path:
    """Snapshot the tick's tables, build and test with dbt, publish when everything passed;
    returns the published file. A failing test (a stale feed, a broken contract) raises: a
    report over a stale feed would tell managers a quiet day when the pipeline is stalled."""
    steps.snapshot(db, plan.paths.warehouse)
    # the data test assert_feed_not_stale judges the same; this says it in one sentence first
    check_feed_fresh(plan.paths.warehouse, plan.variables)
    steps.build(plan.paths.warehouse, plan.variables)
    return steps.publish(plan.paths.warehouse, plan.paths.published)


@dataclass
class InProcess:
    """The marts steps in this process (the CLI's), dbt through ``warehouse.build``."""

    retry_for_s: float = 300.0
    progress: Report = silent

    def snapshot(self, db: Path, warehouse_path: Path) -> dict[str, int]:
        self.progress("building the marts (snapshot, dbt build, publish)", 0, None)
        return warehouse.snapshot(db, warehouse_path, retry_for_s=self.retry_for_s)

    def build(self, warehouse_path: Path, variables: dict[str, Any]) -> None:
        result = warehouse.build(warehouse_path, variables)
        if not result.ok:
            raise warehouse.WarehouseError(
                "dbt build failed; the report was not produced:\n  " + "\n  ".join(result.failures)
            )

    def publish(self, warehouse_path: Path, published: Path) -> Path:
        return warehouse.publish(warehouse_path, published)


def write_and_send(
    published: Path,
    day: date,
    rules: RuleSet,
    out: Path,
    smtp: SmtpSettings | None,
    progress: Report = silent,
) -> ReportRun:
    """Render every recipient's review of ``day`` from the published marts into
    ``out/<date>/``, and email each when ``smtp`` is given (None: the files are the review)."""
    progress(f"rendering the review of {day}", 0, None)
    rendered, files, headline = render_all(published, day, rules, out)
    run = ReportRun(day, out / day.isoformat(), published, files)
    run.headline = headline
    if smtp is not None:
        progress("emailing the reports", 0, len(rendered))
        run.sent = send_all(rendered, smtp)
    return run


def run_report(
    *,
    db: Path,
    rules: RuleSet,
    out: Path,
    plan: MartsBuild,
    smtp: SmtpSettings | None = None,
    steps: MartSteps | None = None,
    progress: Report = silent,
) -> ReportRun:
    """The whole daily review of ``plan.day``: build the marts, then write and send."""
    published = build_marts(steps or InProcess(progress=progress), db, plan)
    return write_and_send(published, plan.day, rules, out, smtp, progress)


def daily_review_rows(published: Path, day: date) -> list[dict[str, Any]]:
    """``rpt_daily_review`` of ``day``, the org-wide row first (the flow's table artifact)."""
    return published_rows(
        published,
        "SELECT team_id, leads_in, sla_met, sla_missed, sla_met_pct, escalations, "
        "issue_escalations, recovered, waiting_at_day_end, qualified, booked, "
        "median_minutes_to_resolve_issue, repeated_issue_patterns "
        "FROM marts.rpt_daily_review WHERE review_date = ? ORDER BY team_id = 'all' DESC, 1",
        [day],
    )
