{#- The leads this round reassigned. -#}
CREATE OR REPLACE TABLE work.moved AS SELECT lead_id FROM reassign_pick WHERE ok
