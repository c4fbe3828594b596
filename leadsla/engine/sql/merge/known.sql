-- Lead state's rows for these leads: found by reading lead_id alone, then fetched by rowid,
-- instead of reading two dozen columns of every lead to keep a few percent of them.
CREATE OR REPLACE TABLE work.known AS
SELECT s.lead_id, s.rowid AS srid FROM lead_state s SEMI JOIN incoming i USING (lead_id)
