CREATE OR REPLACE TABLE work.all_moved (lead_id VARCHAR)
