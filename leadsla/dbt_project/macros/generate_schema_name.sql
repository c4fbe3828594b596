{# Schemas are the layer names (staging, intermediate, marts), not target_layer: analysts
   query marts.fct_lead_sla in every environment. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
