{# The logical now as a TIMESTAMPTZ expression: var('as_of') (an ISO time with offset) or, when
   unset, the moment the run started. Every "now" in the marts goes through here. #}
{% macro as_of() -%}
    {%- if var('as_of') -%}
        CAST('{{ var("as_of") }}' AS TIMESTAMPTZ)
    {%- else -%}
        CAST('{{ run_started_at.isoformat() }}' AS TIMESTAMPTZ)
    {%- endif -%}
{%- endmacro %}

{# A UTC timestamp's calendar day in the org's zone. #}
{% macro org_date(ts) -%}
    CAST(timezone('{{ var("org_timezone") }}', {{ ts }}) AS DATE)
{%- endmacro %}

{# Minutes between two timestamps, fractional. #}
{% macro minutes_between(a, b) -%}
    (epoch({{ b }}) - epoch({{ a }})) / 60.0
{%- endmacro %}
