-- One row per outgoing message (no bodies: they may carry customer details).
select message_id, event_id, event_type, lead_id, issue_id, channel, recipient, recipient_role,
       coalesce(team, 'unassigned') as team_id, urgency, status, attempts, last_error,
       created_at, sent_at
from {{ source('leadsla', 'outbox') }}
