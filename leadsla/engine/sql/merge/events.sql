{#- What the export changed, as events: new leads, owner and status changes, outcomes. -#}
{%- set changed_at = "coalesce(j.updated_at, $export_at)" -%}
INSERT INTO sla_events ({{ event_cols }})
SELECT {{ event_id("j.lead_id", "'lead_received'") }}, 'lead_received', j.lead_id, NULL,
       j.created_at, $now, 'ingest', NULL, NULL, j.owner, NULL,
       json_object('source_id', $source_id, 'file', $file, 'line', j.line,
                   'export_at', $export_at,
                   'export_lag_minutes',
                   round(date_diff('second', j.created_at, $export_at) / 60.0, 2))
FROM joined j WHERE j.is_new
UNION ALL
SELECT {{ event_id("j.lead_id", "'owner_changed'", "CAST($export_at AS VARCHAR)", "coalesce(j.owner, '')") }},
       'owner_changed', j.lead_id, NULL, {{ changed_at }}, $now, 'ingest', NULL, NULL,
       j.s_owner, j.owner, json_object('from', j.s_owner, 'to', j.owner, 'file', $file)
FROM joined j
WHERE NOT j.is_new AND j.applies AND j.owner IS DISTINCT FROM j.s_owner
UNION ALL
SELECT {{ event_id("j.lead_id", "'status_changed'", "CAST($export_at AS VARCHAR)", "coalesce(j.status, '')") }},
       'status_changed', j.lead_id, NULL, {{ changed_at }}, $now, 'ingest', NULL, NULL,
       j.owner, NULL,
       json_object('from', j.s_status, 'to', j.status, 'class', j.status_class,
                   'file', $file)
FROM joined j
WHERE NOT j.is_new AND j.applies AND j.status IS DISTINCT FROM j.s_status
UNION ALL
SELECT {{ event_id("j.lead_id", "'outcome_logged'", "j.status_class") }},
       'outcome_logged', j.lead_id, NULL, {{ changed_at }}, $now, 'status_map', NULL, NULL,
       j.owner, NULL,
       json_object('outcome', j.status_class, 'crm_status', j.status, 'file', $file)
FROM joined j
WHERE j.applies AND list_contains({{ outcome }}, j.status_class)
  AND j.status_class IS DISTINCT FROM j.s_outcome
