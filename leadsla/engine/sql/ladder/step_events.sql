{#- Every due step as an event, as of its threshold: the owner then, the target its kind reaches
    (the new owner of a reassignment that found one), the export lag behind the threshold, and
    the seed's task fields on a task. ``step_event``: the event of each kind of step. -#}
INSERT INTO sla_events ({{ event_cols }})
WITH lag AS (
    SELECT d.lead_id, d.policy_id, d.step_id, d.hop,
           date_diff('second', m.export_at, d.threshold_at) / 60.0 AS lag_min
    FROM due_steps d ASOF LEFT JOIN (
        SELECT source_id, export_at FROM export_manifest WHERE status = 'loaded'
    ) m ON m.source_id = d.source_id AND d.threshold_at >= m.export_at
)
SELECT {{ event_id("d.lead_id", "d.policy_id", "p.policy_version",
                    "CAST(d.hop AS VARCHAR) || CASE WHEN coalesce(l.clock_gen, 0) > 0 THEN '#' || l.clock_gen ELSE '' END",
                    "d.step_id") }},
       CASE WHEN d.kind = 'reassign' AND coalesce(rp.ok, false) THEN 'reassigned'
            WHEN d.kind = 'reassign' THEN 'escalated'
            ELSE CASE {% for kind, event in step_event %}WHEN d.kind = '{{ kind }}' THEN '{{ event }}' {% endfor %}END END,
       d.lead_id, NULL, d.threshold_at, $now, d.policy_id || '.' || d.step_id,
       d.policy_id,
       CASE WHEN d.kind = 'escalate' THEN 1
            WHEN d.kind = 'reassign' AND NOT coalesce(rp.ok, false) THEN 2 END,
       d.owner,
       CASE WHEN d.kind IN ('task', 'reminder') THEN d.owner
            WHEN d.kind = 'escalate' THEN coalesce(m.manager, t.team_lead)
            WHEN d.kind = 'reassign' AND coalesce(rp.ok, false) THEN rp.new_owner
            WHEN d.kind = 'reassign' THEN t.team_lead END,
       json_object(
           'step', d.step_id, 'hop', d.hop, 'intent', l.intent,
           'intent_rule_id', l.intent_rule_id, 'policy_version', p.policy_version,
           'rules_version', $rules_version, 'threshold_at', d.threshold_at,
           'due_at', d.due_at, 'clock_started_at', d.start_at,
           'business_minutes', round((d.thr_pos - d.start_pos) / 6e7, 2),
           'export_lag_minutes', round(lg.lag_min, 2),
           'seen_late', d.first_seen_at > d.threshold_at,
           'team', d.team,
           'recommended_action', coalesce(d.step_action, l.recommended_action),
           'reason', CASE WHEN d.kind = 'reassign' AND rp.lead_id IS NULL
                          THEN 'hop limit reached'
                          WHEN d.kind = 'reassign' AND NOT coalesce(rp.ok, false)
                          THEN 'no eligible owner' END,
           -- the seed's task fields travel with the task; later steps refer to it
           'task', CASE WHEN d.kind = 'task' THEN json_object(
               'lead_name', l.name, 'owner', d.owner, 'due_at', d.due_at,
               'lead_source', l.lead_source, 'service_interest', l.service_interest,
               'intent', l.intent,
               'recommended_action', coalesce(d.step_action, l.recommended_action),
               'record_url', l.record_url, 'completion_status', 'open') END)
FROM due_steps d
JOIN policies p USING (policy_id)
JOIN clock_leads l USING (lead_id)  -- what lead state said when the clocks were read
LEFT JOIN members m ON m.member_id = d.owner
LEFT JOIN teams t ON t.team = d.team
LEFT JOIN reassign_pick rp ON rp.lead_id = d.lead_id AND d.kind = 'reassign'
LEFT JOIN lag lg ON lg.lead_id = d.lead_id AND lg.policy_id = d.policy_id
     AND lg.step_id = d.step_id AND lg.hop = d.hop
