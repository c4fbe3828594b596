-- The store's tables besides the event log (whose DDL is leadsla.events.EVENTS_DDL), in order.
-- Statements end with ';' at the end of a line; each runs on every open (IF NOT EXISTS).

CREATE SCHEMA IF NOT EXISTS work;  -- WORK_SCHEMA: empty between transactions
-- Every export file ever seen, by path and checksum: never read twice, never skipped.
CREATE TABLE IF NOT EXISTS export_manifest (
    path             VARCHAR NOT NULL,
    checksum         VARCHAR NOT NULL,
    source_id        VARCHAR,
    entity           VARCHAR,
    export_at        TIMESTAMPTZ,
    export_at_from   VARCHAR,      -- 'filename' or 'mtime'
    size_bytes       BIGINT,
    mtime            DOUBLE,       -- seconds since the epoch, to skip re-hashing
    status           VARCHAR NOT NULL,  -- loaded|failed|duplicate|unmatched|unreadable
    reason           VARCHAR,
    rows_read        BIGINT,
    rows_loaded      BIGINT,
    rows_quarantined BIGINT,
    rows_superseded  BIGINT,
    footer_lines     BIGINT,
    recorded_at      TIMESTAMPTZ NOT NULL
);

-- Conservation (rows_read = rows_loaded + rows_quarantined + rows_skipped: unchanged
-- snapshot rows), the encoding a file was read in, and the canonical fields it carried (a
-- later export of the source without one of them fails: a renamed header). Added by ALTER
-- so files made before them gain them.
ALTER TABLE export_manifest ADD COLUMN IF NOT EXISTS rows_skipped BIGINT;
ALTER TABLE export_manifest ADD COLUMN IF NOT EXISTS encoding VARCHAR;
ALTER TABLE export_manifest ADD COLUMN IF NOT EXISTS fields VARCHAR[];
-- Rows that could not be used as they are, with where they came from and why.
CREATE TABLE IF NOT EXISTS quarantine (
    source_id   VARCHAR,
    file        VARCHAR NOT NULL,
    line        BIGINT,
    raw         VARCHAR,
    reason      VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,  -- 'rejected' (row not loaded) | 'loaded_without_value' | 'flagged'
    recorded_at TIMESTAMPTZ NOT NULL
);
-- The field a row loaded without ('loaded_without_value') or whose date-only values a rule
-- completed ('flagged', one row per file and field); NULL for a rejected row.
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS field VARCHAR;

-- One row per lead: the newest known CRM values plus leadsla's own decisions.
CREATE TABLE IF NOT EXISTS lead_state (
    lead_id            VARCHAR NOT NULL,
    source_id          VARCHAR,
    created_at         TIMESTAMPTZ NOT NULL,
    name VARCHAR, email VARCHAR, phone VARCHAR, lead_source VARCHAR, campaign VARCHAR,
    form_type VARCHAR, service_interest VARCHAR, message VARCHAR, city VARCHAR,
    territory VARCHAR, device VARCHAR, company_size VARCHAR, lead_score DOUBLE,
    estimated_value DOUBLE,
    crm_owner          VARCHAR,
    crm_status         VARCHAR,
    status_class       VARCHAR,
    first_response_at  TIMESTAMPTZ,   -- as the CRM reports it
    updated_at         TIMESTAMPTZ,
    record_url         VARCHAR,
    first_seen_at      TIMESTAMPTZ NOT NULL,  -- export time of the first export with it
    last_export_at     TIMESTAMPTZ NOT NULL,  -- export time of the last change seen
    row_hash           UBIGINT,       -- fingerprint of the CRM values, to skip unchanged rows
    response_at        TIMESTAMPTZ,   -- effective first response (any signal)
    response_via       VARCHAR,
    responded_seen_at  TIMESTAMPTZ,   -- export time at which the response became known
    outcome            VARCHAR,
    outcome_at         TIMESTAMPTZ,
    closed_seen_at     TIMESTAMPTZ,   -- export time at which a closing outcome was known
    intent             VARCHAR,
    intent_rule_id     VARCHAR,
    policy_id          VARCHAR,
    qual_policy_id     VARCHAR,
    next_policy_id     VARCHAR,       -- next-step-update milestone policy, if any
    progressed_at      TIMESTAMPTZ,   -- first status change after the response was known
    progressed_seen_at TIMESTAMPTZ,   -- export time at which that change was seen
    recommended_action VARCHAR,
    team               VARCHAR,
    owner              VARCHAR,       -- effective owner: CRM's, or leadsla's decision
    owner_origin       VARCHAR,       -- crm | routing | reassigned
    previous_owners    VARCHAR[],
    hop                INTEGER NOT NULL DEFAULT 0,
    hop_started_at     TIMESTAMPTZ,
    due_at             TIMESTAMPTZ,   -- first-response deadline of hop 0
    needs_review       VARCHAR,       -- why the ops review queue holds it, if it does
    response_logged    BOOLEAN NOT NULL DEFAULT false,  -- first_response event written
    evaluated_until    TIMESTAMPTZ,   -- steps with thresholds up to here are decided
    next_step_at       TIMESTAMPTZ    -- earliest step threshold still ahead
);

-- One row per lead issue (seed 002): the newest reported values plus leadsla's verdict,
-- routing and how far up the three levels it has gone.
CREATE TABLE IF NOT EXISTS issue_state (
    issue_id           VARCHAR NOT NULL,
    source_id          VARCHAR,
    lead_id VARCHAR, raised_at TIMESTAMPTZ, raised_by VARCHAR, issue_type VARCHAR,
    summary VARCHAR, impact VARCHAR, customer_name VARCHAR, customer_phone VARCHAR,
    device VARCHAR, city VARCHAR, status VARCHAR, responded_at TIMESTAMPTZ,
    resolved_at TIMESTAMPTZ, resolution VARCHAR, no_escalation_reason VARCHAR,
    first_seen_at      TIMESTAMPTZ NOT NULL,  -- export time of the first export with it
    last_export_at     TIMESTAMPTZ NOT NULL,
    row_hash           UBIGINT,       -- fingerprint of the reported values
    responded_seen_at  TIMESTAMPTZ,   -- export time at which a response became known
    resolved_seen_at   TIMESTAMPTZ,
    verdict            VARCHAR,       -- valid | rejected
    verdict_hash       UBIGINT,       -- row_hash the verdict was made on
    valid_from         TIMESTAMPTZ,   -- the raise, or the export that completed it
    reject_reason      VARCHAR,       -- missing_fields | not_a_blocker | unknown_type
    missing_fields     VARCHAR[],
    teams              VARCHAR[],     -- owning teams (level 1)
    calendar_id        VARCHAR,       -- the first owning team's calendar
    sla_class          VARCHAR,
    intent             VARCHAR,       -- of the lead, when the issue was validated
    high_value         BOOLEAN,
    climbs             BOOLEAN,       -- may go past level 1
    direct_reason      VARCHAR,       -- high_value | cx_risk | repeated_pattern
    senior_agent       VARCHAR,
    max_level          INTEGER NOT NULL DEFAULT 0,
    next_at            TIMESTAMPTZ,   -- earliest level threshold still ahead
    responded_logged   BOOLEAN NOT NULL DEFAULT false,
    resolved_logged    BOOLEAN NOT NULL DEFAULT false
);
-- The export that rejected an issue valid until then: levels due before it still fire, as a
-- tick between the two exports would have fired them (catch-up is exact).
-- clock_gen: how many times a reclassification restarted the lead's clock (policies'
-- `reclassify`); a restarted clock's step ids carry it, so a policy met again is a new clock.
ALTER TABLE lead_state ADD COLUMN IF NOT EXISTS clock_gen INTEGER DEFAULT 0;
ALTER TABLE issue_state ADD COLUMN IF NOT EXISTS valid_until TIMESTAMPTZ;
-- The routing team and SLA class a feed reports (canonical issue fields team, sla_class).
ALTER TABLE issue_state ADD COLUMN IF NOT EXISTS feed_team VARCHAR;
ALTER TABLE issue_state ADD COLUMN IF NOT EXISTS feed_sla_class VARCHAR;

-- What each export said about a lead whenever something changed (SCD-2 style, valid_from).
CREATE TABLE IF NOT EXISTS lead_history (
    lead_id      VARCHAR NOT NULL,
    valid_from   TIMESTAMPTZ NOT NULL,
    source_id    VARCHAR,
    file         VARCHAR,
    crm_owner    VARCHAR,
    crm_status   VARCHAR,
    status_class VARCHAR,
    first_response_at TIMESTAMPTZ,
    updated_at   TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS activities (
    activity_id VARCHAR NOT NULL,
    lead_id     VARCHAR NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    type        VARCHAR,
    actor       VARCHAR,
    direction   VARCHAR,
    source_id   VARCHAR,
    export_at   TIMESTAMPTZ NOT NULL
);

-- Outgoing messages and CRM actions, written in the same transaction as the event that
-- needs them (the outbox); delivery updates status/attempts and records notification_*
-- events. message_id is stable (idempotency key and email Message-ID).
CREATE TABLE IF NOT EXISTS outbox (
    message_id      VARCHAR NOT NULL,
    event_id        VARCHAR NOT NULL,
    event_type      VARCHAR NOT NULL,
    lead_id         VARCHAR,
    issue_id        VARCHAR,
    channel         VARCHAR NOT NULL,  -- email|slack|teams|webhook|whatsapp|crm_*
    recipient       VARCHAR NOT NULL,  -- address, channel or endpoint name (no secrets)
    recipient_role  VARCHAR,  -- owner|manager|team_lead|management|team_channel|raiser|crm
    team            VARCHAR,
    urgency         VARCHAR NOT NULL DEFAULT 'normal',  -- immediate | normal | digest
    subject         VARCHAR,
    body_text       VARCHAR,
    body_html       VARCHAR,
    payload         JSON,              -- webhook / CRM action body
    status          VARCHAR NOT NULL,  -- pending | sent | suppressed | deferred | dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error      VARCHAR,
    created_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);

-- Delivery bookkeeping beyond the shared outbox contract: the route that produced a row,
-- the recipient's calendar (quiet hours), the member/team id, and the digest a row went in.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS route_id VARCHAR;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS calendar_id VARCHAR;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS recipient_id VARCHAR;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS digest_id VARCHAR;
-- A 64-bit hash of every stored event id, in log order: what the check for repeated ids
-- (check_new_events) scans instead of the ids themselves. Bookkeeping, rebuilt from the log.
CREATE TABLE IF NOT EXISTS sla_event_keys (k UBIGINT NOT NULL);
-- Round-robin pointer per team, so rotation continues across ticks.
CREATE TABLE IF NOT EXISTS rr_state (team VARCHAR NOT NULL, assigned BIGINT NOT NULL);

-- One row per tick: what it saw and did (the CLI and flow summaries read it).
CREATE TABLE IF NOT EXISTS tick_log (
    now            TIMESTAMPTZ NOT NULL,
    rules_version  VARCHAR,
    files_loaded   INTEGER,
    files_failed   INTEGER,
    rows_loaded    BIGINT,
    rows_quarantined BIGINT,
    step_events    BIGINT,
    recorded_at    TIMESTAMPTZ NOT NULL
);

-- Exceptions nobody owns: unclear intent, leads with no eligible owner, quarantined rows.
CREATE OR REPLACE VIEW ops_review_queue AS
SELECT 'lead' AS item_kind, lead_id AS item_id, needs_review AS reason,
       team, owner, created_at AS since
FROM lead_state
WHERE needs_review IS NOT NULL AND closed_seen_at IS NULL AND responded_seen_at IS NULL
UNION ALL
SELECT 'row', file || ':' || CAST(line AS VARCHAR), reason, NULL, NULL, recorded_at
FROM quarantine WHERE action = 'rejected';
