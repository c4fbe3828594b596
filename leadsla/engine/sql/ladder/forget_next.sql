DELETE FROM next_step WHERE lead_id IN (SELECT lead_id FROM moved)
