{#- A key: every value present and none twice. The same rows unique and not_null would find
    together, in one scan instead of two (on a view over a million rows each scan recomputes
    the view). Tables whose key DuckDB enforces use a primary key constraint instead. -#}
{% test unique_not_null(model, column_name) %}
select {{ column_name }} as key_value, count(*) as n_records
from {{ model }}
group by {{ column_name }}
having count(*) > 1 or {{ column_name }} is null
{% endtest %}
