-- One row per CRM activity (call, email, meeting, sms, note).
select activity_id, lead_id, occurred_at, type as activity_type, actor as actor_id, direction,
       source_id, export_at
from {{ source('leadsla', 'activities') }}
