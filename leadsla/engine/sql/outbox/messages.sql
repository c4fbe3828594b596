{#- Per event: the first route (file order) whose conditions it meets, its targets, and each
    target's address on the route's channel; message_id derives from (event, channel,
    recipient), so a re-run enqueues nothing twice. -#}
{%- set rcpt = "coalesce(a.address, a.role || ':' || coalesce(a.rid, '?'))" -%}
CREATE OR REPLACE TABLE work.notif_new AS
WITH pick AS (  -- the first route (file order) whose conditions the event meets
    SELECT ev.event_id, arg_min(r.route_id, r.ord) AS route_id
    FROM notif_ev ev JOIN notif_routes r ON r.event_type = ev.event_type
     AND (r.step_kinds IS NULL OR list_contains(r.step_kinds, ev.step_kind))
     AND (r.levels IS NULL OR list_contains(r.levels, ev.level))
     AND (r.intents IS NULL OR list_contains(r.intents, ev.intent))
    GROUP BY ev.event_id
), m AS (
    SELECT ev.*, r.route_id, r.urgency
    FROM notif_ev ev JOIN pick USING (event_id) JOIN notif_routes r USING (route_id)
), t AS (
    SELECT m.*, tg.role, tg.channel, tg.tord,
           unnest(CASE WHEN json_type(m.issue_details->'teams') = 'ARRAY'
                       THEN CAST(m.issue_details->'teams' AS VARCHAR[]) ELSE [m.team] END)
               AS eteam
    FROM m JOIN notif_targets tg USING (route_id)
), w AS (  -- who: a member id for person roles. The team is the event's if the org knows
            -- it, else the owner's, else routing's default team: never a team nobody leads
    SELECT t.*, coalesce(ke.team, om.team, $default_team) AS rteam,
           CASE t.role
               WHEN 'owner' THEN CASE WHEN t.event_type = 'reassigned' THEN t.target
                                      ELSE t.owner END
               WHEN 'manager' THEN coalesce(om.manager, tm.team_lead)
               WHEN 'team_lead' THEN tm.team_lead
               WHEN 'raiser' THEN t.raised_by
               WHEN 'senior_agent' THEN sa.member_id END AS member_id
    FROM t
    LEFT JOIN members om ON om.member_id = t.owner
    LEFT JOIN teams ke ON ke.team = t.eteam
    LEFT JOIN teams tm ON tm.team = coalesce(ke.team, om.team, $default_team)
    LEFT JOIN (SELECT team, arg_min(member_id, ord) AS member_id FROM members
               WHERE seniority = 'senior' AND available GROUP BY team) sa
      ON sa.team = coalesce(ke.team, om.team, $default_team)
), issue_rcpt AS (  -- issue events carry their own resolved recipients (issue ladder)
    SELECT w.event_id, w.role, r->>'id' AS rid, r->>'email' AS remail
    FROM (SELECT DISTINCT event_id, role, issue_details FROM w WHERE issue_id IS NOT NULL) w,
         unnest(CAST(coalesce(w.issue_details->'recipients', '[]') AS JSON[])) AS u(r)
    WHERE r->>'role' = w.role
), a AS (
    -- a person role nobody fills (a lead without an owner, an owner the org does not list, no
    -- senior agent) goes to the lead of the event's team: the queue's manager, a real person
    SELECT w.*, mm.member_id AS rid,
           CASE w.channel WHEN 'email' THEN coalesce(ir.remail, mm.email)
                          WHEN 'slack' THEN mm.slack_id
                          WHEN 'whatsapp' THEN mm.phone
                          WHEN 'webhook' THEN 'member:' || mm.member_id END AS address,
           coalesce(mm.calendar_id, tc.calendar_id) AS calendar_id
    FROM w
    LEFT JOIN issue_rcpt ir ON ir.event_id = w.event_id AND ir.role = w.role
    LEFT JOIN members named ON named.member_id = coalesce(ir.rid, w.member_id)
    LEFT JOIN teams tc ON tc.team = w.rteam
    LEFT JOIN members mm ON mm.member_id = coalesce(named.member_id, tc.team_lead)
    WHERE w.role NOT IN ('management', 'team_channel')
    UNION ALL BY NAME
    SELECT w.*, w.rteam AS rid,
           CASE WHEN w.channel IN ('slack', 'teams', 'whatsapp') THEN tm.channel
                WHEN w.channel = 'webhook' THEN 'team:' || w.rteam END AS address,
           tm.calendar_id
    FROM w LEFT JOIN teams tm ON tm.team = w.rteam
    WHERE w.role = 'team_channel'
    UNION ALL BY NAME
    SELECT w.*, 'management' AS rid, g.email AS address, $default_calendar AS calendar_id
    FROM (SELECT * FROM w WHERE role = 'management'  -- once per event: its first team's row
          QUALIFY row_number() OVER (
              PARTITION BY event_id, channel
              ORDER BY CASE WHEN json_type(issue_details->'teams') = 'ARRAY' THEN list_position(
                           CAST(issue_details->'teams' AS VARCHAR[]), eteam) END NULLS LAST,
                       tord) = 1) w
    CROSS JOIN notif_mgmt g
)
-- one row per message: a recipient reached through two of an issue's teams (or two routes)
-- gets it once, through the first route, then the first of the event's teams, then by name:
-- never a pick that could change from run to run
SELECT {{ event_id("a.event_id", "a.channel", rcpt) }} AS message_id, a.*
FROM a
QUALIFY row_number() OVER (
    PARTITION BY message_id
    ORDER BY a.tord,
             CASE WHEN json_type(a.issue_details->'teams') = 'ARRAY' THEN list_position(
                 CAST(a.issue_details->'teams' AS VARCHAR[]), a.eteam) END NULLS LAST,
             a.rteam, a.rid) = 1
