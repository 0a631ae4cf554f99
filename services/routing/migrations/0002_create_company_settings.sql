-- routing: per-company settings; for now the call recording policy.
CREATE TABLE company_settings (
  company_id           text        PRIMARY KEY,
  recording_mode       text        NOT NULL DEFAULT 'off'
                       CHECK (recording_mode IN ('off', 'all', 'inbound_only', 'on_demand')),
  consent_announcement text        NOT NULL DEFAULT '',
  updated_at           timestamptz NOT NULL
);
SELECT enable_tenant_isolation('company_settings');
