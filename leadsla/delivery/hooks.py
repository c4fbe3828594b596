"""Test hooks of delivery: ``LEADSLA_CRASH_AT`` names a point where the process kills itself
(SIGKILL), to prove a crash anywhere loses nothing and sends nothing twice
(tests/test_delivery.py). It is never set in production."""

from __future__ import annotations

import os
import signal

CRASH_POINTS = ("noise", "marked", "sent", "recorded", "crm_written")


def crash_point(name: str) -> None:
    """Test hook (see the module docstring): SIGKILL this process at ``name``."""
    if os.environ.get("LEADSLA_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
