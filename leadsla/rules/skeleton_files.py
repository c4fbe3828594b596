"""The text of the rule files ``leadsla init`` writes (:mod:`leadsla.rules.skeleton`).

One office calendar (``@ZONE@``, the country's public holidays), one team with a lead and one
agent, seed 000's intents and policies, canonical sources in the same zone, e-mail
notifications to the team, and a generic issue SOP owned by the team. Placeholders
(``@NAME@``) are replaced when the files are written; comments say what to edit.
"""

from __future__ import annotations

CALENDARS = """\
# yaml-language-server: $schema=schema/calendars.schema.json
# The business calendar every deadline is counted on: business minutes inside these windows,
# in this zone, skipping the public holidays of the country. Edit the hours to your team's.
calendars:
  - id: office
    timezone: @ZONE@
    hours:                      # Mon–Fri 09:00–18:00 local time (9 business hours a day)
      mon: [{start: "09:00", end: "18:00"}]
      tue: [{start: "09:00", end: "18:00"}]
      wed: [{start: "09:00", end: "18:00"}]
      thu: [{start: "09:00", end: "18:00"}]
      fri: [{start: "09:00", end: "18:00"}]
    holidays:
      country: @COUNTRY@               # public holidays from the holidays package
@SUBDIVISION@      dates: []                 # company days off (YYYY-MM-DD)
      exclude: []               # public holidays the team works anyway
"""

ORG = """\
# yaml-language-server: $schema=schema/org.schema.json
# Who owns leads. Member ids are the owner values your CRM export carries: replace these two
# people with your team (each with a manager, the lead of the team being everyone's manager).
name: @NAME@
default_calendar: office
management: [team.lead@example.com]   # emails told at issue level 3
teams:
  - {id: sales, name: Sales, lead: team_lead, calendar: office}
members:
  - {id: team_lead, name: Team Lead, email: team.lead@example.com, team: sales, seniority: senior}
  - {id: agent, name: Sales Agent, email: agent@example.com, team: sales, manager: team_lead}
"""

INTENTS = """\
# yaml-language-server: $schema=schema/intents.schema.json
# Intent classification (seed 000). Rules are tried by ascending priority; each lead takes the
# first match. Replace the form types and keywords with the values your CRM sends.
rules:
  - id: support_inquiry            # a support question is not a sales lead
    priority: 5
    intent: low
    policy: support_handoff
    when:
      message_keywords: [not working, broken, refund, invoice, cancel my, password, login issue,
                         support ticket, my order]
    recommended_action: Hand over to support and confirm the customer has a ticket.
  - id: unclear_missing_service    # no service interest: nobody can route or prioritise it
    priority: 10
    intent: unclear
    when: {missing: [service_interest]}
    recommended_action: Qualify the need, then set the service interest.
  - id: unclear_incomplete_form    # no email and no phone: nobody can respond
    priority: 20
    intent: unclear
    when: {missing: [email, phone]}
    recommended_action: Find a contact channel or disqualify.
  - id: high_intent_forms
    priority: 30
    intent: high
    when: {form_type: [contact_form, booking, implementation_request]}
    recommended_action: Call within 15 minutes; if no answer, email and offer a slot.
  - id: mid_intent_forms
    priority: 40
    intent: mid
    when: {form_type: [audit_request, diagnostic, service_inquiry]}
    recommended_action: Reply today with the audit scope and a proposed call.
  - id: low_intent_content
    priority: 50
    intent: low
    when: {form_type: [checklist_download, guide_request, content_optin]}
    recommended_action: Send the nurture sequence; call only if they reply.
fallback:
  id: unclear_unrecognised         # vague or unknown form: qualification
  priority: 1000
  intent: unclear
  when: {}
  recommended_action: Review the message and classify the lead.
"""

POLICIES = """\
# yaml-language-server: $schema=schema/policies.schema.json
# Response windows and escalation ladders per intent (seed 000). Durations are business
# minutes on the office calendar.
policies:
  - id: high_first_response
    intent: high
    calendar: office
    deadline: {within_minutes: 15}        # first-response task due in 15 minutes
    steps:
      - {id: task, kind: task, after_start: 0}
      - {id: reminder, kind: reminder, after_start: 10}     # owner reminder at 10
      - {id: manager_escalation, kind: escalate, after_start: 20}   # manager at 20
      - {id: reassignment, kind: reassign, after_start: 30}         # reassign at 30
    max_hops: 2
    recommended_action: Call now; high-intent leads cool within the hour.
  - id: mid_same_day
    intent: mid
    calendar: office
    deadline: {anchor: end_of_business_day, min_remaining_minutes: 120}
    steps:
      - {id: task, kind: task, after_start: 0}
      - {id: reminder, kind: reminder, before_due: 120}
      - {id: manager_escalation, kind: escalate, after_due: 0}
    recommended_action: Respond today with a tailored answer.
  - id: low_nurture
    intent: low
    calendar: office
    deadline: {within_minutes: 1080}      # two business days of 9 hours
    steps:
      - {id: task, kind: task, after_start: 0}
      - {id: reminder, kind: reminder, after_due: 0}
    recommended_action: Enrol in nurture; follow up softly.
  - id: unclear_qualification
    intent: unclear
    calendar: office
    deadline: {within_minutes: 240}       # four business hours to qualify
    steps:
      - {id: qualification_task, kind: task, after_start: 0}
      - {id: reminder, kind: reminder, before_due: 60}
    recommended_action: Qualify or disqualify; set intent and service interest.
  - id: support_handoff
    calendar: office
    deadline: {within_minutes: 540}       # one business day
    steps:
      - {id: task, kind: task, after_start: 0}
      - {id: reminder, kind: reminder, before_due: 60}
    recommended_action: Acknowledge and open a support ticket.
  - id: high_qualification
    intent: high
    milestone: qualification
    calendar: office
    deadline: {within_minutes: 1080}
    steps:
      - {id: reminder, kind: reminder, before_due: 120}
      - {id: manager_escalation, kind: escalate, after_due: 0}
    max_hops: 0
    recommended_action: Log the qualification outcome or the next step.
  - id: high_next_step
    intent: high
    milestone: next_step_update
    calendar: office
    deadline: {within_minutes: 540}
    steps:
      - {id: reminder, kind: reminder, before_due: 60}
      - {id: manager_escalation, kind: escalate, after_due: 0}
    max_hops: 0
    recommended_action: Update the lead with the agreed next step (meeting, proposal, call-back).
"""

ROUTING = """\
# yaml-language-server: $schema=schema/routing.schema.json
# Which team owns a lead that arrives without an owner (or in a shared inbox); within the
# team, leads go round robin to available members with spare capacity.
rules: []
default_team: sales
shared_inboxes: ["unassigned"]
keep_crm_owner: true
"""

ISSUES = """\
# yaml-language-server: $schema=schema/issues.schema.json
# Lead issues (blockers an agent cannot clear), seed 002's ladder with one generic type owned
# by the team. Add your types (each with its owning teams) when you raise issues.
sla_classes:
  immediate: {within_minutes: 30}
  same_day: {anchor: end_of_business_day, min_remaining_minutes: 30}
types:
  - {id: blocker, label: Lead Blocker, teams: [sales], sla: same_day, note_reason: blocker}
levels:
  - {level: 1, name: Team}
  - {level: 2, name: Team lead, within_minutes: 60}
  - {level: 3, name: Management, within_minutes: 120}
management_team: sales
mandatory_fields: [lead_id, summary]
messages:
  subject: "Escalation | {{ intent_label }} Lead | {{ type_label }}"
  admin_note: "Escalated to {{ team_names }} – {{ note_reason }}. Awaiting confirmation."
  holding_line: "I’m checking this with our team and will update you shortly."
  rejected: >-
    Issue {{ issue_id }} was not escalated: {{ reason }}.
    {% if missing %}Add {{ missing | join(', ') }} and raise it again.{% endif %}
"""

NOTIFICATIONS = """\
# yaml-language-server: $schema=schema/notifications.schema.json
# Who hears about which step: each event takes the FIRST matching route. Everything goes by
# e-mail to the team (the owner, else the team lead; the manager; management at issue level 3).
routes:
  - id: task_high
    when: {event_type: task_created, intent: [high]}
    send: [{to: owner, via: email}]
    urgency: immediate
  - id: task_low
    when: {event_type: task_created, intent: [low, unclear]}
    send: [{to: owner, via: email}]
    urgency: digest
  - id: task
    when: {event_type: task_created}
    send: [{to: owner, via: email}]
  - id: reminder_low
    when: {event_type: reminder_sent, intent: [low, unclear]}
    send: [{to: owner, via: email}]
    urgency: digest
  - id: reminder
    when: {event_type: reminder_sent}
    send: [{to: owner, via: email}]
  - id: manager_escalation
    when: {event_type: escalated, level: [1]}
    send: [{to: manager, via: email}]
    urgency: immediate
  - id: team_lead_escalation
    when: {event_type: escalated, level: [2]}
    send: [{to: team_lead, via: email}]
    urgency: immediate
  - id: reassigned
    when: {event_type: reassigned}
    send: [{to: owner, via: email}, {to: manager, via: email}]
    urgency: immediate
  - id: issue_l1
    when: {event_type: issue_escalated, level: [1]}
    send: [{to: team_lead, via: email}]
    urgency: immediate
  - id: issue_l2
    when: {event_type: issue_escalated, level: [2]}
    send: [{to: manager, via: email}]
    urgency: immediate
  - id: issue_l3
    when: {event_type: issue_escalated, level: [3]}
    send: [{to: management, via: email}]
    urgency: immediate
  - id: issue_rejected
    when: {event_type: issue_rejected}
    send: [{to: raiser, via: email}]
channels:
  email: {block: leadsla-smtp}      # flows; the CLI reads LEADSLA_SMTP_URL + LEADSLA_EMAIL_FROM
"""

_SOURCE_HEAD = """\
# yaml-language-server: $schema=../schema/source.schema.json
"""

SOURCES = {
    "canonical_leads.yaml": _SOURCE_HEAD
    + """\
# Files already in the canonical lead record (leads*.csv|jsonl|parquet, optionally .gz). For
# another CRM, copy a preset (hubspot, salesforce, ...) and set its timezone like this one.
id: canonical_leads
crm: canonical
entity: leads
glob: "leads*"
timezone: @ZONE@            # naive timestamps are office time
status_map:                 # your CRM's statuses -> what they mean
  new: open
  open: open
  contacted: contacted
  qualified: qualified
  disqualified: disqualified
  booked: booked
  lost: lost
response_signal: first_response_at
""",
    "canonical_activities.yaml": _SOURCE_HEAD
    + """\
# Canonical activity exports (activities*): the owner's first outbound call/email/meeting is
# the first response for sources whose response_signal is "activities".
id: canonical_activities
crm: canonical
entity: activities
glob: "activities*"
timezone: @ZONE@
""",
    "canonical_issues.yaml": _SOURCE_HEAD
    + """\
# Files already in the canonical lead issue record (issues*).
id: canonical_issues
crm: canonical
entity: issues
glob: "issues*"
timezone: @ZONE@
""",
}

FILES = {
    "calendars.yaml": CALENDARS,
    "org.yaml": ORG,
    "intents.yaml": INTENTS,
    "policies.yaml": POLICIES,
    "routing.yaml": ROUTING,
    "issues.yaml": ISSUES,
    "notifications.yaml": NOTIFICATIONS,
    **{f"sources/{name}": text for name, text in SOURCES.items()},
}
