"""Catch-up is exact: one tick after any gap records the events that ticks every 5 minutes
record over the same exports (same ids, times, owners, targets and levels), each id once.

The exports come from the demo's generator (two CRMs, owners moved by hand in the CRM, leads
answered fast, late and never), cut to Monday's leads so a 5-minute replay stays quick; the
hand-written case pins the response that the first owner made before a reassignment and that
the CRM exported only after it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from leadsla.pipelines.tick import replay, run_tick
from leadsla.rules import load_rules
from leadsla.store import DuckDBStore, DuplicateEvent, check_new_events, event_count
from leadsla_demo import WEEK_START, generate_leads, write_exports

from .conftest import WriteLeads, outbox_rows, three_cadences

#: Monday 08:00 IST (the night's files load in the first tick) to Tuesday 14:00 IST: the
#: Monday leads' ladders, and the next-step clocks (one business day from the response) run out.
START = (WEEK_START + timedelta(hours=8)).astimezone(UTC)
END = START + timedelta(hours=30)  # a whole number of 2-hour ticks: all runs end at END
KEY = "event_id, event_type, lead_id, issue_id, occurred_at, owner, target, level"


def _log(db: Path) -> list[tuple[Any, ...]]:
    """Every decision the ticks recorded, with its details (delivery outcomes are not
    decisions)."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(
            f"SELECT {KEY}, CAST(details AS VARCHAR) FROM sla_events "
            "WHERE event_type NOT LIKE 'notification_%'"
        ).fetchall()


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rules = load_rules(Path(__file__).resolve().parent.parent / "sla_rules")
    cal = rules.business_calendars[rules.org.default_calendar]
    cutoff = WEEK_START + timedelta(days=1)
    leads = [ld for ld in generate_leads(cal) if ld.created_at < cutoff]  # Monday's
    out = tmp_path_factory.mktemp("catchup") / "exports"
    write_exports(leads, out)
    # keep the files of the replayed period only (the rest would only be loaded, not judged)
    for f in out.iterdir():
        stamp = datetime.strptime(f.stem.rsplit("_", 1)[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if stamp > END:
            f.unlink()
    return out


@pytest.mark.slow
def test_one_tick_after_a_gap_records_what_5_minute_ticks_record(
    rules_dir: Path, demo_exports: Path, tmp_path: Path
) -> None:
    every5, gap, every2h = three_cadences(rules_dir, demo_exports, tmp_path, START, END)
    ref = _log(every5)
    # the period has what makes catch-up hard: reassignments (of moved leads too), owners
    # moved in the CRM, and the qualification and next-step clocks that start at a response
    kinds = Counter(r[1] for r in ref)
    assert kinds["reassigned"] >= 3
    assert kinds["owner_changed"] >= 1
    with duckdb.connect(str(every5), read_only=True) as con:
        later = con.execute(
            "SELECT count(*) FROM sla_events WHERE rule_id LIKE 'high_next_step.%' "
            "OR rule_id LIKE '%qualification.%'"
        ).fetchall()[0][0]
        moved_and_answered = con.execute(
            "SELECT count(DISTINCT lead_id) FROM sla_events WHERE event_type = 'reassigned' "
            "AND lead_id IN (SELECT lead_id FROM sla_events WHERE event_type = 'first_response')"
        ).fetchall()[0][0]
    assert later >= 3
    assert moved_and_answered >= 1
    for db in (every5, gap, every2h):
        ids = [r[0] for r in _log(db)]
        assert len(ids) == len(set(ids)), db.name  # each event id once
    assert sorted(_log(gap)) == sorted(ref)
    assert sorted(_log(every2h)) == sorted(ref)
    # the same messages, too
    assert outbox_rows(gap) == outbox_rows(every5) == outbox_rows(every2h)
    assert len(outbox_rows(every5)) > 0


HIGH = {"form_type": "contact_form", "service_interest": "seo", "email": "a@x.io",
        "status": "new", "owner": "rahul"}  # fmt: skip


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-23T{hhmm}:00+05:30").astimezone(UTC)


@pytest.mark.slow
def test_a_response_is_credited_to_the_owner_the_export_shows_beside_it(
    rules_dir: Path, exports: Path, tmp_path: Path, write_leads: WriteLeads
) -> None:
    """Rahul answers at 10:00, after the 09:55 escalation and before the 10:05 reassignment;
    the CRM exports it at 10:30, still naming him. The reassignment stays (as of 10:05 nobody
    had answered), and the response and its recovery are Rahul's, at every cadence."""
    write_leads("20261123T040500Z", [{**HIGH, "lead_id": "R", "created_at": "2026-11-23 09:35"}])
    write_leads("20261123T050000Z", [{**HIGH, "lead_id": "R", "created_at": "2026-11-23 09:35",
                                      "status": "contacted",
                                      "first_response_at": "2026-11-23 10:00",
                                      "updated_at": "2026-11-23 10:00"}])  # fmt: skip
    logs = []
    for every in (timedelta(minutes=5), None):
        db = tmp_path / f"{every}.duckdb"
        if every is None:
            run_tick(rules_dir=rules_dir, exports=str(exports), db=db, now=at("12:00"))
        else:
            replay(rules_dir=rules_dir, exports=str(exports), db=db, start=at("09:30"),
                   end=at("12:00"), every=every)  # fmt: skip
        logs.append(sorted(_log(db)))
        by_type = {r[1]: r for r in logs[-1]}
        assert by_type["reassigned"][5] == "rahul"
        new_owner = by_type["reassigned"][6]
        assert new_owner not in (None, "rahul")
        assert by_type["first_response"][5] == "rahul"
        assert by_type["recovered_after_escalation"][5] == "rahul"
        assert by_type["sla_missed"][5] == "rahul"
    assert logs[0] == logs[1]


def test_a_repeated_event_id_is_refused_not_stored(tmp_path: Path) -> None:
    """The decision transaction's guard: a second row with an id the log holds (or two new
    rows with one id) fails the transaction, which then stores neither."""
    with DuckDBStore(tmp_path / "t.duckdb") as store:
        con = store.con
        row = (
            "(?, 'task_created', 'L', NULL, TIMESTAMPTZ '2026-11-23 04:05:00+00', "
            "TIMESTAMPTZ '2026-11-23 04:10:00+00', NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        con.execute(f"INSERT INTO sla_events VALUES {row}", ["a"])
        for ids in (["a"], ["b", "b"]):
            con.execute("BEGIN")
            first = event_count(con)
            for i in ids:
                con.execute(f"INSERT INTO sla_events VALUES {row}", [i])
            with pytest.raises(DuplicateEvent, match=ids[0]):
                check_new_events(con, first)
            con.execute("ROLLBACK")
        con.execute("BEGIN")
        first = event_count(con)
        con.execute(f"INSERT INTO sla_events VALUES {row}", ["c"])
        check_new_events(con, first)  # a new id passes
        con.execute("COMMIT")
        assert sorted(r[0] for r in con.execute("SELECT event_id FROM sla_events").fetchall()) == [
            "a",
            "c",
        ]


def test_the_id_check_compares_ids_when_only_a_hash_matches(tmp_path: Path) -> None:
    """The check scans 64-bit hashes of the stored ids: a hash that matches with no such id
    stored (a collision, forced here) passes, and keys written by someone else (more keys than
    events) are rebuilt from the log, which still catches a real repeat."""
    with DuckDBStore(tmp_path / "t.duckdb") as store:
        con = store.con
        row = (
            "(?, 'task_created', 'L', NULL, TIMESTAMPTZ '2026-11-23 04:05:00+00', "
            "TIMESTAMPTZ '2026-11-23 04:10:00+00', NULL, NULL, NULL, NULL, NULL, NULL)"
        )
        con.execute("BEGIN")
        first = event_count(con)
        con.execute(f"INSERT INTO sla_events VALUES {row}", ["a"])
        check_new_events(con, first)
        con.execute("UPDATE sla_event_keys SET k = hash('z')")  # a's key collides with z's
        con.execute("COMMIT")
        con.execute("BEGIN")
        first = event_count(con)
        con.execute(f"INSERT INTO sla_events VALUES {row}", ["z"])
        check_new_events(con, first)  # the hash matches, the ids do not: 'z' is new
        con.execute("COMMIT")
        con.execute("INSERT INTO sla_event_keys SELECT hash('y')")  # more keys than events
        con.execute("BEGIN")
        first = event_count(con)
        con.execute(f"INSERT INTO sla_events VALUES {row}", ["y"])
        con.execute(f"INSERT INTO sla_events VALUES {row}", ["a"])
        with pytest.raises(DuplicateEvent, match="a") as refused:
            check_new_events(con, first)  # rebuilt from the log, which holds 'a'
        assert "y" not in str(refused.value).split(": ", 1)[1].split(", ")
        con.execute("ROLLBACK")
        keys = con.execute("SELECT count(*) FROM sla_event_keys").fetchall()[0][0]
        assert keys == event_count(con) + 1  # the stray hash('y') is still there
