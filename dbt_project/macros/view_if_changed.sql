{#- Views are re-created only when their definition changes. A view is its SQL: re-creating
    an identical one changes nothing a reader sees, but dbt's view materialization does it on
    every build (create, check the contract, rename, drop the old one). Leaving the unchanged
    ones as they are saves about 0.6 s of a 7 s incremental build of the bench's 10M-event
    warehouse (11 of the 13 views; medians of three builds, twice, alternating).

    So a view carries a fingerprint in its DuckDB comment: the compiled SQL (vars such as
    org_timezone included; no view embeds as_of, which changes every build: the views that
    judge "as of" read it from the one-row table int_as_of),
    its config and columns (contract), and the file checksums of every model in the project
    (a changed upstream model can change the view's column types, which the contract checks
    when the view is created). A view whose fingerprint matches is left as it is (the run
    result says UNCHANGED); otherwise, and on --full-refresh, dbt's own view materialization
    runs and the new fingerprint is stored. -#}
{% materialization view, adapter='duckdb' %}
  {%- set fingerprint = leadsla_view_fingerprint(sql) -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- if existing is not none and existing.is_view and not should_full_refresh() -%}
    {%- set stored = run_query(
        "select comment from duckdb_views() where database_name = '" ~ this.database
        ~ "' and schema_name = '" ~ this.schema ~ "' and view_name = '" ~ this.identifier ~ "'") -%}
    {%- if stored.rows | length == 1 and stored.rows[0][0] == fingerprint -%}
      {%- call noop_statement('main', 'UNCHANGED', 'UNCHANGED') -%}
        -- unchanged since the last build: {{ fingerprint }}
      {%- endcall -%}
      {{ return({'relations': [this.incorporate(type='view')]}) }}
    {%- endif -%}
  {%- endif -%}
  {%- set relations = context['materialization_view_default']() -%}
  {%- call statement('leadsla_view_fingerprint') -%}
    comment on view {{ this }} is '{{ fingerprint }}'
  {%- endcall -%}
  {{ adapter.commit() }}
  {{ return(relations) }}
{% endmaterialization %}

{% macro leadsla_view_fingerprint(compiled_sql) -%}
  {%- set parts = [compiled_sql, tojson(model.config), tojson(model.columns)] -%}
  {%- for node in graph.nodes.values() | sort(attribute='unique_id')
      if node.resource_type == 'model' -%}
    {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
  {%- endfor -%}
  {{ return('leadsla-view:' ~ local_md5(parts | join('\n'))) }}
{%- endmacro %}
