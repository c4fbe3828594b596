"""The ``sla_tick`` flow: one scheduled pass of leadsla, as five coarse tasks (discover, load,
evaluate, record, deliver), sequenced by ``leadsla.pipelines.tick.run_phases`` (the CLI's
sequence too): this module only says that each phase runs as a task, with which retries.

Why it looks like this:

- **The flow is the clock edge** (the CLI is the other one). ``now`` is read here once, when
  the schedule does not pass one, and handed to every phase, so one tick is one logical moment
  and a tick with an explicit ``now`` (a backfill) takes the very same path.
- **Five tasks, never one per lead.** A task run costs ~40 ms of client and server CPU; the
  per-lead work is set-based SQL inside ``leadsla.pipelines``. The phases stay separate tasks
  rather than one ``run_tick`` task so that only the I/O phases are retried, a dead mail server
  fails only the deliver task, and the UI shows where a tick spent its time.
- **Only paths and plain values cross task boundaries.** Each phase opens and closes the DuckDB
  file itself; a connection or DataFrame as a task argument would be hashed for caching
  (PrefectHQ/prefect #16042, #16557), and ``NO_CACHE`` says there is nothing to cache anyway:
  every tick must really run.
- **Only I/O is retried.** Discovering and loading touch a file share and the database file,
  which can hiccup; evaluation is deterministic over what is already loaded, so a retry could
  only fail the same way (and a failed tick is caught up by the next one, since every step is
  judged as of its threshold).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import Task
from pydantic import AwareDatetime

from flows.blocks import load_email_block
from leadsla.delivery.check import endpoint_names
from leadsla.delivery.senders import Senders, senders_from_env
from leadsla.pipelines import tick
from leadsla.pipelines.tick import TickRun, run_phases
from leadsla.rules import load_rules
from leadsla.settings import load_settings

#: Failures worth retrying: the file system (a share remounting, a file being replaced) and
#: DuckDB's I/O errors. A database held by another writer or a reader past ``LEADSLA_DB_WAIT``
#: raises ``leadsla.store.StoreBusy`` (an ``OSError``), whose message names the holder's pid.
#: ``duckdb.IOException`` is not an ``OSError`` subclass.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError, duckdb.IOException)

#: Seconds between I/O retries: short, rising, and well inside the 5-minute tick interval.
IO_RETRY_DELAYS: list[float] = [2, 5, 10]

#: A tick takes seconds; one that hangs would hold the deployment's single concurrency slot and
#: every later tick would be cancelled (CANCEL_NEW). Failing it after 15 minutes frees the slot.
TICK_TIMEOUT_SECONDS = 900


def retry_on_io_error(_task: Task[..., Any], _task_run: TaskRun, state: State[Any]) -> bool:
    """Retry condition: only transient I/O failures are worth another attempt; a bad rule file
    or a bug fails the same way every time and should surface at once."""
    return isinstance(state.result(raise_on_failure=False), TRANSIENT_ERRORS)


@dataclass(frozen=True)
class TickInputs:
    """What one tick runs against, resolved once at the flow edge."""

    now: datetime
    rules_dir: str
    exports: str
    db: str


def resolve_inputs(
    now: datetime | None, rules_dir: str | None, exports: str | None, db: str | None
) -> TickInputs:
    """Parameters beat ``LEADSLA_*`` environment variables beat ``leadsla.toml`` beat the
    defaults (``leadsla.settings``, as in the CLI), so a worker host can point ad-hoc runs at
    its paths without editing the deployment."""
    if now is None:
        now = datetime.now(UTC)  # clock-edge
    elif now.utcoffset() is None:
        # the parameter is typed AwareDatetime; this guards direct calls of ``sla_tick.fn``
        raise ValueError(f"now={now.isoformat()} has no UTC offset; naive times are refused")
    settings = load_settings(rules=rules_dir, exports=exports, db=db)
    return TickInputs(
        now=now.astimezone(UTC),
        rules_dir=settings.rules,
        exports=settings.exports,
        db=settings.db,
    )


@task(
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_io_error,
    cache_policy=NO_CACHE,
)
def discover(rules_dir: str, exports: str, db: str, now: datetime) -> dict[str, Any]:
    """``files``: export files dated at or before ``now`` that the manifest has not settled
    yet, as plain descriptors (path, checksum, export time) the load task takes as its input;
    ``later``: files left for a later tick because their export time is after ``now``."""
    return tick.discover_phase(
        rules_dir=Path(rules_dir),
        exports=exports,
        db=Path(db),
        now=now,
        env=dict(os.environ),  # database sources (sla_rules/sources: sql) read URLs from here
    )


@task(
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_io_error,
    cache_policy=NO_CACHE,
)
def load(rules_dir: str, db: str, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Load the discovered files into lead state in one transaction; safe to retry because a
    failed transaction leaves nothing behind."""
    return tick.load_phase(rules_dir=Path(rules_dir), db=Path(db), files=files, now=now)


@task(cache_policy=NO_CACHE)
def evaluate(rules_dir: str, db: str, now: datetime, loaded: bool) -> dict[str, Any]:
    """Classify, assign and record every step now due, in one set-based transaction. No retries:
    it is deterministic, and the next tick catches up on anything a failure left undone."""
    return tick.evaluate_phase(rules_dir=Path(rules_dir), db=Path(db), now=now, loaded=loaded)


@task(
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_io_error,
    cache_policy=NO_CACHE,
)
def record(db: str, now: datetime, later: list[dict[str, str]]) -> dict[str, Any]:
    """Leave what this tick recorded where a person looks: a table artifact of the steps and
    changes that fired and a markdown summary, both read back from the event log (the truth),
    not from what the earlier tasks returned. Retried on I/O like the reads before it: it writes
    nothing to the database, and a repeated artifact is only a newer version under its key."""
    summary = tick.record_phase(db=Path(db), now=now, later=later)
    if summary.later_line:
        get_run_logger().warning(summary.later_line)
    create_table_artifact(
        key="sla-tick-fired",
        table=summary.fired_rows,
        description=(
            f"Steps and changes recorded at {now.isoformat()}: {len(summary.fired_rows)} rows"
        ),
    )
    create_markdown_artifact(
        key="sla-tick-summary",
        markdown=summary.markdown,
        description=f"Files loaded and events by type at {now.isoformat()}",
    )
    return {"events_recorded": summary.new_events, "events_by_type": summary.events_by_type}


def channels_for_flow(rules_dir: str, email_block: str | None) -> Senders:
    """Channel settings at the flow edge: the email block (or ``LEADSLA_SMTP_URL``), endpoint
    URLs and tokens from the environment or the ``Secret`` blocks notifications.yaml names."""
    from prefect.blocks.system import Secret

    rules = load_rules(Path(rules_dir))
    blocks: dict[str, str] = {}
    if rules.notifications is not None:
        for src in endpoint_names(rules.notifications).values():
            if src.startswith("block:"):
                try:
                    secret: Any = Secret.load(src[6:])  # sync in a sync flow
                    blocks[src[6:]] = str(secret.get())
                except (ValueError, OSError) as exc:  # a missing block: its messages wait
                    get_run_logger().warning("Secret block %s not loaded: %s", src[6:], exc)
    smtp = load_email_block(email_block, get_run_logger())  # missing: emails wait in the outbox
    # a malformed LEADSLA_SMTP_URL is one error line (Senders.config_errors), not a failed run
    return senders_from_env(rules, os.environ, smtp_settings=smtp, blocks=blocks, strict=False)


@task(
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_io_error,
    cache_policy=NO_CACHE,
)
def deliver(rules_dir: str, db: str, now: datetime, email_block: str | None) -> dict[str, Any]:
    """Send what the outbox holds and is due, after the decisions were recorded. Safe to retry:
    every send is marked and recorded in its own commit. A dead message is not a failed run
    (the tick did its job); it becomes an error log line and a ``sla-delivery-dead`` artifact,
    which a Prefect automation on that log or artifact can page someone with."""
    channels = channels_for_flow(rules_dir, email_block)
    res = tick.deliver_phase(rules_dir=Path(rules_dir), db=Path(db), now=now, channels=channels)
    logger = get_run_logger()
    if res.dead:
        logger.error(
            "%d message(s) are dead and need a person; see sla-delivery-dead", len(res.dead)
        )
        create_markdown_artifact(
            key="sla-delivery-dead",
            markdown=res.markdown,
            description=f"Dead messages at {now.isoformat()}",
        )
    for error in res.config_errors:
        logger.error("email is not configured: %s (email messages wait in the outbox)", error)
    if res.waiting:
        logger.warning("%d message(s) wait in the outbox: no channel configured", res.waiting)
    return res.as_dict()


@task(
    retries=len(IO_RETRY_DELAYS),
    retry_delay_seconds=IO_RETRY_DELAYS,
    retry_condition_fn=retry_on_io_error,
    cache_policy=NO_CACHE,
)
def shadow(shadow_rules: str, exports: str, db: str, now: datetime) -> int:
    """Evaluate the candidate rules beside the live ones, after the live tick, into
    ``shadow_events`` (leadsla.pipelines.shadow): nothing is sent or written to the CRM.
    Safe to retry: the shadow catches up exactly and copies each event once."""
    from leadsla.pipelines.shadow import shadow_tick

    return shadow_tick(shadow_rules=Path(shadow_rules), exports=exports, db=Path(db), now=now)


@dataclass(frozen=True)
class TaskPhases:
    """The tick's phases as this module's tasks (the ``Phases`` hook of ``run_phases``)."""

    inputs: TickInputs
    email_block: str | None

    def discover(self, now: datetime) -> dict[str, Any]:
        return discover(self.inputs.rules_dir, self.inputs.exports, self.inputs.db, now)

    def load(self, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
        return load(self.inputs.rules_dir, self.inputs.db, files, now)

    def evaluate(self, now: datetime, loaded: bool) -> dict[str, Any]:
        return evaluate(self.inputs.rules_dir, self.inputs.db, now, loaded)

    def record(self, now: datetime, later: list[dict[str, str]]) -> dict[str, Any]:
        return record(self.inputs.db, now, later)

    def deliver(self, now: datetime) -> dict[str, Any]:
        return deliver(self.inputs.rules_dir, self.inputs.db, now, self.email_block)


def tick_result(ran: TickRun[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """The flow's return value: counts of what this run loaded and added, the events recorded
    at ``now`` by type, and the delivery counts."""
    loaded = ran.loaded
    return {
        "now": ran.now.isoformat(),
        "files_discovered": len(ran.files),
        "files_left_for_later": len(ran.later),
        "files_loaded": loaded["files_loaded"],
        "files_failed": loaded["files_failed"],
        "rows_loaded": loaded["rows_loaded"],
        "rows_quarantined": loaded["rows_quarantined"],
        "step_events": ran.evaluated["step_events"],
        **ran.recorded,
        "delivered": ran.delivered,
    }


@flow(name="sla-tick", timeout_seconds=TICK_TIMEOUT_SECONDS)
def sla_tick(
    now: AwareDatetime | None = None,
    rules_dir: str | None = None,
    exports: str | None = None,
    db: str | None = None,
    email_block: str | None = None,
    shadow_rules: str | None = None,
) -> dict[str, Any]:
    """Load the newest CRM exports, record every SLA step now due, and deliver its messages.

    ``email_block`` names a prefect-email ``EmailServerCredentials`` block; without it email
    uses ``LEADSLA_SMTP_URL`` if set, else email messages wait in the outbox.

    ``shadow_rules`` names a candidate rules folder evaluated beside the live rules into
    ``shadow_events`` after the live tick (docs/ops.md); nothing of it is sent.

    ``now`` defaults to the wall clock (a scheduled tick); pass one with an offset to replay a
    moment. Returns counts: files and rows loaded by this run, ``step_events`` it added, and
    the events recorded at ``now`` by type (a re-run at the same ``now`` finds the same events
    and adds none).
    """
    inputs = resolve_inputs(now, rules_dir, exports, db)
    ran = run_phases(TaskPhases(inputs, email_block), inputs.now)
    result = tick_result(ran)
    if shadow_rules:
        result["shadow_events"] = shadow(shadow_rules, inputs.exports, inputs.db, inputs.now)
    by_type = ", ".join(f"{k}={v}" for k, v in sorted(result["events_by_type"].items()))
    get_run_logger().info(
        "tick at %s: %d/%d files loaded (%d failed), %d rows, %d quarantined; "
        "%d new step events; recorded at now: %s",
        result["now"],
        result["files_loaded"],
        result["files_discovered"],
        result["files_failed"],
        result["rows_loaded"],
        result["rows_quarantined"],
        result["step_events"],
        by_type or "nothing",
    )
    return result
