{#- Each lead without an intent (``changed``: each lead whose intent inputs an export just
    changed, reclassify.py) and the first intent rule (by priority) that matches it. -#}
{%- macro has(col, val) -%}
(r.{{ col }} IS NULL OR list_contains(r.{{ col }}, lower(trim(l.{{ val }}))))
{%- endmacro -%}
CREATE OR REPLACE TABLE work.classified AS
WITH l AS (
    SELECT l.*, l.rowid AS srid,
           list_filter([
               {%- for f in empty_fields -%}
               {%- if f == "owner" -%}
               CASE WHEN nullif(trim(l.crm_owner), '') IS NULL THEN 'owner' END
               {%- else -%}
               CASE WHEN nullif(trim(CAST(l.{{ f }} AS VARCHAR)), '') IS NULL THEN '{{ f }}' END
               {%- endif %}{{ ", " if not loop.last }}
               {%- endfor %}], lambda x: x IS NOT NULL) AS empty_fields
    FROM lead_state l
    WHERE {% if changed %}l.lead_id IN (SELECT lead_id FROM reclass_leads){% else %}l.intent IS NULL{% endif %}
)
SELECT l.lead_id, l.srid, r.rule_id, r.intent, r.policy_id, r.team AS rule_team,
       r.recommended_action
FROM l JOIN intent_rules r
  ON {{ has("form_type", "form_type") }} AND {{ has("lead_source", "lead_source") }}
 AND {{ has("service_interest", "service_interest") }} AND {{ has("campaign", "campaign") }}
 AND {{ has("city", "city") }} AND {{ has("territory", "territory") }}
 AND (r.message_keywords IS NULL OR len(list_filter(r.message_keywords,
      lambda k: contains(lower(coalesce(l.message, '')), k))) > 0)
 AND (r.missing IS NULL OR list_has_all(l.empty_fields, r.missing))
 AND (r.missing_any IS NULL OR list_has_any(l.empty_fields, r.missing_any))
 AND (r.score_min IS NULL OR l.lead_score >= r.score_min)
 AND (r.score_max IS NULL OR l.lead_score <= r.score_max)
QUALIFY row_number() OVER (PARTITION BY l.lead_id ORDER BY r.priority) = 1
