{#- Each response with its deadline, its business time since creation, and the last escalation
    before it. -#}
CREATE OR REPLACE TABLE work.resp AS
WITH c AS ({{ calendar.clock_sql("resp_src") }})
SELECT c.*, {{ calendar.pos_sql("c.response_at", "i") }} - c.start_pos AS bus_us,
       (SELECT max(e.occurred_at) FROM sla_events e
        WHERE e.lead_id = c.lead_id AND e.event_type IN ({{ escalation_events }})
          AND e.occurred_at < c.response_at) AS escalated_at
FROM c {{ calendar.interval_at("i", "c.calendar_id", "c.response_at") }}
