-- identity: companies, users, invitations, refresh tokens, signing keys, API keys, devices.
-- Tenant tables carry company_id and row-level security from enable_tenant_isolation(), which
-- db::Migrate defines in the schema (libs/db/README.md).

CREATE TABLE companies (
  id                  uuid        PRIMARY KEY,
  name                text        NOT NULL CHECK (name <> ''),
  time_zone           text        NOT NULL,
  plan                text        NOT NULL CHECK (plan IN ('solo', 'team', 'business', 'enterprise')),
  address_line1       text        NOT NULL DEFAULT '',
  address_line2       text        NOT NULL DEFAULT '',
  address_city        text        NOT NULL DEFAULT '',
  address_state       text        NOT NULL DEFAULT '',
  address_postal_code text        NOT NULL DEFAULT '',
  address_country     text        NOT NULL DEFAULT '',
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);
-- companies is keyed by id (it IS the tenant), so its policy compares id.
SELECT enable_tenant_isolation('companies', 'id');

CREATE TABLE users (
  id             uuid        PRIMARY KEY,
  company_id     uuid        NOT NULL REFERENCES companies (id),
  email          text        NOT NULL CHECK (email = lower(email) AND email <> ''),
  full_name      text        NOT NULL,
  role           text        NOT NULL CHECK (role IN ('owner', 'admin', 'office', 'tech')),
  extension      text        NOT NULL DEFAULT '',
  forward_to     text        NOT NULL DEFAULT '',
  status         text        NOT NULL CHECK (status IN ('invited', 'active', 'deactivated')),
  password_hash  text        NOT NULL DEFAULT '',
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  deactivated_at timestamptz
);
-- Emails are unique platform-wide (login is by email alone), also across deactivated users.
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_extension_key ON users (company_id, extension) WHERE extension <> '';
CREATE INDEX users_company_idx ON users (company_id, created_at);
SELECT enable_tenant_isolation('users');

CREATE TABLE invitations (
  id                 uuid        PRIMARY KEY,
  company_id         uuid        NOT NULL REFERENCES companies (id),
  user_id            uuid        NOT NULL REFERENCES users (id),
  token_hash         text        NOT NULL UNIQUE,
  invited_by         text        NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL,
  expires_at         timestamptz NOT NULL,
  accepted_at        timestamptz
);
CREATE INDEX invitations_user_idx ON invitations (user_id);
SELECT enable_tenant_isolation('invitations');

CREATE TABLE refresh_tokens (
  id          uuid        PRIMARY KEY,
  company_id  uuid        NOT NULL REFERENCES companies (id),
  user_id     uuid        NOT NULL REFERENCES users (id),
  family_id   uuid        NOT NULL,
  token_hash  text        NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  rotated_at  timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
SELECT enable_tenant_isolation('refresh_tokens');

-- Platform-wide (not tenant data): the ES256 keys signing access tokens. The private PEM is
-- AES-256-GCM sealed under --key_encryption_key (aad = kid), base64 encoded.
CREATE TABLE signing_keys (
  kid                text        PRIMARY KEY,
  algorithm          text        NOT NULL,
  public_pem         text        NOT NULL,
  sealed_private_pem text        NOT NULL,
  created_at         timestamptz NOT NULL,
  retired_at         timestamptz
);

CREATE TABLE api_keys (
  id           uuid        PRIMARY KEY,
  company_id   uuid        NOT NULL REFERENCES companies (id),
  name         text        NOT NULL,
  scopes       text        NOT NULL,  -- space separated permission names
  prefix       text        NOT NULL,
  secret_hash  text        NOT NULL UNIQUE,
  created_by   text        NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_company_idx ON api_keys (company_id, created_at);
SELECT enable_tenant_isolation('api_keys');

CREATE TABLE devices (
  id                 uuid        PRIMARY KEY,
  company_id         uuid        NOT NULL REFERENCES companies (id),
  user_id            uuid        NOT NULL REFERENCES users (id),
  platform           text        NOT NULL CHECK (platform IN ('apns', 'fcm', 'web')),
  push_token         text        NOT NULL DEFAULT '',
  softphone_identity text        NOT NULL UNIQUE,
  label              text        NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX devices_push_token_key ON devices (company_id, platform, push_token)
  WHERE push_token <> '';
CREATE INDEX devices_user_idx ON devices (company_id, user_id);
SELECT enable_tenant_isolation('devices');
