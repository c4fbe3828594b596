CREATE OR REPLACE TABLE work.next_step (lead_id VARCHAR, next_at TIMESTAMPTZ)
