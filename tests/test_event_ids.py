"""Each event id is stored once, on the load path too: a fact that really happens again (a
rewritten file with the same bad line) gets an id of its own, so nothing is refused as a
repeat and no id is stored twice."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from leadsla.pipelines.tick import run_tick

from .conftest import LEAD_ROW as ROW
from .conftest import WriteLeads

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _events(db: Path, kind: str) -> list[tuple[str, int]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT event_id, count(*) FROM sla_events WHERE event_type = ? GROUP BY 1", [kind]
        ).fetchall()
    return [(str(i), int(n)) for i, n in rows]


@pytest.mark.slow
def test_a_rewritten_file_with_the_same_bad_line_is_quarantined_again(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    db = tmp_path / "t.duckdb"
    rows = [ROW, {**ROW, "lead_id": "L2", "created_at": "soon"}]
    path = write_leads("20261123T050000Z", rows)
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW)
    write_leads("20261123T050000Z", [*rows, {**ROW, "lead_id": "L3"}])  # same name, new content
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW + timedelta(hours=1))
    quarantined = _events(db, "row_quarantined")
    assert len(quarantined) == 2  # line 3 of each version of the file
    assert all(n == 1 for _, n in quarantined)
