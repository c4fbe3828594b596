{#- After the merge: the leads whose intent inputs the export changed while their first-response
    clock still runs (no response, not closed). -#}
CREATE OR REPLACE TABLE work.reclass_leads AS
SELECT l.lead_id
FROM lead_state l JOIN intent_inputs b USING (lead_id)
WHERE {% include "classify/_inputs_hash.sql" %} IS DISTINCT FROM b.inputs_hash
  AND l.policy_id IS NOT NULL AND l.response_at IS NULL AND l.closed_seen_at IS NULL
