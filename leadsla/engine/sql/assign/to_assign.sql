{#- Leads to assign and the team each goes to: a queue team named by the intent rule or policy,
    else the CRM owner's team when kept, else the first routing rule, else the default team.
    ``fresh``: leads just classified are assigned even when a later export's CRM owner change,
    loaded in the same catch-up tick, already gave them an owner. -#}
{%- set fresh_sql = "OR (l.owner_origin = 'crm' AND l.lead_id IN (SELECT lead_id FROM classified))" if fresh else "" -%}
{%- macro has(col) -%}
(r.{{ col }} IS NULL OR list_contains(r.{{ col }}, lower(trim(l.{{ col }}))))
{%- endmacro -%}
CREATE OR REPLACE TABLE work.to_assign AS
WITH cand AS (
    -- not yet assigned; open when first seen (a tick right after would have)
    SELECT l.*, l.rowid AS srid FROM lead_state l
    WHERE (l.owner IS NULL {{ fresh_sql }})
      AND l.intent IS NOT NULL
      AND (l.closed_seen_at IS NULL OR l.closed_seen_at > l.first_seen_at)
      AND l.needs_review IS DISTINCT FROM 'no eligible owner'
), first_row AS (
    -- the CRM owner of the export that first showed the lead: a catch-up tick assigns
    -- as a tick right after it would have, whatever later exports say
    SELECT lead_id, arg_min(crm_owner, valid_from) AS crm_owner FROM lead_history
    WHERE lead_id IN (SELECT lead_id FROM cand)
    GROUP BY lead_id
), l AS (
    SELECT l.lead_id, l.srid, l.created_at, l.first_seen_at,
           coalesce(f.crm_owner, l.crm_owner) AS crm_owner, l.team AS forced_team,
           l.intent, l.owner AS cur_owner,
           l.service_interest, l.lead_source, l.form_type, l.campaign, l.city,
           l.territory, l.company_size, l.lead_score,
           m.member_id AS crm_member, m.team AS crm_member_team
    FROM cand l
    LEFT JOIN first_row f USING (lead_id)
    LEFT JOIN members m
      ON m.member_id = coalesce(f.crm_owner, l.crm_owner)
     AND lower(coalesce(f.crm_owner, l.crm_owner)) NOT IN (SELECT inbox FROM shared_inboxes)
), routed AS (
    SELECT l.lead_id, r.route_id, r.team
    FROM l JOIN route_rules r
      ON {{ has("service_interest") }}
     AND {{ has("lead_source") }}
     AND {{ has("form_type") }}
     AND {{ has("campaign") }}
     AND {{ has("city") }}
     AND {{ has("territory") }}
     AND {{ has("company_size") }}
     AND (r.intent IS NULL OR list_contains(r.intent, l.intent))
     AND (r.score_min IS NULL OR l.lead_score >= r.score_min)
     AND (r.score_max IS NULL OR l.lead_score <= r.score_max)
    QUALIFY row_number() OVER (PARTITION BY l.lead_id ORDER BY r.priority) = 1
)
SELECT l.lead_id, l.srid, l.created_at, l.first_seen_at, l.cur_owner, l.crm_owner,
       CASE WHEN l.forced_team IS NOT NULL THEN l.forced_team
            WHEN {{ keep }} AND l.crm_member IS NOT NULL THEN l.crm_member_team
            ELSE coalesce(r.team, $default_team) END AS team,
       CASE WHEN {{ keep }} AND l.crm_member IS NOT NULL
             AND (l.forced_team IS NULL OR l.forced_team = l.crm_member_team)
            THEN l.crm_member END AS kept_owner,
       CASE WHEN l.forced_team IS NOT NULL THEN 'queue:' || l.forced_team
            WHEN {{ keep }} AND l.crm_member IS NOT NULL THEN 'crm_owner'
            ELSE coalesce('route:' || r.route_id, 'default_team') END AS why
FROM l LEFT JOIN routed r USING (lead_id)
