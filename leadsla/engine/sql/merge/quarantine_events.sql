-- row_quarantined for every row one file put in quarantine during this tick; the file's
-- checksum is part of the id, so a rewritten file with the same bad line is a new event.
INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("file", "$checksum", "CAST(line AS VARCHAR)", "'row_quarantined'", "reason") }},
       'row_quarantined', NULL, NULL, $export_at, $now, 'quarantine', NULL, NULL, NULL,
       NULL,
       json_object('file', file, 'line', line, 'reason', reason, 'action', action,
                   'source_id', source_id)
FROM quarantine WHERE file = $file AND recorded_at = $now
