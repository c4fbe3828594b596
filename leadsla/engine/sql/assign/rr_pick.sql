{#- Round robin within each team: each available member's spare capacity becomes slots ordered
    (round, rotation position), and the k-th lead in arrival order takes the k-th slot. -#}
CREATE OR REPLACE TABLE work.rr_pick AS
WITH need AS (
    SELECT a.*, row_number() OVER (PARTITION BY team
                                   ORDER BY first_seen_at, created_at, lead_id) AS k
    FROM to_assign a WHERE kept_owner IS NULL
), elig AS (
    SELECT m.member_id, m.team, m.capacity - coalesce(ld.open_leads, 0) AS spare,
           row_number() OVER (PARTITION BY m.team ORDER BY m.ord) - 1 AS idx,
           count(*) OVER (PARTITION BY m.team) AS n
    FROM members m LEFT JOIN member_load ld USING (member_id)
    WHERE m.available AND m.capacity > coalesce(ld.open_leads, 0)
), slots AS (
    SELECT e.member_id, e.team,
           row_number() OVER (
               PARTITION BY e.team
               ORDER BY g.round, (e.idx - coalesce(rr.assigned, 0) % e.n + e.n) % e.n
           ) AS k
    FROM elig e
    CROSS JOIN LATERAL (SELECT unnest(range(least(e.spare, 100000))) AS round) g
    LEFT JOIN rr_state rr ON rr.team = e.team
)
SELECT need.lead_id, s.member_id
FROM need LEFT JOIN slots s ON s.team = need.team AND s.k = need.k
