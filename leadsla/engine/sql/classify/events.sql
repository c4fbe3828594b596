{#- intent_classified, naming the CRM owner the lead arrived with. -#}
INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("c.lead_id", "'intent_classified'") }}, 'intent_classified',
       c.lead_id, NULL, l.created_at, $now, c.rule_id, c.policy_id, NULL,
       coalesce(f.crm_owner, l.crm_owner),
       NULL, json_object('intent', c.intent, 'rule_id', c.rule_id,
                         'rules_version', $rules_version)
FROM classified c JOIN lead_state l ON l.rowid = c.srid
-- the owner the lead arrived with, whatever later exports loaded in this tick say
LEFT JOIN (SELECT lead_id, arg_min(crm_owner, valid_from) AS crm_owner
           FROM lead_history WHERE lead_id IN (SELECT lead_id FROM classified)
           GROUP BY lead_id) f ON f.lead_id = c.lead_id
