"""Calls that reach a remote export store (any fsspec URL that is not a local path), bounded
in time.

fsspec has no timeout common to its back ends (s3fs, gcsfs, sftp, http each name their own, and
some have none for a server that accepts a connection and never answers), so each call runs
in a daemon thread and the tick stops waiting after ``LEADSLA_REMOTE_TIMEOUT`` seconds. The
thread is abandoned: it may finish later, writing only into a temporary folder the tick has
already discarded. A file whose transfer times out is recorded as unreadable and looked at
again next tick; a listing that times out is :class:`ExportsUnavailable` (exit 2).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from leadsla.ingest.files import ExportsUnavailable

T = TypeVar("T")

#: Seconds one remote call (a listing, a file's hash, a file's download) may take.
REMOTE_TIMEOUT_S = 120.0
ENV = "LEADSLA_REMOTE_TIMEOUT"


class RemoteTimeout(OSError):
    """A remote export store did not finish a call in time (an ``OSError``: the file is
    unreadable for now, like one that vanished)."""


def remote_timeout() -> float:
    """``LEADSLA_REMOTE_TIMEOUT`` seconds, or the default. A malformed value is one sentence
    (:class:`ExportsUnavailable`: exports cannot be read until it is fixed; exit 2)."""
    raw = os.environ.get(ENV, "")
    try:
        seconds = float(raw) if raw.strip() else REMOTE_TIMEOUT_S
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ExportsUnavailable(
            f"{ENV} must be a positive number of seconds, not {raw!r}; "
            f"unset it for {REMOTE_TIMEOUT_S:g}"
        )
    return seconds


def bounded(what: str, call: Callable[[], T], seconds: float | None = None) -> T:
    """The result of ``call()``, or :class:`RemoteTimeout` naming ``what`` after ``seconds``
    (:func:`remote_timeout` when None). Exceptions of the call are raised here."""
    limit = remote_timeout() if seconds is None else seconds
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="leadsla-remote", daemon=True).start()
    if not done.wait(limit):
        raise RemoteTimeout(
            f"{what} took longer than {limit:g} s ({ENV}): the remote store did not answer"
        )
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
