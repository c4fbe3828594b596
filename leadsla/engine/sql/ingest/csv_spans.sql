{#- The parsed records of a CSV file that span lines, and how many line ends each holds
    (leadsla.ingest.csv_lines). Context: nl, the SQL that counts a record's line ends;
    options, the read's CSV options. -#}
CREATE OR REPLACE TEMP TABLE raw_spans AS
SELECT rid, nl FROM (
    SELECT row_number() OVER () - 1 AS rid, {{ nl }} AS nl
    FROM read_csv($path, {{ options }})
) WHERE nl > 0
