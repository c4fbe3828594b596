"""The ``daily_review`` and ``weekly_patterns`` flows: build the marts, report, send.

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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

from flows.blocks import load_email_block
from leadsla import warehouse
from leadsla.report.run import Paths, day_as_of, dbt_vars, org_zone, render_all, send_all
from leadsla.rules import load_rules


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


@task(cache_policy=NO_CACHE)
def render_and_send(
    published: str, report_date: date, rules_dir: str, out: str, email_block: str | None
) -> dict[str, Any]:
    rules = load_rules(rules_dir)
    rendered, files, headline = render_all(Path(published), report_date, rules, Path(out))
    sent: list[str] = []
    smtp = load_email_block(email_block, get_run_logger())  # missing: the files are the review
    if smtp is not None:
        sent = send_all(rendered, smtp)
    return {
        "files": {k: [str(p) for p in v] for k, v in files.items()},
        "sent": sent,
        "headline": headline,
    }


def _rows(published: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    con = duckdb.connect(published, read_only=True)
    try:
        cur = con.execute(sql, params)
        rows = cur.fetchall()
        names = [d[0] for d in cur.description or []]
    finally:
        con.close()
    return [
        {
            n: (str(v) if isinstance(v, datetime | date) else v)
            for n, v in zip(names, r, strict=True)
        }
        for r in rows
    ]


def _resolve(
    now: datetime | None, report_date: date | None, rules_dir: str, db: str
) -> tuple[datetime, date, Any, Paths]:
    now = (now or datetime.now(UTC)).astimezone(UTC)  # clock-edge
    rules = load_rules(rules_dir)
    day = report_date or (now.astimezone(ZoneInfo(org_zone(rules))).date() - timedelta(days=1))
    return now, day, rules, Paths.beside(Path(db))


@flow(name="daily-review")
def daily_review(
    report_date: date | None = None,
    now: datetime | None = None,
    rules_dir: str = "sla_rules",
    db: str = "leadsla.duckdb",
    out: str = "reports",
    email_block: str | None = None,
) -> dict[str, Any]:
    """Build the marts, render one report per manager (management gets all), email them via
    the named prefect-email block (none: files only), and leave artifacts."""
    logger = get_run_logger()
    now, day, rules, paths = _resolve(now, report_date, rules_dir, db)
    variables = dbt_vars(rules, day_as_of(day, org_zone(rules), now))
    copied = snapshot(db, str(paths.warehouse))
    logger.info("snapshot copied %s", copied)
    run_dbt(str(paths.warehouse), variables)
    published = publish(str(paths.warehouse), str(paths.published))
    result = render_and_send(published, day, rules_dir, out, email_block)
    review = _rows(
        published,
        "SELECT team_id, leads_in, sla_met, sla_missed, sla_met_pct, escalations, "
        "issue_escalations, recovered, waiting_at_day_end, qualified, booked, "
        "median_minutes_to_resolve_issue, repeated_issue_patterns "
        "FROM marts.rpt_daily_review WHERE review_date = ? ORDER BY team_id = 'all' DESC, 1",
        [day],
    )
    create_table_artifact(
        key="daily-review", table=review, description=f"Daily review {day} (rpt_daily_review)"
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
    rules_dir: str = "sla_rules",
    db: str = "leadsla.duckdb",
    out: str = "reports",
) -> dict[str, Any]:
    """Monday's patterns: repeated issue patterns, which rules fire and how that changed, SLA
    realism, owner load; as table artifacts and a markdown file in ``out/<date>/weekly.md``."""
    now, day, rules, paths = _resolve(now, None, rules_dir, db)
    variables = dbt_vars(rules, now)
    snapshot(db, str(paths.warehouse))
    run_dbt(str(paths.warehouse), variables)
    published = publish(str(paths.warehouse), str(paths.published))
    queries = {
        "issue-patterns": "SELECT * FROM marts.rpt_issue_patterns ORDER BY issues DESC",
        "rule-firing": "SELECT rule_id, event_type, team_id, fired_last_7d, fired_prior_7d "
        "FROM marts.rpt_escalation_rule_firing ORDER BY fired_last_7d DESC",
        "sla-realism": "SELECT * FROM marts.rpt_sla_realism ORDER BY intent, lead_source",
        "owner-load": "SELECT * FROM marts.rpt_owner_load ORDER BY overdue_now DESC, owner_id",
    }
    md = [f"# Weekly patterns up to {day}", ""]
    counts: dict[str, int] = {}
    for key, sql in queries.items():
        rows = _rows(published, sql, [])
        counts[key] = len(rows)
        create_table_artifact(key=f"weekly-{key}", table=rows, description=key)
        md += [f"## {key}", ""]
        if rows:
            md.append("| " + " | ".join(rows[0]) + " |")
            md.append("|" + "---|" * len(rows[0]))
            md += ["| " + " | ".join(str(v) for v in r.values()) + " |" for r in rows[:25]]
        else:
            md.append("none")
        md.append("")
    target = Path(out) / day.isoformat() / "weekly.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(md), encoding="utf-8")
    create_markdown_artifact(key="weekly-patterns", markdown="\n".join(md))
    return {"date": day.isoformat(), "file": str(target), "rows": counts}
