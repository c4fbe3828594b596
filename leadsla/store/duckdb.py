"""The DuckDB backend: lead state, the event log and the bookkeeping tables in one file.

The engine speaks SQL to one DuckDB connection in which the tables of :mod:`.schema` exist;
:class:`DuckDBStore` is that connection on a database file, holding the file's
:class:`~leadsla.store.lock.WriterLock` while it is writable. Every timestamp column is
``TIMESTAMPTZ`` in UTC; the session time zone is pinned to UTC so nothing depends on the
machine's zone.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb

from leadsla.settings import SettingsInvalid
from leadsla.store.lock import POLL_S, StoreBusy, WriterLock, db_wait
from leadsla.store.schema import SCHEMA_DDL, WORK_SCHEMA

#: Default DuckDB memory limit per connection; ``LEADSLA_DUCKDB_MEMORY`` overrides it.
MEMORY_LIMIT = "1GB"

#: WAL size at which DuckDB checkpoints (see ``DuckDBStore``); ``LEADSLA_DUCKDB_CHECKPOINT``
#: overrides it.
CHECKPOINT_THRESHOLD = "1GB"

#: Rows per row group of the database file. DuckDB gives a scan one thread per row group, and a
#: tick's work (the 50k leads a snapshot changed, 180k candidate ladder steps, 100k messages)
#: is under DuckDB's default of 122,880 rows, so most of its statements ran on one of the
#: machine's two cores. At 16,384 they use both: the 1M-lead bench tick went from 4.9 to 4.1 s
#: (medians of four, alternated), with the work tables of :data:`WORK_SCHEMA`.
ROW_GROUP_SIZE = 16_384

#: Catalog name of the database file on the store's connection.
CATALOG = "leadsla"

#: Published read-only copy that readers open instead of the working file (docs/analysts.md).
MARTS_FILE = "leadsla_marts.duckdb"


def _attach(con: duckdb.DuckDBPyConnection, path: Path, options: str, wait: float) -> None:
    """ATTACH the file, waiting up to ``wait`` seconds while another process (a reader on the
    working file, the review's snapshot) holds DuckDB's own lock on it."""
    deadline = time.monotonic() + wait
    while True:
        try:
            con.execute(f"ATTACH ? AS {CATALOG} ({options})", [str(path)])
            return
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise
            if time.monotonic() >= deadline:
                pid = re.search(r"PID (\d+)", text)
                who = f"pid {pid.group(1)}" if pid else "another process"
                raise StoreBusy(
                    f"{path.name} is held open by {who} (DuckDB allows no other process beside "
                    f"it); waited {wait:g} s: readers should open the published copy "
                    f"{MARTS_FILE} instead (docs/analysts.md)"
                ) from None
            time.sleep(POLL_S)


class DuckDBStore:
    """State and event log in one DuckDB file (the default backend). A writable store holds
    the file's :class:`WriterLock` until it is closed."""

    def __init__(
        self, path: Path | str, *, read_only: bool = False, wait: float | None = None
    ) -> None:
        self.path = Path(path)
        wait = db_wait() if wait is None else wait
        self.lock: WriterLock | None = None
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.lock = WriterLock(self.path, wait)
        # attached rather than opened: ATTACH is where a row-group size is given
        self.con = duckdb.connect()
        options = "READ_ONLY" if read_only else f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
        try:
            _attach(self.con, self.path, options, wait)
            self._setup(read_only)
        except BaseException:
            self.close()
            raise

    def _setup(self, read_only: bool) -> None:
        self.con.execute(f"USE {CATALOG}")
        self.con.execute("SET TimeZone = 'UTC'")
        # DuckDB would take 80% of the machine; a tick shares it with Prefect, dbt and the
        # worker. Past the limit, large operators spill to disk instead of growing.
        self.con.execute(
            "SET memory_limit = ?", [os.environ.get("LEADSLA_DUCKDB_MEMORY", MEMORY_LIMIT)]
        )
        threads = os.environ.get("LEADSLA_DUCKDB_THREADS", "").strip()
        if threads:  # unset: DuckDB's default, one per core
            if not threads.isdigit() or int(threads) < 1:
                raise SettingsInvalid(
                    f"LEADSLA_DUCKDB_THREADS={threads!r} is not a number of threads: "
                    "give a whole number such as 1, or unset it"
                )
            self.con.execute(f"SET threads = {int(threads)}")
        # A commit is durable once its WAL is written. Folding the WAL into the database file
        # (a checkpoint) rewrites every column a tick updated, across all row groups it
        # touched. DuckDB decides at commit from an *estimate* of the transaction's size, and an
        # UPDATE is estimated by its undo entries (a 2,048-row vector per column touched), not
        # by the rows it changed: a snapshot that changes three columns of 50k leads spread
        # over a million rows is "270 MB" though its WAL is 40 MB. At 1 GB the fold happens when
        # the WAL really is large, or when the file is closed (a Prefect task, a CLI tick), and
        # a long-lived connection (replays, the demo) folds many ticks' updates at once.
        self.con.execute(
            "SET checkpoint_threshold = ?",
            [os.environ.get("LEADSLA_DUCKDB_CHECKPOINT", CHECKPOINT_THRESHOLD)],
        )
        # Large appends would otherwise be written straight into the file before the commit:
        # a work table past one row group too, only to be dropped at the commit. (With them on
        # and work tables in the file, scans on this connection also missed rows a tick had
        # just committed; with them off the WAL carries the appends, as it did before.)
        self.con.execute("SET enable_optimistic_write = false")
        if not read_only:
            for ddl in SCHEMA_DDL:
                self.con.execute(ddl)
            self.con.execute(f"SET search_path = '{CATALOG}.main,{CATALOG}.{WORK_SCHEMA}'")

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        drop_work(self.con)
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def close(self) -> None:
        self.con.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuplicateEvent(RuntimeError):
    """A transaction tried to store an event id the log already holds (or twice): a bug in
    the engine, refused rather than stored as a second row."""


def event_count(con: duckdb.DuckDBPyConnection) -> int:
    """Rows in the event log: taken at the start of a transaction, it marks where the rows the
    transaction appends begin (:func:`check_new_events`)."""
    return int(con.execute("SELECT count(*) FROM sla_events").fetchall()[0][0])


def check_new_events(con: duckdb.DuckDBPyConnection, first: int) -> None:
    """Refuse the transaction's new events when one repeats an id, among themselves or against
    the log; raises :class:`DuplicateEvent` (the caller's transaction then rolls back).

    The log is append-only, so the rows a transaction appended are those at or past ``first``
    (:func:`event_count` when it began): DuckDB numbers stored rows from 0 and a transaction's
    own rows above them. A primary key would make DuckDB keep an ART index over every id,
    measured at six times the insert time and eight times the file size; scanning every id at
    every commit grows with the log. So the check scans ``sla_event_keys``, a 64-bit hash per
    stored id in log order, and compares ids only for the rare hash that matches. Rows that
    writers without this check appended (delivery's ``notification_*`` events) get their keys
    first, so the keys always cover the log before ``first``."""
    keyed = int(con.execute("SELECT count(*) FROM sla_event_keys").fetchall()[0][0])
    if keyed > first:  # not written by this code: rebuilt from the log
        con.execute("DELETE FROM sla_event_keys")
        keyed = 0
    con.execute(
        "INSERT INTO sla_event_keys SELECT hash(event_id) FROM sla_events "
        "WHERE rowid >= $keyed AND rowid < $first ORDER BY rowid",
        {"keyed": keyed, "first": first},
    )
    new = "SELECT event_id, hash(event_id) AS k FROM sla_events WHERE rowid >= $first"
    repeated = [
        r[0]
        for r in con.execute(
            f"SELECT event_id FROM ({new}) GROUP BY event_id HAVING count(*) > 1 "
            "ORDER BY 1 LIMIT 5",
            {"first": first},
        ).fetchall()
    ]
    maybe = [
        r[0]
        for r in con.execute(
            f"SELECT event_id FROM ({new}) WHERE k IN (SELECT k FROM sla_event_keys)",
            {"first": first},
        ).fetchall()
    ]
    if maybe:  # a hash seen before: compare the ids themselves
        repeated += [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT event_id FROM sla_events WHERE rowid < $first "
                "AND event_id IN (SELECT unnest($ids)) ORDER BY 1 LIMIT 5",
                {"first": first, "ids": maybe},
            ).fetchall()
        ]
    if repeated:
        raise DuplicateEvent(
            "refused to store event ids already recorded (each event id is stored once): "
            + ", ".join(sorted(set(repeated))[:5])
        )
    con.execute(
        "INSERT INTO sla_event_keys SELECT hash(event_id) FROM sla_events WHERE rowid >= $first "
        "ORDER BY rowid",
        {"first": first},
    )


#: Views and tables of one schema of the store's file, views first (they read the tables).
_OBJECTS = """
SELECT 'VIEW' AS kind, view_name AS name FROM duckdb_views()
WHERE database_name = current_database() AND schema_name = $schema AND NOT internal
UNION ALL
SELECT 'TABLE', table_name FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = $schema
ORDER BY kind DESC
"""


def drop_work(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every view and table in :data:`WORK_SCHEMA`. It runs at every commit (delivery
    commits after each send), so an empty schema costs one catalog query. A work object named
    like one of the schema's would be shadowed by it (names resolve in ``main`` first): that is
    a bug, refused here."""
    objs = con.execute(_OBJECTS, {"schema": WORK_SCHEMA}).fetchall()
    if not objs:
        return
    stored = {name for _, name in con.execute(_OBJECTS, {"schema": "main"}).fetchall()}
    shadowed = [name for _, name in objs if name in stored]
    if shadowed:
        raise RuntimeError(f"work tables named like stored tables: {', '.join(shadowed)}")
    for kind, name in objs:
        con.execute(f'DROP {kind} {WORK_SCHEMA}."{name}"')
