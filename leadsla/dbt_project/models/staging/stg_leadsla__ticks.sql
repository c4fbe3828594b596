-- One row per tick; tick_at is the tick's logical now.
select now as tick_at, rules_version, files_loaded, files_failed, rows_loaded, rows_quarantined,
       step_events, recorded_at
from {{ source('leadsla', 'tick_log') }}
