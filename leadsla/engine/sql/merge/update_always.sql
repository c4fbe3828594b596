UPDATE lead_state s
SET updated_at = j.updated_at, last_export_at = $export_at, row_hash = j.row_hash
FROM joined j
WHERE s.rowid = j.srid AND NOT j.is_new AND j.applies AND (true)
