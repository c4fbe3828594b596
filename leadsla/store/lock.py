"""One writer per database file, across processes, with a bounded wait (``LEADSLA_DB_WAIT``)."""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, ClassVar

#: Seconds a command waits for the database file before giving up with :class:`StoreBusy`;
#: ``LEADSLA_DB_WAIT`` overrides it. Ticks hold the file for seconds; a tick that waits longer
#: than this fails clearly and the next one catches up (steps are judged as of their threshold).
DB_WAIT_S = 30.0

#: Seconds between two looks at a busy file.
POLL_S = 0.2


class StoreBusy(OSError):
    """The database file stayed held by another process for the whole wait. Its message is one
    sentence naming who holds it; an ``OSError`` so the flow's I/O retries treat it as such."""


def db_wait() -> float:
    """The bounded wait for the database file (``LEADSLA_DB_WAIT`` seconds)."""
    raw = os.environ.get("LEADSLA_DB_WAIT", "")
    try:
        return float(raw) if raw.strip() else DB_WAIT_S
    except ValueError:
        raise StoreBusy(
            f"LEADSLA_DB_WAIT must be a number of seconds, not {raw!r}; unset it for {DB_WAIT_S:g}"
        ) from None


def _command() -> str:
    """What this process is, for the lock file: ``leadsla tick``, ``prefect ...``."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:2]])


class WriterLock:
    """One writer per database file, across processes: an exclusive ``fcntl.flock`` on
    ``<db>.lock``, which says who holds it (pid, command, since when). Every command that
    writes (tick, replay, demo, deliver, issue raise, each flow phase) takes it by opening a
    :class:`DuckDBStore`; a second writer waits up to the bound, then fails with one sentence
    naming the holder. The kernel drops the lock when its process dies (``kill -9`` too), so a
    stale file never blocks anyone. Within one process it is re-entrant (a store opened while
    another is open on the same file shares the hold)."""

    _held: ClassVar[dict[Path, tuple[IO[str], int]]] = {}
    _guard = threading.Lock()

    def __init__(self, db: Path, wait: float) -> None:
        self.path = db.with_name(db.name + ".lock").resolve()
        self._taken = False
        with self._guard:
            if self.path in self._held:
                fh, n = self._held[self.path]
                self._held[self.path] = (fh, n + 1)
                self._taken = True
                return
        fh = self.path.open("a+", encoding="utf-8")
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    fh.close()
                    raise StoreBusy(
                        f"{db.name} is being written by {holder}; waited {wait:g} s"
                    ) from None
                time.sleep(POLL_S)
        since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # clock-edge: for people only
        fh.truncate(0)
        fh.write(f"pid {os.getpid()} ({_command()}, since {since})\n")
        fh.flush()
        with self._guard:
            self._held[self.path] = (fh, 1)
        self._taken = True

    def release(self) -> None:
        if not self._taken:
            return
        self._taken = False
        with self._guard:
            fh, n = self._held[self.path]
            if n > 1:
                self._held[self.path] = (fh, n - 1)
                return
            del self._held[self.path]
        fh.truncate(0)
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        fh.close()
