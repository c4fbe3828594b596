{#- What the export changed, as events: new leads, owner and status changes, outcomes.
    Nothing a file contains may repeat an id the log holds (the log refuses it, and the file
    would be refused at every tick): an owner or status change whose id is already stored (a
    lead moved back and forth by files of one export time) takes the export's checksum into
    its id, and an outcome is logged once per lead and outcome (a lead lost, reopened and lost
    again has its second loss in `status_changed` and in state). `seen`: those ids already
    stored for the export's known leads. -#}
{%- set changed_at = "coalesce(j.updated_at, $export_at)" -%}
{%- set owner_id = event_id("j.lead_id", "'owner_changed'", "CAST($export_at AS VARCHAR)", "coalesce(j.owner, '')") -%}
{%- set status_id = event_id("j.lead_id", "'status_changed'", "CAST($export_at AS VARCHAR)", "coalesce(j.status, '')") -%}
{%- set outcome_id = event_id("j.lead_id", "'outcome_logged'", "j.status_class") -%}
{%- macro unseen(id) -%}
CASE WHEN {{ id }} IN (SELECT event_id FROM seen) THEN md5(concat_ws('|', {{ id }}, $checksum))
     ELSE {{ id }} END
{%- endmacro -%}
INSERT INTO sla_events ({{ event_cols }})
WITH seen AS (
    SELECT event_id FROM sla_events
    WHERE event_type IN ('owner_changed', 'status_changed', 'outcome_logged')
      AND lead_id IN (SELECT lead_id FROM joined WHERE NOT is_new AND applies)
)
SELECT {{ event_id("j.lead_id", "'lead_received'") }}, 'lead_received', j.lead_id, NULL,
       j.created_at, $now, 'ingest', NULL, NULL, j.owner, NULL,
       json_object('source_id', $source_id, 'file', $file, 'line', j.line,
                   'export_at', $export_at,
                   'export_lag_minutes',
                   round(date_diff('second', j.created_at, $export_at) / 60.0, 2))
FROM joined j WHERE j.is_new
UNION ALL
SELECT {{ unseen(owner_id) }},
       'owner_changed', j.lead_id, NULL, {{ changed_at }}, $now, 'ingest', NULL, NULL,
       j.s_owner, j.owner, json_object('from', j.s_owner, 'to', j.owner, 'file', $file)
FROM joined j
WHERE NOT j.is_new AND j.applies AND j.owner IS DISTINCT FROM j.s_owner
UNION ALL
SELECT {{ unseen(status_id) }},
       'status_changed', j.lead_id, NULL, {{ changed_at }}, $now, 'ingest', NULL, NULL,
       j.owner, NULL,
       json_object('from', j.s_status, 'to', j.status, 'class', j.status_class,
                   'file', $file)
FROM joined j
WHERE NOT j.is_new AND j.applies AND j.status IS DISTINCT FROM j.s_status
UNION ALL
SELECT {{ outcome_id }},
       'outcome_logged', j.lead_id, NULL, {{ changed_at }}, $now, 'status_map', NULL, NULL,
       j.owner, NULL,
       json_object('outcome', j.status_class, 'crm_status', j.status, 'file', $file)
FROM joined j
WHERE j.applies AND list_contains({{ outcome }}, j.status_class)
  AND j.status_class IS DISTINCT FROM j.s_outcome
  AND {{ outcome_id }} NOT IN (SELECT event_id FROM seen)
