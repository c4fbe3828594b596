"""Exports on a remote store (an fsspec URL) can never block a tick: every call that reaches
the store (listing, hashing, downloading) is bounded by ``LEADSLA_REMOTE_TIMEOUT``.

The store here is a fake: no S3, SFTP or HTTP server can run on this machine, and what matters
is a store that accepts a call and never answers. ``StallingFS`` is fsspec's in-memory file
system whose reads (or listings) wait on a gate the test opens when it is done.
"""

from __future__ import annotations

import csv
import io
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from leadsla.ingest import ExportsUnavailable
from leadsla.pipelines.tick import run_tick

from .conftest import LEAD_HEADER

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)


class StallingFS(MemoryFileSystem):
    """In-memory files; the reads of a file named ``*stalled*`` after the first
    ``reads_before_stall`` ones, and listings when ``stall_listing``, wait for ``gate``."""

    protocol = "stallmem"
    gate: ClassVar[threading.Event] = threading.Event()
    reads_before_stall: ClassVar[int] = 0
    stall_listing: ClassVar[bool] = False
    reads: ClassVar[dict[str, int]] = {}

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "r" in mode and "stalled" in path:
            n = self.reads.get(path, 0)
            self.reads[path] = n + 1
            if n >= self.reads_before_stall:
                self.gate.wait()
        return super()._open(path, mode, **kwargs)

    def find(self, path: str, *args: Any, **kwargs: Any) -> Any:
        if self.stall_listing:
            self.gate.wait()
        return super().find(path, *args, **kwargs)


fsspec.register_implementation("stallmem", StallingFS, clobber=True)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh folder on the stalling store; the gate is opened at the end so that the
    abandoned threads finish."""
    StallingFS.gate = threading.Event()
    StallingFS.reads = {}
    StallingFS.reads_before_stall = 0
    StallingFS.stall_listing = False
    monkeypatch.setenv("LEADSLA_REMOTE_TIMEOUT", "0.5")
    root = f"stallmem://exports-{uuid.uuid4().hex}"
    yield root
    StallingFS.gate.set()


def _put(root: str, name: str, lead_id: str) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=LEAD_HEADER)
    w.writeheader()
    at = "2026-11-23T04:30:00Z"
    row = {"lead_id": lead_id, "created_at": at, "email": "a@example.com",
           "form_type": "contact_form", "status": "new", "updated_at": at}  # fmt: skip
    w.writerow(dict.fromkeys(LEAD_HEADER, "") | row)
    fs, path = fsspec.core.url_to_fs(f"{root}/{name}")
    fs.pipe(path, buf.getvalue().encode())


def _manifest(db: Path) -> dict[str, tuple[str, str | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT path, status, reason FROM export_manifest").fetchall()
    return {p.rsplit("/", 1)[-1]: (s, r) for p, s, r in rows}


def _leads(db: Path) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT lead_id FROM lead_state").fetchall()}


@pytest.mark.slow
@pytest.mark.parametrize(("reads_before_stall", "what"), [(0, "hashing"), (1, "downloading")])
def test_a_stalled_file_is_unreadable_for_now_and_loads_once_the_store_answers(
    store: str, rules_dir: Path, tmp_path: Path, reads_before_stall: int, what: str
) -> None:
    StallingFS.reads_before_stall = reads_before_stall
    _put(store, "leads_20261123T043500Z.csv", "L-ok")
    _put(store, "leads_20261123T044000Z_stalled.csv", "L-late")
    db = tmp_path / "t.duckdb"
    run_tick(rules_dir=rules_dir, exports=store, db=db, now=NOW)
    manifest = _manifest(db)
    assert manifest["leads_20261123T043500Z.csv"][0] == "loaded"
    status, reason = manifest["leads_20261123T044000Z_stalled.csv"]
    assert status == "unreadable"
    assert what in (reason or "")
    assert "took longer than 0.5 s (LEADSLA_REMOTE_TIMEOUT)" in (reason or "")
    assert _leads(db) == {"L-ok"}
    StallingFS.gate.set()  # the store answers again
    run_tick(rules_dir=rules_dir, exports=store, db=db, now=NOW + timedelta(minutes=5))
    assert _manifest(db)["leads_20261123T044000Z_stalled.csv"][0] == "loaded"
    assert _leads(db) == {"L-ok", "L-late"}


def test_a_listing_that_never_answers_is_one_sentence(
    store: str, rules_dir: Path, tmp_path: Path
) -> None:
    _put(store, "leads_20261123T043500Z.csv", "L-ok")
    StallingFS.stall_listing = True
    with pytest.raises(ExportsUnavailable, match=r"listing stallmem://.*took longer than 0\.5 s"):
        run_tick(rules_dir=rules_dir, exports=store, db=tmp_path / "t.duckdb", now=NOW)


def test_a_malformed_timeout_is_one_sentence(
    store: str, rules_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(store, "leads_20261123T043500Z.csv", "L-ok")
    monkeypatch.setenv("LEADSLA_REMOTE_TIMEOUT", "soon")
    with pytest.raises(ExportsUnavailable, match="LEADSLA_REMOTE_TIMEOUT must be a positive"):
        run_tick(rules_dir=rules_dir, exports=store, db=tmp_path / "t.duckdb", now=NOW)
