"""The replay benchmark's ServiceNow-shaped year (``bench/servicenow_year.py``) is data the
shipped rules load whole: a generator that drifts from the canonical issue record would make
``make bench`` measure quarantine, or stop it."""

from __future__ import annotations

import csv
from datetime import UTC, timedelta
from pathlib import Path

import duckdb

from bench.servicenow_year import working_hours, write_year
from leadsla.pipelines.tick import run_tick


def test_a_small_year_loads_whole_with_the_shipped_rules(rules_dir: Path, tmp_path: Path) -> None:
    exports, db = tmp_path / "sn", tmp_path / "sn.duckdb"
    hours = 12
    files = write_year(exports, incidents=150, hours=hours)
    assert files == len(list(exports.glob("issues_*.csv"))) > 0
    incidents, rows = set(), 0
    for f in exports.glob("*.csv"):
        with f.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                incidents.add(row["issue_id"])
                rows += 1
    end = (working_hours(hours)[-1] + timedelta(hours=1)).astimezone(UTC)
    run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=end)  # catch-up: every file
    with duckdb.connect(str(db), read_only=True) as con:
        status, loaded, quarantined = con.execute(
            "SELECT list_distinct(list(status)), sum(rows_loaded), sum(rows_quarantined) "
            "FROM export_manifest"
        ).fetchall()[0]
        issues = con.execute("SELECT count(*) FROM issue_state").fetchall()[0][0]
    assert status == ["loaded"]
    assert (loaded, quarantined) == (rows, 0)
    assert issues == len(incidents)
