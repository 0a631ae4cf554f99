-- carrier: per-company carrier accounts (credentials sealed), numbers, static instructions,
-- placed calls and webhook deliveries. Tenant tables use enable_tenant_isolation().

CREATE TABLE carrier_accounts (
  company_id            uuid        PRIMARY KEY,
  primary_provider      text        NOT NULL CHECK (primary_provider IN ('twilio', 'telnyx', 'emulator')),
  primary_account_id    text        NOT NULL CHECK (primary_account_id <> ''),
  secondary_provider    text        NOT NULL DEFAULT '' CHECK (secondary_provider IN ('', 'twilio', 'telnyx', 'emulator')),
  secondary_account_id  text        NOT NULL DEFAULT '',
  -- base64 of AES-256-GCM (key_encryption_key, aad = company_id) of a JSON credentials document.
  sealed_credentials    text        NOT NULL,
  updated_at            timestamptz NOT NULL
);
CREATE INDEX carrier_accounts_primary_idx ON carrier_accounts (primary_account_id);
CREATE INDEX carrier_accounts_secondary_idx ON carrier_accounts (secondary_account_id)
  WHERE secondary_account_id <> '';
SELECT enable_tenant_isolation('carrier_accounts');

-- A number belongs to one company platform-wide: inbound webhooks resolve the company by it.
CREATE TABLE numbers (
  e164                text        PRIMARY KEY,
  company_id          uuid        NOT NULL,
  provider            text        NOT NULL,
  provider_number_id  text        NOT NULL,
  created_at          timestamptz NOT NULL
);
CREATE INDEX numbers_company_idx ON numbers (company_id);
SELECT enable_tenant_isolation('numbers');

CREATE TABLE static_instructions (
  company_id        uuid        NOT NULL,
  e164              text        NOT NULL,
  instructions_id   text        NOT NULL,
  instructions      text        NOT NULL,  -- base64 of serialized switchboard.carrier.v1.CallInstructions
  updated_at        timestamptz NOT NULL,
  PRIMARY KEY (company_id, e164)
);
CREATE INDEX static_instructions_id_idx ON static_instructions (company_id, instructions_id);
SELECT enable_tenant_isolation('static_instructions');

CREATE TABLE calls (
  call_id     text        PRIMARY KEY,  -- Twilio CallSid / Telnyx call_control_id
  company_id  uuid        NOT NULL,
  provider    text        NOT NULL,     -- name() of the provider that placed it
  created_at  timestamptz NOT NULL
);
CREATE INDEX calls_company_idx ON calls (company_id);
SELECT enable_tenant_isolation('calls');

CREATE TABLE webhook_deliveries (
  dedupe_key   text        PRIMARY KEY,
  company_id   uuid        NOT NULL,
  received_at  timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_company_idx ON webhook_deliveries (company_id, received_at);
SELECT enable_tenant_isolation('webhook_deliveries');
