-- One CRM action row per CRM channel for each event that leaves a CRM action.
INSERT INTO outbox (message_id, event_id, event_type, lead_id, issue_id, channel, recipient,
                    recipient_role, team, urgency, status, attempts, next_attempt_at,
                    created_at)
SELECT {{ event_id("ev.event_id", "c.channel") }}, ev.event_id, ev.event_type, ev.lead_id,
       ev.issue_id, c.channel, 'crm', 'crm', ev.team, 'normal', 'pending', 0, $now, $now
FROM notif_ev ev, (SELECT unnest($crm_channels) AS channel) c
WHERE list_contains($crm_events, ev.event_type)
  AND ({{ event_id("ev.event_id", "c.channel") }}) NOT IN (
      SELECT message_id FROM outbox WHERE created_at = $now)
