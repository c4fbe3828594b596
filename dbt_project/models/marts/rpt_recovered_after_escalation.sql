-- One row per lead answered after an escalation (event recovered_after_escalation).
select
    e.lead_id,
    l.team_id,
    e.owner_id,
    l.record_url,
    e.escalated_at,
    e.occurred_at as recovered_at,
    {{ org_date('e.occurred_at') }} as recovered_date,
    e.minutes_after_escalation,
    l.outcome
from {{ ref('int_events_unpacked') }} as e
left join {{ ref('fct_lead_sla') }} as l on l.lead_id = e.lead_id
where e.event_type = 'recovered_after_escalation'
