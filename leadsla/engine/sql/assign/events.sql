INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("a.lead_id", "'lead_assigned'") }}, 'lead_assigned', a.lead_id,
       NULL, CASE WHEN a.kept_owner IS NOT NULL THEN l.created_at
                  ELSE l.first_seen_at END,
       $now, a.why, l.policy_id, NULL, coalesce(a.kept_owner, p.member_id),
       coalesce(a.kept_owner, p.member_id),
       json_object('team', a.team, 'assigned_by', a.why, 'crm_owner', a.crm_owner,
                   'rules_version', $rules_version)
FROM to_assign a JOIN lead_state l ON l.rowid = a.srid
LEFT JOIN rr_pick p ON p.lead_id = a.lead_id
WHERE coalesce(a.kept_owner, p.member_id) IS NOT NULL
