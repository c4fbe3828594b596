"""``sla_rules/sources/*.yaml``: one CRM feed each: which files (a glob) or query it reads, how
its columns map to the canonical record, its zone, encoding, plausible value ranges and
status map."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

from leadsla.rules.base import Id, Strict, check_zone
from leadsla.rules.column_models import ColumnSpec, spec_problems
from leadsla.rules.records import ENTITY_FIELDS, StatusClass

#: What an issue's CRM status means: nobody responded yet, the owning team responded, resolved.
IssueStatusClass = Literal["open", "responded", "resolved"]
ISSUE_STATUS_CLASSES: tuple[str, ...] = ("open", "responded", "resolved")

#: The status map of an issues source that gives none (statuses lower case).
DEFAULT_ISSUE_STATUS_MAP: dict[str, str] = {
    "responded": "responded", "acknowledged": "responded", "in_progress": "responded",
    "working": "responded", "resolved": "resolved", "closed": "resolved", "done": "resolved",
}  # fmt: skip


class SqlSource(Strict):
    url_env: str = Field(description="environment variable holding the SQLAlchemy URL")
    query: str = Field(description="SELECT returning the source's columns")
    export_every_minutes: int = Field(default=5, gt=0)


_EVERY = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class HistorySettings(Strict):
    """A history export (``format: history``): each row is a record's full state after one
    change, at its own time. The file implies one snapshot export per distinct change time, or
    per ``every`` bucket (each record's last row in it, stamped at the bucket's end)."""

    changed_at: str = Field(description="the export's header that holds each row's change time")
    every: str | None = Field(
        default=None,
        description="bucket the changes into implied exports of this length (e.g. 30m, 1h, "
        "1d; units s, m, h, d); default: one implied export per distinct change time",
    )

    @field_validator("every")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            m = _EVERY.match(value)
            if m is None or int(m.group(1)) == 0:
                raise ValueError(
                    f"history.every {value!r} is not a duration: write a positive number and a "
                    "unit, e.g. 30m, 1h or 1d"
                )
        return value

    @property
    def every_seconds(self) -> int | None:
        """``every`` in seconds (None: one implied export per distinct change time)."""
        m = _EVERY.match(self.every or "")
        return int(m.group(1)) * _UNIT_SECONDS[m.group(2)] if m else None


class TimestampBounds(Strict):
    """The plausible range of a feed's timestamps; a value outside it is refused with a reason
    that states the range. The defaults refuse placeholder dates (0001-01-01, 1900-01-01, the
    Unix epoch 1970-01-01) and anything dated after the export time beyond clock skew."""

    earliest: date = Field(
        default=date(2000, 1, 1),
        description="the oldest plausible date in this feed (UTC midnight); earlier values "
        "are refused",
    )
    minutes_after_export: float = Field(
        default=5,
        ge=0,
        le=1440,
        description="how far past the file's export time a value may be (clock skew); later "
        "values are refused as future timestamps",
    )


class NumberRange(Strict):
    """A closed range a number field must fall in."""

    min: float = Field(allow_inf_nan=False)
    max: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class NumberBounds(Strict):
    """Plausible ranges of the number fields. A value that is not a finite number in its range
    is dropped with a ``loaded_without_value`` warning; the lead itself loads."""

    lead_score: NumberRange = NumberRange(min=-1_000_000, max=1_000_000)
    estimated_value: NumberRange = NumberRange(min=0, max=1e13)


class Source(Strict):
    id: Id
    crm: Literal["canonical", "hubspot", "salesforce", "pipedrive", "zoho", "servicenow", "custom"]
    entity: Literal["leads", "activities", "issues"] = "leads"
    glob: str | None = Field(default=None, description="file-name glob that selects this source")
    sql: SqlSource | None = None
    columns: dict[str, ColumnSpec] = Field(
        default_factory=dict,
        description="canonical field -> the export's header; a list of headers (joined with "
        "spaces), {join: [...], sep: ...}, {const: ...} or {column: ..., map: {...}, "
        "default: ...}; headers already canonical need no entry",
    )
    null_tokens: list[str] = Field(
        default_factory=list,
        description="cells equal to one of these (after trimming) are empty, e.g. '?', 'N/A'",
    )
    date_only: Literal["start_of_day", "end_of_day", "reject"] = Field(
        default="start_of_day",
        description="a date without a time in a timestamp field: the start of that day in the "
        "source's zone, its end (never after the export), or rejected; always flagged in the "
        "quarantine",
    )
    timezone: str = Field(default="UTC", description="zone of naive timestamps in the export")
    datetime_format: str | None = Field(
        default=None,
        description="strptime format of timestamps when not ISO 8601, without a zone (%z, "
        "%Z): a zone after the time (Z, UTC, GMT, +05:30) is read whatever the format",
    )
    timestamp_bounds: TimestampBounds = Field(
        default_factory=TimestampBounds,
        description="plausible range of timestamps; values outside it are refused",
    )
    number_bounds: NumberBounds = Field(
        default_factory=NumberBounds,
        description="plausible ranges of lead_score and estimated_value; a value outside "
        "them (or not finite) is dropped with a warning",
    )
    encoding: Literal["auto", "utf-8", "utf-16", "latin-1", "windows-1252"] = Field(
        default="auto",
        description="auto: a byte order mark decides (UTF-8, UTF-16), else UTF-8, else "
        "Windows-1252 for a file with no UTF-8 beyond ASCII; records with bytes that do not "
        "decode are quarantined",
    )
    footer_regex: str | None = Field(
        default=None, description="lines after the data that are report furniture, not rows"
    )
    record_url: str | None = Field(
        default=None, description="CRM link template; {lead_id} is replaced"
    )
    status_map: dict[str, StatusClass | IssueStatusClass] = Field(
        default_factory=dict,
        description="CRM status -> its class (matched trimmed, ignoring case); leads: open, "
        "answered or an outcome; issues: open, responded or resolved (none given: responded, "
        "acknowledged, in_progress, working mean responded; resolved, closed, done resolved)",
    )
    unknown_status: StatusClass | IssueStatusClass | Literal["quarantine"] = Field(
        default="open", description="what a status missing from status_map means"
    )
    response_signal: Literal["first_response_at", "activities", "status_change"] = Field(
        default="first_response_at",
        description="how a first response is seen: first_response_at: only that column; "
        "activities: the first outbound activity by the owner; status_change: the status "
        "class becoming answered or a responded outcome",
    )

    format: Literal["snapshot", "history"] = Field(
        default="snapshot",
        description="snapshot: each file is an export at its own time; history: each row is a "
        "change at its own time (history.changed_at), and the file replays as the snapshot "
        "exports it implies",
    )
    history: HistorySettings | None = Field(
        default=None, description="with format history: the change-time header and bucketing"
    )

    mandatory_fields: list[str] | None = Field(
        default=None,
        description="issues only: details this feed's issues must carry to be escalated "
        "(default: issues.yaml mandatory_fields, the SOP's list)",
    )

    _zone = field_validator("timezone")(check_zone)

    @field_validator("columns")
    @classmethod
    def _specs(cls, value: dict[str, ColumnSpec]) -> dict[str, ColumnSpec]:
        problems = [p for fld, spec in value.items() for p in spec_problems(fld, spec)]
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("null_tokens")
    @classmethod
    def _tokens(cls, value: list[str]) -> list[str]:
        if any(t.strip() == "" for t in value):
            raise ValueError("an empty null token: empty cells are always empty; remove it")
        return [t.strip() for t in value]

    @field_validator("datetime_format")
    @classmethod
    def _no_zone_in_format(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"%[zZ]", value):
            raise ValueError(
                "datetime_format must not contain %z or %Z: remove it; a zone after the time "
                "(Z, UTC, GMT, +05:30) is read on its own"
            )
        return value

    @field_validator("footer_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"footer_regex does not compile: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _columns(self) -> Source:
        fields = ENTITY_FIELDS[self.entity]
        bad = sorted(set(self.columns) - set(fields))
        if bad:
            raise ValueError(
                f"columns maps unknown canonical fields {bad}; known: {', '.join(fields)}"
            )
        if (self.glob is None) == (self.sql is None):
            raise ValueError("give exactly one of glob (files) or sql (a database query)")
        if (self.format == "history") != (self.history is not None):
            raise ValueError(
                "format history needs history: {changed_at: <header>} (and history is only "
                "for format history)"
            )
        if self.format == "history" and self.sql is not None:
            raise ValueError("format history reads files: give glob, not sql")
        return self

    @field_validator("status_map", "unknown_status")
    @classmethod
    def _statuses(cls, value: Any, info: ValidationInfo) -> Any:
        entity = info.data.get("entity", "leads")
        if entity == "activities" and value and info.field_name == "status_map":
            raise ValueError("an activities source has no status; remove it")
        allowed = ISSUE_STATUS_CLASSES if entity == "issues" else get_args(StatusClass)
        given = value.values() if isinstance(value, dict) else [value]
        bad = sorted({v for v in given if v not in (*allowed, "quarantine")})
        if bad:
            raise ValueError(
                f"{', '.join(repr(b) for b in bad)} is not a class of {entity} statuses; use "
                f"one of {', '.join(allowed)}"
            )
        if isinstance(value, dict):
            folded = [k.strip().lower() for k in value]
            twice = sorted({k for k in folded if folded.count(k) > 1})
            if twice:
                raise ValueError(
                    f"{twice} listed twice (statuses match trimmed and ignoring case); keep "
                    "one of each"
                )
        return value

    def status_classes(self) -> dict[str, str]:
        """The status map in effect (keys trimmed, lower case): an issues source without one
        takes :data:`DEFAULT_ISSUE_STATUS_MAP`."""
        if self.entity == "issues" and not self.status_map:
            return dict(DEFAULT_ISSUE_STATUS_MAP)
        return {k.strip().lower(): v for k, v in self.status_map.items()}
