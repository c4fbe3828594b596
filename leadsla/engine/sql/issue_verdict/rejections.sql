{#- Each new verdict of 'not escalated' (once per reason and missing fields). -#}
{%- set rejected_id = event_id("v.issue_id", "'issue_rejected'", "v.reason", "array_to_string(v.missing, ',')") -%}
SELECT v.issue_id, s.lead_id, s.raised_by, s.last_export_at, v.reason, v.missing,
       s.issue_type, s.no_escalation_reason, {{ rejected_id }} AS event_id
FROM iv v JOIN issue_state s USING (issue_id)
WHERE v.reason IS NOT NULL
  AND {{ rejected_id }}
      NOT IN (SELECT event_id FROM sla_events WHERE event_type = 'issue_rejected')
ORDER BY v.issue_id
