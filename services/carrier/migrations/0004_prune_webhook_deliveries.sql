-- carrier: webhook_deliveries is pruned by age (PgCarrierStore::PruneWebhookDeliveries, every
-- 10 minutes, keys older than --webhook_dedupe_retention). The prune looks rows up by
-- received_at alone, across companies.
--
-- BRIN, not btree: every row is inserted with received_at = now(), so the table is (nearly)
-- append-only in received_at order and a block range's min/max summarises it well. A BRIN index
-- is a few pages per ~128 heap pages and is not touched by an insert into an already summarised
-- range, where a btree would add an index entry (and WAL) to every webhook's one-statement
-- insert. The prune's lossy bitmap scan reads only the ranges that can hold old rows (the
-- recheck drops the rest), instead of a sequential scan of the whole table on every run.
-- autosummarize: a filled range is summarised by autovacuum soon after, not only at VACUUM.
-- (The existing (company_id, received_at) btree cannot serve a cross-company age scan.)
-- Migrations run in a transaction, so this is not CONCURRENTLY: the build reads the table once
-- and holds off inserts meanwhile (webhooks answered 503 and retried by the carrier). BRIN builds
-- fast, but on a table that has grown for long, create the index CONCURRENTLY by hand first
-- (same name; IF NOT EXISTS makes this migration a no-op then).
CREATE INDEX IF NOT EXISTS webhook_deliveries_received_brin ON webhook_deliveries
  USING brin (received_at) WITH (autosummarize = on);
