-- One row per quarantined input row.
select source_id, file as file_path, line as line_number, reason, action, recorded_at
from {{ source('leadsla', 'quarantine') }}
