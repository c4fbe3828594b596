{%- from "_fragments/never_before_creation.sql" import never_before_creation -%}
{#- The export's issues (the last line of each) that are new or whose reported values changed,
    with the response and resolution they show (a timestamp, or a status whose class, from the
    source's status_map, means it). -#}
{%- set fingerprint -%}hash({% for c in fields %}i.{{ c }}{{ ", " if not loop.last }}{% endfor %}){%- endset -%}
{%- set responded = "coalesce(i.responded_at, CASE WHEN i.status_class IN ('responded', 'resolved') THEN $export_at END)" -%}
{%- set resolved = "coalesce(i.resolved_at, CASE WHEN i.status_class = 'resolved' THEN $export_at END)" -%}
CREATE OR REPLACE TABLE work.ijoined AS
SELECT i.*, {{ fingerprint }} AS h, s.issue_id IS NULL AS is_new,
       {{ never_before_creation(responded, "i.raised_at") }} AS resp,
       {{ never_before_creation(resolved, "i.raised_at") }} AS reso
FROM (SELECT * FROM incoming
      QUALIFY row_number() OVER (PARTITION BY issue_id ORDER BY line DESC) = 1) i
LEFT JOIN issue_state s USING (issue_id)
WHERE s.issue_id IS NULL OR s.row_hash IS DISTINCT FROM {{ fingerprint }}
