"""Value checks: what each field of the typing projection is (timestamp, number or text) and
the bounds it is checked against, as bound parameters.

The SQL is in ``leadsla/engine/sql/ingest/``: ``value_macros.sql`` (how a timestamp's zone and
a number's text are read), ``_values.sql`` (each stage's expression for one field) and
``checked.sql`` (the projection). Rule values (zones, formats, bounds) are only ever bound as
parameters; field names come from the closed canonical list.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from leadsla.engine.step import render_sql
from leadsla.ingest.fields import NOT_BEFORE, NUMBER_FIELDS, REQUIRED, TIMESTAMP_FIELDS
from leadsla.rules.records import ENTITY_FIELDS
from leadsla.rules.source_models import NumberRange, Source


def value_macros() -> str:
    """The ``lsla_*`` macros the projection calls (``value_macros.sql``)."""
    return render_sql("ingest/value_macros.sql")


def kind(field: str) -> str:
    """``ts``, ``num`` or ``text``: how the projection types a canonical field."""
    return "ts" if field in TIMESTAMP_FIELDS else "num" if field in NUMBER_FIELDS else "text"


def bound_params(source: Source, export_at: datetime) -> dict[str, Any]:
    """The parameters the value checks bind: the source's zone and format, the plausible range
    of timestamps in a file exported at ``export_at``, and each number field's range."""
    bounds = source.timestamp_bounds
    earliest = datetime.combine(bounds.earliest, time(), UTC)
    after = timedelta(minutes=bounds.minutes_after_export)
    latest = export_at + after
    params: dict[str, Any] = {
        "tz": source.timezone,
        "fmt": source.datetime_format,
        "earliest": earliest,
        "latest": latest,
        # wall-clock times outside these cannot be in bounds in any zone (offsets are at most
        # 14 hours): converting them is skipped, so no year 0001 or 294247 reaches the zone
        # arithmetic
        "guard_lo": (earliest - timedelta(days=1)).replace(tzinfo=None),
        "guard_hi": (latest.astimezone(UTC) + timedelta(days=1)).replace(tzinfo=None),
        "earliest_text": earliest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "export_text": export_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "after_text": f"{bounds.minutes_after_export:g}",
        "export_at": export_at,
    }
    for fld in ENTITY_FIELDS[source.entity]:
        if fld in NUMBER_FIELDS:
            rng: NumberRange = getattr(source.number_bounds, fld)
            params |= {f"{fld}_min": rng.min, f"{fld}_max": rng.max,
                       f"{fld}_range": f"from {rng.min:,.15g} to {rng.max:,.15g}"}  # fmt: skip
    return params


def checks_and_warnings(
    source: Source, status_check: bool, mapped: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The reasons that refuse a row and the warnings that load it without a value, in the
    order a reason lists them: empty required fields (the last required first), each
    timestamp's check, each value a map (``mapped``: fields of a map without a default) does
    not know, an unknown status; each number's warning, then each value dated before its
    record existed (:data:`~leadsla.ingest.fields.NOT_BEFORE`).

    A bad value refuses the row only in a required field; in an optional one it is a warning:
    the field is dropped (recorded in the quarantine) and the row's other facts load."""
    fields = ENTITY_FIELDS[source.entity]
    required = REQUIRED[source.entity]
    checks: list[dict[str, Any]] = [
        {"kind": "required", "name": fld, "ts": fld in TIMESTAMP_FIELDS, "src": fld in mapped}
        for fld in reversed(required)
    ]
    ts = [fld for fld in fields if fld in TIMESTAMP_FIELDS]
    unknown = [fld for fld in fields if fld in mapped]
    checks += [{"kind": "why", "name": fld} for fld in ts if fld in required]
    checks += [{"kind": "unmapped", "name": fld} for fld in unknown if fld in required]
    if status_check:
        checks.append({"kind": "status", "name": "status"})
    warns: list[dict[str, Any]] = [{"kind": "why", "name": f} for f in ts if f not in required]
    warns += [{"kind": "unmapped", "name": f} for f in unknown if f not in required]
    warns += [{"kind": "num", "name": fld} for fld in fields if fld in NUMBER_FIELDS]
    warns += [
        {"kind": "not_before", "name": fld, "origin": origin}
        for fld, origin in NOT_BEFORE[source.entity].items()
    ]
    return checks, warns
