"""The review's own warehouse: a copy of the tick's tables, dbt built over it, marts published.

DuckDB lets one process write a file, and while it does no other process can even open it
read-only. So the review never builds in the tick's database, and analysts never open either
working file:

1. :func:`snapshot` attaches the tick's database read-only for the moment of one copy (the
   event log incrementally, the small tables whole) into ``raw.*`` of the warehouse file. A
   tick holding its file makes the attach fail with a lock error; that is retried with backoff
   (ticks hold the file for well under a second, see :data:`LOCK_RETRY_S`), so neither side
   fails. The flow also takes the ``leadsla-db`` concurrency slot the tick takes.
2. :func:`build` runs dbt in process (``dbtRunner`` with a stored manifest: no 3 s re-parse) on
   the warehouse file, which only the review writes: models and data tests; the unit tests run
   in development and CI (``unit_tests=True``), see :func:`dbt_args`.
3. :func:`publish` (:mod:`leadsla.warehouse_publish`) writes the dbt docs into the warehouse as
   comments and copies it to a temporary file next to the published one, then renames it over
   it (atomic on one file system): an analyst holding the old copy open keeps reading it, the
   next open sees the new one, nobody ever sees half a file. The warehouse is kept in DuckDB's
   v1.0.0 storage format, so that copy opens in DuckDB 1.x clients and BI drivers too.

A warehouse belongs to one database: :func:`snapshot` records which (``raw.origin``) and
refuses a database whose event log does not hold the events already copied.

Nothing here reads the clock: ``as_of`` is passed in.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb

from leadsla import warehouse_publish
from leadsla.warehouse_guards import MAX_FEED_AGE_MINUTES, check_origin
from leadsla.warehouse_guards import WarehouseError as WarehouseError  # its home for callers
from leadsla.warehouse_publish import open_v1

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

#: Where the dbt project lives: package data of leadsla (pyproject's package-data), so an
#: installed wheel has it too. A real folder: dbt reads a project from disk, never from a zip.
DBT_PROJECT = Path(str(files("leadsla") / "dbt_project"))
#: The tick's tables the marts read. sla_events is copied incrementally; the rest whole.
RAW_TABLES = (
    "lead_state",
    "quarantine",
    "export_manifest",
    "outbox",
    "tick_log",
    "activities",
    "shadow_events",
)
#: How long a snapshot keeps retrying while a tick holds the database (a tick takes ~0.1-2 s;
#: a replay of days holds it longer, and then the review should wait rather than fail).
LOCK_RETRY_S = 300.0


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text


def snapshot(
    db: Path,
    warehouse: Path,
    *,
    retry_for_s: float = LOCK_RETRY_S,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, int]:
    """Copy the tick's tables into ``raw.*`` of ``warehouse``; return rows copied per table.

    Events are copied from the newest ``recorded_at`` already copied on (merged on event_id),
    so the copy of a 10M-event log after one tick moves one tick's rows.
    """
    if not db.exists():
        raise WarehouseError(f"no database at {db}: run `leadsla tick` or `leadsla demo` first")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = open_v1(warehouse)
    try:
        con.execute("SET TimeZone = 'UTC'")
        deadline = time.monotonic() + retry_for_s
        wait = 0.05
        while True:
            try:
                con.execute(f"ATTACH '{_quote(db)}' AS src (READ_ONLY)")
                break
            except duckdb.Error as exc:
                if not _is_lock_error(exc) or time.monotonic() >= deadline:
                    raise WarehouseError(f"cannot open {db} to snapshot it: {exc}") from exc
                sleep(wait)
                wait = min(wait * 2, 2.0)
        try:
            check_origin(con, db, warehouse)
            return _copy(con, db)
        finally:
            con.execute("DETACH src")
    finally:
        con.close()


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _copy(con: duckdb.DuckDBPyConnection, db: Path) -> dict[str, int]:
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'"
        ).fetchall()
    }
    counts: dict[str, int] = {}
    con.execute("BEGIN")
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            "CREATE OR REPLACE TABLE raw.origin AS SELECT ? AS database", [str(db.absolute())]
        )
        counts["sla_events"] = _append_events(con)
        for table in RAW_TABLES:
            if table not in present:
                raise WarehouseError(f"the tick's database has no table {table!r}")
            con.execute(f"CREATE OR REPLACE TABLE raw.{table} AS SELECT * FROM src.{table}")
            counts[table] = int(con.execute(f"SELECT count(*) FROM raw.{table}").fetchall()[0][0])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts


def _append_events(con: duckdb.DuckDBPyConnection) -> int:
    """Append the tick's events recorded since the warehouse's newest ``recorded_at``; return
    how many.

    A tick writes all its events at its ``now``, so everything at or after the newest
    ``recorded_at`` already copied is taken again and the rows already here are dropped: a
    tick copied halfway is completed, nothing is copied twice.

    This is also where ``event_id`` is kept unique, the guarantee every mart's counts rest on.
    A DuckDB PRIMARY KEY would say the same, but its index over 10M ids costs about a minute
    and 2 GB to build, and a ``unique`` test rescans the whole log on every build. Here each
    batch is checked once, when it arrives: against itself and against every id already
    copied (one probe of the id column, well under a second at 10M). A duplicate is a fault of
    the writer (event ids are derived from content): it fails the snapshot, naming the ids,
    and nothing of the batch is copied.
    """
    con.execute("CREATE TABLE IF NOT EXISTS raw.sla_events AS SELECT * FROM src.sla_events LIMIT 0")
    # read twice (ids for the check, then whole rows): a batch held in a temporary table would
    # copy a first snapshot's 10M events one time more
    batch = """
        SELECT s.* FROM src.sla_events AS s
        WHERE s.recorded_at >= (SELECT coalesce(max(recorded_at), '-infinity'::TIMESTAMPTZ)
                                FROM raw.sla_events)
          AND s.event_id NOT IN (
              SELECT event_id FROM raw.sla_events
              WHERE recorded_at >= (SELECT coalesce(max(recorded_at),
                                           '-infinity'::TIMESTAMPTZ) FROM raw.sla_events))
    """
    duplicates = con.execute(
        f"""
        WITH batch AS ({batch})
        SELECT event_id FROM batch GROUP BY event_id HAVING count(*) > 1
        UNION
        SELECT b.event_id FROM batch AS b SEMI JOIN raw.sla_events AS r USING (event_id)
        ORDER BY 1 LIMIT 5
        """
    ).fetchall()
    if duplicates:
        ids = ", ".join(str(r[0]) for r in duplicates)
        raise WarehouseError(
            f"the tick's event log repeats event_id {ids}: event ids must be unique; "
            "nothing was copied"
        )
    return int(con.execute(f"INSERT INTO raw.sla_events {batch}").fetchall()[0][0])


@dataclass
class BuildResult:
    """What one dbt invocation did: ok, and per node its status (for artifacts and errors)."""

    ok: bool
    statuses: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def dbt_vars(
    *, as_of: datetime, org_timezone: str, policy_windows: dict[str, float | None]
) -> dict[str, Any]:
    """The ``--vars`` of a build: the logical now, the org's zone, the policy windows."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return {
        "as_of": as_of.isoformat(),
        "org_timezone": org_timezone,
        "policy_windows": policy_windows,
        "max_feed_age_minutes": MAX_FEED_AGE_MINUTES,
    }


def dbt_args(
    command: str,
    warehouse: Path,
    variables: dict[str, Any],
    extra: Sequence[str] = (),
    *,
    unit_tests: bool = False,
) -> list[str]:
    """Arguments for dbt: project and profiles in the repo, target/logs beside the warehouse
    (so a read-only checkout works and two warehouses never share a target folder).

    ``unit_tests`` is the one switch for dbt's unit tests, here for both runners (this
    module's and prefect-dbt's in flows/daily_review.py). The review's builds leave them out:
    a unit test reads only its fixtures and the project's SQL, never the warehouse's data, so
    it can only repeat the verdict it gave when that SQL was tested. dbt's documentation
    recommends exactly this, "only running unit tests in development or CI environments"
    (https://docs.getdbt.com/docs/build/unit-tests, "When to run unit tests"). The test suite
    builds with ``unit_tests=True`` and checks that every unit test ran and passed
    (tests/test_dbt.py); by hand, ``make dbt-unit``. Every data test (keys, accepted values,
    relationships, the stale feed) runs in every build.
    """
    skip_unit_tests = (
        ["--exclude-resource-type", "unit_test"]
        if not unit_tests and command.split()[0] in {"build", "test"}
        else []
    )
    return [
        *command.split(),
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(target_path(warehouse)),
        "--log-path",
        str(target_path(warehouse).parent / "logs"),
        # node starts, results and errors; debug lines (every statement) would cost each node
        # more Python time than its SQL takes
        "--log-level-file",
        "info",
        "--vars",
        json.dumps(variables),
        "--quiet",
        *skip_unit_tests,
        *extra,
    ]


def target_path(warehouse: Path) -> Path:
    """dbt's target folder for builds of ``warehouse`` (manifest, run results, compiled SQL)."""
    return warehouse.parent / f"{warehouse.stem}_dbt" / "target"


_MANIFESTS: dict[str, Manifest] = {}


def parse(warehouse: Path) -> Manifest:
    """The project's parsed manifest for builds of ``warehouse``: parsed once per process and
    warehouse folder, then handed to every ``dbtRunner`` (which then skips the ~3 s parse).

    Parsed without ``--vars``: no var decides a ref or a config here, every var is read when a
    node is compiled at run time (from the build's own ``--vars``). That keeps dbt's partial
    parsing useful across processes: dbt reparses everything when the ``--vars`` it parsed with
    change, and a build's ``as_of`` changes every day, while ``partial_parse.msgpack`` in the
    target folder (beside the warehouse) survives from one day's review to the next.
    """
    key = str(warehouse.parent)
    manifest = _MANIFESTS.get(key)
    if manifest is None:
        from dbt.cli.main import dbtRunner

        os.environ["LEADSLA_WAREHOUSE"] = str(warehouse)
        parsed = dbtRunner().invoke(dbt_args("parse", warehouse, {}))
        if not parsed.success:
            raise WarehouseError(f"dbt parse failed: {parsed.exception}")
        manifest = _MANIFESTS[key] = cast("Manifest", parsed.result)
    return manifest


def build(
    warehouse: Path,
    variables: dict[str, Any],
    *,
    command: str = "build",
    extra: Sequence[str] = (),
    unit_tests: bool = False,
) -> BuildResult:
    """Run ``dbt <command>`` in process on ``warehouse`` with the manifest of :func:`parse`
    (the flow uses prefect-dbt's runner instead; see flows/daily_review.py).

    A ``build`` is every model and data test; ``unit_tests=True`` adds the unit tests
    (development and CI; see :func:`dbt_args`).

    dbt is told not to write its JSON artifacts, and ``run_results.json`` is written here from
    the result: left to dbt, every build also rebuilds and rewrites ``manifest.json`` (about
    0.4 s after the last node, a tenth of an incremental build at 10M events). The manifest
    the build used is the one :func:`parse` wrote into the same target folder.
    """
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunner

    manifest = parse(warehouse)
    os.environ["LEADSLA_WAREHOUSE"] = str(warehouse)
    runner = dbtRunner(manifest=manifest)
    try:
        extra = [*extra, "--no-write-json"]
        res = runner.invoke(dbt_args(command, warehouse, variables, extra, unit_tests=unit_tests))
        if isinstance(res.result, RunExecutionResult):
            res.result.write(str(target_path(warehouse) / "run_results.json"))
        result = summarise(res.success, res.result, res.exception)
    finally:
        release_dbt_connection()
    return result


def release_dbt_connection() -> None:
    """Close the DuckDB instance dbt-duckdb keeps open in this process after a run.

    Left open, it pins the warehouse file: a later run in the same process (the demo run
    twice, a long-lived worker) that replaces or deletes that file would keep writing to the
    old, unlinked one.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    try:
        if env is not None:
            env.close()
    finally:
        DuckDBConnectionManager.close_all_connections()  # type: ignore[no-untyped-call]


def summarise(success: bool, result: Any, exception: BaseException | None) -> BuildResult:
    """Turn a dbt result into node statuses and readable failure lines."""
    out = BuildResult(ok=bool(success))
    for r in getattr(result, "results", None) or []:
        name = getattr(r.node, "unique_id", str(r.node))
        status = str(getattr(r.status, "value", r.status))
        out.statuses[name] = status
        if status in {"error", "fail", "runtime error"}:
            out.failures.append(f"{name}: {status}: {r.message}")
    if exception is not None:
        out.failures.append(f"dbt: {exception}")
    return out


def publish(warehouse: Path, published: Path) -> Path:
    """Describe the built warehouse from the manifest of its build and copy it to ``published``
    by atomic rename (:func:`leadsla.warehouse_publish.publish`)."""
    manifest = target_path(warehouse) / "manifest.json"
    return warehouse_publish.publish(warehouse, published, manifest)
