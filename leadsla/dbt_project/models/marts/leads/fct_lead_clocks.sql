{{ config(materialized='view_if_changed') }}
-- One row per lead × milestone clock, in the style of dbt_zendesk's SLA policies: when each
-- clock started, its deadline, when it stopped, the verdict and who owned the lead when the
-- deadline passed unmet. The clocks are int_lead_clocks' (incremental by lead); the verdicts
-- depend on the build's as_of (int_as_of). Every clock has a check at its deadline (sla_missed
-- when it has not been seen stopped), so a later clock with no step recorded was seen stopped
-- before its deadline (met) or has not reached it yet (pending); its due_at stays null.
with judged as (
    select
        c.*,
        case
            when c.due_at is null and c.milestone = 'first_response' then 'no_deadline'
            when c.due_at is null then case when c.stopped_at is not null then 'met'
                                            else 'pending' end
            when c.stopped_at <= c.due_at then 'met'
            when c.stopped_at > c.due_at or c.due_at <= a.as_of then 'missed'
            else 'pending'
        end as sla_status
    from {{ ref('int_lead_clocks') }} as c
    cross join {{ ref('int_as_of') }} as a  -- one row: the build's as_of
)
select
    j.clock_id,
    j.lead_id,
    j.milestone,
    j.policy_id,
    j.team_id,
    j.owner_id,
    j.started_at,
    j.due_at,
    j.stopped_at,
    j.minutes_to_stop,
    j.business_minutes as business_minutes_to_stop,
    j.sla_status = 'met' as is_met,
    j.sla_status = 'missed' as is_breached,
    j.sla_status,
    case when j.sla_status = 'missed' then j.due_at end as breached_at,
    -- the owner now when no deadline check has run yet (the tick after the deadline)
    case when j.sla_status = 'missed' then coalesce(j.deadline_owner_id, j.owner_id) end
        as owner_at_breach_id,
    coalesce(j.reminder_count, 0) as reminder_count,
    coalesce(j.escalation_count, 0) as escalation_count
from judged as j
