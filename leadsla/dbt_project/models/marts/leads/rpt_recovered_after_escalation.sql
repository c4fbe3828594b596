-- One row per lead answered after an escalation (event recovered_after_escalation).
select
    lead_id,
    coalesce(lead_team_id, 'unassigned') as team_id,
    owner_id,
    record_url,
    escalated_at,
    occurred_at as recovered_at,
    occurred_date as recovered_date,
    minutes_after_escalation,
    outcome
from {{ ref('int_lead_steps') }}
where event_type = 'recovered_after_escalation'
