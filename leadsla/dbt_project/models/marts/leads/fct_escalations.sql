{{ config(materialized='view_if_changed') }}
-- One row per lead escalation step (event escalated): level, who was escalated to, and how
-- long until the lead got its first response and its outcome after it. A view over
-- int_lead_steps (the step events with their lead's columns as they are now). The team is the
-- one the tick recorded on the step (the team the lead was in when it escalated), as the
-- daily review counts it.
select
    event_id as escalation_id,
    lead_id,
    rule_id,
    policy_id,
    level,
    hop,
    owner_id,
    target_id,
    coalesce(team_id, 'unassigned') as team_id,
    lead_source,
    record_url,
    occurred_at as escalated_at,
    occurred_date as escalated_date,
    recorded_at,
    first_response_at,
    case when first_response_at > occurred_at
         then {{ minutes_between('occurred_at', 'first_response_at') }} end
        as minutes_to_response,
    case when outcome_at > occurred_at
         then {{ minutes_between('occurred_at', 'outcome_at') }} end
        as minutes_to_resolution,
    first_response_at > occurred_at as is_recovered,
    first_response_at <= occurred_at as fired_only_because_of_feed_lag,
    outcome
from {{ ref('int_lead_steps') }}
where event_type = 'escalated'
