INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("j.issue_id", "'issue_raised'") }}, 'issue_raised', j.lead_id,
       j.issue_id, j.raised_at, $now, 'ingest', NULL, NULL, j.raised_by, NULL,
       json_object('source_id', $source_id, 'file', $file, 'line', j.line,
                   'issue_type', j.issue_type, 'impact', j.impact, 'city', j.city,
                   'device', j.device, 'export_at', $export_at)
FROM ijoined j WHERE j.is_new
