{#- The verdict of every issue whose reported values changed since its verdict: `reason` is
    NULL (valid) or why it is not escalated. `missing`: a CASE over the field name `f` that is
    true when the issue's value of that field (in its state column) is empty. -#}
CREATE OR REPLACE TABLE work.iv AS
WITH s AS (
    SELECT s.*, coalesce(src.mandatory, $default_mandatory) AS mand
    FROM issue_state s LEFT JOIN issue_sources src USING (source_id)
    WHERE s.verdict_hash IS DISTINCT FROM s.row_hash
), m AS (
    SELECT s.issue_id, s.row_hash,
           list_filter(s.mand, lambda f: CASE f
               {%- for col, f in fields %}
               WHEN '{{ f }}' THEN nullif(trim(CAST({{ col }} AS VARCHAR)), '') IS NULL
               {%- endfor %} END) AS missing,
           list_contains($non_blockers, lower(trim(s.no_escalation_reason))) AS not_blocker,
           t.type_id IS NOT NULL AS known_type
    FROM s LEFT JOIN issue_types t ON t.type_id = lower(trim(s.issue_type))
)
SELECT *, CASE WHEN not_blocker THEN 'not_a_blocker'
               WHEN NOT known_type THEN 'unknown_type'
               WHEN len(missing) > 0 THEN 'missing_fields' END AS reason
FROM m
