"""A real store with the shipped rules registered, for the engine's step tests: each test
inserts the few stored rows a step reads, runs the step alone, and reads what it returns."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from leadsla.engine.calendar_range import cover_calendars
from leadsla.engine.rule_tables import register_rules
from leadsla.rules import RuleSet
from leadsla.rules.loader import load_rules
from leadsla.store import DuckDBStore

from .conftest import REPO

IST = ZoneInfo("Asia/Kolkata")


def ist(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=IST)


@cache
def shipped_rules() -> RuleSet:
    return load_rules(REPO / "sla_rules")


@contextmanager
def engine_db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store's schema and the shipped rules as tables, inside one
    transaction (as a tick runs the steps), rolled back at the end."""
    store = DuckDBStore(tmp_path / "steps.duckdb")
    try:
        register_rules(store.con, shipped_rules())
        store.begin()
        yield store.con
        store.rollback()
    finally:
        store.close()


def calendars(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """The calendar tables for the clocks in lead state (call after inserting the leads)."""
    cover_calendars(con, shipped_rules(), now)


def insert(con: duckdb.DuckDBPyConnection, table: str, **cols: Any) -> None:
    """One row of a stored table: the named columns, defaults for the rest."""
    names = ", ".join(cols)
    marks = ", ".join("?" for _ in cols)
    con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(cols.values()))


def lead(con: duckdb.DuckDBPyConnection, lead_id: str, created: datetime, **cols: Any) -> None:
    """A lead_state row: first seen and last exported at its creation unless given."""
    cols.setdefault("first_seen_at", created)
    cols.setdefault("last_export_at", cols["first_seen_at"])
    cols.setdefault("hop_started_at", created)
    insert(con, "lead_state", lead_id=lead_id, created_at=created, **cols)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def content_id(*parts: str) -> str:
    """The event id the SQL computes (``event_id_sql``): md5 of the parts joined by ``|``."""
    return hashlib.md5("|".join(parts).encode()).hexdigest()
