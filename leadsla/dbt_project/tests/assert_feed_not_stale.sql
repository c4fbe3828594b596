-- Fails the review run when the feed is stale at as_of: the newest tick is older than
-- max_feed_age_minutes, or there has been no tick at all. Judged against the logical now, so a
-- replayed week is judged at its own time and a stalled live feed fails the daily review.
select
    max(tick_at) as newest_tick_at,
    {{ as_of() }} as as_of
from {{ ref('stg_leadsla__ticks') }}
where tick_at <= {{ as_of() }}
having coalesce(max(tick_at), '-infinity'::timestamptz)
    < {{ as_of() }} - interval '{{ var("max_feed_age_minutes") }} minutes'
