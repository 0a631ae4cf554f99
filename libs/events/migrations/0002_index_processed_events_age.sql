-- processed_events rows are pruned once older than ConsumerOptions.processed_retention
-- (PruneProcessedEvents). A BRIN index on the insertion time: rows arrive in processed_at order,
-- so a few block ranges answer "older than" without the cost of a btree on every consumed event.
CREATE INDEX processed_events_processed_at_brin ON processed_events USING brin (processed_at);
