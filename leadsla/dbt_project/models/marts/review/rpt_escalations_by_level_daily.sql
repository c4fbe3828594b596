-- One row per (date, team, kind, level) with escalations, plus team 'all': lead escalations
-- (levels 1-2) and issue escalations (levels 1-3), for the report's 14-day chart.
with steps as (
    -- lead escalations from the step events, on the team recorded on the step (as
    -- fct_escalations counts them; their lead's columns are not needed here)
    select occurred_date as escalated_date, coalesce(team_id, 'unassigned') as team_id,
           'lead' as escalation_kind, coalesce(level, 0) as level
    from {{ ref('int_lead_step_events') }}
    where event_type = 'escalated'
    union all
    select escalated_date, coalesce(team_id, 'unassigned'), 'issue', coalesce(level, 0)
    from {{ ref('fct_issue_escalations') }}
)
-- the 'all' rows are the grouping set without the team (grouping(), never a null team)
select escalated_date, case when grouping(team_id) = 1 then 'all' else team_id end as team_id,
       escalation_kind, level,
       count(*) as escalations
from steps
group by grouping sets (
    (escalated_date, team_id, escalation_kind, level),
    (escalated_date, escalation_kind, level)
)
