"""The tick is composed once: ``run_phases`` is the only sequence, and the phases over paths (the
flow's tasks) and over one open database (``Ticker``: CLI, replays, demo) record the same."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadsla.ingest import ExportFile
from leadsla.pipelines import tick
from leadsla.pipelines.load import descriptor, from_descriptor
from leadsla.pipelines.summary import TickSummary
from leadsla.rules import load_rules

from .conftest import REPO, WriteLeads

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 11:30 in Kolkata
RULES = load_rules(REPO / "sla_rules")


@dataclass
class PathPhases:
    """The phases as the flow runs them (each opens the database), minus Prefect; records the
    order in which ``run_phases`` calls them."""

    rules_dir: Path
    exports: str
    db: Path
    calls: list[str] = field(default_factory=list)

    def discover(self, now: datetime) -> dict[str, Any]:
        self.calls.append("discover")
        return tick.discover_phase(
            rules_dir=self.rules_dir, exports=self.exports, db=self.db, now=now
        )

    def load(self, files: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
        self.calls.append("load")
        return tick.load_phase(rules_dir=self.rules_dir, db=self.db, files=files, now=now)

    def evaluate(self, now: datetime, loaded: bool) -> dict[str, Any]:
        self.calls.append("evaluate")
        return tick.evaluate_phase(rules_dir=self.rules_dir, db=self.db, now=now, loaded=loaded)

    def record(self, now: datetime, later: list[dict[str, str]]) -> TickSummary:
        self.calls.append("record")
        return tick.record_phase(db=self.db, now=now, later=later)

    def deliver(self, now: datetime) -> None:
        self.calls.append("deliver")


def _events(db: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT event_id, event_type, lead_id, CAST(details AS VARCHAR) FROM sla_events "
            "ORDER BY event_id"
        ).fetchall()


@pytest.mark.slow
def test_phases_over_paths_and_ticker_record_the_same(
    rules_dir: Path, exports: Path, write_leads: WriteLeads, tmp_path: Path
) -> None:
    write_leads(
        "20261123T053000Z",
        [
            {"lead_id": "L1", "created_at": "2026-11-23 10:40", "name": "A", "email": "a@x.io",
             "form_type": "contact_form", "service_interest": "seo", "owner": "rahul"},
            {"lead_id": "L2", "created_at": "2026-11-23 10:50", "name": "B", "email": "b@x.io",
             "form_type": "newsletter", "owner": "sneha"},
            {"lead_id": "L3", "created_at": "not a time", "name": "C"},
        ],
    )  # fmt: skip
    # a file for a later tick: both must leave it and say so
    write_leads("20261123T070000Z", [{"lead_id": "L4", "created_at": "2026-11-23 12:20"}])
    by_paths, by_ticker = tmp_path / "paths.duckdb", tmp_path / "ticker.duckdb"
    phases = PathPhases(rules_dir, str(exports), by_paths)
    summaries: list[tuple[TickSummary | None, TickSummary | None]] = []
    with tick.Ticker(rules_dir=rules_dir, exports=str(exports), db=by_ticker) as ticker:
        for now in (NOW, NOW + timedelta(minutes=30), NOW + timedelta(hours=2)):
            ran = tick.run_phases(phases, now)
            summaries.append((ran.recorded, ticker.tick(now)))
    assert _events(by_paths) == _events(by_ticker)
    assert len(_events(by_paths)) > 6
    for a, b in summaries:
        assert a is not None
        assert b is not None
        assert a.markdown == b.markdown
    assert summaries[0][0] is not None
    assert [f.name for f in summaries[0][0].later] == ["leads_20261123T070000Z.csv"]
    # load only on the ticks that found files; record before deliver, every time
    assert phases.calls == [
        "discover", "load", "evaluate", "record", "deliver",
        "discover", "evaluate", "record", "deliver",
        "discover", "load", "evaluate", "record", "deliver",
    ]  # fmt: skip


SOURCES = st.sampled_from([None, *RULES.sources])


@given(
    f=st.builds(
        ExportFile,
        url=st.text(min_size=1),
        name=st.text(min_size=1),
        source=SOURCES,
        export_at=st.datetimes(timezones=st.just(UTC)),
        export_at_from=st.sampled_from(["name", "mtime"]),
        size=st.integers(min_value=0, max_value=2**40),
        checksum=st.text(),
        mtime=st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
        problem=st.one_of(st.none(), st.text()),
    )
)
def test_a_file_crosses_the_task_boundary_whole(f: ExportFile) -> None:
    # every field of ExportFile is carried: a field added later and not carried fails here
    d = descriptor(f)
    assert {x.name for x in dataclasses.fields(ExportFile)} <= set(d) | {"source"}
    assert from_descriptor(d, RULES) == f
