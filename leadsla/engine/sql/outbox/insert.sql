-- The new messages: a recipient without an address on the channel is dead at once (with why);
-- a digest message waits for the next digest slot.
INSERT INTO outbox (message_id, event_id, event_type, lead_id, issue_id, channel, recipient,
                    recipient_role, team, urgency, status, attempts, next_attempt_at,
                    last_error, created_at, route_id, calendar_id, recipient_id)
SELECT message_id, event_id, event_type, lead_id, issue_id, channel,
       coalesce(address, role || ':' || coalesce(rid, '?')), role, rteam, urgency,
       CASE WHEN address IS NULL THEN 'dead' ELSE 'pending' END, 0,
       CASE WHEN urgency = 'digest'
            THEN time_bucket(to_minutes($digest_minutes), $now) + to_minutes($digest_minutes)
            ELSE $now END,
       CASE WHEN address IS NULL
            THEN 'no ' || channel || ' address for ' || role || ' ' || coalesce(rid, '?') END,
       $now, route_id, calendar_id, rid
FROM notif_new
WHERE message_id NOT IN (SELECT message_id FROM outbox WHERE created_at = $now)
