-- carrier: the Telnyx leg each A leg is bridged to (a transfer's answered target leg). Written
-- with the webhook that reports the answer (call.answered / call.bridged of the target leg),
-- removed with that leg's call.hangup, the A leg's own hangup, or ModifyCall INSTRUCT (which
-- hangs the leg up before the new plan starts).
CREATE TABLE bridged_legs (
  company_id  uuid        NOT NULL,
  a_leg       text        NOT NULL,  -- call_control_id of the leg that runs the plan
  b_leg       text        NOT NULL,  -- call_control_id of the answered target leg
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (company_id, a_leg)
);
SELECT enable_tenant_isolation('bridged_legs');
