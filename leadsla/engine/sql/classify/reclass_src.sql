{#- The two clocks a reclassified lead may take on its new policy: from its arrival, and from
    the change. -#}
CREATE OR REPLACE TABLE work.reclass_src AS
SELECT lead_id, policy_id, created_at AS start_at, 'arrival' AS start_kind FROM reclass
UNION ALL
SELECT lead_id, policy_id, changed_at, 'change' FROM reclass
