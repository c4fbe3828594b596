{#- The changed leads another rule now matches, with another intent or policy, whose new policy
    does not keep: the choice, and the moment the change takes effect (the export's time, or
    the watermark when a late file is older than what was already decided). After the old
    clock was brought up to the export (reclassify.py), so the watermark is read fresh. -#}
CREATE OR REPLACE TABLE work.reclass AS
SELECT l.lead_id, s.reclassify AS choice,
       greatest($export_at, coalesce(l.evaluated_until, $export_at)) AS changed_at,
       l.intent AS old_intent, l.intent_rule_id AS old_rule_id, l.policy_id AS old_policy_id,
       l.due_at AS old_due_at, l.hop_started_at AS old_start_at, l.created_at, l.hop, l.owner,
       c.intent, c.rule_id, c.policy_id, c.recommended_action
FROM classified c
JOIN lead_state l USING (lead_id)
JOIN reclass_settings s ON s.policy_id = c.policy_id
WHERE s.reclassify <> 'keep'
  AND c.rule_id IS DISTINCT FROM l.intent_rule_id
  AND (c.intent IS DISTINCT FROM l.intent OR c.policy_id IS DISTINCT FROM l.policy_id)
