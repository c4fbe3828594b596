"""History exports (``format: history``): a file of changes, each row a record's full state at
its own time, replays to the same events as the snapshot files it implies; a file that grows
loads only what is new; a tick at ``now`` loads only the implied exports dated by then; bad rows
are quarantined once, with file and line."""

from __future__ import annotations

import csv
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from leadsla.ingest import discover
from leadsla.pipelines.tick import Ticker
from leadsla.rules import load_rules

from .conftest import LEAD_HEADER, REPO

#: Monday 2026-11-23 04:00 UTC = 09:30 in Kolkata: change times fall in office hours.
T0 = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
HISTORY_SOURCE = """
id: lead_history
crm: custom
entity: leads
glob: "history_leads*"
format: history
history: {{changed_at: changed, {every}}}
timezone: UTC
status_map: {{new: open, working: answered, contacted: contacted, qualified: qualified,
              lost: lost}}
response_signal: first_response_at
"""
HEADER = [*LEAD_HEADER, "changed"]
STATUSES = ["new", "working", "contacted", "qualified", "lost"]
OWNERS = ["rahul", "sneha", "amit", ""]


def _rules(tmp: Path, every: str | None) -> Path:
    rules = tmp / "sla_rules"
    shutil.copytree(REPO / "sla_rules", rules)
    (rules / "sources" / "lead_history.yaml").write_text(
        HISTORY_SOURCE.format(every=f"every: {every}" if every else ""), encoding="utf-8"
    )
    return rules


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")  # both sources read the zone


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})


def _bucket(t: datetime, every: timedelta | None) -> datetime:
    if every is None:
        return t
    n = -(-int(t.timestamp()) // int(every.total_seconds()))  # ceil: stamped at the bucket's end
    return datetime.fromtimestamp(n * every.total_seconds(), UTC)


def _snapshots(rows: list[dict[str, str]], every: timedelta | None) -> dict[datetime, list[dict]]:
    """The snapshot files a history implies: at each export time, every lead's last row."""
    times = sorted({_bucket(datetime.fromisoformat(r["changed"]), every) for r in rows})
    out = {}
    for at in times:
        state: dict[str, dict[str, str]] = {}
        for r in rows:
            if datetime.fromisoformat(r["changed"]) <= at:
                state[r["lead_id"]] = r
        out[at] = list(state.values())
    return out


def _events(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(
            con.execute(
                "SELECT event_id, event_type, lead_id, occurred_at, owner, target, level "
                "FROM sla_events"
            ).fetchall()
        )


def _replay(rules: Path, exports: Path, db: Path, ticks: list[datetime]) -> list[tuple[Any, ...]]:
    with Ticker(rules_dir=rules, exports=str(exports), db=db) as t:
        for now in ticks:
            t.tick(now, summary=False)
    return _events(db)


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, str]]:
    """A few leads, each created then changed a few times, rows in change-time order (two
    rows may share a time, as in a real audit log)."""
    rows = []
    for i in range(draw(st.integers(1, 3))):
        created = T0 + timedelta(minutes=draw(st.integers(0, 120)))
        t = created
        first_response = ""
        for _ in range(draw(st.integers(1, 4))):
            status = draw(st.sampled_from(STATUSES))
            if status != "new" and not first_response and draw(st.booleans()):
                first_response = _fmt(t)
            rows.append({
                "lead_id": f"L{i}", "created_at": _fmt(created), "name": f"Lead {i}",
                "email": f"l{i}@x.io", "form_type": "contact_form", "service_interest": "seo",
                "owner": draw(st.sampled_from(OWNERS)), "status": status,
                "first_response_at": first_response, "updated_at": _fmt(t), "changed": _fmt(t),
            })  # fmt: skip
            t += timedelta(minutes=draw(st.sampled_from([0, 7, 30, 95])))
    rows.sort(key=lambda r: r["changed"])
    return rows


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # an example takes seconds
)
@given(rows=histories(), every=st.sampled_from([None, "1h"]))
def test_a_history_replays_to_the_events_of_the_snapshots_it_implies(
    rows: list[dict[str, str]], every: str | None
) -> None:
    step = timedelta(hours=1) if every else None
    snaps = _snapshots(rows, step)
    end = max(snaps) + timedelta(hours=6)  # the ladder's later steps come due
    ticks = sorted(snaps) + [max(snaps) + timedelta(minutes=m) for m in (30, 90, 180, 360)]
    assert ticks[-1] == end
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        rules = _rules(tmp, every)
        hist, snap = tmp / "hist", tmp / "snap"
        hist.mkdir()
        snap.mkdir()
        _write(hist / "history_leads.csv", HEADER, rows)
        for at, state in snaps.items():
            _write(snap / f"leads_{at:%Y%m%dT%H%M%SZ}.csv", LEAD_HEADER, state)
        from_history = _replay(rules, hist, tmp / "h.duckdb", ticks)
        from_snapshots = _replay(rules, snap, tmp / "s.duckdb", ticks)
    assert from_history == from_snapshots
    assert any(e[1] == "lead_received" for e in from_history)


def _manifest(t: Ticker) -> list[tuple[Any, ...]]:
    rows = t.store.con.execute(
        "SELECT path, export_at, status, rows_read, rows_loaded, rows_quarantined "
        "FROM export_manifest ORDER BY recorded_at, export_at"
    ).fetchall()
    return [(r[0], r[1].astimezone(UTC), *r[2:]) for r in rows]


def _row(lead: str, t: datetime, status: str = "new", **kw: str) -> dict[str, str]:
    return {"lead_id": lead, "created_at": _fmt(T0), "name": lead, "email": "a@x.io",
            "form_type": "contact_form", "service_interest": "seo", "owner": "rahul",
            "status": status, "updated_at": _fmt(t), "changed": _fmt(t), **kw}  # fmt: skip


def test_a_tick_loads_only_implied_exports_dated_by_now_and_a_grown_file_only_its_new_rows(
    tmp_path: Path,
) -> None:
    rules = _rules(tmp_path, None)
    exports = tmp_path / "exports"
    exports.mkdir()
    f = exports / "history_leads.csv"
    t1, t2, t3 = T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)
    _write(f, HEADER, [_row("L1", t1), _row("L2", t2), _row("L1", t3, "working")])
    later: list[Any] = []
    found = discover(str(exports), load_rules(rules).sources, t2, later=later)
    assert [x.export_at for x in found] == [t1, t2]
    assert [x.export_at for x in later] == [t3]
    db = tmp_path / "db.duckdb"
    with Ticker(rules_dir=rules, exports=str(exports), db=db) as t:
        t.tick(t2, summary=False)
        assert [(m[1], m[3]) for m in _manifest(t)] == [(t1, 1), (t2, 1)]
        t.tick(t3, summary=False)
        assert [(m[1], m[2], m[3]) for m in _manifest(t)][2:] == [(t3, "loaded", 1)]
        t.tick(t3, summary=False)  # nothing new: nothing loaded again
        assert len(_manifest(t)) == 3
        # the file grows: only the new change time is a new export
        t4 = T0 + timedelta(minutes=30)
        _write(f, HEADER, [_row("L1", t1), _row("L2", t2), _row("L1", t3, "working"),
                           _row("L2", t4, "contacted")])  # fmt: skip
        t.tick(t4, summary=False)
        manifest = _manifest(t)
    assert [(m[1], m[2], m[3], m[4]) for m in manifest[3:]] == [(t4, "loaded", 1, 1)]
    assert all(m[0].endswith(f"#at={m[1]:%Y%m%dT%H%M%SZ}") for m in manifest)


def test_bad_rows_are_quarantined_once_with_file_and_line(tmp_path: Path) -> None:
    rules = _rules(tmp_path, None)
    exports = tmp_path / "exports"
    exports.mkdir()
    f = exports / "history_leads.csv"
    t1, t2 = T0, T0 + timedelta(minutes=10)
    _write(f, HEADER, [_row("L1", t1), {**_row("L2", t1), "changed": "not a time"},
                       _row("L3", t2), {**_row("", t2)}])  # fmt: skip
    with f.open("a", encoding="utf-8") as fh:  # a record with too many fields, line 6
        fh.write("L9,x,y,z,1,2,3,4,5,6,7,8,9,10,11,12,13,14\n")
    db = tmp_path / "db.duckdb"
    with Ticker(rules_dir=rules, exports=str(exports), db=db) as t:
        t.tick(t2, summary=False)
        t.tick(t2 + timedelta(hours=1), summary=False)
    with duckdb.connect(str(db), read_only=True) as con:
        quarantined = con.execute(
            "SELECT file, line, reason FROM quarantine ORDER BY line"
        ).fetchall()
        loaded = con.execute("SELECT lead_id FROM lead_state ORDER BY 1").fetchall()
    assert loaded == [("L1",), ("L3",)]
    assert [q[1] for q in quarantined] == [3, 5, 6]
    assert quarantined[0][0].endswith(f"history_leads.csv#at={t1:%Y%m%dT%H%M%SZ}")
    assert "change time" in quarantined[0][2]
    assert all(q[0].endswith(f"#at={t2:%Y%m%dT%H%M%SZ}") for q in quarantined[1:])


def test_a_history_source_needs_its_change_time_header(tmp_path: Path) -> None:
    rules = _rules(tmp_path, None)
    src = rules / "sources" / "lead_history.yaml"
    src.write_text(src.read_text().replace("history: {changed_at: changed, }", ""))
    with pytest.raises(Exception, match="format history needs history"):
        load_rules(rules)
