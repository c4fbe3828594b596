{#- materialized='view_if_changed': a view re-created only when its definition changes. Opt-in,
    for the views every build would otherwise re-create unchanged (staging, and the views over
    the intermediate tables). A view is its SQL: re-creating an identical one changes nothing a
    reader sees, but dbt-duckdb's `view` does it on every build (create beside, check the
    contract, rename, drop the old one).

    The view carries a fingerprint in its DuckDB comment: the compiled SQL (vars such as
    org_timezone included; the views that judge "as of" read it from the one-row table
    int_as_of, so their SQL does not change from build to build), its config and columns
    (contract), and the file checksums of every model in the project (a changed upstream model
    can change the view's column types, which the contract checks when the view is created).
    A view whose fingerprint matches is left as it is (the run result says UNCHANGED);
    otherwise, and on --full-refresh, it is dropped and created again in one transaction, its
    contract checked as dbt-duckdb's `view` checks it. The comment is the fingerprint's: these
    views take no persist_docs. -#}
{% materialization view_if_changed, adapter='duckdb' %}
  {%- set fingerprint = leadsla_view_fingerprint(sql) -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- if existing is not none and existing.is_view and not should_full_refresh() -%}
    {%- set stored = run_query(
        "select comment from duckdb_views() where database_name = '" ~ this.database
        ~ "' and schema_name = '" ~ this.schema ~ "' and view_name = '" ~ this.identifier ~ "'") -%}
    {%- if stored.rows | length == 1 and stored.rows[0][0] == fingerprint -%}
      {%- call noop_statement('main', 'UNCHANGED', 'UNCHANGED') -%}
        -- unchanged since the last build: {{ fingerprint }}
      {%- endcall -%}
      {{ return({'relations': [target_relation]}) }}
    {%- endif -%}
  {%- endif -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% do adapter.ensure_transaction() %}
  {% if existing is not none %}
    {% do adapter.drop_relation(existing) %}
  {% endif %}
  {% call statement('main') -%}
    {{ get_create_view_as_sql(target_relation, sql) }}
  {%- endcall %}
  {% call statement('leadsla_view_fingerprint') -%}
    comment on view {{ target_relation }} is '{{ fingerprint }}'
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% macro leadsla_view_fingerprint(compiled_sql) -%}
  {%- set parts = [compiled_sql, tojson(model.config), tojson(model.columns)] -%}
  {%- for node in graph.nodes.values() | sort(attribute='unique_id')
      if node.resource_type == 'model' -%}
    {%- do parts.append(node.unique_id ~ '=' ~ node.checksum.checksum) -%}
  {%- endfor -%}
  {{ return('leadsla-view:' ~ local_md5(parts | join('\n'))) }}
{%- endmacro %}
