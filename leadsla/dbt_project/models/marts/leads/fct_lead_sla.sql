{{ config(materialized='view_if_changed') }}
-- One row per lead: its SLA from arrival to outcome. The first-response verdict is the lead's
-- first_response clock in fct_lead_clocks (from the response time the data finally shows, not
-- from the sla_met / sla_missed events, which judge as of the threshold); the rest is
-- int_lead_sla's (incremental by lead): steps, outcome, export lag, and the steps that fired
-- although the response, as finally known, came before their threshold (feed lag).
select
    l.lead_id,
    l.source_id,
    l.lead_source,
    l.service_interest,
    l.intent,
    l.policy_id,
    l.team_id,
    l.owner_id,
    l.first_owner_id,
    l.record_url,
    l.created_at,
    l.created_date,
    c.due_at,
    l.due_date,
    c.stopped_at as first_response_at,
    l.first_response_date,
    c.business_minutes_to_stop as business_minutes_to_respond,
    l.minutes_to_respond,
    c.is_met,
    c.is_breached as is_missed,
    c.sla_status,
    l.was_reminded,
    l.was_escalated,
    l.escalation_count,
    l.first_escalated_at,
    l.was_reassigned,
    l.was_recovered,
    l.outcome,
    l.outcome_at,
    l.outcome_date,
    l.closed_at,
    l.waiting_ended_at,
    l.waiting_ended_date,
    l.is_closed,
    l.is_qualified,
    l.is_booked,
    l.export_lag_minutes,
    l.feed_lag_step_count,
    l.feed_lag_step_count > 0 as fired_only_because_of_feed_lag
from {{ ref('int_lead_sla') }} as l
join {{ ref('fct_lead_clocks') }} as c on c.lead_id = l.lead_id and c.milestone = 'first_response'
