"""The ``sla_tick`` flow: one scheduled pass, as a handful of coarse tasks.

This is a clock edge (the CLI is the other): ``now`` is read here once, when the schedule does
not pass one, and handed down. Tasks get paths and plain values, never connections or
DataFrames (Prefect would try to hash them for caching); each task opens and closes the
DuckDB file itself. Only I/O is retried: evaluation is deterministic, so a retry could only
fail the same way.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import Task

from leadsla import tick


def _io_error(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only when the failure was I/O (a file share hiccup, a locked file)."""
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(retries=3, retry_delay_seconds=5, retry_condition_fn=_io_error, cache_policy=NO_CACHE)
def discover(rules_dir: str, exports: str, db: str, now: datetime) -> list[dict[str, Any]]:
    """Export files at or before ``now`` that the manifest has not settled."""
    return tick.discover_phase(rules_dir=Path(rules_dir), exports=exports, db=Path(db), now=now)


@task(retries=3, retry_delay_seconds=5, retry_condition_fn=_io_error, cache_policy=NO_CACHE)
def load(rules_dir: str, db: str, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Load the new files into lead state in one transaction."""
    return tick.load_phase(rules_dir=Path(rules_dir), db=Path(db), files=files, now=now)


@task(cache_policy=NO_CACHE)
def evaluate(rules_dir: str, db: str, now: datetime, loaded: bool) -> dict[str, Any]:
    """Classify, assign and fire due steps for every open lead (set-based, one transaction)."""
    return tick.evaluate_phase(rules_dir=Path(rules_dir), db=Path(db), now=now, loaded=loaded)


@task(cache_policy=NO_CACHE)
def record(db: str, now: datetime) -> dict[str, Any]:
    """Leave what this tick fired in the UI: a table and a markdown summary."""
    summary = tick.summarize(db=Path(db), now=now)
    create_table_artifact(
        key="sla-tick-fired",
        table=summary.fired_rows or [{"event_type": "(nothing fired)"}],
        description=f"Steps and changes recorded by the tick at {now.isoformat()}",
    )
    create_markdown_artifact(
        key="sla-tick-summary",
        markdown=summary.markdown,
        description="Files loaded and events by type",
    )
    return {"new_events": summary.new_events, "events_by_type": summary.events_by_type}


@flow(name="sla-tick", log_prints=False)
def sla_tick(
    now: datetime | None = None,
    rules_dir: str | None = None,
    exports: str | None = None,
    db: str | None = None,
) -> dict[str, Any]:
    """Load the newest CRM exports and fire every SLA step now due."""
    logger = get_run_logger()
    now = (now or datetime.now(UTC)).astimezone(UTC)  # clock-edge
    rules_dir = rules_dir or os.environ.get("LEADSLA_RULES", "sla_rules")
    exports = exports or os.environ.get("LEADSLA_EXPORTS", "exports")
    db = db or os.environ.get("LEADSLA_DB", "leadsla.duckdb")
    files = discover(rules_dir, exports, db, now)
    loaded = load(rules_dir, db, files, now) if files else {"files_loaded": 0, "files": []}
    evaluated = evaluate(rules_dir, db, now, bool(files))
    result = record(db, now)
    logger.info(
        "tick at %s: %d files, %d new events (%s)",
        now.isoformat(),
        loaded["files_loaded"],
        result["new_events"],
        ", ".join(f"{k}={v}" for k, v in sorted(result["events_by_type"].items())) or "none",
    )
    return {"now": now.isoformat(), "loaded": loaded, "evaluated": evaluated, **result}
