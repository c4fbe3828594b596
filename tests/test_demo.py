"""The demo end to end: a week of two CRMs' exports through the real tick, every lead event
type from lead_received to outcome_logged, and the same event log when run again."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from leadsla.cli import main

REPO = Path(__file__).resolve().parent.parent
LEAD_EVENT_TYPES = {
    "lead_received", "intent_classified", "lead_assigned", "task_created", "reminder_sent",
    "escalated", "reassigned", "owner_changed", "status_changed", "first_response", "sla_met",
    "sla_missed", "outcome_logged", "recovered_after_escalation", "row_quarantined",
}  # fmt: skip
ISSUE_EVENT_TYPES = {"issue_raised", "issue_rejected", "issue_escalated", "issue_responded",
                     "issue_resolved"}  # fmt: skip


def log(db: Path, folder: Path | None = None) -> list[tuple[object, ...]]:
    """The event log, the demo folder's path written as ``DIR`` (a quarantined row's event id
    is derived from its file's path, so its details stand for it)."""
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "SELECT CASE WHEN event_type = 'row_quarantined' THEN 'DIR' ELSE event_id END AS id, "
        "event_type, occurred_at, recorded_at, owner, target, level, "
        "replace(CAST(details AS VARCHAR), $dir, 'DIR') AS d FROM sla_events ORDER BY id, d",
        {"dir": str(folder or "\0")},
    ).fetchall()
    con.close()
    return rows


@pytest.mark.slow
def test_demo_week_shows_every_event_and_reproduces(
    demo_week: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    """The session's demo week (replayed every 2 hours: the same leads and event types at a
    quarter of the ticks) against the same command run again into a copy of its folder."""
    db = demo_week / "leadsla.duckdb"
    first = log(db, demo_week)
    assert {r[1] for r in first} >= LEAD_EVENT_TYPES | ISSUE_EVENT_TYPES
    assert {r[6] for r in first if r[1] == "issue_escalated"} == {1, 2, 3}
    con = duckdb.connect(str(db), read_only=True)
    # both sources loaded, the bad row quarantined with its line, no file failed
    assert con.execute("SELECT count(DISTINCT source_id) FROM lead_state").fetchall() == [(2,)]
    statuses = dict(
        con.execute("SELECT status, count(*) FROM export_manifest GROUP BY 1").fetchall()
    )
    # an unchanged overnight snapshot is an identical re-export: a recorded no-op
    assert set(statuses) == {"loaded", "duplicate"}
    assert statuses["loaded"] > 100
    assert con.execute("SELECT line FROM quarantine").fetchall() == [(3,)]
    con.close()
    # again into a copy of the folder (exports and database as the first run left them), so
    # the session's review build stays as it is for the reporting tests; the replay only
    again = tmp_path / "again"
    shutil.copytree(demo_week, again, ignore=shutil.ignore_patterns("warehouse*", "reports"))
    args = ["demo", "--out", str(again), "--rules", str(REPO / "sla_rules"), "--every", "2h",
            "--no-report"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "SLA met" in printed
    assert "issue escalations by level: L1:" in printed
    assert str(again / "leadsla.duckdb") in printed
    assert "report:" not in printed
    # the same events, with file paths in the new folder
    assert log(again / "leadsla.duckdb", again) == first
