-- notification_dead for each message that was dead when enqueued (no address), once.
INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("message_id", "'notification_dead'") }}, 'notification_dead', lead_id,
       issue_id, $now, $now, 'delivery:' || route_id, NULL, NULL, NULL, recipient,
       json_object('message_id', message_id, 'event_id', event_id, 'channel', channel,
                   'attempts', 0, 'error', last_error)
FROM outbox WHERE created_at = $now AND status = 'dead' AND attempts = 0
  AND message_id NOT IN (SELECT json_extract_string(details, '$.message_id') FROM sla_events
                         WHERE event_type = 'notification_dead' AND recorded_at = $now)
