"""What discovery finds and what loading one file did: the file, its result for the manifest,
and the exceptions that say why a file (or the folder) cannot be used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadsla.rules.source_models import Source

#: File endings (after an optional .gz) and the reader each one takes.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
           ".parquet": "parquet"}  # fmt: skip


@dataclass(frozen=True)
class ExportFile:
    """One export file as discovered: where it is, which source reads it, and its time."""

    url: str
    name: str
    source: Source | None
    export_at: datetime
    export_at_from: str
    size: int
    checksum: str
    mtime: float | None = None
    #: why the file cannot be read now (not a regular file, gone, changing): it is recorded
    #: with this reason as ``unreadable`` and looked at again on the next tick
    problem: str | None = None

    @property
    def fmt(self) -> str:
        name = self.name.lower().removesuffix(".gz")
        return next((kind for ext, kind in FORMATS.items() if name.endswith(ext)), "csv")


@dataclass
class FileResult:
    """What loading one file did; recorded in the manifest."""

    status: str
    reason: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_superseded: int = 0
    footer_lines: int = 0
    #: records the read found (typed rows, unchanged snapshot rows and bad rows alike)
    records: int = 0
    #: unchanged snapshot rows skipped before typing: rows_read = loaded + quarantined + this
    rows_skipped: int = 0
    #: the encoding the file was read in, and how it was decided (CSV)
    encoding: str | None = None
    #: canonical fields the file carries (a later export that lacks one fails, see read_raw)
    fields: list[str] | None = None


class BadFile(Exception):
    """The whole file cannot be used (unreadable, undecodable, required columns missing)."""


class ExportsUnavailable(Exception):
    """The exports folder itself is missing or unreadable: one sentence naming it."""


@dataclass(frozen=True)
class Later:
    """A file left for a later tick because its export time is after ``now``."""

    name: str
    export_at: datetime
    export_at_from: str  # "filename" (its stamp) or "mtime" (no stamp: modification time)


class Unreadable(Exception):
    """The file cannot be read now (gone, not a regular file, changing): try again later."""
