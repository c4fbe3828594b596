-- One row per lead that has events: what the log says happened to it, one pass over the log.
select
    lead_id,
    min(occurred_at) filter (where event_type = 'lead_received') as received_at,
    max(export_lag_minutes) filter (where event_type = 'lead_received') as export_lag_minutes,
    arg_min(owner_id, occurred_at) filter (where event_type = 'lead_assigned') as first_owner_id,
    max(business_minutes) filter (where event_type = 'first_response') as business_minutes_to_respond,
    count(*) filter (where event_type = 'reminder_sent') as reminder_count,
    count(*) filter (where event_type = 'escalated') as escalation_count,
    min(occurred_at) filter (where event_type = 'escalated') as first_escalated_at,
    count(*) filter (where event_type = 'reassigned') as reassignment_count,
    count(*) filter (where event_type = 'recovered_after_escalation') > 0 as is_recovered,
    count(*) filter (where event_type = 'sla_missed') as sla_missed_events,
    count(*) filter (where event_type = 'sla_met') as sla_met_events
from {{ ref('int_events_unpacked') }}
where lead_id is not null
group by lead_id
