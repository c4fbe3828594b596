{#- New owner for each due reassignment: same team, available, never a previous owner, spare
    capacity. The choice is a stable hash of (lead, hop, member), not the current load: load
    depends on when the tick runs, and the same exports must give the same events at any
    cadence. ``ok``: the pick fits the member's spare capacity. -#}
CREATE OR REPLACE TABLE work.reassign_pick AS
WITH r AS (
    SELECT d.*, p.max_hops FROM due_steps d JOIN policies p USING (policy_id)
    WHERE d.kind = 'reassign' AND d.hop < p.max_hops
), cands AS (
    SELECT r.lead_id, m.member_id, coalesce(ld.open_leads, 0) AS load, m.capacity,
           row_number() OVER (PARTITION BY r.lead_id
               ORDER BY hash(r.lead_id || '|' || r.hop || '|' || m.member_id),
                        m.member_id)
               AS pref
    FROM r JOIN members m ON m.team = r.team AND m.available
    LEFT JOIN member_load ld USING (member_id)
    WHERE m.member_id IS DISTINCT FROM r.owner
      AND NOT list_contains(coalesce(r.previous_owners, []), m.member_id)
      AND coalesce(ld.open_leads, 0) < m.capacity
), first AS (
    SELECT * FROM cands WHERE pref = 1
)
SELECT r.lead_id, f.member_id AS new_owner,
       f.member_id IS NOT NULL AND row_number() OVER (
           PARTITION BY f.member_id ORDER BY r.threshold_at, r.lead_id
       ) <= f.capacity - f.load AS ok
FROM r LEFT JOIN first f USING (lead_id)
