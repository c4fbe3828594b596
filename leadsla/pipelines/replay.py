"""What a replay over archived exports ticks at, and the exports listed once for all its ticks.

A tick is a pure function of the exports, the rules and ``now``, and every step is judged as of
its threshold (a catch-up tick records what ticks every few minutes record). So a replay needs
to tick only where something can change: at the start of the period (what was exported before
it), at each export time inside it, and at its end (:func:`replay_times`). A cadence (``every``)
stays for simulating a schedule; both record the same step events, with the same ids.

The archived folder is listed and hashed once (:func:`list_once`), not once per tick: each tick
takes the files dated at or before it (:meth:`Listing.take`), as a live tick's discovery would
have found them. The folder must not change during the replay (it is an archive). A source
whose one file implies many exports (a history) is listed as one export per implied time, so
its times slot in like any other file's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from leadsla.ingest import ExportFile
from leadsla.pipelines.load import discover_files
from leadsla.rules import RuleSet


@dataclass
class Listing:
    """The exports of a replay, listed once, in export-time order. A file with a ``problem``
    (not a regular file, changing) stays listed, so each later tick looks at it again, as a
    live tick would."""

    files: list[ExportFile]
    _next: int = field(default=0, init=False)
    _retry: list[ExportFile] = field(default_factory=list, init=False)

    def take(self, now: datetime) -> list[ExportFile]:
        """The files a tick at ``now`` loads: those dated at or before ``now`` not taken yet,
        and those that could not be read before."""
        start = self._next
        while self._next < len(self.files) and self.files[self._next].export_at <= now:
            self._next += 1
        taken = self._retry + self.files[start : self._next]
        self._retry = [f for f in taken if f.problem is not None]
        return taken

    def export_times(self) -> list[datetime]:
        """Each distinct export time, in order."""
        return sorted({f.export_at for f in self.files})


def list_once(
    con: duckdb.DuckDBPyConnection, rules: RuleSet, exports: str, end: datetime
) -> Listing:
    """The files of ``exports`` dated at or before ``end`` that the database has not settled
    yet (archived files only: database sources are not pulled in a replay)."""
    return Listing(discover_files(con, rules, exports, end))


def replay_times(
    export_times: Iterable[datetime], start: datetime, end: datetime, every: timedelta | None
) -> list[datetime]:
    """The ticks of a replay from ``start`` to ``end`` (inclusive): every ``every`` when a
    cadence is given, else at ``start``, at each export time after it up to ``end``, and at
    ``end``."""
    if end < start:
        return []
    if every is not None:
        if every <= timedelta(0):
            raise ValueError("the replay's cadence must be positive")
        n = int((end - start) / every)
        return [start + i * every for i in range(n + 1)]
    inside = {t for t in export_times if start < t < end}
    return sorted(inside | {start, end})
