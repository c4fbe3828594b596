"""Shadow rules: a candidate rule set evaluated beside the live one on the same exports, its
decisions kept in ``shadow_events`` (the event log's columns) and nothing else.

The shadow keeps its own state in a scratch database beside the live one
(``<db>.shadow.duckdb``) and ticks there at the live tick's ``now`` with no channels, so no
message is sent, no CRM file written and the live outbox is never touched. Catch-up is exact
(every step is judged as of its threshold), so a shadow started late, or after a skipped tick,
records what a shadow running all along would have. Its decisions (every event but delivery
outcomes) are then copied into the live database's ``shadow_events``, each once: a copy takes
the shadow's events recorded after the newest one already copied, so a crash between the two
only delays them to the next tick.

When the candidate changes (another rules version than the shadow database last ran), the
shadow starts afresh from all exports and ``shadow_events`` is emptied: it always holds one
candidate's decisions.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from leadsla.pipelines.tick import Ticker
from leadsla.rules import load_rules
from leadsla.sql import run, scalar
from leadsla.store import open_store, transaction


def shadow_db(db: Path) -> Path:
    """The shadow's scratch database, beside the live one."""
    return db.with_name(f"{db.stem}.shadow{db.suffix or '.duckdb'}")


def _last_version(db: Path) -> str | None:
    if not db.exists():
        return None
    with open_store(db, read_only=True) as store:
        version: str | None = scalar(
            store.con, "SELECT rules_version FROM tick_log ORDER BY now DESC LIMIT 1"
        )
    return version


def shadow_tick(*, shadow_rules: Path, exports: str, db: Path, now: datetime) -> int:
    """Evaluate ``shadow_rules`` at ``now`` beside the live database ``db`` and copy its new
    decisions into ``shadow_events``; returns how many were copied."""
    sdb = shadow_db(Path(db))
    fresh = _last_version(sdb) not in (None, load_rules(shadow_rules).version)
    if fresh:
        for f in (sdb, sdb.with_name(sdb.name + ".wal")):
            f.unlink(missing_ok=True)
    with Ticker(rules_dir=shadow_rules, exports=exports, db=sdb) as t:  # no channels, no env
        t.tick(now, summary=False)
    with open_store(db) as store:
        path = str(sdb).replace("'", "''")
        store.con.execute(f"ATTACH '{path}' AS shadow (READ_ONLY)")
        try:
            with transaction(store) as con:
                if fresh:
                    con.execute("DELETE FROM shadow_events")
                before = int(scalar(con, "SELECT count(*) FROM shadow_events"))
                run(
                    con,
                    """
                    INSERT INTO shadow_events
                    SELECT * FROM shadow.sla_events
                    WHERE event_type NOT LIKE 'notification_%'
                      AND recorded_at > coalesce((SELECT max(recorded_at) FROM shadow_events),
                                                 '-infinity'::TIMESTAMPTZ)
                    """,
                )
                return int(scalar(con, "SELECT count(*) FROM shadow_events")) - before
        finally:
            store.con.execute("DETACH shadow")
