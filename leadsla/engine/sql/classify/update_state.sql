{#- The intent, its policies, team and recommended action onto lead state. -#}
UPDATE lead_state s SET intent = c.intent, intent_rule_id = c.rule_id,
    policy_id = c.policy_id, qual_policy_id = q.qual_policy_id,
    next_policy_id = q.next_policy_id,
    recommended_action = coalesce(nullif(c.recommended_action, ''),
                                  p.recommended_action),
    team = coalesce(c.rule_team, p.team),
    needs_review = CASE WHEN c.intent = 'unclear' THEN 'unclear intent' END
FROM classified c JOIN policies p USING (policy_id)
LEFT JOIN qual_policies q ON q.intent = c.intent
WHERE s.rowid = c.srid
