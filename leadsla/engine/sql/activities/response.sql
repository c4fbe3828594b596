-- For leads whose source reads responses from activities, the first outbound call, email,
-- meeting or sms by the lead's owner (current or previous) is the first response.
UPDATE lead_state s SET response_at = r.first_at, response_via = 'activity',
       responded_seen_at = $export_at
FROM (
    SELECT a.lead_id, min(a.occurred_at) AS first_at
    FROM activities a JOIN lead_state l USING (lead_id)
    JOIN sources src ON src.source_id = l.source_id
    WHERE src.response_signal = 'activities' AND l.responded_seen_at IS NULL
      AND a.direction = 'outbound' AND a.type IN ('call', 'email', 'meeting', 'sms')
      AND a.occurred_at >= l.created_at  -- a call before the lead existed answers nothing
      AND (a.actor = l.owner OR a.actor = l.crm_owner
           OR list_contains(l.previous_owners, a.actor))
    GROUP BY a.lead_id
) r
WHERE s.lead_id = r.lead_id
