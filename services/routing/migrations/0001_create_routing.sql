-- routing: flows (versioned), ring groups, voicemail boxes, schedules, on-call rotations, the
-- call log with its notes, and the processed carrier event keys. Configuration bodies are the
-- serialized protos of protos/switchboard/routing/v1 (the service is their only reader).
-- Every table is tenant-owned: row-level security from enable_tenant_isolation().

CREATE TABLE flows (
  company_id text        NOT NULL,
  id         text        NOT NULL,
  version    bigint      NOT NULL CHECK (version > 0),
  name       text        NOT NULL,
  body       bytea       NOT NULL,  -- switchboard.routing.v1.Flow
  created_at timestamptz NOT NULL,
  created_by text        NOT NULL DEFAULT '',
  PRIMARY KEY (company_id, id, version)
);
SELECT enable_tenant_isolation('flows');

-- Ring groups, voicemail boxes, schedules and rotations share one shape.
CREATE TABLE ring_groups (
  company_id text        NOT NULL,
  id         text        NOT NULL,
  name       text        NOT NULL,
  body       bytea       NOT NULL,  -- RingGroup
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (company_id, id)
);
SELECT enable_tenant_isolation('ring_groups');

CREATE TABLE voicemail_boxes (
  company_id text        NOT NULL,
  id         text        NOT NULL,
  name       text        NOT NULL,
  body       bytea       NOT NULL,  -- VoicemailBox
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (company_id, id)
);
SELECT enable_tenant_isolation('voicemail_boxes');

CREATE TABLE schedules (
  company_id text        NOT NULL,
  id         text        NOT NULL,
  name       text        NOT NULL,
  body       bytea       NOT NULL,  -- NamedSchedule
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (company_id, id)
);
SELECT enable_tenant_isolation('schedules');

CREATE TABLE rotations (
  company_id text        NOT NULL,
  id         text        NOT NULL,
  name       text        NOT NULL,
  body       bytea       NOT NULL,  -- NamedRotation
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (company_id, id)
);
SELECT enable_tenant_isolation('rotations');

-- The durable call log. `state` is the latest serialized CallState (the engine's), so a call
-- survives the loss of its Redis copy; `seq` is its transition count, the optimistic lock of
-- concurrent events for one call. `path` is a serialized CallPath: appending a new serialized
-- CallPath (bytea ||) appends its entries.
CREATE TABLE calls (
  id               uuid        PRIMARY KEY,
  company_id       text        NOT NULL,
  call_key         text        NOT NULL UNIQUE,
  direction        text        NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
  from_number      text        NOT NULL DEFAULT '',
  to_number        text        NOT NULL DEFAULT '',
  line_id          text        NOT NULL DEFAULT '',
  flow_id          text        NOT NULL DEFAULT '',
  flow_version     bigint      NOT NULL DEFAULT 0,
  path             bytea       NOT NULL DEFAULT '',
  answered_by      text        NOT NULL DEFAULT '',
  started_at       timestamptz NOT NULL,
  answered_at      timestamptz,
  ended_at         timestamptz,
  duration_s       integer     NOT NULL DEFAULT 0,
  status           text        NOT NULL DEFAULT ''
                   CHECK (status IN ('', 'completed', 'missed', 'voicemail', 'failed', 'busy')),
  recording_id     text        NOT NULL DEFAULT '',
  recording_url    text        NOT NULL DEFAULT '',
  voicemail_box_id text        NOT NULL DEFAULT '',
  user_ids         text[]      NOT NULL DEFAULT '{}',
  state            bytea       NOT NULL DEFAULT '',
  seq              integer     NOT NULL DEFAULT 0
);
CREATE INDEX calls_company_started_idx ON calls (company_id, started_at DESC, id DESC);
CREATE INDEX calls_user_ids_idx ON calls USING gin (user_ids);
SELECT enable_tenant_isolation('calls');

-- Carrier event dedupe keys already applied to a call (written in the transaction that applied
-- the event, so a redelivery changes nothing).
CREATE TABLE call_event_keys (
  company_id  text        NOT NULL,
  call_key    text        NOT NULL,
  dedupe_key  text        NOT NULL,
  applied_at  timestamptz NOT NULL,
  PRIMARY KEY (call_key, dedupe_key)
);
SELECT enable_tenant_isolation('call_event_keys');

CREATE TABLE call_notes (
  id             uuid        PRIMARY KEY,
  company_id     text        NOT NULL,
  call_id        uuid        NOT NULL REFERENCES calls (id),
  author_user_id text        NOT NULL,
  text           text        NOT NULL CHECK (text <> ''),
  created_at     timestamptz NOT NULL
);
CREATE INDEX call_notes_call_idx ON call_notes (call_id, created_at);
SELECT enable_tenant_isolation('call_notes');
