"""The store's schema: the event log's table (:mod:`leadsla.events`) and the others
(``schema.sql``, a package resource), as the statements every backend runs on open."""

from __future__ import annotations

import re
from importlib.resources import files

from leadsla.events import EVENTS_DDL

#: Schema of the work tables a transaction builds (``CREATE TABLE work.x``); ``schema.sql``
#: creates it. They live in the database file's catalog, so they get its row groups (temp
#: tables always have DuckDB's default, whatever the file says), and a commit drops them first
#: (:func:`leadsla.store.duckdb.drop_work`), so none reaches the WAL or outlives its
#: transaction. Outside a transaction (reading an export, delivery) work stays in temp tables.
WORK_SCHEMA = "work"

#: A statement of ``schema.sql`` ends with ``;`` at the end of its line (a comment may follow).
_END = re.compile(r";[ \t]*(?:--[^\n]*)?\n")


def _statements(text: str) -> list[str]:
    parts = (p.strip() for p in _END.split(text))
    return [p for p in parts if any(ln.strip() and not ln.strip().startswith("--")
                                    for ln in p.splitlines())]  # fmt: skip


#: What shadow rules decided (:mod:`leadsla.pipelines.shadow`): the event log's columns, beside
#: it, never read by delivery or the CRM write-back.
SHADOW_EVENTS_DDL = EVENTS_DDL.replace("sla_events", "shadow_events", 1)

#: Every statement that makes a store's schema, in order (each is idempotent).
SCHEMA_DDL: list[str] = [
    EVENTS_DDL,
    SHADOW_EVENTS_DDL,
    *_statements(files("leadsla.store").joinpath("schema.sql").read_text(encoding="utf-8")),
]
