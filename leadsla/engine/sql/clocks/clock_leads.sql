{#- One scan of lead state for the leads that may have a clock to look at, with what their step
    events say about them (so recording the steps joins this, not every lead). Unless ``full``,
    only new leads, leads whose next step has come, and responses not yet logged. ``changed``:
    only the leads an export just changed the intent inputs of (``classified``), not yet decided
    up to ``now`` (here the export's time): their clocks before a reclassification. -#}
CREATE OR REPLACE TABLE work.clock_leads AS
SELECT {% include "_fragments/clock_lead_cols.sql" %}, name, intent, intent_rule_id, recommended_action,
       lead_source, service_interest, record_url, clock_gen
FROM lead_state l
WHERE (l.policy_id IS NOT NULL OR l.response_at IS NOT NULL)
{%- if changed %} AND l.lead_id IN (SELECT lead_id FROM classified)
  AND (l.evaluated_until IS NULL OR l.evaluated_until < $now){% endif %}
{%- if not full %} AND (l.evaluated_until IS NULL OR l.next_step_at <= $now OR (l.response_at IS NOT NULL AND NOT l.response_logged)){% endif %}
