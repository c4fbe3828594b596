-- One row per lead escalation step (event escalated): level, who was escalated to, and how
-- long until the lead got its first response and its outcome after it.
select
    e.event_id as escalation_id,
    e.lead_id,
    e.rule_id,
    e.policy_id,
    e.level,
    e.hop,
    e.owner_id,
    e.target_id,
    coalesce(e.team_id, l.team_id) as team_id,
    l.lead_source,
    l.record_url,
    e.occurred_at as escalated_at,
    {{ org_date('e.occurred_at') }} as escalated_date,
    e.recorded_at,
    l.first_response_at,
    case when l.first_response_at > e.occurred_at
         then {{ minutes_between('e.occurred_at', 'l.first_response_at') }} end
        as minutes_to_response,
    case when l.outcome_at > e.occurred_at
         then {{ minutes_between('e.occurred_at', 'l.outcome_at') }} end
        as minutes_to_resolution,
    l.first_response_at > e.occurred_at as is_recovered,
    l.first_response_at <= e.occurred_at as fired_only_because_of_feed_lag,
    l.outcome
from {{ ref('int_events_unpacked') }} as e
left join {{ ref('fct_lead_sla') }} as l on l.lead_id = e.lead_id
where e.event_type = 'escalated'
