INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("issue_id", "kind") }}, kind, lead_id, issue_id, happened_at, $now,
       'issues.' || kind, NULL, max_level, raised_by, NULL,
       json_object('business_minutes', bus_min, 'seen_at', seen_at,
                   'highest_level', max_level, 'resolution', resolution)
FROM iresp
