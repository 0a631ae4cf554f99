-- The numbers service: a company's numbers (one row per number; line_id names the line it
-- carries, which a ported number can take over), port-in requests and caller-ID preferences.
CREATE TABLE numbers (
  id uuid PRIMARY KEY,
  line_id uuid NOT NULL,
  company_id uuid NOT NULL,
  e164 text NOT NULL CHECK (e164 ~ '^\+[1-9][0-9]{7,14}$'),
  number_type text NOT NULL CHECK (number_type IN ('local', 'toll_free')),
  country text NOT NULL,
  area_code text NOT NULL,
  provider text NOT NULL DEFAULT '',
  provider_number_id text NOT NULL DEFAULT '',
  carrier_order_id text NOT NULL DEFAULT '',
  monthly_cost text NOT NULL DEFAULT '',
  currency text NOT NULL DEFAULT '',
  status text NOT NULL
    CHECK (status IN ('ordering', 'pending', 'active', 'failed', 'released', 'ported_out')),
  line_type text NOT NULL CHECK (line_type IN ('main', 'direct', 'department')),
  nickname text NOT NULL DEFAULT '',
  caller_id_name text NOT NULL DEFAULT '' CHECK (length(caller_id_name) <= 15),
  sms_enabled boolean NOT NULL DEFAULT false,
  active boolean NOT NULL DEFAULT true,
  assigned_user_id uuid,
  department text NOT NULL DEFAULT '',
  flow_id text,
  port_request_id uuid,
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  released_at timestamptz
);
-- One live owner per number across every company: two concurrent orders, one wins.
CREATE UNIQUE INDEX numbers_live_e164 ON numbers (e164)
  WHERE status IN ('ordering', 'pending', 'active');
CREATE UNIQUE INDEX numbers_live_line ON numbers (line_id)
  WHERE status IN ('ordering', 'pending', 'active');
CREATE INDEX numbers_company ON numbers (company_id, created_at);
CREATE INDEX numbers_assigned ON numbers (company_id, assigned_user_id)
  WHERE assigned_user_id IS NOT NULL;
SELECT enable_tenant_isolation('numbers');

CREATE TABLE port_requests (
  id uuid PRIMARY KEY,
  company_id uuid NOT NULL,
  numbers text[] NOT NULL,
  current_carrier text NOT NULL,
  account_number_sealed text NOT NULL,  -- base64 of AES-256-GCM, aad = company + field
  pin_sealed text NOT NULL,
  authorized_name text NOT NULL,
  address_street text NOT NULL,
  address_extended text NOT NULL,
  address_locality text NOT NULL,
  address_region text NOT NULL,
  address_postal_code text NOT NULL,
  address_country text NOT NULL,
  desired_foc_date text NOT NULL,
  status text NOT NULL CHECK (status IN ('draft', 'submitted', 'exception',
                                         'foc-date-confirmed', 'ported', 'cancelled')),
  reason text NOT NULL DEFAULT '',
  carrier_port_order_id text NOT NULL DEFAULT '',
  temporary_line_id uuid,
  temporary_e164 text NOT NULL DEFAULT '',
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX port_requests_carrier ON port_requests (carrier_port_order_id)
  WHERE carrier_port_order_id <> '';
SELECT enable_tenant_isolation('port_requests');

CREATE TABLE caller_id_preferences (
  company_id uuid NOT NULL,
  user_id uuid NOT NULL,
  choice text NOT NULL CHECK (choice IN ('main', 'direct')),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (company_id, user_id)
);
SELECT enable_tenant_isolation('caller_id_preferences');
