"""Apply a source's mapping: the SQL of each canonical field from the export's own columns, and
which canonical fields a file carries (a missing required or previously carried one fails it).

Only identifiers taken from the export's own header or the closed canonical field list are
spliced into SQL, always quoted (:func:`quote`)."""

from __future__ import annotations

from leadsla.ingest.fields import HELPER_COLS, ID_FIELDS, REQUIRED
from leadsla.ingest.files import BadFile
from leadsla.ingest.headers import header_shape
from leadsla.rules.records import ENTITY_FIELDS
from leadsla.rules.source_models import Source


def quote(ident: str) -> str:
    """Quote an identifier (a header taken from the file itself)."""
    return '"' + ident.replace('"', '""') + '"'


def check_columns(cols: list[str], source: Source, before: list[str] | None) -> list[str]:
    """The canonical fields a file with columns ``cols`` carries. Raises :class:`BadFile` when
    a required one is missing, or when a mapped one (``columns`` in the source) that the
    previous export of the source (``before``) carried is missing: a renamed header would
    otherwise load as empty values in silence (canonical files may carry any subset). The
    reason names the fields and the headers the mapping expects, never the file's own header
    (it may be a customer's row)."""
    headers = set(cols) - HELPER_COLS
    fields = [fld for fld in ENTITY_FIELDS[source.entity] if field_expr(fld, source, headers)]

    def wanted(names: list[str]) -> str:
        return ", ".join(
            f"{m} (header {source.columns[m]!r})" if m in source.columns else m for m in names
        )

    missing = [fld for fld in REQUIRED[source.entity] if fld not in fields]
    if missing:
        raise BadFile(f"required columns missing: {wanted(missing)}; {header_shape(headers)}")
    gone = [fld for fld in before or [] if fld in source.columns and fld not in fields]
    if gone:
        raise BadFile(
            f"columns missing that the previous export of source {source.id!r} had: "
            f"{wanted(gone)} (a renamed header? map it in the source's columns, or restore "
            "it); the file is not loaded, so its rows do not overwrite these values with empty "
            "ones"
        )
    return fields


def text_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """SQL of one canonical field's text from the export's own columns, or None if absent."""
    mapped = source.columns.get(field)
    names = [field] if mapped is None else [mapped] if isinstance(mapped, str) else list(mapped)
    if any(n not in headers for n in names):
        return None
    if len(names) == 1:
        return f"nullif(trim({quote(names[0])}), '')"
    parts = ", ".join(f"nullif(trim({quote(n)}), '')" for n in names)
    return f"nullif(concat_ws(' ', {parts}), '')"


def field_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """SQL for one canonical field from the export's own columns, or None if absent.
    Identifiers come out normalised (``lsla_id``, :data:`VALUE_MACROS`)."""
    text = text_expr(field, source, headers)
    return f"lsla_id({text})" if text is not None and field in ID_FIELDS else text
