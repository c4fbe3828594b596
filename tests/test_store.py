"""The storage seam: one factory opens a store whose schema is the contract's."""

from __future__ import annotations

import os
import re
from importlib.resources import files
from pathlib import Path

import pytest

from leadsla.events import COLUMNS
from leadsla.settings import SettingsInvalid
from leadsla.store import SCHEMA_DDL, WORK_SCHEMA, DuckDBStore, StoreBusy, db_wait, open_store
from leadsla.store.schema import _statements

STORED = {"sla_events", "export_manifest", "quarantine", "lead_state", "issue_state",
          "lead_history", "activities", "outbox", "rr_state", "tick_log",
          "sla_event_keys", "shadow_events"}  # fmt: skip


def _catalog(store: DuckDBStore) -> tuple[set[str], set[str], set[str]]:
    con = store.con
    q = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
    tables = {r[0] for r in con.execute(q).fetchall()}
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal")
             .fetchall()}  # fmt: skip
    schemas = {r[0] for r in con.execute("SELECT schema_name FROM duckdb_schemas()").fetchall()}
    return tables, views, schemas


def test_open_store_makes_the_schema_once(tmp_path: Path) -> None:
    db = tmp_path / "leadsla.duckdb"
    with open_store(db) as store:
        first = _catalog(store)
        cols = [r[0] for r in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sla_events' "
            "ORDER BY ordinal_position").fetchall()]  # fmt: skip
    assert first[0] == STORED
    assert "ops_review_queue" in first[1]
    assert WORK_SCHEMA in first[2]
    assert cols == [name for name, _ in COLUMNS]
    with open_store(db) as store:  # every statement is idempotent
        assert _catalog(store) == first
    with open_store(db, read_only=True) as store:
        assert store.lock is None
        assert _catalog(store)[0] == STORED


def test_schema_statements_split_at_line_ends_only() -> None:
    text = "-- a comment; not an end\nCREATE TABLE a (x INT);  -- trailing\n\n-- only a comment\n"
    text += "CREATE VIEW v AS SELECT ';' AS s;\n"
    assert _statements(text) == [
        "-- a comment; not an end\nCREATE TABLE a (x INT)",
        "-- only a comment\nCREATE VIEW v AS SELECT ';' AS s",  # comments go with the next
    ]
    # every statement of schema.sql is whole: it starts where a line starts with CREATE or ALTER
    schema = (files("leadsla.store") / "schema.sql").read_text()
    starts = re.findall(r"(?m)^(?:CREATE|ALTER)\b", schema)
    bodies = [re.sub(r"(?m)^\s*--.*$", "", d).strip() for d in SCHEMA_DDL]
    assert all(b.split()[0] in ("CREATE", "ALTER") for b in bodies)
    assert len(SCHEMA_DDL) == 2 + len(starts)  # the event log, the shadow's, then schema.sql


@pytest.mark.parametrize(("raw", "wait"), [("", 30.0), ("2.5", 2.5), (" ", 30.0)])
def test_db_wait_reads_its_variable(monkeypatch: pytest.MonkeyPatch, raw: str, wait: float) -> None:
    monkeypatch.setenv("LEADSLA_DB_WAIT", raw)
    assert db_wait() == wait


def test_a_bad_db_wait_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADSLA_DB_WAIT", "soon")
    with pytest.raises(StoreBusy, match="LEADSLA_DB_WAIT must be a number of seconds"):
        db_wait()


@pytest.mark.parametrize("raw", ["", "1", "2"])
def test_the_thread_count_comes_from_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str
) -> None:
    monkeypatch.setenv("LEADSLA_DUCKDB_THREADS", raw)
    default = DuckDBStore(tmp_path / "d.duckdb")
    threads = default.con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    default.close()
    assert threads == (int(raw) if raw else os.cpu_count())


@pytest.mark.parametrize("raw", ["abc", "0", "-1", "1.5"])
def test_a_bad_thread_count_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str
) -> None:
    monkeypatch.setenv("LEADSLA_DUCKDB_THREADS", raw)
    with pytest.raises(SettingsInvalid, match=r"LEADSLA_DUCKDB_THREADS=.* is not a number"):
        DuckDBStore(tmp_path / "d.duckdb")
