UPDATE rr_state r SET assigned = r.assigned + x.n
FROM (SELECT a.team, count(p.member_id) AS n FROM to_assign a
      JOIN rr_pick p USING (lead_id) GROUP BY a.team) x
WHERE r.team = x.team
