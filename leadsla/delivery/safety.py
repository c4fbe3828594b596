"""What leaves leadsla is made safe here: text for messages and cells for CSV files.

CRM exports are written by other people's software and edited by hand, so any value may hold
control characters or a spreadsheet formula. Every message part passes :func:`clean_line`
(subjects, recipients: one line) or :func:`clean_text` (bodies, webhook strings), applied in
one place, :class:`leadsla.delivery.senders.Outgoing`; every CSV the project writes goes
through :func:`write_csv`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

#: C0 controls except tab and line feed, DEL, C1 controls, and the bidirectional embedding,
#: override and isolate controls (they make text read differently from what it says).
_STRIP = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: What ends a line anywhere: CR LF, CR, LF, the Unicode line and paragraph separators.
_BREAKS = re.compile(r"\r\n?|[\u2028\u2029]")
_SPACES = re.compile(r"[\t\n]+")

#: First characters a spreadsheet reads as the start of a formula (OWASP's list, plus the
#: fullwidth forms some spreadsheets accept as the same operators).
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
#: What a reader does not see before a cell's first character: white space, line breaks,
#: zero-width characters, a byte-order mark.
_LEAD = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]*")


def clean_text(value: str) -> str:
    """A body: line breaks become ``\\n``, tabs stay, every other control character goes."""
    return _STRIP.sub("", _BREAKS.sub("\n", value))


def clean_line(value: str, limit: int | None = None) -> str:
    """A header value (subject, recipient): one line, no control characters; line breaks and
    tabs become one space (no header injection), trimmed, at most ``limit`` characters."""
    text = _SPACES.sub(" ", clean_text(value)).strip()
    return text[:limit].rstrip() if limit is not None else text


def clean_json(value: Any) -> Any:
    """Every string in a JSON-like value (webhook payload), keys too, as :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def csv_cell(value: Any) -> Any:
    """One CSV cell a spreadsheet shows as text: control characters gone, and a text that a
    spreadsheet would run as a formula (its first character, or the first after leading
    spaces and line breaks, is one of ``= + - @``, a tab or a CR) gets a leading apostrophe
    (OWASP's advice). Numbers stay numbers; times become ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return value  # a number cannot be a formula; its sign is not an operator
    if isinstance(value, datetime | date):
        return value.isoformat()
    raw = str(value)
    text = clean_text(raw)
    first = _LEAD.sub("", text, count=1)[:1]  # the leading run (the first match is at 0)
    if raw[:1] in FORMULA_START or first in FORMULA_START:
        return "'" + text
    return text


def write_csv(fh: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header and rows, every cell through :func:`csv_cell`: the one CSV writer of what
    leadsla hands to people and other systems (the review's attachments, CRM write-back)."""
    w = csv.writer(fh)
    w.writerow([csv_cell(h) for h in header])
    w.writerows([csv_cell(v) for v in row] for row in rows)
