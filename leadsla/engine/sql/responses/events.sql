INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("lead_id", "'first_response'") }}, 'first_response', lead_id, NULL,
       response_at, $now, 'response:' || response_via, policy_id, NULL, owner, NULL,
       json_object('business_minutes', round(bus_us / 6e7, 2), 'due_at', due_at,
                   'via', response_via, 'seen_at', responded_seen_at)
FROM resp
UNION ALL
SELECT {{ event_id("lead_id", "'sla_met'") }}, 'sla_met', lead_id, NULL, response_at,
       $now, policy_id || '.deadline', policy_id, NULL, owner, NULL,
       json_object('business_minutes', round(bus_us / 6e7, 2), 'due_at', due_at,
                   'rules_version', $rules_version)
FROM resp WHERE response_at <= due_at
UNION ALL
SELECT {{ event_id("lead_id", "'recovered_after_escalation'") }},
       'recovered_after_escalation', lead_id, NULL, response_at, $now,
       policy_id || '.recovery', policy_id, NULL, owner, NULL,
       json_object('escalated_at', escalated_at,
                   'minutes_after_escalation',
                   round(date_diff('second', escalated_at, response_at) / 60.0, 2))
FROM resp WHERE escalated_at IS NOT NULL
