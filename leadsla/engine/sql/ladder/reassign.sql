{#- The ladder starts again for the new owner, from the reassignment's threshold. -#}
UPDATE lead_state l SET
    previous_owners = list_append(coalesce(l.previous_owners, []), d.owner),
    -- a CRM owner change seen after the threshold (loaded by a catch-up tick) stands
    owner = CASE WHEN later.lead_id IS NULL THEN rp.new_owner ELSE l.owner END,
    owner_origin = CASE WHEN later.lead_id IS NULL THEN 'reassigned'
                        ELSE l.owner_origin END,
    hop = l.hop + 1, hop_started_at = d.threshold_at
FROM reassign_pick rp JOIN due_steps d ON d.lead_id = rp.lead_id AND d.kind = 'reassign'
LEFT JOIN (SELECT DISTINCT m.lead_id, d2.threshold_at FROM crm_moves m
           JOIN due_steps d2 ON d2.lead_id = m.lead_id AND d2.kind = 'reassign'
           WHERE m.since > d2.threshold_at) later
  ON later.lead_id = d.lead_id
WHERE l.lead_id = rp.lead_id AND rp.ok
