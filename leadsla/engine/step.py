"""What an engine step is: a name, the relations it reads, the one it returns, its SQL files.

SQL lives in package resources (``leadsla/engine/sql/<step>/<name>.sql``) so that it can be
linted, highlighted and read on its own. Files are Jinja templates rendered with
``StrictUndefined``: fragments shared by several statements are ``{% include %}``-d from
``sql/_fragments``, and the values a template may take are only SQL the engine builds from
validated rules (column lists, CASE expressions); data values are always bound parameters
(``$now``), never rendered into text. Every template also sees the event log's contract
(:mod:`leadsla.events`): ``event_id(...)`` (the SQL of a content id), ``event_cols`` (the column
list of ``sla_events``) and ``EventType``.
"""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import Any

import duckdb
import jinja2

from leadsla.calendars import sql as calendar_sql
from leadsla.events import EVENT_COLS, EventType, event_id_sql
from leadsla.sql import run

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("leadsla.engine", "sql"),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # SQL, not HTML: values are bound parameters, never rendered
    keep_trailing_newline=True,
)
# the event log's contract (leadsla.events), for every statement that writes events; the
# business-time SQL (``calendar.clock_sql(src)``, ``calendar.pos_sql(...)``), for every statement
# that needs it
_ENV.globals.update(
    event_id=event_id_sql, event_cols=EVENT_COLS, EventType=EventType, calendar=calendar_sql
)


@dataclass(frozen=True)
class EngineStep:
    """One engine step.

    ``reads``: the relations the step reads that it does not build itself (stored tables such as
    ``lead_state``, or work tables other steps return). ``returns``: the one relation it leaves
    for later steps (a work table, or the stored table it writes).
    """

    name: str
    reads: tuple[str, ...]
    returns: str

    def sql(self, statement: str, **context: Any) -> str:
        """The text of ``sql/<step>/<statement>.sql`` rendered with ``context``."""
        return render_sql(f"{self.name}/{statement}.sql", **context)

    def run(
        self,
        con: duckdb.DuckDBPyConnection,
        statement: str,
        params: dict[str, Any] | None = None,
        **context: Any,
    ) -> duckdb.DuckDBPyConnection:
        """Execute one of the step's statements, binding the ``params`` it uses."""
        return run(con, self.sql(statement, **context), params)


@cache
def _template(path: str) -> jinja2.Template:
    return _ENV.get_template(path)


@cache
def _rendered(path: str, context: tuple[tuple[str, Any], ...]) -> str:
    return _template(path).render(**dict(context))


def render_sql(path: str, **context: Any) -> str:
    """Render the SQL template at ``path`` (relative to ``leadsla/engine/sql``). A tick renders
    the same few texts again and again: a context of hashable values (names, flags, SQL built
    from rules) is rendered once per process."""
    key = tuple(sorted(context.items()))
    try:
        hash(key)
    except TypeError:  # an unhashable value: render each time
        return _template(path).render(**context)
    return _rendered(path, key)


def steps() -> list[EngineStep]:
    """Every step of the engine: the ``STEP`` of each module of this package."""
    import leadsla.engine as pkg

    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        step = getattr(import_module(f"leadsla.engine.{info.name}"), "STEP", None)
        if isinstance(step, EngineStep):
            found.append(step)
    return found


def sql_files(step: EngineStep) -> dict[str, str]:
    """The raw (unrendered) text of each SQL file of ``step``, by file name."""
    names = _ENV.list_templates(filter_func=lambda p: p.startswith(f"{step.name}/"))
    return {n: _ENV.loader.get_source(_ENV, n)[0] for n in names}  # type: ignore[union-attr]
