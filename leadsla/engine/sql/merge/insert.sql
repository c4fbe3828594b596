{%- set changed_at = "coalesce(j.updated_at, $export_at)" -%}
INSERT INTO lead_state (lead_id, source_id, created_at, name, email, phone, lead_source,
    campaign, form_type, service_interest, message, city, territory, device,
    company_size, lead_score, estimated_value, crm_owner, crm_status, status_class,
    first_response_at, updated_at, record_url, first_seen_at, last_export_at,
    response_at, response_via, responded_seen_at, outcome, outcome_at, closed_seen_at,
    previous_owners, hop, hop_started_at, row_hash)
SELECT j.lead_id, $source_id, j.created_at, j.name, j.email, j.phone, j.lead_source,
    j.campaign, j.form_type, j.service_interest, j.message, j.city, j.territory,
    j.device, j.company_size, j.lead_score, j.estimated_value, j.owner, j.status,
    j.status_class, j.first_response_at, j.updated_at, j.url, $export_at, $export_at,
    j.resp_new, CASE WHEN j.resp_new IS NOT NULL THEN j.resp_via END,
    CASE WHEN j.resp_new IS NOT NULL THEN $export_at END,
    CASE WHEN list_contains({{ outcome }}, j.status_class) THEN j.status_class END,
    CASE WHEN list_contains({{ outcome }}, j.status_class) THEN {{ changed_at }} END,
    CASE WHEN list_contains({{ closing }}, j.status_class) THEN $export_at END,
    []::VARCHAR[], 0, j.created_at, j.row_hash
FROM joined j WHERE j.is_new
