{#- Before an export merges: the intent inputs of its leads that already have an intent. -#}
CREATE OR REPLACE TABLE work.intent_inputs AS
SELECT l.lead_id, {% include "classify/_inputs_hash.sql" %} AS inputs_hash
FROM lead_state l
WHERE l.intent IS NOT NULL AND l.lead_id IN (SELECT lead_id FROM incoming)
