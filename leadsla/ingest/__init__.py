"""Discover CRM exports, read them with DuckDB, map them to the canonical record, quarantine.

The rules of the road, from DESIGN.md: every file is recorded in ``export_manifest`` by path and
checksum (never read twice, never skipped; an identical re-export is a no-op), every record ends
loaded, in ``quarantine`` with its file, physical line, raw text and reason, or skipped as
unchanged (the manifest's counts add up), and a file that cannot be read at all is recorded with
the reason while the tick goes on. Only regular files are opened. The reader's reasons say what
was found (a shape, a count, a field name), never a row's values.

Reading is DuckDB's (``read_csv`` with a fixed dialect for CSV and, one text column a line, for
JSON lines; ``read_parquet``): all columns as text first, then one SQL projection casts and
validates them, so a bad value in one row never fails the file. Rule values (time zones,
formats, status maps) are bound as parameters or registered as tables; only column identifiers
taken from the export's own header or the closed canonical field list are spliced into SQL,
always quoted.

One module per idea, in the order a file meets them:

- :mod:`~leadsla.ingest.discovery`: which files to read (export time, source, file-system rules);
- :mod:`~leadsla.ingest.history`: a change log (``format: history``) as the snapshot exports it
  implies, one per change time or bucket;
- :mod:`~leadsla.ingest.encoding`, :mod:`~leadsla.ingest.headers`: one encoding decision per
  file, and its header;
- :mod:`~leadsla.ingest.csv_read`, :mod:`~leadsla.ingest.csv_lines`, :mod:`~leadsla.ingest.jsonl`,
  :mod:`~leadsla.ingest.parquet`: records as text on physical lines, rejects kept
  (:mod:`~leadsla.ingest.dialect` holds the parser settings);
- :mod:`~leadsla.ingest.snapshot`: unchanged snapshot rows skipped before typing;
- :mod:`~leadsla.ingest.mapping`, :mod:`~leadsla.ingest.values`, :mod:`~leadsla.ingest.ids`,
  :mod:`~leadsla.ingest.canonical`: the source's mapping, value checks, one id per id, and the
  typing projection with its quarantine;
- :mod:`~leadsla.ingest.reader`: the two calls the tick makes per file.
"""

from leadsla.ingest.discovery import discover, export_time_from_name, stat_key
from leadsla.ingest.files import (
    BadFile,
    ExportFile,
    ExportsUnavailable,
    FileResult,
    Later,
    Unreadable,
)
from leadsla.ingest.reader import read_file, type_rows

__all__ = [
    "BadFile",
    "ExportFile",
    "ExportsUnavailable",
    "FileResult",
    "Later",
    "Unreadable",
    "discover",
    "export_time_from_name",
    "read_file",
    "stat_key",
    "type_rows",
]
