{#- The rejects of one piece of a CSV file cut at an unterminated quote (leadsla.ingest.csv_read):
    those up to the cut ($l) moved to the file's lines ($o), and the record at the cut reduced to
    its first line ($raw), quarantined with reason $msg. -#}
INSERT INTO split_rejects BY NAME
SELECT * REPLACE (
    line + $o AS line,
    CASE WHEN line = $l THEN $raw ELSE raw END AS raw,
    CASE WHEN line = $l THEN 1 ELSE size END AS size,
    CASE WHEN line = $l THEN 'UNQUOTED VALUE' ELSE error_type END AS error_type,
    CASE WHEN line = $l THEN $msg ELSE error_message END AS error_message)
FROM raw_rejects WHERE line <= $l
