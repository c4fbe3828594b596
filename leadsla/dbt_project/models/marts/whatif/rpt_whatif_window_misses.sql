-- One row per (first-response policy, window offset): how many leads would have missed a
-- window shifted by -15, -10, -5, 0, +5, +10, +15 business minutes, from the business minutes
-- to first response the log shows. Behaviour is held fixed: every lead is assumed answered
-- exactly when it was, which a different window would change (owners answer to the deadline
-- they see). Only leads settled at the configured window count (met or missed as of the
-- build); a lead still pending is left out of every row.
--  * offset 0 is the recorded verdict (fct_lead_sla.is_missed), so it equals the observed
--    misses; a response exactly on a shifted window's minute counts as met.
--  * an answered lead misses at offset d when its business minutes exceed window + d; an
--    unanswered lead past its deadline misses at every offset.
--  * a deadline anchored to the end of the business day has no single window: its rows carry
--    null windows and null misses.
with windows as (
    {{ policy_windows() }}
),
offsets as (
    select unnest([-15, -10, -5, 0, 5, 10, 15]) as window_offset_minutes
),
leads as (
    select f.policy_id, w.window_business_minutes, f.business_minutes_to_respond,
           f.is_missed, f.sla_status
    from {{ ref('fct_lead_sla') }} as f
    left join windows as w on w.policy_id = f.policy_id
    where f.policy_id is not null
),
judged as (
    select
        l.policy_id,
        o.window_offset_minutes,
        l.window_business_minutes,
        l.sla_status,
        l.business_minutes_to_respond is not null as is_responded,
        case
            when l.window_business_minutes is null or l.sla_status not in ('met', 'missed')
                then null
            when o.window_offset_minutes = 0 then l.is_missed
            when l.business_minutes_to_respond is null then l.is_missed
            else l.business_minutes_to_respond
                 > l.window_business_minutes + o.window_offset_minutes
        end as is_missed_whatif
    from leads as l
    cross join offsets as o
),
counted as (
    select
        policy_id,
        window_offset_minutes,
        any_value(window_business_minutes) as configured_window_business_minutes,
        count(*) filter (where sla_status in ('met', 'missed')) as settled_leads,
        count(*) filter (where sla_status in ('met', 'missed') and is_responded)
            as responded_leads,
        count(*) filter (where sla_status not in ('met', 'missed')) as pending_leads,
        case when any_value(window_business_minutes) is not null
             then count(*) filter (where is_missed_whatif) end as missed_leads
    from judged
    group by policy_id, window_offset_minutes
)
select
    c.policy_id || ':' || c.window_offset_minutes as whatif_id,
    c.policy_id,
    c.window_offset_minutes,
    c.configured_window_business_minutes,
    c.configured_window_business_minutes + c.window_offset_minutes
        as whatif_window_business_minutes,
    c.settled_leads,
    c.responded_leads,
    c.pending_leads,
    c.missed_leads,
    round(100.0 * c.missed_leads / nullif(c.settled_leads, 0), 1) as missed_pct,
    c.missed_leads - first_value(c.missed_leads) over (
        partition by c.policy_id order by c.window_offset_minutes = 0 desc
    ) as missed_change
from counted as c
-- a window cannot be shorter than nothing
where c.configured_window_business_minutes is null
   or c.configured_window_business_minutes + c.window_offset_minutes >= 0
