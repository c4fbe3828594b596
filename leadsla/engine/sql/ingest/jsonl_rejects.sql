{#- Every line of a JSON lines file that is not a record: text that is not a JSON object (a
    line of JSON white space only, spaces, tabs or a carriage return, is blank: no record),
    and the lines the parser rejected, on their own line numbers. -#}
CREATE OR REPLACE TEMP TABLE raw_rejects AS
SELECT line, j AS raw, 'INVALID JSON' AS error_type,
       'not a JSON object' AS error_message, 1 AS size
FROM raw_json
WHERE NOT coalesce(ok, false) AND trim(coalesce(j, ''), ' ' || chr(9) || chr(13)) <> ''
UNION ALL
SELECT ord + 1, raw, error_type, error_message, 1 FROM raw_rejects
ORDER BY line
