{# The refresh number an incremental run stamps on the rows it (re)writes: one more than the
   largest already in the relation (also on --full-refresh, so a model downstream that keeps the
   largest number it has consumed still sees every row as new), 1 on a fresh warehouse. Models
   downstream take the rows stamped after the newest number they have consumed. #}
{% macro next_refresh_id() -%}
    {#- in a unit test given `this`, this is the fixture's name, not a relation -#}
    {%- set relation = none if (not execute or this is none or this is string)
                       else adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if relation is not none -%}
        {%- set result = run_query('select coalesce(max(refresh_id), 0) + 1 from ' ~ relation) -%}
        {{ result.columns[0].values()[0] }}
    {%- else -%}
        1
    {%- endif -%}
{%- endmacro %}
