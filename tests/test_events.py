"""The event log's contract (leadsla.events): one table, one id in SQL and Python, one list of
event types that every statement writing or reading an event type keeps to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsla.engine.step import render_sql
from leadsla.events import (
    COLUMNS,
    CRM_EVENTS,
    EVENT_COLS,
    EVENTS_DDL,
    LEAD_STEP_EVENTS,
    EventType,
    content_id,
    event_id_sql,
    insert_events,
)
from leadsla.rules.delivery_models import NotifiedEvent

REPO = Path(__file__).resolve().parent.parent
TYPES = {e.value for e in EventType}

# Where SQL names an event type: compared with event_type, in an IN list or list of types, as
# the event_type column right after a minted id, or as a quoted part of an id.
_COMPARED = re.compile(r"event_type\s*(?:=|<>|!=)\s*'(\w+)'", re.I)
_IN_LIST = re.compile(r"event_type\s+(?:NOT\s+)?IN\s*\(([^)]*)\)", re.I)
_AFTER_ID = re.compile(r"(?:event_id_sql\(|event_id\()[^\n]*?\)\s*\}{1,2},\s*'(\w+)'")
_ID_PART = re.compile(r"""(?:event_id_sql\(|event_id\()[^\n]*?"'([a-z_]+)'\"""")
_KIND = re.compile(r"'([a-z_]+)'\s+AS\s+kind\b")
_QUOTED = re.compile(r"'(\w+)'")


def _sources() -> dict[str, str]:
    """Every SQL resource of the engine and every Python module of the package."""
    files = [*(REPO / "leadsla").rglob("*.sql"), *(REPO / "leadsla").rglob("*.py")]
    return {str(p.relative_to(REPO)): p.read_text(encoding="utf-8") for p in files}


def _named_types() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, text in _sources().items():
        hits = set(_COMPARED.findall(text)) | set(_AFTER_ID.findall(text))
        hits |= set(_ID_PART.findall(text)) | set(_KIND.findall(text))
        for group in _IN_LIST.findall(text):
            hits |= set(_QUOTED.findall(group))
        for t in hits:
            found.setdefault(t, set()).add(name)
    return found


def test_every_event_type_the_code_names_is_in_the_enumeration() -> None:
    found = _named_types()
    # the scan must see the statements that write events, or it proves nothing
    assert len(set(found) & TYPES) >= 15, sorted(found)
    unknown = {t: sorted(where) for t, where in found.items() if t not in TYPES}
    # an id part that is not a type ('x', a channel) never matches the shape of one
    assert not unknown, f"event types not in leadsla.events.EventType: {unknown}"


def test_groups_and_the_routable_events_are_members() -> None:
    assert set(LEAD_STEP_EVENTS) <= set(EventType)
    assert set(CRM_EVENTS) <= set(EventType)
    routable = set(get_args(NotifiedEvent))
    assert routable <= TYPES, routable - TYPES
    assert {e.value for e in LEAD_STEP_EVENTS} <= routable


def test_the_table_has_the_contract_columns_in_order() -> None:
    con = duckdb.connect()
    con.execute(EVENTS_DDL)
    cols = con.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'sla_events' ORDER BY ordinal_position"
    ).fetchall()
    assert [c[0] for c in cols] == [name for name, _ in COLUMNS]
    assert EVENT_COLS.split(", ") == [c[0] for c in cols]
    not_null = {c[0] for c in cols if c[2] == "NO"}
    assert not_null == {"event_id", "event_type", "occurred_at", "recorded_at"}


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


_CON = duckdb.connect()  # one connection for every example: connecting dominates the cost


@settings(deadline=None)  # a shared CI machine; nothing here is about time
@given(st.lists(_TEXT, min_size=1, max_size=5))
def test_sql_and_python_mint_the_same_id(parts: list[str]) -> None:
    """The id DuckDB computes from the SQL (:func:`event_id_sql`, also the ``event_id`` of the
    engine's templates) equals :func:`content_id` for any text, separators included."""
    params = [f"$p{i}" for i in range(len(parts))]
    sql_fn = event_id_sql(*params)
    sql_tpl = render_sql_text("{{ event_id(" + ", ".join(repr(p) for p in params) + ") }}")
    assert sql_tpl == sql_fn
    got = _CON.execute(f"SELECT {sql_fn}", {f"p{i}": p for i, p in enumerate(parts)}).fetchall()[0][
        0
    ]
    assert got == content_id(*parts)


def render_sql_text(source: str) -> str:
    """Render a template string in the engine's Jinja environment (its globals included)."""
    from leadsla.engine.step import _ENV

    return _ENV.from_string(source).render()


def test_events_built_in_python_land_with_their_types() -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(EVENTS_DDL)
    from datetime import UTC, datetime

    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    rows = [
        {"event_id": content_id("i1", EventType.ISSUE_ESCALATED, "2"), "level": 2,
         "event_type": EventType.ISSUE_ESCALATED.value, "issue_id": "i1", "occurred_at": at,
         "recorded_at": at, "details": '{"level": 2}'},
    ]  # fmt: skip
    insert_events(con, rows)
    got = con.execute(
        "SELECT event_id, event_type, level, details->>'level', lead_id FROM sla_events"
    ).fetchall()
    assert got == [(content_id("i1", "issue_escalated", "2"), "issue_escalated", 2, "2", None)]


def test_the_quarantine_template_renders_the_contract() -> None:
    text = render_sql("merge/quarantine_events.sql")
    assert f"INSERT INTO sla_events ({EVENT_COLS})" in text
    assert "md5(concat_ws('|'" in text


def test_every_type_the_demo_wrote_is_in_the_enumeration(demo_week: Path) -> None:
    con = duckdb.connect(str(demo_week / "leadsla.duckdb"), read_only=True)
    written = {r[0] for r in con.execute("SELECT DISTINCT event_type FROM sla_events").fetchall()}
    con.close()
    assert len(written) >= 15
    assert written <= TYPES, written - TYPES
