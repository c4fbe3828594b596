{#- What a file quarantines (leadsla.ingest.canonical): rows the projection refused
    (`rejected`, with every reason), rows that load without a value (`loaded_without_value`,
    with the warnings), and records the parser could not use. Context: raw_expr, the SQL of a
    row's raw text. -#}
CREATE OR REPLACE TABLE work.quarantine_rows AS
SELECT $source_id AS source_id, $file AS file, CAST(c.line AS BIGINT) AS line,
       {{ raw_expr }} AS raw,
       array_to_string(CASE WHEN len(c.reasons) > 0 THEN c.reasons
                            ELSE c.warnings END, '; ') AS reason,
       CASE WHEN len(c.reasons) > 0 THEN 'rejected' ELSE 'loaded_without_value' END
           AS action,
       $now AS recorded_at
FROM checked c JOIN raw_rows r USING (line)
WHERE len(c.reasons) > 0 OR len(c.warnings) > 0
UNION ALL
SELECT $source_id, $file, line, raw,
       coalesce(error_type, 'UNREADABLE') || ': ' || coalesce(error_message, ''),
       'rejected', $now
FROM raw_rejects
