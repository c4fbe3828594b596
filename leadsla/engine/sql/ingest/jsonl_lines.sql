{#- The lines the parser rejected (bad bytes, over the size bound), and each parsed line's
    number: its place among parsed ones plus the rejected ones before it. Context:
    reject_case, the CASE arms that word a DuckDB error type as a reason. -#}
CREATE OR REPLACE TEMP TABLE raw_rejects AS
SELECT line - 1 AS ord, any_value(csv_line) AS raw,
       string_agg(DISTINCT error_type, ', ') AS error_type,
       CASE any_value(CAST(error_type AS VARCHAR)) {{ reject_case }}
            ELSE 'the line cannot be read' END AS error_message
FROM reject_errors GROUP BY line;

CREATE OR REPLACE TEMP TABLE raw_json AS
WITH k AS (
    SELECT good_before, max(k) AS k FROM (
        SELECT ord - (row_number() OVER (ORDER BY ord) - 1) AS good_before,
               row_number() OVER (ORDER BY ord) AS k
        FROM raw_rejects)
    GROUP BY good_before)
SELECT j.*, j.rid + 1 + coalesce(k.k, 0) AS line
FROM raw_json j ASOF LEFT JOIN k ON j.rid >= k.good_before;
