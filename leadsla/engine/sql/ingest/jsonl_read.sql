{#- Every line of a JSON lines file as one text value `j`, numbered among the lines parsed,
    and whether it is a JSON object (leadsla.ingest.jsonl). Context: options, the read's
    options (JSONL_OPTIONS). -#}
CREATE OR REPLACE TEMP TABLE raw_json AS
SELECT row_number() OVER () - 1 AS rid, j,
       json_type(try_cast(j AS JSON)) = 'OBJECT' AS ok
FROM read_csv($path, {{ options }})
