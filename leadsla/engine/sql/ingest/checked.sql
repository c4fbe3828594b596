{#- The typing projection: every row of raw_rows typed, mapped and checked in one statement
    (leadsla.ingest.canonical). Stages: a) each field's text; b) its shape; c) the parts of an
    unusual timestamp; d) its wall-clock time and zone; t) typed and bounded. Most values take
    a fast path: an ISO 8601 shape matched in full (cheap) is cast directly, the rest is cut
    into parts. `reasons` refuse the row, `warnings` load it without a value.

    Context: key, key_text; fields (name, expr: the field's SQL from the mapping, kind: ts, num
    or text); checks (the reasons in order: kind required, ts or status; name; ts), warns
    (kind num or not_before; name; origin), not_before (field, origin: values dropped); leads
    (a status class is mapped), unknown_status (its SQL literal). -#}
{%- import "ingest/_values.sql" as v -%}
CREATE OR REPLACE TABLE work.checked AS
WITH a AS (
    SELECT line, raw_hash,
        CASE WHEN regexp_matches({{ key_text }}, '[^\x20-\x7e]') THEN {{ key_text }} END
            AS {{ key }}__shape
        {%- for f in fields %},
        {{ f.expr }} AS {{ f.name }}{% if f.kind != "text" %}__raw{% endif %}
        {%- endfor %}
    FROM raw_rows
),
b AS (
    SELECT *
    {%- for f in fields if f.kind != "text" %},
        {% if f.kind == "ts" %}{{ v.ts_kind(f.name) }}{% else %}{{ v.num_parsed(f.name) }}{% endif %}
    {%- endfor %}
    FROM a
),
c AS (SELECT *{% for f in fields if f.kind == "ts" %}, {{ v.ts_parts(f.name) }}{% endfor %} FROM b),
d AS (
    SELECT *
    {%- for f in fields if f.kind == "ts" %},
        {{ v.ts_zone(f.name) }},
        {{ v.ts_local(f.name) }}
    {%- endfor %}
    FROM c
),
t AS (
    SELECT *
    {%- for f in fields if f.kind != "text" %},
        {% if f.kind == "ts" %}{{ v.ts_typed(f.name) }}{% else %}{{ v.num_typed(f.name) }}{% endif %}
    {%- endfor %}
    FROM d
),
mapped AS (
    SELECT t.*
    {%- if leads %},
        coalesce(m.status_class, {{ unknown_status }}, CASE WHEN t.status IS NULL THEN 'open' END)
            AS status_class
    FROM t LEFT JOIN status_map m ON m.crm_status = lower(trim(t.status))
    {%- else %}
    FROM t
    {%- endif %}
),
v AS (
    SELECT *,
        list_filter([
            {%- for c in checks %}
            {% if c.kind == "required" -%}
            CASE WHEN {{ c.name }}{% if c.ts %}__raw{% endif %} IS NULL THEN '{{ c.name }} is empty' END
            {%- elif c.kind == "ts" -%}
            {{ v.ts_check(c.name) }}
            {%- else -%}
            CASE WHEN status IS NOT NULL AND status_class IS NULL
                THEN 'status: ''' || status || ''' is not in the source''s status_map' END
            {%- endif %}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ], lambda r: r IS NOT NULL) AS reasons,
        {%- if warns %}
        list_filter([
            {%- for w in warns %}
            {% if w.kind == "num" -%}
            {{ v.num_warning(w.name) }}
            {%- else -%}
            CASE WHEN {{ w.name }} < {{ w.origin }} THEN '{{ w.name }}: ''' || {{ w.name }}__raw
                || ''' is before {{ w.origin }} ''' || {{ w.origin }}__raw
                || '''; loaded without it' END
            {%- endif %}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ], lambda r: r IS NOT NULL) AS warnings
        {%- else %}
        []::VARCHAR[] AS warnings
        {%- endif %}
    FROM mapped
)
SELECT * EXCLUDE (
    {%- for f in fields if f.kind != "text" -%}
    {%- if f.kind == "ts" %}{{ f.name }}__kind, {{ f.name }}__m, {{ f.name }}__local, {{ f.name }}__zone
    {%- else %}{{ f.name }}__num{% endif %}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
)
{%- if not_before %}
REPLACE (
    {%- for fld, origin in not_before %}
    CASE WHEN {{ fld }} < {{ origin }} THEN NULL ELSE {{ fld }} END AS {{ fld }}{% if not loop.last %},{% endif %}
    {%- endfor %}
)
{%- endif %}
FROM v
