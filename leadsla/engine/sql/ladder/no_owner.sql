UPDATE lead_state l SET needs_review = 'no eligible owner'
FROM reassign_pick rp WHERE l.lead_id = rp.lead_id AND NOT coalesce(rp.ok, false)
