"""Progress for long commands (demo, replay, report): what is being done, how far, and an
estimate of the time left, on the terminal's standard error.

Library code reports through a plain callable, :data:`Report` (``what``, ``done``, ``total``),
and never imports rich; the CLI passes :meth:`Bar.report` of a :class:`Bar`, which draws with
rich only when standard error is a terminal and ``--json`` is not given, and is silent
otherwise (a pipe, a log file, a scheduler).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

#: ``report(what, done, total)``: ``what`` names the stage ("replaying ticks"); ``done`` of
#: ``total`` units are finished (``total`` None: a stage without a count, shown as a spinner).
Report = Callable[[str, int, int | None], None]


def silent(what: str, done: int, total: int | None) -> None:
    """A :data:`Report` that shows nothing."""


class Bar:
    """A rich progress display with one line per stage; a no-op when ``enabled`` is false or
    standard error is not a terminal."""

    def __init__(self, *, enabled: bool = True) -> None:
        from rich.console import Console

        console = Console(stderr=True)
        self.enabled = enabled and console.is_terminal
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            )

    def report(self, what: str, done: int, total: int | None) -> None:
        """The :data:`Report` to hand to library code. A new ``what`` finishes the stage
        before it and starts a line of its own."""
        if self._progress is None:
            return
        task = self._tasks.get(what)
        if task is None:
            self._finish_all()
            task = self._tasks[what] = self._progress.add_task(what, total=total)
        self._progress.update(task, completed=done, total=total)

    def _finish_all(self) -> None:
        for task in self._progress.tasks:
            if not task.finished:
                total = task.total or 1
                self._progress.update(task.id, total=total, completed=total)

    def __enter__(self) -> Bar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            if exc is None:
                self._finish_all()
            self._progress.stop()
