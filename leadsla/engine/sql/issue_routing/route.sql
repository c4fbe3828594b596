-- Owning teams, calendar, SLA class, high value, senior agent and the reason to go straight
-- to management, for issues that became valid (even if a later export rejected them: their
-- levels due before it still fire) and have no route yet. A team the feed names (feed_team)
-- replaces the type's teams when org.yaml lists it or a stand-in acts for it ($stand_in:
-- issues.yaml feed_teams); an SLA class the feed names replaces the type's when issues.yaml
-- has it ($classes).
CREATE OR REPLACE TABLE work.iroute AS
WITH v AS (
    SELECT s.*, greatest(s.valid_from, s.first_seen_at) AS known_at
    FROM issue_state s
    WHERE (s.verdict = 'valid' OR (s.valid_until IS NOT NULL AND s.valid_from IS NOT NULL))
      AND s.teams IS NULL
), r AS (
    SELECT v.issue_id, rt.team, rt.ord, t.mode, t.sla, t.direct,
           EXISTS (SELECT 1 FROM members m WHERE m.team = rt.team AND m.available)
               AS avail
    FROM v JOIN issue_types t ON t.type_id = lower(trim(v.issue_type))
    JOIN issue_routes rt ON rt.type_id = t.type_id
), tm AS (
    SELECT issue_id, any_value(sla) AS sla, bool_or(direct) AS direct,
           CASE WHEN any_value(mode) = 'all' THEN list(team ORDER BY ord)
                ELSE [coalesce(arg_min(team, ord) FILTER (WHERE avail),
                               arg_min(team, ord))] END AS teams
    FROM r GROUP BY issue_id
), ft AS (
    SELECT v.issue_id, nullif(trim(v.feed_team), '') AS team,
           nullif(lower(trim(v.feed_sla_class)), '') AS sla
    FROM v
), routed AS (
    SELECT tm.issue_id, coalesce(CASE WHEN list_contains($classes, ft.sla) THEN ft.sla END,
                                 tm.sla) AS sla, tm.direct,
           CASE WHEN ft.team IS NOT NULL AND (
                    $stand_in IS NOT NULL OR EXISTS (SELECT 1 FROM teams o WHERE o.team = ft.team))
                THEN [ft.team] ELSE tm.teams END AS teams
    FROM tm JOIN ft USING (issue_id)
), ctx AS (
    SELECT v.issue_id, l.intent,
           len(list_filter($premium, lambda d: contains(
               lower(coalesce(v.device, l.device, '')), d))) > 0
           OR coalesce(l.estimated_value >= $min_value, false) AS high_value
    FROM v LEFT JOIN lead_state l ON l.lead_id = v.lead_id
), rep AS (
    SELECT v.issue_id, count(*) AS n
    FROM v JOIN issue_state o
      ON lower(trim(o.issue_type)) = lower(trim(v.issue_type))
     AND (lower(trim(o.city)) = lower(trim(v.city)) OR o.lead_id = v.lead_id)
     AND o.raised_at BETWEEN v.raised_at - to_days(CAST($days AS INTEGER))
                         AND v.raised_at
     AND o.first_seen_at <= v.known_at
     AND (o.resolved_at IS NULL OR o.resolved_at > v.raised_at
          OR o.resolved_seen_at > v.known_at)
    GROUP BY v.issue_id
)
SELECT v.issue_id, tm.teams, coalesce(t1.calendar_id, si.calendar_id) AS calendar_id,
       tm.sla, c.intent, c.high_value,
       CASE WHEN c.high_value THEN 'high_value'
            WHEN tm.direct THEN lower(trim(v.issue_type))
            WHEN coalesce(rep.n, 0) >= $repeat THEN 'repeated_pattern' END
           AS direct_reason,
       CASE WHEN c.high_value THEN (
           SELECT m.member_id FROM members m
           WHERE m.team = coalesce(t1.team, si.team) AND m.available
             AND m.seniority = 'senior'
           ORDER BY hash(v.issue_id || '|' || m.member_id), m.member_id LIMIT 1)
       END AS senior_agent
FROM v JOIN routed tm USING (issue_id) JOIN ctx c USING (issue_id)
LEFT JOIN rep USING (issue_id) LEFT JOIN teams t1 ON t1.team = tm.teams[1]
LEFT JOIN teams si ON si.team = $stand_in
