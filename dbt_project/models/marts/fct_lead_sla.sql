-- One row per lead: its SLA from arrival to outcome. The verdict comes from the response time
-- the data finally shows (not from the sla_met / sla_missed events, which judge as of the
-- threshold); steps that fired although the response, as finally known, came before their
-- threshold are counted as fired only because of feed lag.
with leads as (
    select * from {{ ref('stg_leadsla__lead_states') }}
),
summary as (
    select * from {{ ref('int_leads_events_summarised') }}
),
feed_lag as (
    select e.lead_id, count(*) as feed_lag_step_count
    from {{ ref('int_events_unpacked') }} as e
    join leads as l on l.lead_id = e.lead_id
    where e.event_type in ('reminder_sent', 'escalated', 'reassigned', 'sla_missed')
      and l.response_at is not null and l.response_at <= e.occurred_at
    group by e.lead_id
)
select
    l.lead_id,
    l.source_id,
    l.lead_source,
    l.service_interest,
    l.intent,
    l.policy_id,
    l.team_id,
    l.owner_id,
    coalesce(s.first_owner_id, l.owner_id) as first_owner_id,
    l.record_url,
    l.created_at,
    {{ org_date('l.created_at') }} as created_date,
    l.due_at,
    {{ org_date('l.due_at') }} as due_date,
    l.response_at as first_response_at,
    s.business_minutes_to_respond,
    {{ minutes_between('l.created_at', 'l.response_at') }} as minutes_to_respond,
    coalesce(l.response_at <= l.due_at, false) as is_met,
    coalesce(l.due_at is not null and (
        l.response_at > l.due_at
        or (l.response_at is null and l.due_at <= {{ as_of() }})
    ), false) as is_missed,
    case
        when l.due_at is null then 'no_deadline'
        when l.response_at is not null and l.response_at <= l.due_at then 'met'
        when l.response_at > l.due_at or l.due_at <= {{ as_of() }} then 'missed'
        else 'pending'
    end as sla_status,
    coalesce(s.reminder_count, 0) > 0 as was_reminded,
    coalesce(s.escalation_count, 0) > 0 as was_escalated,
    coalesce(s.escalation_count, 0) as escalation_count,
    s.first_escalated_at,
    coalesce(s.reassignment_count, 0) > 0 as was_reassigned,
    coalesce(s.is_recovered, false) as was_recovered,
    l.outcome,
    l.outcome_at,
    l.closed_seen_at as closed_at,
    l.closed_seen_at is not null as is_closed,
    coalesce(l.outcome in ('qualified', 'booked'), false) as is_qualified,
    coalesce(l.outcome = 'booked', false) as is_booked,
    s.export_lag_minutes,
    coalesce(f.feed_lag_step_count, 0) as feed_lag_step_count,
    coalesce(f.feed_lag_step_count, 0) > 0 as fired_only_because_of_feed_lag
from leads as l
left join summary as s on s.lead_id = l.lead_id
left join feed_lag as f on f.lead_id = l.lead_id
