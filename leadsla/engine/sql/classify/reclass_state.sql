{#- The new intent, rule and recommended action onto lead state; unless the original clock is
    kept, the new policy (and its later clocks), the clock's start and deadline. The new clock
    is looked at from its start: a clock from the change fires its steps after the change; a
    clock from the arrival also fires, at the next tick, the steps whose thresholds passed
    before the change (as for a lead first seen late), so a deadline that has already passed
    escalates instead of staying silent. The owner, team and hop stay; a restarted clock is a new
    generation (``clock_gen``), so its steps are new events even on a policy the lead had before. -#}
UPDATE lead_state s SET intent = r.intent, intent_rule_id = r.rule_id,
    recommended_action = coalesce(nullif(r.recommended_action, ''), p.recommended_action),
    policy_id = CASE WHEN r.kept THEN s.policy_id ELSE r.policy_id END,
    qual_policy_id = CASE WHEN r.kept THEN s.qual_policy_id ELSE q.qual_policy_id END,
    next_policy_id = CASE WHEN r.kept THEN s.next_policy_id ELSE q.next_policy_id END,
    hop_started_at = CASE WHEN r.kept THEN s.hop_started_at ELSE r.new_start_at END,
    clock_gen = CASE WHEN r.kept THEN s.clock_gen ELSE coalesce(s.clock_gen, 0) + 1 END,
    due_at = CASE WHEN r.kept THEN s.due_at ELSE r.new_due_at END,
    needs_review = CASE WHEN r.intent = 'unclear' THEN 'unclear intent'
                        WHEN s.needs_review = 'unclear intent' THEN NULL
                        ELSE s.needs_review END,
    evaluated_until = CASE WHEN r.kept THEN r.changed_at
                           ELSE least(r.new_start_at, r.changed_at) END,
    next_step_at = r.changed_at
FROM reclass_clock r
JOIN policies p ON p.policy_id = r.policy_id
LEFT JOIN qual_policies q ON q.intent = r.intent
WHERE s.lead_id = r.lead_id
