"""A source's ``columns``: how each canonical field is made from the export's own columns.

A field is one header (``Record ID``), headers joined with a space (``[First, Last]``), an
explicit join (``{join: [First, Last], sep: ", "}``), a constant for every row
(``{const: technical}``) or a value map (``{column: priority, map: {...}, default: ...}``).
Rule values (constants, map entries, separators) are only ever bound as SQL parameters."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from leadsla.rules.base import Strict

#: Canonical fields that identify a record: a constant would make every row one record.
ID_FIELDS = frozenset({"lead_id", "issue_id", "activity_id"})


class Join(Strict):
    """Several headers joined into one value; empty cells are left out."""

    join: list[str] = Field(
        description="the export's headers, in order (two or more)",
        json_schema_extra={"minItems": 2},
    )
    sep: str = Field(default=" ", description="what goes between two non-empty values")


class Const(Strict):
    """The same value for every row (e.g. the issue type of an incident feed)."""

    const: str | int | float = Field(description="the value every row takes")


class ValueMap(Strict):
    """An export's values translated (matched trimmed, ignoring case). A value not in the map
    takes ``default``; without a default it is rejected: an optional field loads without it
    (recorded in the quarantine), a required one quarantines the row. Empty cells stay empty."""

    column: str = Field(description="the export's header")
    map: dict[str, str] = Field(
        description="export value -> canonical value", json_schema_extra={"minProperties": 1}
    )
    default: str | None = Field(
        default=None, description="the value of anything not in map (none: reject the field)"
    )


def _kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "header"
    if isinstance(value, list):
        return "headers"
    if isinstance(value, dict):
        for key, tag in (("join", "join"), ("const", "const"), ("column", "map"), ("map", "map")):
            if key in value:
                return tag
    if isinstance(value, Join | Const | ValueMap):
        return {Join: "join", Const: "const", ValueMap: "map"}[type(value)]
    return None


ColumnSpec = Annotated[
    Annotated[str, Tag("header")]
    | Annotated[list[str], Field(json_schema_extra={"minItems": 2}), Tag("headers")]
    | Annotated[Join, Tag("join")]
    | Annotated[Const, Tag("const")]
    | Annotated[ValueMap, Tag("map")],
    Discriminator(
        _kind,
        custom_error_type="column_spec",
        custom_error_message="give a header, a list of headers, {join: [...], sep: ...}, "
        "{const: ...} or {column: ..., map: {...}, default: ...}",
    ),
]


def spec_headers(spec: ColumnSpec) -> list[str]:
    """The export headers a field's spec reads (none for a constant)."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return list(spec)
    if isinstance(spec, Join):
        return list(spec.join)
    if isinstance(spec, ValueMap):
        return [spec.column]
    return []


def describe(spec: ColumnSpec) -> str:
    """A spec as a reason names it (the headers it reads)."""
    if isinstance(spec, Const):
        return f"const {spec.const!r}"
    heads = spec_headers(spec)
    return f"header {heads[0]!r}" if len(heads) == 1 else f"headers {heads!r}"


def spec_problems(field: str, spec: ColumnSpec) -> list[str]:
    """What is wrong with one field's spec, each a sentence with the fix."""
    out: list[str] = []
    heads = [] if isinstance(spec, str | Const | ValueMap) else spec_headers(spec)
    if isinstance(spec, list | Join) and len(heads) < 2:
        out.append(
            f"{field}: a join of {len(heads)} header(s) joins nothing; give the header as a "
            f"string ({field}: {heads[0] if heads else '<header>'}) or list two or more"
        )
    if isinstance(spec, Const) and field in ID_FIELDS:
        out.append(
            f"{field}: a const id makes every row one record; map {field} to the export's id header"
        )
    if isinstance(spec, Const) and str(spec.const).strip() == "":
        out.append(f"{field}: the const is empty; give a value or remove the entry")
    if isinstance(spec, ValueMap):
        if not spec.map:
            out.append(f"{field}: the map is empty; list export value -> canonical value")
        folded = [k.strip().lower() for k in spec.map]
        twice = sorted({k for k in folded if folded.count(k) > 1})
        if twice:
            out.append(
                f"{field}: map keys {twice} are listed twice (keys match trimmed and ignoring "
                "case); keep one of each"
            )
    return out
