"""The storage seam: where lead state, the event log and the bookkeeping tables live.

The engine (ingest, evaluation) speaks SQL to one DuckDB connection in which the tables below
exist. :class:`DuckDBStore` is that connection on a database file. Another backend (PostgreSQL
through SQLAlchemy) implements the same three methods by loading the open slice of state into an
in-memory DuckDB and writing the appended rows back on :meth:`Store.commit`; the engine does not
change. That is why the seam is "a DuckDB connection plus transaction boundaries" and not a
repository of per-lead methods: the hot path stays set-based.

Every timestamp column is ``TIMESTAMPTZ`` in UTC; the session time zone is pinned to UTC so
nothing depends on the machine's zone.
"""

from __future__ import annotations

import fcntl
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, ClassVar, Protocol

import duckdb

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

#: Schema of the work tables a transaction builds (``CREATE TABLE work.x``): they live in the
#: database file's catalog, so they get its row groups (temp tables always have DuckDB's
#: default, whatever the file says), and :meth:`DuckDBStore.commit` drops them before the
#: commit, so none reaches the WAL or outlives its transaction. Outside a transaction (reading
#: an export, delivery) work stays in temp tables.
WORK_SCHEMA = "work"

#: Catalog name of the database file on the store's connection.
CATALOG = "leadsla"

#: The public event log (DESIGN.md "Event log"). Append-only: nothing here updates or deletes it.
EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS sla_events (
    event_id    VARCHAR NOT NULL,
    event_type  VARCHAR NOT NULL,
    lead_id     VARCHAR,
    issue_id    VARCHAR,
    occurred_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    rule_id     VARCHAR,
    policy_id   VARCHAR,
    level       INTEGER,
    owner       VARCHAR,
    target      VARCHAR,
    details     JSON
)"""

SCHEMA_DDL = [
    EVENTS_DDL,
    f"CREATE SCHEMA IF NOT EXISTS {WORK_SCHEMA}",  # empty between transactions
    # Every export file ever seen, by path and checksum: never read twice, never skipped.
    """
    CREATE TABLE IF NOT EXISTS export_manifest (
        path             VARCHAR NOT NULL,
        checksum         VARCHAR NOT NULL,
        source_id        VARCHAR,
        entity           VARCHAR,
        export_at        TIMESTAMPTZ,
        export_at_from   VARCHAR,      -- 'filename' or 'mtime'
        size_bytes       BIGINT,
        mtime            DOUBLE,       -- seconds since the epoch, to skip re-hashing
        status           VARCHAR NOT NULL,  -- loaded|failed|duplicate|unmatched|unreadable
        reason           VARCHAR,
        rows_read        BIGINT,
        rows_loaded      BIGINT,
        rows_quarantined BIGINT,
        rows_superseded  BIGINT,
        footer_lines     BIGINT,
        recorded_at      TIMESTAMPTZ NOT NULL
    )""",
    # Conservation (rows_read = rows_loaded + rows_quarantined + rows_skipped: unchanged
    # snapshot rows), the encoding a file was read in, and the canonical fields it carried (a
    # later export of the source without one of them fails: a renamed header). Added by ALTER
    # so files made before them gain them.
    "ALTER TABLE export_manifest ADD COLUMN IF NOT EXISTS rows_skipped BIGINT",
    "ALTER TABLE export_manifest ADD COLUMN IF NOT EXISTS encoding VARCHAR",
    "ALTER TABLE export_manifest ADD COLUMN IF NOT EXISTS fields VARCHAR[]",
    # Rows that could not be used as they are, with where they came from and why.
    """
    CREATE TABLE IF NOT EXISTS quarantine (
        source_id   VARCHAR,
        file        VARCHAR NOT NULL,
        line        BIGINT,
        raw         VARCHAR,
        reason      VARCHAR NOT NULL,
        action      VARCHAR NOT NULL,  -- 'rejected' (row not loaded) | 'loaded_without_value'
        recorded_at TIMESTAMPTZ NOT NULL
    )""",
    # One row per lead: the newest known CRM values plus leadsla's own decisions.
    """
    CREATE TABLE IF NOT EXISTS lead_state (
        lead_id            VARCHAR NOT NULL,
        source_id          VARCHAR,
        created_at         TIMESTAMPTZ NOT NULL,
        name VARCHAR, email VARCHAR, phone VARCHAR, lead_source VARCHAR, campaign VARCHAR,
        form_type VARCHAR, service_interest VARCHAR, message VARCHAR, city VARCHAR,
        territory VARCHAR, device VARCHAR, company_size VARCHAR, lead_score DOUBLE,
        estimated_value DOUBLE,
        crm_owner          VARCHAR,
        crm_status         VARCHAR,
        status_class       VARCHAR,
        first_response_at  TIMESTAMPTZ,   -- as the CRM reports it
        updated_at         TIMESTAMPTZ,
        record_url         VARCHAR,
        first_seen_at      TIMESTAMPTZ NOT NULL,  -- export time of the first export with it
        last_export_at     TIMESTAMPTZ NOT NULL,  -- export time of the last change seen
        row_hash           UBIGINT,       -- fingerprint of the CRM values, to skip unchanged rows
        response_at        TIMESTAMPTZ,   -- effective first response (any signal)
        response_via       VARCHAR,
        responded_seen_at  TIMESTAMPTZ,   -- export time at which the response became known
        outcome            VARCHAR,
        outcome_at         TIMESTAMPTZ,
        closed_seen_at     TIMESTAMPTZ,   -- export time at which a closing outcome was known
        intent             VARCHAR,
        intent_rule_id     VARCHAR,
        policy_id          VARCHAR,
        qual_policy_id     VARCHAR,
        next_policy_id     VARCHAR,       -- next-step-update milestone policy, if any
        progressed_at      TIMESTAMPTZ,   -- first status change after the response was known
        progressed_seen_at TIMESTAMPTZ,   -- export time at which that change was seen
        recommended_action VARCHAR,
        team               VARCHAR,
        owner              VARCHAR,       -- effective owner: CRM's, or leadsla's decision
        owner_origin       VARCHAR,       -- crm | routing | reassigned
        previous_owners    VARCHAR[],
        hop                INTEGER NOT NULL DEFAULT 0,
        hop_started_at     TIMESTAMPTZ,
        due_at             TIMESTAMPTZ,   -- first-response deadline of hop 0
        needs_review       VARCHAR,       -- why the ops review queue holds it, if it does
        response_logged    BOOLEAN NOT NULL DEFAULT false,  -- first_response event written
        evaluated_until    TIMESTAMPTZ,   -- steps with thresholds up to here are decided
        next_step_at       TIMESTAMPTZ    -- earliest step threshold still ahead
    )""",
    # One row per lead issue (seed 002): the newest reported values plus leadsla's verdict,
    # routing and how far up the three levels it has gone.
    """
    CREATE TABLE IF NOT EXISTS issue_state (
        issue_id           VARCHAR NOT NULL,
        source_id          VARCHAR,
        lead_id VARCHAR, raised_at TIMESTAMPTZ, raised_by VARCHAR, issue_type VARCHAR,
        summary VARCHAR, impact VARCHAR, customer_name VARCHAR, customer_phone VARCHAR,
        device VARCHAR, city VARCHAR, status VARCHAR, responded_at TIMESTAMPTZ,
        resolved_at TIMESTAMPTZ, resolution VARCHAR, no_escalation_reason VARCHAR,
        first_seen_at      TIMESTAMPTZ NOT NULL,  -- export time of the first export with it
        last_export_at     TIMESTAMPTZ NOT NULL,
        row_hash           UBIGINT,       -- fingerprint of the reported values
        responded_seen_at  TIMESTAMPTZ,   -- export time at which a response became known
        resolved_seen_at   TIMESTAMPTZ,
        verdict            VARCHAR,       -- valid | rejected
        verdict_hash       UBIGINT,       -- row_hash the verdict was made on
        valid_from         TIMESTAMPTZ,   -- the raise, or the export that completed it
        reject_reason      VARCHAR,       -- missing_fields | not_a_blocker | unknown_type
        missing_fields     VARCHAR[],
        teams              VARCHAR[],     -- owning teams (level 1)
        calendar_id        VARCHAR,       -- the first owning team's calendar
        sla_class          VARCHAR,
        intent             VARCHAR,       -- of the lead, when the issue was validated
        high_value         BOOLEAN,
        climbs             BOOLEAN,       -- may go past level 1
        direct_reason      VARCHAR,       -- high_value | cx_risk | repeated_pattern
        senior_agent       VARCHAR,
        max_level          INTEGER NOT NULL DEFAULT 0,
        next_at            TIMESTAMPTZ,   -- earliest level threshold still ahead
        responded_logged   BOOLEAN NOT NULL DEFAULT false,
        resolved_logged    BOOLEAN NOT NULL DEFAULT false
    )""",
    # What each export said about a lead whenever something changed (SCD-2 style, valid_from).
    """
    CREATE TABLE IF NOT EXISTS lead_history (
        lead_id      VARCHAR NOT NULL,
        valid_from   TIMESTAMPTZ NOT NULL,
        source_id    VARCHAR,
        file         VARCHAR,
        crm_owner    VARCHAR,
        crm_status   VARCHAR,
        status_class VARCHAR,
        first_response_at TIMESTAMPTZ,
        updated_at   TIMESTAMPTZ
    )""",
    """
    CREATE TABLE IF NOT EXISTS activities (
        activity_id VARCHAR NOT NULL,
        lead_id     VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        type        VARCHAR,
        actor       VARCHAR,
        direction   VARCHAR,
        source_id   VARCHAR,
        export_at   TIMESTAMPTZ NOT NULL
    )""",
    # Outgoing messages and CRM actions, written in the same transaction as the event that
    # needs them (the outbox); delivery updates status/attempts and records notification_*
    # events. message_id is stable (idempotency key and email Message-ID).
    """
    CREATE TABLE IF NOT EXISTS outbox (
        message_id      VARCHAR NOT NULL,
        event_id        VARCHAR NOT NULL,
        event_type      VARCHAR NOT NULL,
        lead_id         VARCHAR,
        issue_id        VARCHAR,
        channel         VARCHAR NOT NULL,  -- email|slack|teams|webhook|whatsapp|crm_*
        recipient       VARCHAR NOT NULL,  -- address, channel or endpoint name (no secrets)
        recipient_role  VARCHAR,  -- owner|manager|team_lead|management|team_channel|raiser|crm
        team            VARCHAR,
        urgency         VARCHAR NOT NULL DEFAULT 'normal',  -- immediate | normal | digest
        subject         VARCHAR,
        body_text       VARCHAR,
        body_html       VARCHAR,
        payload         JSON,              -- webhook / CRM action body
        status          VARCHAR NOT NULL,  -- pending | sent | suppressed | deferred | dead
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ,
        last_error      VARCHAR,
        created_at      TIMESTAMPTZ NOT NULL,
        sent_at         TIMESTAMPTZ
    )""",
    # Delivery bookkeeping beyond the shared outbox contract: the route that produced a row,
    # the recipient's calendar (quiet hours), the member/team id, and the digest a row went in.
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS route_id VARCHAR",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS calendar_id VARCHAR",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS recipient_id VARCHAR",
    "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS digest_id VARCHAR",
    # A 64-bit hash of every stored event id, in log order: what the check for repeated ids
    # (check_new_events) scans instead of the ids themselves. Bookkeeping, rebuilt from the log.
    "CREATE TABLE IF NOT EXISTS sla_event_keys (k UBIGINT NOT NULL)",
    # Round-robin pointer per team, so rotation continues across ticks.
    """
    CREATE TABLE IF NOT EXISTS rr_state (team VARCHAR NOT NULL, assigned BIGINT NOT NULL)""",
    # One row per tick: what it saw and did (the CLI and flow summaries read it).
    """
    CREATE TABLE IF NOT EXISTS tick_log (
        now            TIMESTAMPTZ NOT NULL,
        rules_version  VARCHAR,
        files_loaded   INTEGER,
        files_failed   INTEGER,
        rows_loaded    BIGINT,
        rows_quarantined BIGINT,
        step_events    BIGINT,
        recorded_at    TIMESTAMPTZ NOT NULL
    )""",
    # Exceptions nobody owns: unclear intent, leads with no eligible owner, quarantined rows.
    """
    CREATE OR REPLACE VIEW ops_review_queue AS
    SELECT 'lead' AS item_kind, lead_id AS item_id, needs_review AS reason,
           team, owner, created_at AS since
    FROM lead_state
    WHERE needs_review IS NOT NULL AND closed_seen_at IS NULL AND responded_seen_at IS NULL
    UNION ALL
    SELECT 'row', file || ':' || CAST(line AS VARCHAR), reason, NULL, NULL, recorded_at
    FROM quarantine WHERE action = 'rejected'
    """,
]


class Store(Protocol):
    """What the engine needs from storage: a DuckDB connection with the tables above and a
    ``work`` schema on its search path, and transaction boundaries around one tick (a commit
    drops the transaction's work tables first, :func:`drop_work`)."""

    con: duckdb.DuckDBPyConnection

    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


#: Seconds a command waits for the database file before giving up with :class:`StoreBusy`;
#: ``LEADSLA_DB_WAIT`` overrides it. Ticks hold the file for seconds; a tick that waits longer
#: than this fails clearly and the next one catches up (steps are judged as of their threshold).
DB_WAIT_S = 30.0

#: Seconds between two looks at a busy file.
_POLL_S = 0.2

#: Published read-only copy that readers open instead of the working file (docs/analysts.md).
MARTS_FILE = "leadsla_marts.duckdb"


class StoreBusy(OSError):
    """The database file stayed held by another process for the whole wait. Its message is one
    sentence naming who holds it; an ``OSError`` so the flow's I/O retries treat it as such."""


def db_wait() -> float:
    """The bounded wait for the database file (``LEADSLA_DB_WAIT`` seconds)."""
    raw = os.environ.get("LEADSLA_DB_WAIT", "")
    try:
        return float(raw) if raw.strip() else DB_WAIT_S
    except ValueError:
        raise StoreBusy(
            f"LEADSLA_DB_WAIT must be a number of seconds, not {raw!r}; unset it for {DB_WAIT_S:g}"
        ) from None


def _command() -> str:
    """What this process is, for the lock file: ``leadsla tick``, ``prefect ...``."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:2]])


class WriterLock:
    """One writer per database file, across processes: an exclusive ``fcntl.flock`` on
    ``<db>.lock``, which says who holds it (pid, command, since when). Every command that
    writes (tick, replay, demo, deliver, issue raise, each flow phase) takes it by opening a
    :class:`DuckDBStore`; a second writer waits up to the bound, then fails with one sentence
    naming the holder. The kernel drops the lock when its process dies (``kill -9`` too), so a
    stale file never blocks anyone. Within one process it is re-entrant (a store opened while
    another is open on the same file shares the hold)."""

    _held: ClassVar[dict[Path, tuple[IO[str], int]]] = {}
    _guard = threading.Lock()

    def __init__(self, db: Path, wait: float) -> None:
        self.path = db.with_name(db.name + ".lock").resolve()
        self._taken = False
        with self._guard:
            if self.path in self._held:
                fh, n = self._held[self.path]
                self._held[self.path] = (fh, n + 1)
                self._taken = True
                return
        fh = self.path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    fh.close()
                    raise StoreBusy(
                        f"{db.name} is being written by {holder}; waited {wait:g} s"
                    ) from None
                time.sleep(_POLL_S)
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # clock-edge: for people only
        fh.truncate(0)
        fh.write(f"pid {os.getpid()} ({_command()}, since {since})\n")
        fh.flush()
        with self._guard:
            self._held[self.path] = (fh, 1)
        self._taken = True

    def release(self) -> None:
        if not self._taken:
            return
        self._taken = False
        with self._guard:
            fh, n = self._held[self.path]
            if n > 1:
                self._held[self.path] = (fh, n - 1)
                return
            del self._held[self.path]
        fh.truncate(0)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()


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
            time.sleep(_POLL_S)


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


@contextmanager
def transaction(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """One atomic unit: everything a tick decides lands together or not at all."""
    store.begin()
    try:
        yield store.con
    except BaseException:
        store.rollback()
        raise
    store.commit()
