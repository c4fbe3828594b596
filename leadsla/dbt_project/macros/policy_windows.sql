{#- The policies' response windows as rows (policy_id, window_business_minutes), from the var
    policy_windows that leadsla passes from sla_rules/policies.yaml (null for a deadline anchored
    to the end of the business day). Rule values arrive as vars, never as model text. -#}
{% macro policy_windows() %}
    {% set windows = var('policy_windows', {}) %}
    {% if windows %}
    select * from (values
        {% for pid, minutes in windows.items() %}
        ({{ "'" ~ pid | replace("'", "''") ~ "'" }}, {{ 'null' if minutes is none else minutes | float }}::double){{ ',' if not loop.last }}
        {% endfor %}
    ) as w(policy_id, window_business_minutes)
    {% else %}
    select null::varchar as policy_id, null::double as window_business_minutes where false
    {% endif %}
{% endmacro %}
