"""Apply a source's mapping: the SQL of each canonical field from the export's own columns, and
which canonical fields a file carries (a missing required or previously carried one fails it).

Only identifiers taken from the export's own header or the closed canonical field list are
spliced into SQL, always quoted (:func:`quote`); every value the rules give (constants, value
maps, separators, null tokens) is a bound parameter (:func:`mapping_params`)."""

from __future__ import annotations

from typing import Any

from leadsla.ingest.fields import HELPER_COLS, ID_FIELDS, REQUIRED
from leadsla.ingest.files import BadFile
from leadsla.ingest.headers import header_shape
from leadsla.rules.column_models import Const, Join, ValueMap, describe, spec_headers
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
            f"{m} ({describe(source.columns[m])})" if m in source.columns else m for m in names
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


def _cell(name: str, source: Source) -> str:
    """SQL of one export cell: trimmed, empty when blank or one of the source's null tokens
    (bound as ``$null_tokens``)."""
    if source.null_tokens:
        return f"lsla_cell(trim({quote(name)}), $null_tokens)"
    return f"nullif(trim({quote(name)}), '')"


def text_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """SQL of one canonical field's text from the export's own columns, or None if absent.
    Constants, separators and map entries are parameters (:func:`mapping_params`), never SQL
    text; a value map's unmapped value is NULL here (:func:`map_source_expr` keeps it)."""
    spec = source.columns.get(field)
    if isinstance(spec, Const):
        return f"CAST(${param(field, 'const')} AS VARCHAR)"
    names = [field] if spec is None else spec_headers(spec)
    if any(n not in headers for n in names):
        return None
    if isinstance(spec, ValueMap):
        src = _cell(spec.column, source)
        default = f"${param(field, 'default')}" if spec.default is not None else "NULL"
        keys, values = f"${param(field, 'keys')}", f"${param(field, 'values')}"
        return (
            f"CASE WHEN {src} IS NOT NULL THEN coalesce("
            f"{values}[list_position({keys}, lower({src}))], {default}) END"
        )
    if len(names) == 1:
        return _cell(names[0], source)
    sep = f"${param(field, 'sep')}" if isinstance(spec, Join) else "' '"
    parts = ", ".join(_cell(n, source) for n in names)
    return f"nullif(concat_ws({sep}, {parts}), '')"


def map_source_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """For a field made by a value map without a default: SQL of the export's own text, so a
    value the map does not know can be rejected with a reason; else None."""
    spec = source.columns.get(field)
    if not isinstance(spec, ValueMap) or spec.default is not None or spec.column not in headers:
        return None
    return _cell(spec.column, source)


def param(field: str, what: str) -> str:
    """The name of a mapping parameter of a canonical field (a name from the closed list)."""
    return f"map_{what}_{field}"


def mapping_params(source: Source) -> dict[str, Any]:
    """Every value the mapping binds: null tokens, constants, separators and value maps
    (keys trimmed and lower case, as cells are matched)."""
    out: dict[str, Any] = {"null_tokens": list(source.null_tokens)}
    for field, spec in source.columns.items():
        if isinstance(spec, Const):
            out[param(field, "const")] = str(spec.const)
        elif isinstance(spec, Join):
            out[param(field, "sep")] = spec.sep
        elif isinstance(spec, ValueMap):
            out[param(field, "keys")] = [k.strip().lower() for k in spec.map]
            out[param(field, "values")] = list(spec.map.values())
            if spec.default is not None:
                out[param(field, "default")] = spec.default
    return out


def field_expr(field: str, source: Source, headers: set[str]) -> str | None:
    """SQL for one canonical field from the export's own columns, or None if absent.
    Identifiers come out normalised (``lsla_id``, :data:`VALUE_MACROS`)."""
    text = text_expr(field, source, headers)
    return f"lsla_id({text})" if text is not None and field in ID_FIELDS else text
