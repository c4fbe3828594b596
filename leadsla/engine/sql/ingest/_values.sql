{#- Per-field expressions of the typing projection (checked.sql), one macro per stage. A
    timestamp is read with its zone (Z, UTC, GMT, an offset; none: the source's zone, $tz) and
    must lie between $earliest and $latest; $guard_lo and $guard_hi bound the wall-clock time
    before any zone arithmetic. A number must be finite and in $<field>_min..$<field>_max. -#}

{% macro ts_kind(f) -%}
CASE WHEN {{ f }}__raw IS NULL THEN NULL
    WHEN $fmt IS NULL AND regexp_full_match({{ f }}__raw, '\d{4}-\d{1,2}-\d{1,2}(?:(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?)?') THEN 'naive'
    WHEN regexp_full_match({{ f }}__raw, '\d{4}-\d{1,2}-\d{1,2}(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?)') THEN 'instant'
    ELSE 'other' END AS {{ f }}__kind
{%- endmacro %}

{% macro ts_parts(f) -%}
CASE WHEN {{ f }}__kind = 'other' THEN lsla_split({{ f }}__raw) END AS {{ f }}__m
{%- endmacro %}

{% macro ts_zone(f) -%}
CASE {{ f }}__kind WHEN 'other' THEN lsla_zone({{ f }}__m) ELSE {{ f }}__kind END AS {{ f }}__zone
{%- endmacro %}

{% macro ts_local(f) -%}
CASE {{ f }}__kind WHEN 'naive' THEN TRY_CAST({{ f }}__raw AS TIMESTAMP)
    WHEN 'instant' THEN timezone('UTC', TRY_CAST({{ f }}__raw AS TIMESTAMPTZ))
    ELSE lsla_local(CASE WHEN {{ f }}__m.body = '' THEN {{ f }}__raw
                         ELSE {{ f }}__m.body END, $fmt) END AS {{ f }}__local
{%- endmacro %}

{% macro ts_typed(f) -%}
CASE WHEN {{ f }}__local BETWEEN $guard_lo AND $guard_hi THEN
    CASE {{ f }}__zone WHEN 'naive' THEN timezone($tz, {{ f }}__local)
        WHEN 'instant' THEN timezone('UTC', {{ f }}__local)
        WHEN 'known' THEN timezone('UTC', {{ f }}__local) - to_minutes(lsla_offmin({{ f }}__m.offset))
    END END AS {{ f }}
{%- endmacro %}

{% macro ts_check(f) -%}
CASE WHEN {{ f }}__raw IS NULL THEN NULL
    WHEN {{ f }}__zone = 'word' THEN '{{ f }}: the zone ''' || left({{ f }}__m.word, 12)
        || ''' after the time is not read (abbreviations such as PST, IST or CST are'
        || ' ambiguous); give Z, UTC, GMT or an offset such as +05:30'
    WHEN {{ f }}__zone = 'offset' THEN '{{ f }}: ''' || {{ f }}__m.offset
        || ''' is not a UTC offset (-14:00 to +14:00)'
    WHEN {{ f }}__local IS NULL
        THEN '{{ f }}: cannot read a value shaped ' || lsla_shape({{ f }}__raw)
        || ' as a timestamp'
    WHEN {{ f }}__local < $guard_lo OR {{ f }} < $earliest
        THEN '{{ f }}: ''' || {{ f }}__raw || ''' is before ' || $earliest_text
        || ', the earliest plausible time (timestamp_bounds.earliest)'
    WHEN {{ f }}__local > $guard_hi OR {{ f }} > $latest
        THEN '{{ f }}: ''' || {{ f }}__raw || ''' is after the export time '
        || $export_text || ' by more than ' || $after_text
        || ' minutes (a future timestamp; timestamp_bounds.minutes_after_export)'
END
{%- endmacro %}

{% macro num_parsed(f) -%}
CASE WHEN regexp_full_match({{ f }}__raw, '[-+]?\d+(?:\.\d+)?') THEN TRY_CAST({{ f }}__raw AS DOUBLE)
    ELSE lsla_num(lsla_num_parts({{ f }}__raw)) END AS {{ f }}__num
{%- endmacro %}

{% macro num_typed(f) -%}
CASE WHEN isfinite({{ f }}__num) AND {{ f }}__num BETWEEN ${{ f }}_min AND ${{ f }}_max
    THEN {{ f }}__num END AS {{ f }}
{%- endmacro %}

{% macro num_warning(f) -%}
CASE
    WHEN {{ f }}__raw IS NOT NULL AND {{ f }}__num IS NULL
        THEN '{{ f }}: cannot read a value shaped ' || lsla_shape({{ f }}__raw)
        || ' as a number; loaded without it'
    WHEN {{ f }}__num IS NOT NULL AND {{ f }} IS NULL THEN '{{ f }}: a value shaped '
        || lsla_shape({{ f }}__raw) || ' is not a finite number ' || ${{ f }}_range
        || ' (number_bounds.{{ f }}); loaded without it'
END
{%- endmacro %}
