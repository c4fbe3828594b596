{#- The clocks a ladder round looks at, from rows with the columns of clock_lead_cols.sql. -#}

{#- First-response clocks (the hop ladder): open, or closed by something seen after the
    watermark (a response that showed up late still leaves the steps due before it was seen). -#}
{% macro first_clocks(src) -%}
SELECT l.lead_id, l.policy_id, l.hop_started_at AS start_at, l.hop, l.owner, l.team,
       l.source_id, l.first_seen_at, l.evaluated_until AS low,
       least(l.responded_seen_at, l.closed_seen_at) AS done_seen_at, l.previous_owners
FROM {{ src }} l
WHERE l.policy_id IS NOT NULL
  AND (least(l.responded_seen_at, l.closed_seen_at) IS NULL OR l.evaluated_until IS NULL
       OR least(l.responded_seen_at, l.closed_seen_at) > l.evaluated_until)
{%- endmacro %}

{#- Clocks that start at the response: qualification (until closing) and next-step update
    (until the next status change or closing). One not logged yet is new this tick. -#}
{% macro later_clocks(src) -%}
SELECT l.lead_id, l.qual_policy_id AS policy_id, l.response_at AS start_at, 0 AS hop,
       l.owner, l.team, l.source_id, l.first_seen_at,
       CASE WHEN l.response_logged THEN l.evaluated_until END AS low,
       l.closed_seen_at AS done_seen_at, l.previous_owners
FROM {{ src }} l
WHERE l.qual_policy_id IS NOT NULL AND l.response_at IS NOT NULL
  AND (l.closed_seen_at IS NULL OR l.evaluated_until IS NULL
       OR l.closed_seen_at > l.evaluated_until)
UNION ALL
SELECT l.lead_id, l.next_policy_id, l.response_at, 0, l.owner, l.team, l.source_id,
       l.first_seen_at,
       CASE WHEN l.response_logged THEN l.evaluated_until END,
       least(l.progressed_seen_at, l.closed_seen_at), l.previous_owners
FROM {{ src }} l
WHERE l.next_policy_id IS NOT NULL AND l.response_at IS NOT NULL
  AND (least(l.progressed_seen_at, l.closed_seen_at) IS NULL
       OR l.evaluated_until IS NULL
       OR least(l.progressed_seen_at, l.closed_seen_at) > l.evaluated_until)
{%- endmacro %}
