"""The fixed dialects the readers use (CSV and JSON lines through DuckDB's ``read_csv``), their
bounds, and what a rejected record's reason says."""

from __future__ import annotations

#: Longest CSV record, in bytes: a longer one (a runaway field) is quarantined, the rest loads.
MAX_RECORD_BYTES = 2 << 20

#: Options of every CSV read: all text, one fixed dialect (nothing sniffed, so no record can
#: change how the others are read), the header parsed by :func:`csv_header` and given as
#: ``$columns``, strict field counts (a row with an unquoted comma has one field too many and
#: is rejected, not truncated), rejected records kept in reject tables.
CSV_OPTIONS = (
    "auto_detect = false, header = true, columns = $columns, delim = ',', quote = '\"', "
    "escape = '\"', encoding = $enc, store_rejects = true, null_padding = false, "
    f"strict_mode = true, max_line_size = {MAX_RECORD_BYTES}"
)

#: What a rejected CSV record's reason says, by DuckDB's error type (never the row's values).
REJECT_REASONS = {
    "MISSING COLUMNS": "the record has fewer fields than the header",
    "TOO MANY COLUMNS": "the record has more fields than the header (an unquoted comma?)",
    "UNQUOTED VALUE": "a quote is not closed where its field ends (an unterminated quote)",
    "LINE SIZE OVER MAXIMUM": f"the record is over {MAX_RECORD_BYTES >> 20} MB",
    "INVALID ENCODING": "bytes that are not valid in the file's encoding",
}

REJECT_CASE = " ".join(
    "WHEN '" + k + "' THEN '" + v.replace("'", "''") + "'" for k, v in REJECT_REASONS.items()
)

#: Records with an unterminated quote a file may have before the rest of it is read as the
#: parser sees it (each one costs a read of what follows it).
MAX_QUOTE_SPLITS = 20

#: What a blank line between records becomes in the copy :func:`read_csv_part` reads: one
#: field, so always a record with too few fields (every entity requires two columns).
BLANK_MARK = "\x1eleadsla: blank line\x1e"

#: Options of a JSON lines read: every physical line one record of one text column (a blank
#: line is an empty one, so records are numbered by line), bad bytes and over-long lines kept
#: in reject tables. The delimiter, a control character, cannot be part of valid JSON text.
JSONL_OPTIONS = (
    "auto_detect = false, header = false, columns = {'j': 'VARCHAR'}, delim = $delim, "
    "quote = '', escape = '', encoding = 'utf-8', store_rejects = true, null_padding = false, "
    f"strict_mode = true, max_line_size = {MAX_RECORD_BYTES}"
)
