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

{#- A value with no time of day (read as midnight, no hh:mm in its text). -#}
{% macro ts_dateonly(f) -%}
coalesce({{ f }}__local = CAST(CAST({{ f }}__local AS DATE) AS TIMESTAMP)
    AND NOT regexp_matches({{ f }}__raw, '\d:\d\d|T\d{4}'), false) AS {{ f }}__dateonly
{%- endmacro %}

{#- A date-only value is the start of its day in $tz, or with date_only end_of_day the day's
    last microsecond, never after the export ($export_at). -#}
{% macro ts_typed(f, date_only) -%}
CASE WHEN {{ f }}__local BETWEEN $guard_lo AND $guard_hi THEN
    CASE {%- if date_only == "end_of_day" %} WHEN {{ f }}__dateonly THEN least($export_at,
            timezone($tz, {{ f }}__local + INTERVAL 1 DAY - INTERVAL 1 MICROSECOND)){% endif %}
        WHEN {{ f }}__zone = 'naive' THEN timezone($tz, {{ f }}__local)
        WHEN {{ f }}__zone = 'instant' THEN timezone('UTC', {{ f }}__local)
        WHEN {{ f }}__zone = 'known' THEN timezone('UTC', {{ f }}__local) - to_minutes(lsla_offmin({{ f }}__m.offset))
    END END AS {{ f }}
{%- endmacro %}

{#- Why a timestamp cannot be used (NULL: it can); `date_only` reject refuses a date alone. -#}
{% macro ts_check(f, date_only) -%}
CASE WHEN {{ f }}__raw IS NULL THEN NULL
    {%- if date_only == "reject" %}
    WHEN {{ f }}__dateonly THEN '{{ f }}: ''' || {{ f }}__raw
        || ''' has a date but no time of day (date_only: reject)'
    {%- endif %}
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
END AS {{ f }}__why
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
