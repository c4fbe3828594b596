"""How the review says things to a manager: codes of the marts in plain words, durations in days,
hours and minutes, times in the org's zone, and lists that say when they are cut.

The marts keep their codes (analysts filter on them); only the rendered report translates. A
code this module does not know yet still reads as words (underscores become spaces), so an
internal name never reaches a manager as such.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

#: rpt_held_back.held_back_kind, in a manager's words.
HELD_BACK_WORDS = {
    "suppressed": "Messages not sent: the lead was answered meanwhile",
    "deferred": "Messages held back until quiet hours ended",
    "dead": "Messages that could not be delivered",
    "feed_lag_step": "Reminders or escalations sent only because the CRM export showed the "
    "answer late",
}

#: rpt_sop_mistakes.mistake, in a manager's words.
MISTAKE_WORDS = {
    "escalated_without_details": "Issue escalated without the details the SOP requires",
    "no_admin_note_after_escalation": "No admin note on the lead after an escalation",
    "issue_raised_long_after_stall": "Issue raised long after the lead's deadline passed "
    "unanswered",
}

#: Issue escalation levels as the headline names them (0: the feed gave no level).
ISSUE_LEVEL_WORDS = {0: "level not given"}


def words(code: object, table: dict[str, str]) -> str:
    """``code`` in a manager's words: from ``table``, else the code with spaces."""
    text = str(code)
    return table.get(text) or text.replace("_", " ").capitalize()


def level_label(level: int) -> str:
    """``L2``, or the words for a level the feed did not give."""
    return ISSUE_LEVEL_WORDS.get(level, f"L{level}")


def duration(minutes: float | None) -> str:
    """Whole minutes as a manager reads them: ``45 min``, ``1 h 47 min``, ``4 d 10 h``."""
    if minutes is None:
        return "n/a"
    total = round(minutes)
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(total, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {mins} min"
    return f"{sign}{mins} min"


def local_time(value: datetime | None, zone: str) -> str:
    """A mart time (UTC) in the org's zone, which the report's header names."""
    if value is None:
        return "n/a"
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def shown(title: str, rows: int, total: int) -> str:
    """A table title that says when the list is cut: ``... (10 of 17 shown)``."""
    return f"{title} ({rows} of {total} shown)" if total > rows else title
