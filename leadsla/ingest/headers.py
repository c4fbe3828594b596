"""A CSV file's header: its names read once, refused when it has none, a name twice or a name
the reader uses; and what a header looks like, told without quoting it (the first row of a
file with no header is a customer's data)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from leadsla.ingest.encoding import BOM_BE, BOM_LE, BOM_UTF8, HEAD_BYTES
from leadsla.ingest.fields import HELPER_COLS
from leadsla.ingest.files import BadFile
from leadsla.rules.column_models import spec_headers
from leadsla.rules.records import ENTITY_FIELDS
from leadsla.rules.source_models import Source


def csv_header(head: bytes, enc: str, source: Source) -> list[str]:
    """Column names from the first record of ``head``: a byte order mark (or a stray one) is
    dropped, names are trimmed, an empty one is called ``column<N>``. The header line itself
    is skipped by DuckDB (``header = true``), so undecodable bytes in it cost only the names."""
    for bom in (BOM_UTF8, BOM_LE, BOM_BE):
        head = head.removeprefix(bom)
    if not head.strip():
        raise BadFile("no header row (the file has no text)")
    text = head.decode("latin-1" if enc == "latin-1" else "utf-8", errors="replace")
    if "\n" not in text and "\r" not in text and len(head) >= HEAD_BYTES - 4:
        raise BadFile(f"no line end in the first {HEAD_BYTES} bytes: the header is too long")
    try:
        cells = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise BadFile(f"the header cannot be read as CSV ({exc})") from exc
    names = [n.strip() or f"column{i + 1}" for i, n in enumerate(cells)]
    seen: dict[str, int] = {}  # DuckDB's names are case-insensitive
    for i, n in enumerate(names):
        if n.lower() in seen:
            raise BadFile(
                f"duplicate column name: {_safe_name(n, source)} is column "
                f"{seen[n.lower()] + 1} and column {i + 1}"
            )
        seen[n.lower()] = i
    if any(n.lower() in HELPER_COLS for n in names):
        raise BadFile(
            f"a column is named like one the reader adds ({', '.join(sorted(HELPER_COLS))})"
        )
    return names


def _safe_name(name: str, source: Source) -> str:
    """A header name fit for a reason: quoted when the rules name it (a canonical field or a
    mapped header), else only its shape (a header-less file's "header" is a customer's row)."""
    mapped = {h for v in source.columns.values() for h in spec_headers(v)}
    if name in mapped or name in ENTITY_FIELDS[source.entity]:
        return repr(name)
    return f"a name of {len(name)} characters"


#: Shapes of values a header cell should not have (the first row of a file with no header).
_DATA_SHAPES = (
    ("an email", re.compile(r"^[^@\s]+@[^@\s]+\.\w+$")),
    ("a phone or number", re.compile(r"^\+?[\d\s().,-]{4,}$")),
    ("a date or time", re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")),
)


def header_shape(headers: Iterable[str]) -> str:
    """What a header looks like, without quoting it: its cells may be a customer's email and
    phone when the file has no header row."""
    names = list(headers)
    kinds = [label for n in names for label, rx in _DATA_SHAPES if rx.match(n.strip())]
    looks = sum(any(rx.match(n.strip()) for _, rx in _DATA_SHAPES) for n in names)
    if looks:
        return (
            f"the header looks like data: {looks} of {len(names)} cells look like "
            f"{' / '.join(dict.fromkeys(kinds))} (a file without a header row?)"
        )
    return f"the header has {len(names)} columns, none of them the ones the mapping names"
