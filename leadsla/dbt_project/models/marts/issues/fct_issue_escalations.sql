-- One row per lead-issue escalation step (event issue_escalated, levels 1-3), with the issue's
-- raise, first response and resolution times.
with issues as (
    select
        issue_id,
        min(occurred_at) filter (where event_type = 'issue_raised') as raised_at,
        min(occurred_at) filter (where event_type = 'issue_responded') as responded_at,
        min(occurred_at) filter (where event_type = 'issue_resolved') as resolved_at
    from {{ ref('int_events_unpacked') }}
    where issue_id is not null
    group by issue_id
)
select
    e.event_id as issue_escalation_id,
    e.issue_id,
    e.lead_id,
    e.rule_id,
    e.level,
    e.owner_id,
    e.target_id,
    coalesce(e.team_id, 'unassigned') as team_id,
    e.issue_type,
    e.city,
    e.device,
    i.raised_at,
    e.occurred_at as escalated_at,
    {{ org_date('e.occurred_at') }} as escalated_date,
    i.responded_at,
    i.resolved_at,
    {{ minutes_between('e.occurred_at', 'i.responded_at') }} as minutes_to_response,
    {{ minutes_between('i.raised_at', 'i.resolved_at') }} as minutes_to_resolution
from {{ ref('int_events_unpacked') }} as e
left join issues as i on i.issue_id = e.issue_id
where e.event_type = 'issue_escalated'
