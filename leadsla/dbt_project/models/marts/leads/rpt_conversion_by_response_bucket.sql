-- One row per (intent, lead source, response bucket): leads and how many qualified or booked,
-- so a reader can tell a follow-up failure (slow buckets convert worse within the same intent
-- and source) from lead quality (a source converts badly however fast it is answered).
select
    coalesce(intent, 'unknown') as intent,
    coalesce(lead_source, 'unknown') as lead_source,
    case
        when business_minutes_to_respond is null then '6 no response'
        when business_minutes_to_respond <= 5 then '1 within 5 min'
        when business_minutes_to_respond <= 15 then '2 5-15 min'
        when business_minutes_to_respond <= 60 then '3 15-60 min'
        when business_minutes_to_respond <= 240 then '4 1-4 h'
        else '5 over 4 h'
    end as response_bucket,
    count(*) as leads,
    count(*) filter (where is_qualified) as qualified,
    count(*) filter (where is_booked) as booked,
    round(100.0 * count(*) filter (where is_qualified) / count(*), 1) as qualified_pct,
    round(100.0 * count(*) filter (where is_booked) / count(*), 1) as booked_pct
from {{ ref('fct_lead_sla') }}
group by all
