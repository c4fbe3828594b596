-- One row per export file seen.
select path as file_path, source_id, entity, export_at, status, reason, rows_read, rows_loaded,
       rows_quarantined, recorded_at
from {{ source('leadsla', 'export_manifest') }}
