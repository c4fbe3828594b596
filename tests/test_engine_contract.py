"""The engine's steps name what they share: read from their SQL files, not from their docs.

A work table that one step builds and another reads must be the builder's ``returns`` and be in
the reader's ``reads``; each step's ``reads`` lists only relations it really reads, so the
declarations cannot drift from the SQL.
"""

from __future__ import annotations

import re

import pytest

from leadsla.engine.step import EngineStep, sql_files, steps

_CREATES = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?TABLE\s+work\.(\w+)", re.I)
_READS = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(?:work\.)?([a-z_][a-z0-9_]*)\b", re.I)
#: a relation handed by name to a fragment (``{{ first_clocks("clock_leads") }}``,
#: ``{{ calendar.clock_sql("due_src") }}``) is read by the statement that hands it
_PASSED = re.compile(r"\(\s*\"(?:work\.)?([a-z_][a-z0-9_]*)\"\s*\)", re.I)


def _bare(name: str) -> str:
    return name.lower().removeprefix("work.")


def _created(step: EngineStep) -> set[str]:
    return {m for text in sql_files(step).values() for m in _CREATES.findall(text)}


def _read(step: EngineStep) -> set[str]:
    return {
        m.lower()
        for text in sql_files(step).values()
        for pattern in (_READS, _PASSED)
        for m in pattern.findall(text)
    }


def test_steps_are_declared() -> None:
    names = [s.name for s in steps()]
    assert len(names) == len(set(names)), "two engine modules declare the same step name"


@pytest.mark.parametrize("step", steps(), ids=lambda s: s.name)
def test_shared_work_tables_are_named_by_both_steps(step: EngineStep) -> None:
    builders = {t: s for s in steps() for t in _created(s)}
    for table in _read(step) - _created(step):
        other = builders.get(table)
        if other is None:
            continue  # a stored table or a table function
        assert table == _bare(other.returns), f"{step.name} reads {table}, private to {other.name}"
        declared = {_bare(r) for r in step.reads}
        assert table in declared, f"{step.name} reads {table} ({other.name}) without naming it"


@pytest.mark.parametrize("step", steps(), ids=lambda s: s.name)
def test_step_reads_what_it_declares(step: EngineStep) -> None:
    missing = {_bare(r) for r in step.reads} - _read(step)
    assert not missing, f"{step.name} declares reads it does not do: {sorted(missing)}"
