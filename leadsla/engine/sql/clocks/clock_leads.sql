{#- One scan of lead state for the leads that may have a clock to look at, with what their step
    events say about them (so recording the steps joins this, not every lead). Unless ``full``,
    only new leads, leads whose next step has come, and responses not yet logged. -#}
CREATE OR REPLACE TABLE work.clock_leads AS
SELECT {% include "_fragments/clock_lead_cols.sql" %}, name, intent, intent_rule_id, recommended_action,
       lead_source, service_interest, record_url
FROM lead_state l
WHERE (l.policy_id IS NOT NULL OR l.response_at IS NOT NULL)
{%- if not full %} AND (l.evaluated_until IS NULL OR l.next_step_at <= $now OR (l.response_at IS NOT NULL AND NOT l.response_logged)){% endif %}
