CREATE OR REPLACE TABLE work.due_src AS SELECT lead_id, rowid AS srid, policy_id,
created_at AS start_at FROM lead_state WHERE due_at IS NULL AND policy_id IS NOT NULL
