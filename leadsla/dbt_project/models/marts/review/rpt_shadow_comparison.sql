-- One row per (day, policy, step type) where the live or the shadow rules recorded a step,
-- from the shadow's first day on: what the candidate would have done beside what was done.
with steps as (
    select 'live' as side, occurred_at, policy_id, event_type
    from {{ ref('stg_leadsla__sla_events') }}
    union all
    select 'shadow', occurred_at, policy_id, event_type
    from {{ ref('stg_leadsla__shadow_events') }}
),
dated as (
    select side, {{ org_date('occurred_at') }} as step_date,
           coalesce(policy_id, '(none)') as policy_id, event_type as step_type
    from steps
    where event_type in ('task_created', 'reminder_sent', 'escalated', 'reassigned',
                         'sla_missed', 'sla_met', 'issue_escalated')
),
since as (
    select min(step_date) as first_day from dated where side = 'shadow'
)
select step_date, policy_id, step_type,
       count(*) filter (where side = 'live') as live_steps,
       count(*) filter (where side = 'shadow') as shadow_steps,
       count(*) filter (where side = 'shadow') - count(*) filter (where side = 'live')
           as difference
from dated, since
where step_date >= since.first_day
group by step_date, policy_id, step_type
