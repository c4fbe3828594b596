-- One row per (lead source, team) with a deadline, plus team 'all': how many met and missed it.
select
    coalesce(lead_source, 'unknown') as lead_source,
    coalesce(team_id, 'all') as team_id,
    count(*) as leads,
    count(*) filter (where is_met) as met,
    count(*) filter (where is_missed) as missed,
    round(100.0 * count(*) filter (where is_missed) / count(*), 1) as missed_pct
from {{ ref('fct_lead_sla') }}
where due_at is not null
group by grouping sets ((coalesce(lead_source, 'unknown'), team_id), (coalesce(lead_source, 'unknown')))
