-- What the export said about each lead whose owner or status changed (SCD-2 style).
INSERT INTO lead_history
SELECT j.lead_id, $export_at, $source_id, $file, j.owner, j.status, j.status_class,
       j.first_response_at, j.updated_at
FROM joined j
WHERE j.applies AND (j.is_new OR j.owner IS DISTINCT FROM j.s_owner
                     OR j.status IS DISTINCT FROM j.s_status)
