"""The ops-edited rule files as strict pydantic models.

Every model forbids unknown keys (``extra="forbid"``) so a misspelled key is an error with the
file and key path, never a silently ignored setting. The JSON Schemas exported from these models
are referenced from each YAML file, so editors flag mistakes before ``leadsla check`` does.

Business policy lives here as data; the engine has no policy constants of its own.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Intent = Literal["high", "mid", "low", "unclear"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Fields of the canonical lead record (DESIGN.md). Column names in SQL are only ever taken from
#: this closed list, so rule values never become SQL text.
LEAD_FIELDS: tuple[str, ...] = (
    "lead_id",
    "created_at",
    "name",
    "email",
    "phone",
    "lead_source",
    "campaign",
    "form_type",
    "service_interest",
    "message",
    "city",
    "territory",
    "device",
    "company_size",
    "lead_score",
    "estimated_value",
    "owner",
    "status",
    "first_response_at",
    "updated_at",
)
LeadField = Literal[
    "lead_id",
    "created_at",
    "name",
    "email",
    "phone",
    "lead_source",
    "campaign",
    "form_type",
    "service_interest",
    "message",
    "city",
    "territory",
    "device",
    "company_size",
    "lead_score",
    "estimated_value",
    "owner",
    "status",
    "first_response_at",
    "updated_at",
]
ACTIVITY_FIELDS: tuple[str, ...] = (
    "activity_id",
    "lead_id",
    "occurred_at",
    "type",
    "actor",
    "direction",
)
#: The canonical lead issue record (DESIGN.md).
ISSUE_FIELDS: tuple[str, ...] = (
    "issue_id",
    "lead_id",
    "raised_at",
    "raised_by",
    "issue_type",
    "summary",
    "impact",
    "customer_name",
    "customer_phone",
    "device",
    "city",
    "status",
    "responded_at",
    "resolved_at",
    "resolution",
    "no_escalation_reason",
)

#: The SOP's "Mandatory details" (§5 step 2), the default for every issue source.
SOP_MANDATORY: tuple[str, ...] = (
    "lead_id",
    "customer_name",
    "customer_phone",
    "device",
    "city",
    "summary",
    "impact",
)


#: The canonical record of each entity an export can carry.
ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "leads": LEAD_FIELDS,
    "activities": ACTIVITY_FIELDS,
    "issues": ISSUE_FIELDS,
}
ActivityField = Literal["activity_id", "lead_id", "occurred_at", "type", "actor", "direction"]

#: What a CRM status means to leadsla. ``open``: nobody has responded yet; ``answered``: a first
#: response happened, no outcome yet; the rest are the outcomes seed 000 asks to log.
StatusClass = Literal[
    "open",
    "answered",
    "contacted",
    "qualified",
    "disqualified",
    "booked",
    "lost",
    "no_response",
    "closed_lost_delayed_response",
]
OUTCOMES: tuple[str, ...] = (
    "contacted",
    "qualified",
    "disqualified",
    "booked",
    "lost",
    "no_response",
    "closed_lost_delayed_response",
)
#: Outcomes that end the SLA clock (the lead no longer waits for anyone).
CLOSING_OUTCOMES: tuple[str, ...] = (
    "qualified",
    "disqualified",
    "booked",
    "lost",
    "no_response",
    "closed_lost_delayed_response",
)
#: Outcomes that prove a person reached the lead: they count as a first response.
RESPONDED_OUTCOMES: tuple[str, ...] = ("contacted", "qualified", "disqualified", "booked")

_ID = r"^[a-z0-9][a-z0-9_.@+-]*$"
Id = Annotated[str, Field(pattern=_ID, min_length=1, max_length=120)]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")]


class Strict(BaseModel):
    """Base for every rule model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'Asia/Kolkata' or 'UTC'"
        ) from exc
    return value


# --------------------------------------------------------------------------------------------
# calendars.yaml


class Window(Strict):
    """One working window in local wall-clock time. ``end`` earlier than ``start`` crosses
    midnight (a night shift 22:00–06:00 belongs to the day it starts on)."""

    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError(f"window {self.start}–{self.end} is empty: start equals end")
        return self


class HolidaySpec(Strict):
    """Public holidays from the ``holidays`` package plus explicit dates (company days off)."""

    country: str | None = Field(
        default=None, description="ISO 3166 country code for the holidays package, e.g. IN"
    )
    subdivision: str | None = Field(default=None, description="state/province code, e.g. MH")
    dates: list[date] = Field(default_factory=list, description="extra local dates off")
    exclude: list[date] = Field(
        default_factory=list, description="public holidays the team works anyway"
    )


class CalendarRule(Strict):
    id: Id
    timezone: str = Field(description="IANA time zone of the windows and holidays")
    always_open: bool = Field(default=False, description="24/7: every minute is business time")
    hours: dict[Weekday, list[Window]] = Field(
        default_factory=dict, description="working windows per weekday; missing days are off"
    )
    holidays: HolidaySpec = Field(default_factory=HolidaySpec)

    _zone = field_validator("timezone")(_check_zone)

    @model_validator(mode="after")
    def _has_time(self) -> CalendarRule:
        if not self.always_open and not any(self.hours.values()):
            raise ValueError("a calendar needs working hours or always_open: true")
        return self


class CalendarsFile(Strict):
    calendars: list[CalendarRule]


# --------------------------------------------------------------------------------------------
# org.yaml


class Member(Strict):
    id: Id = Field(description="the owner value CRM exports use for this person")
    name: str
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    team: Id
    manager: Id | None = Field(default=None, description="member id of this person's manager")
    available: bool = Field(default=True, description="false: on leave, gets no new leads")
    capacity: int = Field(default=60, ge=0, description="most open leads this person may hold")
    seniority: Literal["junior", "mid", "senior"] = "mid"
    slack_id: str | None = Field(default=None, description="Slack member id for direct messages")
    phone: str | None = Field(default=None, description="WhatsApp number, E.164 (+91...)")


class Team(Strict):
    id: Id
    name: str
    lead: Id = Field(description="member id of the team lead (level-2 escalations)")
    calendar: Id
    kind: Literal["sales", "support", "review", "functional", "management"] = "sales"
    channel: str | None = Field(default=None, description="team channel name for alerts")


class OrgFile(Strict):
    name: str
    default_calendar: Id
    management: list[str] = Field(description="emails of the management list")
    teams: list[Team]
    members: list[Member]


# --------------------------------------------------------------------------------------------
# intents.yaml


class LeadCondition(Strict):
    """All given keys must hold (AND); a list matches any of its values (OR). Text matches are
    case-insensitive."""

    form_type: list[str] | None = None
    lead_source: list[str] | None = None
    service_interest: list[str] | None = None
    campaign: list[str] | None = None
    city: list[str] | None = None
    territory: list[str] | None = None
    message_keywords: list[str] | None = Field(
        default=None, description="any of these words or phrases appears in the message"
    )
    missing: list[LeadField] | None = Field(
        default=None, description="every one of these fields is empty"
    )
    missing_any: list[LeadField] | None = Field(
        default=None, description="at least one of these fields is empty"
    )
    lead_score_min: float | None = None
    lead_score_max: float | None = None


class IntentRule(Strict):
    id: Id
    priority: int = Field(description="lower is tried first; each lead takes the first match")
    intent: Intent
    when: LeadCondition
    policy: Id | None = Field(
        default=None, description="policy to apply; default: the policy for this intent"
    )
    team: Id | None = Field(
        default=None, description="route to this team, overriding routing rules (e.g. support)"
    )
    recommended_action: str = ""


class IntentsFile(Strict):
    rules: list[IntentRule]
    fallback: IntentRule = Field(description="applies when no rule matches")


# --------------------------------------------------------------------------------------------
# policies.yaml


class Deadline(Strict):
    """When the milestone is due. Exactly one of ``within_minutes`` (business minutes after the
    clock starts) or ``anchor`` (calendar-anchored)."""

    within_minutes: float | None = Field(default=None, gt=0)
    anchor: Literal["end_of_business_day", "next_business_day_at"] | None = None
    at: HHMM | None = Field(default=None, description="local time for next_business_day_at")
    min_remaining_minutes: float = Field(
        default=0,
        ge=0,
        description="end_of_business_day: with less business time than this left today, the "
        "deadline is the end of the next business day",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Deadline:
        if (self.within_minutes is None) == (self.anchor is None):
            raise ValueError("give exactly one of within_minutes or anchor")
        if self.anchor == "next_business_day_at" and self.at is None:
            raise ValueError("anchor next_business_day_at needs at: 'HH:MM'")
        if self.anchor != "next_business_day_at" and self.at is not None:
            raise ValueError("at: is only for anchor next_business_day_at")
        return self


StepKind = Literal["task", "reminder", "escalate", "reassign"]


class Step(Strict):
    """One rung of the ladder. Its threshold is business minutes after the clock start
    (``after_start``) or relative to the deadline (``before_due`` / ``after_due``)."""

    id: Id
    kind: StepKind
    after_start: float | None = Field(default=None, ge=0)
    before_due: float | None = Field(default=None, ge=0)
    after_due: float | None = Field(default=None, ge=0)
    recommended_action: str | None = None

    @model_validator(mode="after")
    def _one_offset(self) -> Step:
        given = [v for v in (self.after_start, self.before_due, self.after_due) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of after_start, before_due, after_due")
        return self

    @property
    def base(self) -> Literal["start", "due"]:
        return "start" if self.after_start is not None else "due"

    @property
    def offset_minutes(self) -> float:
        if self.after_start is not None:
            return self.after_start
        if self.before_due is not None:
            return -self.before_due
        assert self.after_due is not None
        return self.after_due


Milestone = Literal["first_response", "qualification", "next_step_update"]


class Policy(Strict):
    id: Id
    intent: Intent | None = Field(
        default=None,
        description="the default policy for leads of this intent (intent rules may name "
        "another policy explicitly)",
    )
    calendar: Id
    milestone: Milestone = Field(
        default="first_response",
        description="first_response: clock from arrival to first response (with "
        "response_signal: activities, the owner's first logged action); qualification: from "
        "first response to a qualified/disqualified/booked outcome; next_step_update: from "
        "first response to the next status change the CRM shows (or a closing outcome)",
    )
    deadline: Deadline
    steps: list[Step]
    max_hops: int = Field(
        default=2, ge=0, description="reassignments before escalating to the team lead instead"
    )
    team: Id | None = Field(default=None, description="queue team for this policy (review)")
    recommended_action: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _steps_unique(self) -> Policy:
        ids = [s.id for s in self.steps]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"step ids must be unique within a policy: {dupes}")
        return self


class PoliciesFile(Strict):
    policies: list[Policy]


# --------------------------------------------------------------------------------------------
# routing.yaml


class RouteCondition(Strict):
    service_interest: list[str] | None = None
    lead_source: list[str] | None = None
    form_type: list[str] | None = None
    campaign: list[str] | None = None
    city: list[str] | None = None
    territory: list[str] | None = None
    company_size: list[str] | None = None
    intent: list[Intent] | None = None
    lead_score_min: float | None = None
    lead_score_max: float | None = None


class RouteRule(Strict):
    id: Id
    priority: int
    when: RouteCondition
    team: Id


class RoutingFile(Strict):
    rules: list[RouteRule]
    default_team: Id
    shared_inboxes: list[str] = Field(
        default_factory=list,
        description="owner values that mean nobody owns the lead yet (a shared inbox)",
    )
    keep_crm_owner: bool = Field(
        default=True, description="a lead that arrives with a known owner keeps that owner"
    )


# --------------------------------------------------------------------------------------------
# sources/*.yaml


class SqlSource(Strict):
    url_env: str = Field(description="environment variable holding the SQLAlchemy URL")
    query: str = Field(description="SELECT returning the source's columns")
    export_every_minutes: int = Field(default=5, gt=0)


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
    columns: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="canonical field -> the export's header (a list of headers is joined with "
        "spaces, e.g. first and last name); headers already canonical need no entry",
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
    status_map: dict[str, StatusClass] = Field(default_factory=dict)
    unknown_status: StatusClass | Literal["quarantine"] = Field(
        default="open", description="what a status missing from status_map means"
    )
    response_signal: Literal["first_response_at", "activities", "status_change"] = Field(
        default="first_response_at",
        description="how a first response is seen: a mapped first_response_at column, the "
        "first outbound activity by the owner, or the status leaving 'open'",
    )

    mandatory_fields: list[str] | None = Field(
        default=None,
        description="issues only: details this feed's issues must carry to be escalated "
        "(default: issues.yaml mandatory_fields, the SOP's list)",
    )

    _zone = field_validator("timezone")(_check_zone)

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
        return self


RULE_FILES: dict[str, type[Strict]] = {
    "calendars.yaml": CalendarsFile,
    "org.yaml": OrgFile,
    "intents.yaml": IntentsFile,
    "policies.yaml": PoliciesFile,
    "routing.yaml": RoutingFile,
}
