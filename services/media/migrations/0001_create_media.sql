-- media: recordings, voicemails, greetings, voicemail boxes, retention settings and the
-- append-only access audit log. Audio lives encrypted in the blob store (blob_key); rows hold
-- only metadata, which stays queryable in the clear (ARCHITECTURE.md §5). Tenant tables carry
-- company_id and row-level security. The envelope data-key table is the separate component
-- "envelope" (libs/envelope); outbox/processed_events are component "events".

CREATE TABLE media_settings (
  company_id     text        PRIMARY KEY CHECK (company_id <> ''),
  retention_days integer     NOT NULL CHECK (retention_days BETWEEN 1 AND 3650),
  updated_at     timestamptz NOT NULL
);
SELECT enable_tenant_isolation('media_settings');

CREATE TABLE recordings (
  id                    text        PRIMARY KEY,
  company_id            text        NOT NULL CHECK (company_id <> ''),
  provider              text        NOT NULL,
  provider_recording_id text        NOT NULL CHECK (provider_recording_id <> ''),
  call_id               text        NOT NULL DEFAULT '',
  call_key              text        NOT NULL DEFAULT '',
  blob_key              text        NOT NULL UNIQUE,
  format                text        NOT NULL CHECK (format IN ('wav', 'mp3')),
  duration_ms           bigint      NOT NULL CHECK (duration_ms >= 0),
  size_bytes            bigint      NOT NULL CHECK (size_bytes > 0),
  sha256                text        NOT NULL,
  legal_hold            boolean     NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL,
  deleted_at            timestamptz,
  UNIQUE (company_id, provider_recording_id)
);
CREATE INDEX recordings_company_created ON recordings (company_id, created_at);
CREATE INDEX recordings_call ON recordings (company_id, call_id);
SELECT enable_tenant_isolation('recordings');

CREATE TABLE voicemail_boxes (
  company_id    text        NOT NULL CHECK (company_id <> ''),
  box_id        text        NOT NULL CHECK (box_id <> ''),
  owner_user_id text        NOT NULL DEFAULT '',  -- '' = shared box (team inbox)
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (company_id, box_id)
);
SELECT enable_tenant_isolation('voicemail_boxes');

CREATE TABLE voicemails (
  id                    text        PRIMARY KEY,
  company_id            text        NOT NULL CHECK (company_id <> ''),
  provider              text        NOT NULL,
  provider_recording_id text        NOT NULL CHECK (provider_recording_id <> ''),
  box_id                text        NOT NULL CHECK (box_id <> ''),
  owner_user_id         text        NOT NULL DEFAULT '',
  caller                text        NOT NULL DEFAULT '',
  call_id               text        NOT NULL DEFAULT '',
  blob_key              text        NOT NULL UNIQUE,
  format                text        NOT NULL CHECK (format IN ('wav', 'mp3')),
  duration_ms           bigint      NOT NULL CHECK (duration_ms >= 0),
  size_bytes            bigint      NOT NULL CHECK (size_bytes > 0),
  sha256                text        NOT NULL,
  is_read               boolean     NOT NULL DEFAULT false,
  folder                text        NOT NULL DEFAULT 'inbox' CHECK (folder <> ''),
  legal_hold            boolean     NOT NULL DEFAULT false,
  transcript            text,       -- filled by transcription later (issue: transcripts)
  created_at            timestamptz NOT NULL,
  deleted_at            timestamptz,
  UNIQUE (company_id, provider_recording_id)
);
CREATE INDEX voicemails_owner ON voicemails (company_id, owner_user_id, created_at DESC)
  WHERE deleted_at IS NULL;
CREATE INDEX voicemails_box ON voicemails (company_id, box_id, created_at DESC)
  WHERE deleted_at IS NULL;
CREATE INDEX voicemails_created ON voicemails (created_at);
SELECT enable_tenant_isolation('voicemails');

CREATE TABLE greetings (
  id           text        PRIMARY KEY,
  company_id   text        NOT NULL CHECK (company_id <> ''),
  content_hash text        NOT NULL,  -- sha256(voice|language|text) for tts, of the audio for uploads
  source       text        NOT NULL CHECK (source IN ('tts', 'upload')),
  name         text        NOT NULL DEFAULT '',
  text         text        NOT NULL DEFAULT '',
  voice        text        NOT NULL DEFAULT '',
  language     text        NOT NULL DEFAULT '',
  blob_key     text        NOT NULL UNIQUE,
  duration_ms  bigint      NOT NULL,
  size_bytes   bigint      NOT NULL,
  created_at   timestamptz NOT NULL,
  UNIQUE (company_id, content_hash)
);
SELECT enable_tenant_isolation('greetings');

-- Append-only: who accessed what, when, from where, via which link. UPDATE/DELETE are refused
-- by a trigger (also for the service's own role), TRUNCATE too.
CREATE TABLE access_log (
  seq           bigserial   PRIMARY KEY,
  company_id    text        NOT NULL CHECK (company_id <> ''),
  at            timestamptz NOT NULL,
  actor_user_id text        NOT NULL DEFAULT '',
  actor_role    text        NOT NULL DEFAULT '',
  action        text        NOT NULL CHECK (action IN ('url_issued', 'http_access', 'http_denied')),
  item_kind     text        NOT NULL CHECK (item_kind IN ('recording', 'voicemail', 'greeting')),
  item_id       text        NOT NULL,
  link_id       text        NOT NULL DEFAULT '',
  peer          text        NOT NULL DEFAULT '',
  detail        text        NOT NULL DEFAULT ''
);
CREATE INDEX access_log_company_item ON access_log (company_id, item_id, seq);
SELECT enable_tenant_isolation('access_log');

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'access_log is append-only' USING ERRCODE = 'check_violation';
END
$fn$;
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
  FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
  FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();
