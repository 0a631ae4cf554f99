-- Transactional outbox (libs/events/outbox.h) and consumer de-duplication (consumer.h).
-- Every row in outbox is pending: the relay deletes rows in the transaction that publishes them
-- (libs/events/outbox_relay.h), so a crash before its commit republishes instead of losing.
CREATE TABLE outbox (
  seq          bigserial   PRIMARY KEY,
  id           uuid        NOT NULL UNIQUE,
  topic        text        NOT NULL CHECK (topic <> ''),
  key          text        NOT NULL,
  payload      bytea       NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE processed_events (
  consumer     text        NOT NULL,
  event_id     uuid        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
