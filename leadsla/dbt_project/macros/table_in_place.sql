{#- materialized='table_in_place': a table rebuilt under its own name inside one transaction
    (drop, create, insert, commit), the path dbt-duckdb's own `table` takes for tables with
    foreign keys. Opt-in, for the small tables rebuilt on every build (the marts' aggregates).

    dbt-duckdb's `table` builds a `__dbt_tmp` table, renames the old one to a backup and the
    new one into place, drops the backup, and around that looks up foreign-key dependents and
    indexes in DuckDB's catalog: a dozen statements per model that find nothing here (these
    tables have no foreign keys and no indexes). Nothing is lost on failure: DuckDB's DDL is
    transactional, so a model whose SQL fails rolls back the drop and keeps its old table. -#}
{% materialization table_in_place, adapter='duckdb' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set grant_config = config.get('grants') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% do adapter.ensure_transaction() %}
  {% if existing_relation is not none %}
    {% do adapter.drop_relation(existing_relation) %}
  {% endif %}
  {% call statement('main') -%}
    {{ create_table_as(False, target_relation, sql) }}
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
  {% do persist_docs(target_relation, model) %}
  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
