"""Replay at the speed of the data: without a cadence a replay ticks at its start, at each export
time and at its end, and records what ticks every 5 minutes record over the same exports (same
event ids, times, owners, targets, levels and details; the same outbox rows).

The exports come from the demo's generators (two CRMs, owners moved by hand, leads answered
fast, late and never, issues raised on them, exported as 30-minute deltas), cut to the first
hours of Monday so the 5-minute replay stays quick; the property test draws small export sets
and a cadence at random."""

from __future__ import annotations

import csv
import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsla.cli import main
from leadsla.ingest import ExportFile
from leadsla.pipelines.replay import Listing, replay_times
from leadsla.pipelines.tick import replay
from leadsla.rules import load_rules
from leadsla_demo import (
    WEEK_START,
    generate_issues,
    generate_leads,
    write_exports,
    write_issue_exports,
)

from .conftest import LEAD_HEADER, LEAD_ROW, REPO

#: Monday 08:00 IST (the night's files load in the first tick) to 17:00 IST: escalations,
#: reassignments, owners moved in the CRM, issues raised, answered and climbing.
START = (WEEK_START + timedelta(hours=8)).astimezone(UTC)
END = START + timedelta(hours=9)
KEY = "event_id, event_type, lead_id, issue_id, occurred_at, owner, target, level"
#: what an outbox row says and to whom; ``created_at`` is the tick that wrote it
OUTBOX = "message_id, event_id, event_type, lead_id, issue_id, channel, recipient, team, urgency"


def _stamp(f: Path) -> datetime:
    return datetime.strptime(f.stem.rsplit("_", 1)[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _log(db: Path) -> list[tuple[Any, ...]]:
    """Every decision recorded, with its details (delivery outcomes are not decisions)."""
    with duckdb.connect(str(db), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(
            f"SELECT {KEY}, CAST(details AS VARCHAR) FROM sla_events "
            "WHERE event_type NOT LIKE 'notification_%'"
        ).fetchall()
    return sorted((*r[:-1], json.loads(r[-1]) if r[-1] else None) for r in rows)


def _outbox(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(con.execute(f"SELECT {OUTBOX}, status FROM outbox").fetchall())


def _ticks(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM tick_log").fetchall()[0][0])


@pytest.fixture(scope="module")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rules = load_rules(REPO / "sla_rules")
    cal = rules.business_calendars[rules.org.default_calendar]
    leads = generate_leads(cal)
    out = tmp_path_factory.mktemp("replay") / "exports"
    write_exports(leads, out, rules.sources)
    write_issue_exports(generate_issues(leads, cal), out)
    for f in out.iterdir():  # what was exported by END: the leads and issues of the period
        if _stamp(f) > END:
            f.unlink()
    return out


@pytest.mark.slow
def test_replay_at_export_times_records_what_5_minute_ticks_record(
    rules_dir: Path, demo_exports: Path, tmp_path: Path
) -> None:
    every5, fast = tmp_path / "every5.duckdb", tmp_path / "fast.duckdb"
    ticks5 = replay(rules_dir=rules_dir, exports=str(demo_exports), db=every5, start=START,
                    end=END, every=timedelta(minutes=5))  # fmt: skip
    ticks = replay(rules_dir=rules_dir, exports=str(demo_exports), db=fast, start=START, end=END)
    stamps = {_stamp(f) for f in demo_exports.iterdir()}
    assert ticks == len({t for t in stamps if START < t < END} | {START, END})
    assert ticks < ticks5 / 2
    assert _ticks(fast) == ticks
    ref = _log(every5)
    kinds = Counter(r[1] for r in ref)
    # the period holds what a replay at export times could get wrong: steps due between two
    # exports, reassignments, owners moved in the CRM, responses, and issues climbing
    for kind in ("reassigned", "owner_changed", "first_response", "escalated",
                 "issue_escalated", "issue_responded"):  # fmt: skip
        assert kinds[kind] >= 1, kind
    ids = [r[0] for r in _log(fast)]
    assert len(ids) == len(set(ids))  # each event id once
    assert _log(fast) == ref
    assert _outbox(fast) == _outbox(every5)
    assert len(_outbox(every5)) > 0


#: the canonical lead rows the property test draws from: answered, moved and never answered
VARIANTS = [
    {},
    {"status": "contacted", "first_response_at": "2026-11-23 10:20",
     "updated_at": "2026-11-23 10:20"},
    {"owner": "sneha", "updated_at": "2026-11-23 10:40"},
    {"status": "disqualified", "updated_at": "2026-11-23 11:00"},
]  # fmt: skip


@st.composite
def export_sets(draw: st.DrawFn) -> list[tuple[datetime, list[dict[str, str]]]]:
    """One to four exports between 09:30 and 12:30 IST, each a snapshot of some of three
    leads created at 09:30, 09:50 and 10:10, each in one of the variants (as of its export)."""
    base = datetime.fromisoformat("2026-11-23T09:30:00+05:30").astimezone(UTC)
    minutes = draw(st.lists(st.integers(0, 180), min_size=1, max_size=4, unique=True))
    out = []
    for m in sorted(minutes):
        at = base + timedelta(minutes=m)
        rows = []
        for i, created in enumerate(("09:30", "09:50", "10:10")):
            if base + timedelta(minutes=20 * i) > at or not draw(st.booleans()):
                continue
            variant = VARIANTS[draw(st.integers(0, len(VARIANTS) - 1))]
            changed = variant.get("updated_at", "2026-11-23 00:00")
            if datetime.fromisoformat(changed + ":00+05:30") > at:
                variant = {}  # not exported before it happened
            rows.append({**LEAD_ROW, "lead_id": f"P{i}", "created_at": f"2026-11-23 {created}",
                         **variant})  # fmt: skip
        out.append((at, rows))
    return out


@pytest.mark.slow
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(exports=export_sets(), every=st.sampled_from([5, 10, 25, 60]))
def test_any_cadence_records_what_export_times_record(
    rules_dir: Path, tmp_path_factory: pytest.TempPathFactory,
    exports: list[tuple[datetime, list[dict[str, str]]]], every: int,
) -> None:  # fmt: skip
    folder = tmp_path_factory.mktemp("prop")
    (folder / "exports").mkdir()
    for at, rows in exports:
        path = folder / "exports" / f"leads_{at:%Y%m%dT%H%M%SZ}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=LEAD_HEADER)
            w.writeheader()
            w.writerows({k: r.get(k, "") for k in LEAD_HEADER} for r in rows)
    start = datetime.fromisoformat("2026-11-23T09:30:00+05:30").astimezone(UTC)
    end = start + timedelta(hours=3, minutes=30)
    cadence, fast = folder / "cadence.duckdb", folder / "fast.duckdb"
    replay(rules_dir=rules_dir, exports=str(folder / "exports"), db=cadence, start=start,
           end=end, every=timedelta(minutes=every))  # fmt: skip
    replay(rules_dir=rules_dir, exports=str(folder / "exports"), db=fast, start=start, end=end)
    assert _log(fast) == _log(cadence)
    assert _outbox(fast) == _outbox(cadence)


T0 = datetime(2026, 11, 23, 4, tzinfo=UTC)
instants = st.integers(-600, 600).map(lambda m: T0 + timedelta(minutes=m))


@given(exports=st.lists(instants, max_size=12), a=instants, b=instants)
def test_ticks_at_the_start_each_export_time_inside_and_the_end(
    exports: list[datetime], a: datetime, b: datetime
) -> None:
    start, end = min(a, b), max(a, b)
    times = replay_times(exports, start, end, None)
    assert times == sorted(set(times))  # in order, each once
    assert times[0] == start
    assert times[-1] == end
    assert set(times) - {start, end} == {t for t in exports if start < t < end}
    assert replay_times(exports, end + timedelta(minutes=1), end, None) == []


@given(a=instants, b=instants, every=st.integers(1, 300))
def test_a_cadence_ticks_from_the_start_to_the_last_tick_at_or_before_the_end(
    a: datetime, b: datetime, every: int
) -> None:
    start, end, step = min(a, b), max(a, b), timedelta(minutes=every)
    times = replay_times([T0], start, end, step)
    assert times[0] == start
    assert all(later - earlier == step for earlier, later in itertools.pairwise(times))
    assert times[-1] <= end < times[-1] + step


def _file(name: str, at: datetime, problem: str | None = None) -> ExportFile:
    return ExportFile(
        url=f"/x/{name}", name=name, source=None, export_at=at, export_at_from="filename",
        size=1, checksum=name, problem=problem,
    )  # fmt: skip


def test_each_tick_takes_what_was_exported_by_then_once_and_retries_unreadable_files() -> None:
    a, b, bad, c = (_file("a", T0), _file("b", T0 + timedelta(hours=1)),
                    _file("bad", T0 + timedelta(hours=1), "a FIFO"),
                    _file("c", T0 + timedelta(hours=2)))  # fmt: skip
    listing = Listing([a, b, bad, c])
    assert listing.export_times() == [a.export_at, b.export_at, c.export_at]
    assert listing.take(T0 - timedelta(minutes=1)) == []
    assert listing.take(T0 + timedelta(minutes=90)) == [a, b, bad]
    assert listing.take(T0 + timedelta(minutes=100)) == [bad]  # looked at again, as live
    assert listing.take(T0 + timedelta(hours=3)) == [bad, c]


def test_the_cli_replays_at_export_times_without_every(
    rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in ("leads_20261123T040000Z", "leads_20261123T043000Z", "leads_b_20261123T043000Z"):
        with (exports / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=LEAD_HEADER)
            w.writeheader()
            w.writerow({k: {**LEAD_ROW, "created_at": "2026-11-23 09:20"}.get(k, "")
                        for k in LEAD_HEADER})  # fmt: skip
    db = tmp_path / "r.duckdb"
    period = ["--from", "2026-11-23T03:00:00Z", "--to", "2026-11-23T06:00:00Z"]
    code = main(["replay", "--rules", str(rules_dir), "--exports", str(exports), "--db", str(db),
                 *period, "--json"])  # fmt: skip
    assert code == 0
    assert json.loads(capsys.readouterr().out)["ticks"] == 4  # from, two export times, to
    assert _ticks(db) == 4
    assert any(r[1] == "escalated" for r in _log(db))  # judged between the export and --to
