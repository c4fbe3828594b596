"""The storage seam: where lead state, the event log and the bookkeeping tables live.

The engine (ingest, evaluation) speaks SQL to one DuckDB connection in which the tables of
:mod:`leadsla.store.schema` exist. :func:`open_store` is the one place a command gets its store;
:mod:`leadsla.store.duckdb` is the default backend (that connection on a database file).
Another backend (PostgreSQL through SQLAlchemy) would be one module beside it implementing
:class:`Store` by loading the open slice of state into an in-memory DuckDB and writing the
appended rows back on :meth:`Store.commit`, and one branch in :func:`open_store`; the engine
does not change. That is why the seam is "a DuckDB connection plus transaction boundaries" and
not a repository of per-lead methods: the hot path stays set-based.

- :mod:`.schema`: the statements that make the schema (``schema.sql`` and the event log's DDL)
- :mod:`.lock`: one writer per database file (:class:`WriterLock`, ``LEADSLA_DB_WAIT``)
- :mod:`.duckdb`: the DuckDB backend, the work schema's cleanup and the event-id guard
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import duckdb

from leadsla.store.duckdb import (
    CATALOG,
    MARTS_FILE,
    ROW_GROUP_SIZE,
    DuckDBStore,
    DuplicateEvent,
    check_new_events,
    drop_work,
    event_count,
)
from leadsla.store.lock import DB_WAIT_S, StoreBusy, WriterLock, db_wait
from leadsla.store.schema import SCHEMA_DDL, WORK_SCHEMA

__all__ = [
    "CATALOG",
    "DB_WAIT_S",
    "MARTS_FILE",
    "ROW_GROUP_SIZE",
    "SCHEMA_DDL",
    "WORK_SCHEMA",
    "DuckDBStore",
    "DuplicateEvent",
    "Store",
    "StoreBusy",
    "WriterLock",
    "check_new_events",
    "db_wait",
    "drop_work",
    "event_count",
    "open_store",
    "transaction",
]


class Store(Protocol):
    """What the engine needs from storage: a DuckDB connection with the schema's tables and a
    ``work`` schema on its search path, and transaction boundaries around one tick (a commit
    drops the transaction's work tables first, :func:`drop_work`)."""

    con: duckdb.DuckDBPyConnection

    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


def open_store(
    db: Path | str, *, read_only: bool = False, wait: float | None = None
) -> DuckDBStore:
    """The store of database ``db`` (a DuckDB file path), writable unless ``read_only``; a
    writable store holds the file's writer lock, waiting up to ``wait`` seconds
    (``LEADSLA_DB_WAIT`` when None) before :class:`StoreBusy`. A second backend is chosen here
    (by the form of ``db``), and nowhere else."""
    return DuckDBStore(db, read_only=read_only, wait=wait)


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
