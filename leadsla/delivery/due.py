"""Which outbox rows a delivery run may send now."""

from __future__ import annotations

#: Due now, on a channel this run can use at all ($live); the rest waits untouched.
DUE = """
    o.status IN ('pending', 'deferred', 'sending') AND o.next_attempt_at <= $now
    AND list_contains($live, o.channel)
"""
