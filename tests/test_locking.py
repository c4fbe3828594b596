"""Readers and overlaps: a process reading the working file, or another writer, never makes a
tick fail with a raw DuckDB lock traceback, and two ticks never write at once.

Every process here is real (``subprocess``): DuckDB's lock and ``flock`` are per process, so a
second connection in the test's own process would prove nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from leadsla.cli import EXIT_BUSY

from .conftest import REPO, WriteLeads

HIGH = {"form_type": "contact_form", "service_interest": "seo", "email": "a@x.io",
        "status": "new", "owner": "rahul"}  # fmt: skip
NOW = "2026-11-23T10:40:00+05:30"

#: A process that opens ``argv[1]`` (``reader``: read-only, as an analyst would; ``writer``: a
#: leadsla store, as a tick would), says "ready", and holds it until its stdin closes.
HOLDER = """
import sys, duckdb
from leadsla.store import DuckDBStore
if sys.argv[2] == "reader":
    con = duckdb.connect(sys.argv[1], read_only=True)
else:
    store = DuckDBStore(sys.argv[1])
print("ready", flush=True)
sys.stdin.read()
"""


def _env(wait: float) -> dict[str, str]:
    return {**os.environ, "LEADSLA_DB_WAIT": str(wait), "PYTHONPATH": str(REPO)}


def _tick(rules: Path, exports: Path, db: Path, wait: float) -> subprocess.Popen[str]:
    args = ["tick", "--now", NOW, "--rules", str(rules), "--exports", str(exports)]
    return subprocess.Popen(
        [sys.executable, "-m", "leadsla.cli", *args, "--db", str(db)],
        env=_env(wait),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _hold(db: Path, how: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db), how],
        env=_env(5),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    proc.stdout.close()


def _event_ids(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT event_id FROM sla_events").fetchall()]


def _lead(write_leads: WriteLeads) -> None:
    write_leads("20261123T040500Z", [{**HIGH, "lead_id": "H", "created_at": "2026-11-23 09:35"}])


@pytest.mark.slow
def test_a_reader_on_the_working_file_gets_a_clear_sentence_then_the_tick_runs(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    _lead(write_leads)
    db = tmp_path / "leadsla.duckdb"
    duckdb.connect(str(db)).close()  # the file an analyst opens
    reader = _hold(db, "reader")
    try:
        tick = _tick(rules_dir, exports, db, wait=1)
        _, err = tick.communicate(timeout=120)
        assert tick.returncode == EXIT_BUSY, err
        assert "Traceback" not in err
        # one sentence: who holds it (the pid DuckDB reports), how long we waited, what to open
        assert f"pid {reader.pid}" in err
        assert "waited 1 s" in err
        assert "leadsla_marts.duckdb" in err
        assert len(err.strip().splitlines()) == 1
    finally:
        _release(reader)
    tick = _tick(rules_dir, exports, db, wait=1)
    out, err = tick.communicate(timeout=120)
    assert tick.returncode == 0, err
    assert "reassigned" in out
    assert _event_ids(db)


@pytest.mark.slow
def test_a_second_writer_is_told_who_holds_the_file(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    _lead(write_leads)
    db = tmp_path / "leadsla.duckdb"
    holder = _hold(db, "writer")
    try:
        tick = _tick(rules_dir, exports, db, wait=1)
        _, err = tick.communicate(timeout=120)
        assert tick.returncode == EXIT_BUSY, err
        assert "Traceback" not in err
        assert f"leadsla.duckdb is being written by pid {holder.pid} (" in err
        assert "waited 1 s" in err
    finally:
        _release(holder)
    # the kernel dropped the lock with its holder: the next tick runs
    tick = _tick(rules_dir, exports, db, wait=1)
    _, err = tick.communicate(timeout=120)
    assert tick.returncode == 0, err


@pytest.mark.slow
def test_two_ticks_at_once_write_one_after_the_other(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    """Both started together on an empty database: the second waits for the first (the bound
    is generous), then finds everything recorded and adds nothing; each event once."""
    _lead(write_leads)
    db = tmp_path / "leadsla.duckdb"
    ticks = [_tick(rules_dir, exports, db, wait=120) for _ in range(2)]
    results = [(t.wait(timeout=240), t.communicate()[1]) for t in ticks]
    assert [code for code, _ in results] == [0, 0], results
    ids = _event_ids(db)
    assert len(ids) == len(set(ids)) > 10
    ref = tmp_path / "ref.duckdb"
    alone = _tick(rules_dir, exports, ref, wait=1)
    assert alone.wait(timeout=120) == 0
    assert sorted(ids) == sorted(_event_ids(ref))
