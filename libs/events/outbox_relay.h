// Publishes outbox rows to Kafka and deletes them in the same transaction, committed only after
// Kafka acknowledged them. Safe to run in several replicas at once (one relay per schema works at
// a time, behind an advisory lock; rows are claimed with FOR UPDATE SKIP LOCKED). A crash between
// publish and commit rolls the delete back and republishes the batch: duplicates are possible,
// loss is not.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/db/pg_pool.h"
#include "libs/events/producer.h"

namespace switchboard::events {

struct RelayOptions {
  // Rows per transaction; <= 0 means the default. Larger batches amortise the per-transaction
  // commit and the Kafka round trip (see README "Benchmark").
  int batch_size = 2000;
  // Longest wait between batches when no NOTIFY arrives (also the retry delay after an error).
  absl::Duration poll_interval = absl::Seconds(1);
  // After a batch that was not empty nor full, the relay waits this long before it looks again,
  // so a steady trickle of events (one per webhook) is relayed in batches rather than once per
  // write: far less CPU taken from the request path, at the cost of at most this much extra
  // delay per event. It sleeps (until NOTIFY or poll_interval) only after an empty or failed
  // batch. Keep
  // it longer than OutboxNotifyThrottle's interval (outbox.h). 0 = look again at once.
  absl::Duration linger = absl::Milliseconds(10);
  // Longest wait for Kafka acknowledgements of one batch.
  absl::Duration flush_timeout = absl::Seconds(30);
  // Called after a batch is acknowledged by Kafka and before its delete commits.
  std::function<void()> after_publish_hook_for_test;
  // Called by the relay thread when it is about to sleep (after an empty or failed batch).
  std::function<void()> before_sleep_hook_for_test;
};

// Uses the pool's schema outbox (see outbox.h; MigrateOutbox() must have run). The pool and the
// producer must outlive the relay. RunOnce() and Start()/Stop() are not meant to be mixed; Stop
// may be called from any thread.
class OutboxRelay {
 public:
  OutboxRelay(db::Pool& pool, Producer& producer, RelayOptions options = {});
  ~OutboxRelay();  // Stop()
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  // One batch, in one transaction: if this relay holds the schema's advisory lock, deletes up to
  // batch_size rows in seq order (DELETE ... RETURNING, claimed FOR UPDATE SKIP LOCKED), produces
  // them all in that order, waits for acks (Flush), then commits. Returns how many rows were
  // published (0 = nothing pending or another relay holds the lock). On a produce/flush error the
  // transaction rolls back (rows stay pending) and the error is returned (kUnavailable, ...).
  [[nodiscard]] absl::StatusOr<int> RunOnce();

  // Starts a background thread that loops RunOnce(), draining (lingering between batches that
  // are not full) until a batch is empty, then sleeping until LISTEN/NOTIFY on the outbox
  // channel or poll_interval. Errors are logged and
  // retried after poll_interval. kFailedPrecondition if already started.
  [[nodiscard]] absl::Status Start();
  // Finishes the batch in flight and joins the thread. Idempotent.
  void Stop();

  // Total rows published by this relay.
  int64_t PublishedForTest() const { return published_.load(); }

 private:
  void Loop();

  db::Pool& pool_;
  Producer& producer_;
  const RelayOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> published_{0};
  std::thread thread_;
};

}  // namespace switchboard::events
