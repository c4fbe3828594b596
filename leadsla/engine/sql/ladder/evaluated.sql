{#- The leads whose watermark this tick moves. -#}
CREATE OR REPLACE TABLE work.evaluated AS SELECT DISTINCT lead_id FROM
(SELECT lead_id FROM clock_src UNION ALL SELECT lead_id FROM later_src)
