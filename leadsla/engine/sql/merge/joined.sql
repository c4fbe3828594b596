{%- from "_fragments/never_before_creation.sql" import never_before_creation -%}
{#- One row per lead of the export (the newest within the file), beside what state holds.
    `signal`: the source's response signal; `state_read`: the state columns kept as st_<c>. -#}
{%- if signal == "first_response_at" -%}  {#- only the column counts, never a status -#}
  {%- set resp = "i.first_response_at" -%}
  {%- set via = "'first_response_at'" -%}
{%- elif signal == "status_change" -%}
  {%- set resp = "CASE WHEN list_contains(" ~ responded
      ~ ", i.status_class) THEN coalesce(i.updated_at, $export_at) END" -%}
  {%- set via = "'status'" -%}
{%- else -%}  {#- activities: the activity export decides (step activities) -#}
  {%- set resp = "NULL::TIMESTAMPTZ" -%}
  {%- set via = "NULL" -%}
{%- endif -%}
CREATE OR REPLACE TABLE work.joined AS
SELECT i.*, {{ never_before_creation(resp, "coalesce(s.created_at, i.created_at)") }}
           AS resp_new, {{ via }} AS resp_via,
       {{ never_before_creation("i.first_response_at", "coalesce(s.created_at, i.created_at)") }}
           AS first_response_kept,
       replace($url, '{lead_id}', i.lead_id) AS url,
       s.lead_id IS NULL AS is_new,
       s.crm_owner AS s_owner, s.crm_status AS s_status, s.outcome AS s_outcome,
       s.responded_seen_at AS s_responded_seen_at, s.closed_seen_at AS s_closed_seen_at,
       s.updated_at AS s_updated_at,
       (s.lead_id IS NULL OR i.updated_at IS NULL OR s.updated_at IS NULL
        OR i.updated_at >= s.updated_at) AS applies,
       i.raw_hash AS row_hash, k.srid,
       {% for c in state_read %}s.{{ c }} AS st_{{ c }}{{ ", " if not loop.last }}{% endfor %}
-- within a file the newest updated_at wins, then the later line: deterministic (the window is
-- skipped when no lead id repeats, as in most exports)
FROM (SELECT * FROM incoming
{%- if repeats %}
      QUALIFY row_number() OVER (PARTITION BY lead_id
                                 ORDER BY updated_at DESC NULLS LAST, line DESC) = 1
{%- endif %}) i
LEFT JOIN known k USING (lead_id)
LEFT JOIN lead_state s ON s.rowid = k.srid
