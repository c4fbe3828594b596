-- One row per (lead source, team) with a deadline, plus team 'all': how many met and missed it,
-- all time (up to as_of). The 'all' rows are the grouping set without the team (grouping(),
-- not a null team: a lead with no team counts under 'unassigned', never as a second 'all').
select
    coalesce(lead_source, 'unknown') as lead_source,
    case when grouping(team_id) = 1 then 'all' else team_id end as team_id,
    count(*) as leads,
    count(*) filter (where is_met) as met,
    count(*) filter (where is_missed) as missed,
    round(100.0 * count(*) filter (where is_missed) / count(*), 1) as missed_pct
from (
    select lead_source, coalesce(team_id, 'unassigned') as team_id, is_met, is_missed
    from {{ ref('fct_lead_sla') }}
    where due_at is not null
)
group by grouping sets ((coalesce(lead_source, 'unknown'), team_id), (coalesce(lead_source, 'unknown')))
