-- One row per (service category, team): business minutes to first response.
select
    coalesce(service_interest, 'unknown') as service_interest,
    coalesce(team_id, 'unassigned') as team_id,
    count(*) as leads,
    count(business_minutes_to_respond) as responded,
    median(business_minutes_to_respond) as median_business_minutes,
    quantile_cont(business_minutes_to_respond, 0.9) as p90_business_minutes,
    count(*) filter (where is_missed) as missed
from {{ ref('fct_lead_sla') }}
group by all
