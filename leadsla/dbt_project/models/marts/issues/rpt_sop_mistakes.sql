{{ config(materialized='view_if_changed') }}
-- One row per SOP mistake made visible (seed 002 section 11): an issue escalated without the
-- mandatory details (issue_rejected), an escalation with no admin note on the lead afterwards,
-- and an issue raised long after the lead's first-response deadline passed unanswered.
-- A view: lead escalations (the many) are a filter over int_lead_steps, which carries the lead's
-- newest note time (from int_lead_sla; the tick escalates only leads it has in lead_state);
-- issue events are few and read from the log with = filters.
with notes as (
    select lead_id, max(occurred_at) as last_note_at
    from {{ ref('stg_leadsla__activities') }}
    where activity_type = 'note'
    group by lead_id
),
issue_escalations as (
    select e.event_id, e.lead_id, e.issue_id, e.team_id, e.occurred_at, e.event_type,
           l.team_id as lead_team_id, n.last_note_at
    from {{ ref('int_events_unpacked') }} as e
    left join {{ ref('int_lead_sla') }} as l on l.lead_id = e.lead_id
    left join notes as n on n.lead_id = e.lead_id
    where e.event_type = 'issue_escalated' and e.lead_id is not null
),
escalations as (
    select event_id, lead_id, null::varchar as issue_id, team_id, occurred_at, event_type,
           lead_team_id, last_note_at
    from {{ ref('int_lead_steps') }}
    where event_type = 'escalated'
    union all
    select * from issue_escalations
)
select
    e.event_id as mistake_id,
    'escalated_without_details' as mistake,
    e.lead_id,
    e.issue_id,
    coalesce(e.team_id, l.team_id, 'unassigned') as team_id,
    e.occurred_at,
    {{ org_date('e.occurred_at') }} as occurred_date,
    coalesce(e.reason, '') || coalesce(' missing: ' || e.missing_fields, '') as detail
from {{ ref('int_events_unpacked') }} as e
left join {{ ref('int_lead_sla') }} as l on l.lead_id = e.lead_id
where e.event_type = 'issue_rejected'
union all
select
    'no_note:' || x.event_id,
    'no_admin_note_after_escalation',
    x.lead_id,
    x.issue_id,
    coalesce(x.team_id, x.lead_team_id, 'unassigned'),
    x.occurred_at,
    {{ org_date('x.occurred_at') }},
    x.event_type || ' with no note on the lead since'
from escalations as x
where x.last_note_at is null or x.last_note_at < x.occurred_at
union all
select
    'late_raise:' || e.event_id,
    'issue_raised_long_after_stall',
    e.lead_id,
    e.issue_id,
    coalesce(e.team_id, l.team_id, 'unassigned'),
    e.occurred_at,
    {{ org_date('e.occurred_at') }},
    'raised ' || cast(round({{ minutes_between('l.due_at', 'e.occurred_at') }}) as bigint)
        || ' min after the unanswered deadline'
from {{ ref('int_events_unpacked') }} as e
join {{ ref('int_lead_sla') }} as l on l.lead_id = e.lead_id
where e.event_type = 'issue_raised'
  and l.due_at < e.occurred_at
  and (l.first_response_at is null or l.first_response_at > l.due_at)
  and {{ minutes_between('l.due_at', 'e.occurred_at') }} > {{ var('late_issue_minutes') }}
