{#- The records one CSV read rejected (leadsla.ingest.csv_read), one row per record: its
    text, what was wrong (never its values), the lines it spans, its number among all records
    (`ord`) and the offset of its first byte. Context: reject_case, the CASE arms that word a
    DuckDB error type as a reason. -#}
CREATE OR REPLACE TEMP TABLE raw_rejects AS
SELECT line, any_value(csv_line) AS raw,
       string_agg(DISTINCT error_type, ', ') AS error_type,
       CASE any_value(CAST(error_type AS VARCHAR)) {{ reject_case }}
            ELSE 'the record cannot be read' END AS error_message,
       1 + length(any_value(csv_line))
         - length(replace(any_value(csv_line), chr(10), '')) AS size,
       line - 2 AS ord, min(line_byte_position) - 1 AS at_byte
FROM reject_errors GROUP BY line ORDER BY line
