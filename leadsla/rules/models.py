"""The rule models, by the names the code has imported them under.

Each rule file has its own module: :mod:`~leadsla.rules.base` (what every model shares),
:mod:`~leadsla.rules.records` (the canonical records and status classes),
:mod:`~leadsla.rules.calendar_models`, :mod:`~leadsla.rules.org_models`,
:mod:`~leadsla.rules.intent_models`, :mod:`~leadsla.rules.policy_models`,
:mod:`~leadsla.rules.routing_models`, :mod:`~leadsla.rules.source_models`,
:mod:`~leadsla.rules.issue_models` and :mod:`~leadsla.rules.delivery_models`. New code imports
from those; this module only re-exports them.
"""

from leadsla.rules.base import HHMM, WEEKDAYS, Id, Intent, Strict, Weekday, check_zone
from leadsla.rules.calendar_models import CalendarRule, CalendarsFile, HolidaySpec, Window
from leadsla.rules.intent_models import IntentRule, IntentsFile, LeadCondition
from leadsla.rules.org_models import Member, OrgFile, Team
from leadsla.rules.policy_models import Deadline, Milestone, PoliciesFile, Policy, Step, StepKind
from leadsla.rules.records import (
    ACTIVITY_FIELDS,
    CLOSING_OUTCOMES,
    ENTITY_FIELDS,
    ISSUE_FIELDS,
    LEAD_FIELDS,
    OUTCOMES,
    RESPONDED_OUTCOMES,
    SOP_MANDATORY,
    ActivityField,
    LeadField,
    StatusClass,
)
from leadsla.rules.routing_models import RouteCondition, RouteRule, RoutingFile
from leadsla.rules.source_models import (
    NumberBounds,
    NumberRange,
    Source,
    SqlSource,
    TimestampBounds,
)

__all__ = [
    "ACTIVITY_FIELDS",
    "CLOSING_OUTCOMES",
    "ENTITY_FIELDS",
    "HHMM",
    "ISSUE_FIELDS",
    "LEAD_FIELDS",
    "OUTCOMES",
    "RESPONDED_OUTCOMES",
    "SOP_MANDATORY",
    "WEEKDAYS",
    "ActivityField",
    "CalendarRule",
    "CalendarsFile",
    "Deadline",
    "HolidaySpec",
    "Id",
    "Intent",
    "IntentRule",
    "IntentsFile",
    "LeadCondition",
    "LeadField",
    "Member",
    "Milestone",
    "NumberBounds",
    "NumberRange",
    "OrgFile",
    "PoliciesFile",
    "Policy",
    "RouteCondition",
    "RouteRule",
    "RoutingFile",
    "Source",
    "SqlSource",
    "StatusClass",
    "Step",
    "StepKind",
    "Strict",
    "Team",
    "TimestampBounds",
    "Weekday",
    "Window",
    "check_zone",
]
