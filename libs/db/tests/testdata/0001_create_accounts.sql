CREATE TABLE companies (
  id   uuid PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE accounts (
  id         uuid PRIMARY KEY,
  company_id uuid NOT NULL REFERENCES companies (id),
  email      text NOT NULL UNIQUE,
  balance    integer NOT NULL DEFAULT 0 CHECK (balance >= 0)
);
