"""The ``daily_review`` and ``weekly_patterns`` flows: build the marts, report, send.

Both are ``leadsla.pipelines.review`` (the sequence ``leadsla report`` and ``leadsla patterns``
run too) with its steps as tasks; this module adds only the tasks and the artifacts.

Why it looks like this:

- **The flow is the clock edge.** ``now`` is read here once (unless passed) and the report day
  and dbt's ``as_of`` derive from it; below, nothing reads the clock.
- **dbt runs through prefect-dbt's PrefectDbtRunner**, so every model and test is a task in the
  UI and a failing test (a stale feed, a broken contract) fails the run before anything is sent.
- **No lock fights** (docs/analysts.md): the snapshot attaches the tick's database read-only for
  a fraction of a second, retrying while a tick holds it; dbt builds in the review's own
  warehouse file; analysts read a published copy that is replaced by atomic rename. The tick's
  own I/O retries cover the moment the snapshot reads.
- **Only paths and plain values cross task boundaries** (PrefectHQ/prefect #16042, #16557).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

from flows.blocks import load_email_block
from leadsla import warehouse
from leadsla.pipelines.review import (
    MartsBuild,
    build_marts,
    daily_build,
    daily_review_rows,
    weekly_build,
    write_and_send,
)
from leadsla.report.patterns import read_patterns, write_patterns
from leadsla.rules import RuleSet, load_rules
from leadsla.settings import load_settings


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[10, 30])
def snapshot(db: str, warehouse_path: str) -> dict[str, int]:
    """Copy the tick's tables (waits out a tick holding the file; retried on other I/O)."""
    return warehouse.snapshot(Path(db), Path(warehouse_path))


def run_dbt(warehouse_path: str, variables: dict[str, Any], command: str = "build") -> None:
    """``dbt build`` through PrefectDbtRunner: one Prefect task per dbt node; raises on any
    failed model or test. Models and data tests: ``warehouse.dbt_args`` leaves the unit tests
    to development and CI, as for every review build."""
    wh = Path(warehouse_path)
    os.environ["LEADSLA_WAREHOUSE"] = str(wh)
    settings = PrefectDbtSettings(
        project_dir=warehouse.DBT_PROJECT, profiles_dir=warehouse.DBT_PROJECT
    )
    runner = PrefectDbtRunner(settings=settings, raise_on_failure=True)
    try:
        runner.invoke(warehouse.dbt_args(command, wh, variables))
    finally:
        warehouse.release_dbt_connection()


@task(cache_policy=NO_CACHE)
def publish(warehouse_path: str, published: str) -> str:
    return str(warehouse.publish(Path(warehouse_path), Path(published)))


class TaskSteps:
    """The marts steps as this module's tasks (the ``MartSteps`` hook of ``build_marts``)."""

    def snapshot(self, db: Path, warehouse_path: Path) -> dict[str, int]:
        copied = snapshot(str(db), str(warehouse_path))
        get_run_logger().info("snapshot copied %s", copied)
        return copied

    def build(self, warehouse_path: Path, variables: dict[str, Any]) -> None:
        run_dbt(str(warehouse_path), variables)

    def publish(self, warehouse_path: Path, published: Path) -> Path:
        return Path(publish(str(warehouse_path), str(published)))


@task(cache_policy=NO_CACHE)
def render_and_send(
    published: str, report_date: date, rules_dir: str, out: str, email_block: str | None
) -> dict[str, Any]:
    smtp = load_email_block(email_block, get_run_logger())  # missing: the files are the review
    run = write_and_send(Path(published), report_date, load_rules(rules_dir), Path(out), smtp)
    return {
        "files": {k: [str(p) for p in v] for k, v in run.files.items()},
        "sent": run.sent,
        "headline": run.headline,
    }


def _resolve(
    now: datetime | None, rules_dir: str | None, db: str | None
) -> tuple[datetime, str, RuleSet, Path]:
    """The clock edge and the settings (parameter, then ``LEADSLA_*``, then leadsla.toml)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)  # clock-edge
    settings = load_settings(rules=rules_dir, db=db)
    return now, settings.rules, load_rules(settings.rules), Path(settings.db)


@flow(name="daily-review")
def daily_review(
    report_date: date | None = None,
    now: datetime | None = None,
    rules_dir: str | None = None,
    db: str | None = None,
    out: str = "reports",
    email_block: str | None = None,
) -> dict[str, Any]:
    """Build the marts, render one report per manager (management gets all), email them via
    the named prefect-email block (none: files only), and leave artifacts."""
    now, rules_dir, rules, db_path = _resolve(now, rules_dir, db)
    plan: MartsBuild = daily_build(rules, db_path, now, report_date)
    day = plan.day
    published = str(build_marts(TaskSteps(), db_path, plan))
    result = render_and_send(published, day, rules_dir, out, email_block)
    create_table_artifact(
        key="daily-review",
        table=daily_review_rows(Path(published), day),
        description=f"Daily review {day} (rpt_daily_review)",
    )
    h = result["headline"]
    files = "\n".join(f"- {k}: {', '.join(v)}" for k, v in result["files"].items())
    create_markdown_artifact(
        key="daily-review-summary",
        markdown=(
            f"# Daily review {day}\n\n"
            f"leads in **{h.get('leads_in')}**, SLA met **{h.get('sla_met_pct')}%**, "
            f"escalations **{h.get('escalations')}**, recovered **{h.get('recovered')}**, "
            f"missed **{h.get('sla_missed')}**, waiting **{h.get('waiting_at_day_end')}**\n\n"
            f"Reports:\n{files}\n\nSent to: {', '.join(result['sent']) or 'nobody (no block)'}\n"
            f"\nMarts for analysts: `{published}`\n"
        ),
    )
    return {"date": day.isoformat(), "published": published, **result}


@flow(name="weekly-patterns")
def weekly_patterns(
    now: datetime | None = None,
    rules_dir: str | None = None,
    db: str | None = None,
    out: str = "reports",
) -> dict[str, Any]:
    """Monday's patterns: repeated issue patterns, which rules fire and how that changed, SLA
    realism, owner load; as table artifacts and a markdown file in ``out/<date>/weekly.md``
    (the same as ``leadsla patterns``)."""
    now, _, rules, db_path = _resolve(now, rules_dir, db)
    plan = weekly_build(rules, db_path, now)
    published = build_marts(TaskSteps(), db_path, plan)
    patterns = read_patterns(published, plan.day)
    target = write_patterns(patterns, Path(out))
    for key, rows in patterns.sections.items():
        create_table_artifact(key=f"weekly-{key}", table=rows, description=key)
    create_markdown_artifact(key="weekly-patterns", markdown=patterns.markdown)
    return {"date": plan.day.isoformat(), "file": str(target), "rows": patterns.counts}
