{#- What a file quarantines (leadsla.ingest.canonical): rows the projection refused
    (`rejected`, with every reason), each value an optional field loads without
    (`loaded_without_value`, one row per field, naming it), the records the parser could not
    use, and per timestamp field the date-only values a date_only rule completed (`flagged`,
    one row per field with their count). Context: raw_expr, the SQL of a row's raw text;
    dated (the timestamp fields), date_only (the source's rule). -#}
CREATE OR REPLACE TABLE work.quarantine_rows AS
WITH bad AS (
    SELECT c.line, c.reasons, c.warnings FROM checked c
    WHERE len(c.reasons) > 0 OR len(c.warnings) > 0
),
rows AS (
    SELECT b.line, {{ raw_expr }} AS raw, b.reasons, b.warnings
    FROM bad b JOIN raw_rows r USING (line)
){%- if date_only != "reject" and dated %},
flags AS (  -- one scan counts every timestamp field's date-only values
    SELECT
    {%- for f in dated %}
        count(*) FILTER (WHERE {{ f }}__dateonly AND {{ f }} IS NOT NULL) AS {{ f }}__n,
        min(line) FILTER (WHERE {{ f }}__dateonly AND {{ f }} IS NOT NULL) AS {{ f }}__first
        {{- "," if not loop.last }}
    {%- endfor %}
    FROM checked WHERE len(reasons) = 0
)
{%- endif %}
SELECT $source_id AS source_id, $file AS file, CAST(line AS BIGINT) AS line, raw,
       array_to_string(reasons, '; ') AS reason, 'rejected' AS action, $now AS recorded_at,
       NULL::VARCHAR AS field
FROM rows WHERE len(reasons) > 0
UNION ALL
SELECT $source_id, $file, CAST(line AS BIGINT), raw, w, 'loaded_without_value', $now,
       regexp_extract(w, '^([a-z_]+): ', 1)
FROM (SELECT line, raw, unnest(warnings) AS w FROM rows WHERE len(reasons) = 0)
UNION ALL
SELECT $source_id, $file, line, raw,
       coalesce(error_type, 'UNREADABLE') || ': ' || coalesce(error_message, ''),
       'rejected', $now, NULL
FROM raw_rejects
{%- if date_only != "reject" and dated %}
{%- for f in dated %}
UNION ALL
SELECT $source_id, $file, {{ f }}__first, NULL,
       '{{ f }}: ' || {{ f }}__n || ' value(s) with a date but no time of day (the first at line '
       || {{ f }}__first || ') read as the {{ "start" if date_only == "start_of_day" else "end" }}'
       || ' of that day in ' || $tz
       {%- if date_only == "end_of_day" %} || ' (never after the export)'{% endif %}
       || ' (date_only: {{ date_only }})', 'flagged', $now, '{{ f }}'
FROM flags WHERE {{ f }}__n > 0
{%- endfor %}
{%- endif %}
