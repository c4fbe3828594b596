"""Benchmarks (``make bench``): each writes its figures into ``bench/out/results.json``."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_stamp() -> tuple[str, str]:
    """(when, commit) of a benchmark run: the UTC minute and the checkout's short commit."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")  # clock-edge: a bench run
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    return when, commit
