-- carrier: conferences of live call control (CarrierCore::ConferenceControl). Telnyx names a
-- conference by its id in webhooks (conference.participant.*, conference.ended), so the name
-- routing gave it ("sb-<call id>") and the caller's leg A are kept here: written by
-- ConferenceControl MOVE_BRIDGE before the conference is created (conference_id '' until
-- Telnyx answers, so a participant webhook of A arriving first still finds the name through
-- a_leg), looked up by HOLD / UNHOLD / ADD (name -> id) and by the webhook handler (id -> name).
CREATE TABLE conferences (
  company_id     uuid        NOT NULL,
  name           text        NOT NULL,
  a_leg          text        NOT NULL,
  conference_id  text        NOT NULL DEFAULT '',  -- Telnyx conference id; '' = being created
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (company_id, name)
);
CREATE INDEX conferences_by_id ON conferences (company_id, conference_id);
SELECT enable_tenant_isolation('conferences');

-- The Telnyx legs ConferenceControl ADD dialled into a conference: their call.hangup is a
-- NOT_ANSWERED ConferenceUpdate until conference.participant.joined marks them joined.
CREATE TABLE conference_legs (
  company_id     uuid        NOT NULL,
  leg            text        NOT NULL,  -- call_control_id of the added leg
  conference_id  text        NOT NULL,
  joined         boolean     NOT NULL DEFAULT false,
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (company_id, leg)
);
SELECT enable_tenant_isolation('conference_legs');
