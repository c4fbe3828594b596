-- One row per (intent, lead source, policy): observed business minutes to first response
-- (median, p75, p90) beside the policy's window, so ops can see whether an SLA is realistic
-- (most leads answered near the window) or owners are overloaded (the p90 far beyond it).
-- The windows come from sla_rules/ through the var policy_windows (macros/policy_windows.sql).
with windows as (
    {{ policy_windows() }}
)
select
    coalesce(f.intent, 'unknown') as intent,
    coalesce(f.lead_source, 'unknown') as lead_source,
    coalesce(f.policy_id, 'none') as policy_id,
    any_value(w.window_business_minutes) as window_business_minutes,
    count(*) as leads,
    count(f.business_minutes_to_respond) as responded,
    median(f.business_minutes_to_respond) as p50_business_minutes,
    quantile_cont(f.business_minutes_to_respond, 0.75) as p75_business_minutes,
    quantile_cont(f.business_minutes_to_respond, 0.9) as p90_business_minutes,
    round(100.0 * count(*) filter (where f.is_missed) / count(*), 1) as missed_pct
from {{ ref('fct_lead_sla') }} as f
left join windows as w on w.policy_id = f.policy_id
group by all
