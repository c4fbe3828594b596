-- One row per (rule, event type, team): how often a step rule fired, in all and in the last
-- 7 days against the 7 before (the weekly report's "how that changed"). Lead steps come from
-- int_lead_step_events (details already unpacked), issue escalations from the log (few).
with steps as (
    select rule_id, event_type, team_id, occurred_at
    from {{ ref('int_lead_step_events') }}
    where event_type in ('reminder_sent', 'escalated', 'reassigned', 'sla_missed')
    union all
    select rule_id, event_type, team_id, occurred_at
    from {{ ref('int_events_unpacked') }}
    where event_type = 'issue_escalated'
)
select
    rule_id,
    event_type,
    coalesce(team_id, 'unassigned') as team_id,
    count(*) as fired,
    count(*) filter (where occurred_at > {{ as_of() }} - interval 7 day
                       and occurred_at <= {{ as_of() }}) as fired_last_7d,
    count(*) filter (where occurred_at > {{ as_of() }} - interval 14 day
                       and occurred_at <= {{ as_of() }} - interval 7 day) as fired_prior_7d
from steps
group by all
