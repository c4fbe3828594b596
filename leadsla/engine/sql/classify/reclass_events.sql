{#- ``reclassified`` at the change: the choice, the old and new intent, rule and policy, and the
    deadline before and after (the original one when kept). -#}
INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("r.lead_id", "'reclassified'", "CAST(epoch_us(r.changed_at) AS VARCHAR)", "r.rule_id") }},
       'reclassified', r.lead_id, NULL, r.changed_at, $now, r.rule_id,
       CASE WHEN r.kept THEN r.old_policy_id ELSE r.policy_id END, NULL, r.owner, NULL,
       json_object('choice', r.choice, 'kept_original', r.kept,
                   'from_intent', r.old_intent, 'to_intent', r.intent,
                   'from_rule_id', r.old_rule_id, 'to_rule_id', r.rule_id,
                   'from_policy_id', r.old_policy_id, 'to_policy_id', r.policy_id,
                   'from_due_at', r.old_due_at,
                   'due_at', CASE WHEN r.kept THEN r.old_due_at ELSE r.new_due_at END,
                   'clock_started_at',
                   CASE WHEN r.kept THEN r.old_start_at ELSE r.new_start_at END,
                   'hop', r.hop, 'export_at', $export_at, 'rules_version', $rules_version)
FROM reclass_clock r
