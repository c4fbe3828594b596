{#- The typing projection: every row of raw_rows typed, mapped and checked in one statement
    (leadsla.ingest.canonical). Stages: a) each field's text; b) its shape; c) the parts of an
    unusual timestamp; d) its wall-clock time and zone; e) whether it is a date alone; t) typed
    and bounded; w) why a timestamp or a mapped value cannot be used. Most values take a fast
    path: an ISO 8601 shape matched in full (cheap) is cast directly, the rest is cut into
    parts. `reasons` refuse the row (a required field), `warnings` load it without a value (an
    optional field: dropped here, recorded in the quarantine).

    Context: key, key_text; fields (name, expr: the field's SQL from the mapping, kind: ts, num
    or text, src: the export's own text of a map without a default, required); checks (the
    reasons in order: kind required, why, unmapped or status; name; ts, src), warns (kind why,
    unmapped, num or not_before; name; origin), not_before (field, origin: values dropped);
    statuses (a status class is mapped), unknown_status (its SQL literal), date_only (the
    source's rule). -#}
{%- import "ingest/_values.sql" as v -%}
{%- macro val(f) -%}{{ f.name }}{% if f.kind != "text" %}__raw{% endif %}{%- endmacro -%}
CREATE OR REPLACE TABLE work.checked AS
WITH a AS (
    SELECT line, raw_hash,
        CASE WHEN regexp_matches({{ key_text }}, '[^\x20-\x7e]') THEN {{ key_text }} END
            AS {{ key }}__shape
        {%- for f in fields %},
        {{ f.expr }} AS {{ val(f) }}
        {%- if f.src %},
        {{ f.src }} AS {{ f.name }}__src{% endif %}
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
e AS (SELECT *{% for f in fields if f.kind == "ts" %}, {{ v.ts_dateonly(f.name) }}{% endfor %} FROM d),
t AS (
    SELECT *
    {%- for f in fields if f.kind != "text" %},
        {% if f.kind == "ts" %}{{ v.ts_typed(f.name, date_only) }}{% else %}{{ v.num_typed(f.name) }}{% endif %}
    {%- endfor %}
    FROM e
),
mapped AS (
    SELECT t.*
    {%- if statuses %},
        coalesce(m.status_class, {{ unknown_status }}, CASE WHEN t.status IS NULL THEN 'open' END)
            AS status_class
    FROM t LEFT JOIN status_map m ON m.crm_status = lower(trim(t.status))
    {%- else %}
    FROM t
    {%- endif %}
),
w AS (
    SELECT *
    {%- for f in fields if f.kind == "ts" %},
        {{ v.ts_check(f.name, date_only) }}
    {%- endfor %}
    {%- for f in fields if f.src %},
        CASE WHEN {{ f.name }}__src IS NOT NULL AND {{ val(f) }} IS NULL
            THEN '{{ f.name }}: ''' || left({{ f.name }}__src, 40) || ''' is not in '
            || 'columns.{{ f.name }}.map, which has no default' END AS {{ f.name }}__unmapped
    {%- endfor %}
    FROM mapped
),
v AS (
    SELECT *,
        list_filter([
            {%- for c in checks %}
            {% if c.kind == "required" -%}
            CASE WHEN {{ c.name }}{% if c.ts %}__raw{% endif %} IS NULL
                {%- if c.src %} AND {{ c.name }}__src IS NULL{% endif %} THEN '{{ c.name }} is empty' END
            {%- elif c.kind == "why" -%}
            {{ c.name }}__why
            {%- elif c.kind == "unmapped" -%}
            {{ c.name }}__unmapped
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
            {%- elif w.kind == "why" or w.kind == "unmapped" -%}
            {{ w.name }}__{{ w.kind }} || '; loaded without it'
            {%- else -%}
            CASE WHEN {{ w.name }}__why IS NULL AND {{ w.name }} < {{ w.origin }}
                THEN '{{ w.name }}: ''' || {{ w.name }}__raw
                || ''' is before {{ w.origin }} ''' || {{ w.origin }}__raw
                || '''; loaded without it' END
            {%- endif %}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ], lambda r: r IS NOT NULL) AS warnings
        {%- else %}
        []::VARCHAR[] AS warnings
        {%- endif %}
    FROM w
)
SELECT * EXCLUDE (
    {%- for f in fields if f.kind != "text" -%}
    {%- if f.kind == "ts" %}{{ f.name }}__kind, {{ f.name }}__m, {{ f.name }}__local, {{ f.name }}__zone, {{ f.name }}__why
    {%- else %}{{ f.name }}__num{% endif %}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
    {%- for f in fields if f.src %}, {{ f.name }}__unmapped{% endfor -%}
)
{%- set optional_ts = [] -%}
{%- for f in fields if f.kind == "ts" and not f.required %}{% set _ = optional_ts.append(f.name) %}{% endfor %}
{%- if optional_ts %}
REPLACE (
    {%- for fld in optional_ts %}
    CASE WHEN {{ fld }}__why IS NULL
        {%- if fld in not_before %} AND NOT coalesce({{ fld }} < {{ not_before[fld] }}, false){% endif %}
        THEN {{ fld }} END AS {{ fld }}{% if not loop.last %},{% endif %}
    {%- endfor %}
)
{%- endif %}
FROM v
