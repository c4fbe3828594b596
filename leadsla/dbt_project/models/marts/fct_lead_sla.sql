{{ config(materialized='view') }}
-- One row per lead: its SLA from arrival to outcome. The verdict comes from the response time
-- the data finally shows (not from the sla_met / sla_missed events, which judge as of the
-- threshold); steps that fired although the response, as finally known, came before their
-- threshold are counted as fired only because of feed lag.
-- A view over int_lead_sla (incremental by lead): only the two verdicts that depend on as_of
-- (a lead with no response yet turns from pending to missed when its deadline passes) are
-- computed here, at as_of, so a day's build rewrites only the leads that changed.
select
    lead_id,
    source_id,
    lead_source,
    service_interest,
    intent,
    policy_id,
    team_id,
    owner_id,
    first_owner_id,
    record_url,
    created_at,
    created_date,
    due_at,
    due_date,
    first_response_at,
    first_response_date,
    business_minutes_to_respond,
    minutes_to_respond,
    is_met,
    coalesce(due_at is not null and (
        first_response_at > due_at
        or (first_response_at is null and due_at <= a.as_of)
    ), false) as is_missed,
    case
        when due_at is null then 'no_deadline'
        when first_response_at is not null and first_response_at <= due_at then 'met'
        when first_response_at > due_at or due_at <= a.as_of then 'missed'
        else 'pending'
    end as sla_status,
    was_reminded,
    was_escalated,
    escalation_count,
    first_escalated_at,
    was_reassigned,
    was_recovered,
    outcome,
    outcome_at,
    outcome_date,
    closed_at,
    waiting_ended_at,
    waiting_ended_date,
    is_closed,
    is_qualified,
    is_booked,
    export_lag_minutes,
    feed_lag_step_count,
    feed_lag_step_count > 0 as fired_only_because_of_feed_lag
from {{ ref('int_lead_sla') }}
cross join {{ ref('int_as_of') }} as a  -- one row: the build's as_of
