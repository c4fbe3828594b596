{#- The value macros of the typing projection (checked.sql), created once per file.
    Timestamps: lsla_split cuts a value into the date and time, a zone word and an offset at its
    end (only after a time); lsla_local reads the date and time strictly (the source's strptime
    format, ISO 8601 with an optional AM/PM; DuckDB's own cast alone would drop anything after
    the time); lsla_offmin reads an offset as minutes (NULL when it is no UTC offset). Numbers:
    lsla_num reads a sign, an optional currency symbol or code, digits with optional thousands
    separators, a fraction, an exponent and an optional percent sign, nothing else. Ids: lsla_id
    normalises only what is not plain printable ASCII (lsla_nfkc, a Python function). Cells:
    lsla_cell empties a trimmed cell that is blank or one of the source's null tokens. -#}
CREATE OR REPLACE TEMP MACRO lsla_shape(x) AS
    chr(39) || left(regexp_replace(regexp_replace(regexp_replace(x, '[A-Za-z]', 'a', 'g'),
        '[0-9]', '9', 'g'), '[^a9 :./+,@_-]', '?', 'g'), 24)
    || CASE WHEN length(x) > 24 THEN '...' ELSE '' END || chr(39);
CREATE OR REPLACE TEMP MACRO lsla_cell(t, tokens) AS
    CASE WHEN t = '' OR list_contains(tokens, t) THEN NULL ELSE t END;
CREATE OR REPLACE TEMP MACRO lsla_id(x) AS
    nullif(CASE WHEN regexp_matches(x, '[^\x20-\x7e]') THEN lsla_nfkc(x) ELSE x END, '');
CREATE OR REPLACE TEMP MACRO lsla_split(x) AS regexp_extract(x,
    '^(.*?(?:\d:\d\d|T\d{4,6})(?:\.\d+)?(?:\s*[AaPp]\.?[Mm]\b\.?)?)\s*([A-Za-z][A-Za-z_/]*)?\s*'
    '([+-]\d{1,2}(?::?\d\d)?)?$', ['body', 'word', 'offset']);
CREATE OR REPLACE TEMP MACRO lsla_zone(m) AS
    CASE WHEN m.body = '' OR (m.word = '' AND m.offset = '') THEN 'naive'
         WHEN NOT regexp_full_match(m.word, '(?i)(?:z|utc|gmt|ut)?') THEN 'word'
         WHEN lsla_offmin(m.offset) IS NULL THEN 'offset'
         ELSE 'known' END;
CREATE OR REPLACE TEMP MACRO lsla_hm(h, m) AS CASE WHEN h <= 14 AND m < 60 THEN h * 60 + m END;
CREATE OR REPLACE TEMP MACRO lsla_offmin(o) AS
    CASE WHEN o = '' THEN 0
         ELSE CASE WHEN left(o, 1) = '-' THEN -1 ELSE 1 END * lsla_hm(
            CAST(regexp_extract(o, '^.(\d{1,2}?):?(\d\d)?$', 1) AS INTEGER),
            coalesce(TRY_CAST(regexp_extract(o, '^.(\d{1,2}?):?(\d\d)?$', 2) AS INTEGER), 0))
    END;
CREATE OR REPLACE TEMP MACRO lsla_local(b, fmt) AS coalesce(
    CASE WHEN fmt IS NOT NULL THEN try_strptime(b, fmt) END,
    CASE WHEN regexp_full_match(b,
              '-?\d{4,6}-\d{1,2}-\d{1,2}(?:(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?)?')
         THEN TRY_CAST(b AS TIMESTAMP)
         WHEN regexp_full_match(b,
              '-?\d{4,6}-\d{1,2}-\d{1,2}(?:T|\s+)\d{1,2}:\d\d(?::\d\d(?:\.\d{1,9})?)?'
              '\s*[AaPp]\.?[Mm]\b\.?')
         THEN lsla_ampm(TRY_CAST(regexp_extract(b, '^(.*?\d)\s*[AaPp]', 1) AS TIMESTAMP),
                        lower(regexp_extract(b, '([AaPp])\.?[Mm]\.?$', 1)))
    END);
CREATE OR REPLACE TEMP MACRO lsla_ampm(t, p) AS
    CASE WHEN hour(t) BETWEEN 1 AND 12 THEN t + to_hours(
        CASE WHEN p = 'p' AND hour(t) < 12 THEN 12 WHEN p = 'a' AND hour(t) = 12 THEN -12
             ELSE 0 END) END;
CREATE OR REPLACE TEMP MACRO lsla_num_parts(x) AS regexp_extract(x,
    '^([-+]?)\s*(?:[A-Z]{3}\s*|[$€£₹¥]\s*)?'
    '([-+]?(?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3}|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?)'
    '\s*(?:%|[A-Z]{3})?$', ['sign', 'digits']);
CREATE OR REPLACE TEMP MACRO lsla_num(m) AS
    CASE WHEN regexp_matches(m.digits, '^[-+]?[.]?\d')
         THEN TRY_CAST(m.sign || replace(m.digits, ',', '') AS DOUBLE) END;
