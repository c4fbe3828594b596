-- One row per (date, team, kind, level) with escalations: lead escalations (levels 1-2) and
-- issue escalations (levels 1-3), for the report's 14-day chart.
select escalated_date, team_id, 'lead' as escalation_kind, coalesce(level, 0) as level,
       count(*) as escalations
from {{ ref('fct_escalations') }}
group by all
union all
select escalated_date, team_id, 'issue', coalesce(level, 0), count(*)
from {{ ref('fct_issue_escalations') }}
group by all
