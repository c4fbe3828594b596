"""A database as a lead source: a real SQLite file queried through SQLAlchemy by a tick."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from leadsla.pipelines.tick import run_tick

SOURCE = """\
id: crm_db
crm: custom
entity: leads
sql:
  url_env: LEADSLA_TEST_CRM_URL
  query: >-
    SELECT id AS lead_id, created, form, interest, rep, stage FROM leads ORDER BY id
  export_every_minutes: 5
timezone: Asia/Kolkata
columns:
  lead_id: lead_id
  created_at: created
  form_type: form
  service_interest: interest
  owner: rep
  status: stage
status_map: {new: open, contacted: contacted}
response_signal: status_change
"""

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # Monday 10:30 in Kolkata


def _db(path: Path, rows: list[tuple[str, str, str, str, str, str]]) -> None:
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS leads "
            "(id TEXT PRIMARY KEY, created TEXT, form TEXT, interest TEXT, rep TEXT, stage TEXT)"
        )
        con.executemany("INSERT OR REPLACE INTO leads VALUES (?, ?, ?, ?, ?, ?)", rows)


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute(sql).fetchall()[0][0])


@pytest.mark.slow
def test_a_database_query_is_a_source(rules_dir: Path, exports: Path, tmp_path: Path) -> None:
    (rules_dir / "sources" / "crm_db.yaml").write_text(SOURCE)
    crm = tmp_path / "crm.sqlite"
    _db(crm, [("D1", "2026-11-23 10:20", "contact_form", "seo", "rahul", "new")])
    env = {"LEADSLA_TEST_CRM_URL": f"sqlite:///{crm}"}
    db = tmp_path / "t.duckdb"

    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW, env=env)
    assert _count(db, "SELECT count(*) FROM lead_state WHERE source_id = 'crm_db'") == 1
    assert _count(db, "SELECT count(*) FROM sla_events WHERE event_type = 'lead_received'") == 1
    snapshots = sorted((exports / "_sql").glob("crm_db_*.parquet"))
    assert [p.name for p in snapshots] == ["crm_db_20261123T050000Z.parquet"]

    # before export_every_minutes nothing is queried; an unchanged table writes nothing
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW + timedelta(minutes=2),
             env=env)  # fmt: skip
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW + timedelta(minutes=5),
             env=env)  # fmt: skip
    assert len(list((exports / "_sql").glob("*.parquet"))) == 1

    # a change in the database is a new snapshot: the response is seen, a new lead arrives
    _db(crm, [("D1", "2026-11-23 10:20", "contact_form", "seo", "rahul", "contacted"),
              ("D2", "2026-11-23 10:31", "booking", "ppc", "", "new")])  # fmt: skip
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW + timedelta(minutes=10),
             env=env)  # fmt: skip
    assert len(list((exports / "_sql").glob("*.parquet"))) == 2
    assert _count(db, "SELECT count(*) FROM lead_state WHERE source_id = 'crm_db'") == 2
    assert _count(db, "SELECT count(*) FROM sla_events WHERE event_type = 'first_response' "
                      "AND lead_id = 'D1'") == 1  # fmt: skip


def test_a_missing_url_is_recorded_and_the_tick_goes_on(
    rules_dir: Path, exports: Path, tmp_path: Path
) -> None:
    (rules_dir / "sources" / "crm_db.yaml").write_text(SOURCE)
    db = tmp_path / "t.duckdb"
    (exports / "leads_20261123T045500Z.csv").write_text(
        "lead_id,created_at,form_type,service_interest\nF1,2026-11-23 10:00,contact_form,seo\n"
    )
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=NOW, env={})
    with duckdb.connect(str(db), read_only=True) as con:
        [(status, reason)] = con.execute(
            "SELECT status, reason FROM export_manifest WHERE path = 'sql:crm_db'"
        ).fetchall()
    assert status == "failed"
    assert "LEADSLA_TEST_CRM_URL" in reason
    assert _count(db, "SELECT count(*) FROM lead_state WHERE lead_id = 'F1'") == 1
