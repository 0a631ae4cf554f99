-- envelope: per-company data keys, wrapped (AES-256-GCM) by a master key from configuration.
-- Applied as component "envelope" into the using service's schema (libs/envelope/README.md).
-- A shredded key keeps its row as a tombstone with the key material erased (wrapped_key NULL),
-- so decryption fails with a clear "shredded" error and no new key is minted for the company.
CREATE TABLE company_data_keys (
  company_id     text        NOT NULL CHECK (company_id <> ''),
  key_version    integer     NOT NULL CHECK (key_version > 0),
  master_key_id  text        NOT NULL,
  wrapped_key    text        NULL,      -- base64 of nonce || ciphertext || tag; NULL once shredded
  created_at     timestamptz NOT NULL DEFAULT now(),
  rewrapped_at   timestamptz NULL,
  shredded_at    timestamptz NULL,
  PRIMARY KEY (company_id, key_version),
  CHECK ((wrapped_key IS NULL) = (shredded_at IS NOT NULL))
);
CREATE INDEX company_data_keys_master_key_id ON company_data_keys (master_key_id)
  WHERE shredded_at IS NULL;
SELECT enable_tenant_isolation('company_data_keys');
