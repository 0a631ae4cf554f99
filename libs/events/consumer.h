// At-least-once, idempotent Kafka consumer of Event envelopes with retries and a dead-letter
// topic (ARCHITECTURE.md §4).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/db/pg_pool.h"
#include "libs/events/producer.h"
#include "switchboard/events/v1/event.pb.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace switchboard::events {

struct ConsumerOptions {
  std::string brokers;              // required
  std::string group_id;             // required
  std::vector<std::string> topics;  // required, non-empty
  // Idempotency namespace in processed_events; usually "<service>.<purpose>". Required.
  std::string consumer_name;
  int max_attempts = 5;  // handler attempts per event before dead-lettering
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(5);
  // Producer for `<topic>.dlq`; when null the consumer creates its own from `brokers`.
  Producer* dlq_producer = nullptr;
  // Extra librdkafka consumer settings (applied last).
  std::map<std::string, std::string> config;
  // How often stored offsets are committed asynchronously (Stop() always commits synchronously).
  absl::Duration commit_interval = absl::Seconds(1);
  // When set, an event it returns false for is skipped without a transaction or a
  // processed_events row (its offset is stored): a consumer interested in a few event types of
  // a busy topic (numbers in carrier.v1's call events) costs nothing per other event.
  std::function<bool(const v1::Event&)> accepts;
  // processed_events rows older than this are deleted by the consumer's thread (all consumers'
  // rows of the schema, e.g. those of per-process consumers of processes long gone) every
  // prune_interval: a redelivery comes from an uncommitted offset, minutes old at most, so three
  // days is ample. Zero = never prune.
  absl::Duration processed_retention = absl::Hours(72);
  absl::Duration prune_interval = absl::Minutes(10);
};

// Deletes processed_events rows (of every consumer) processed before `before`, in batches of
// `limit` rows, each in its own transaction. Returns how many were deleted.
[[nodiscard]] absl::StatusOr<int64_t> PruneProcessedEvents(db::Pool& pool, absl::Time before,
                                                           int limit = 10000);

// Handles one event inside the consumer's transaction (scoped with Pool::InTenant(company_id),
// or Pool::Unscoped() when company_id is empty). Return OK to commit the effect together with
// the processed_events row; any error rolls back and is retried.
using Handler = std::function<absl::Status(pqxx::work&, const v1::Event&)>;

// For each message, in ONE transaction: insert (consumer_name, event id) into processed_events
// ON CONFLICT DO NOTHING; run the handler only if the row is new; commit; then store the offset
// (committed after). A failed handler (or kAborted/kUnavailable from the database) is retried
// with exponential backoff up to max_attempts, then the original bytes go to `<topic>.dlq` with
// headers sb-error, sb-attempts, sb-original-topic, sb-original-partition, sb-original-offset,
// and the consumer moves on. Unparseable payloads go to the DLQ at once.
// The pool's schema must hold processed_events (MigrateOutbox()). Not thread-safe except Stop().
class IdempotentConsumer {
 public:
  // kInvalidArgument naming a missing option or a rejected librdkafka setting.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<IdempotentConsumer>> Create(
      db::Pool& pool, ConsumerOptions options, Handler handler);
  ~IdempotentConsumer();  // Stop()
  IdempotentConsumer(const IdempotentConsumer&) = delete;
  IdempotentConsumer& operator=(const IdempotentConsumer&) = delete;

  // Polls one message for up to `timeout` and processes it (retries, DLQ included). Returns 1 if
  // a message was processed (handled, skipped as duplicate or dead-lettered), 0 if none arrived.
  // Errors: kUnavailable when the DLQ publish fails (the offset is not stored; the message will
  // be redelivered), kInternal on a fatal consumer error.
  [[nodiscard]] absl::StatusOr<int> PollOnce(absl::Duration timeout);

  // Runs PollOnce in a background thread until Stop(), pruning processed_events every
  // prune_interval (see ConsumerOptions). kFailedPrecondition if already started.
  [[nodiscard]] absl::Status Start();
  // Stops the thread (finishing the message in flight), commits offsets synchronously and closes
  // the consumer (leaving the group). Idempotent; returns the commit error if any.
  absl::Status Stop();

  // Counters for tests and metrics.
  int64_t HandledCount() const { return handled_.load(); }       // handler committed OK
  int64_t DuplicateCount() const { return duplicates_.load(); }  // skipped: already processed
  int64_t NotAcceptedCount() const { return not_accepted_.load(); }  // skipped: `accepts` false
  int64_t DeadLetteredCount() const { return dead_lettered_.load(); }
  int64_t HandlerCallCount() const { return handler_calls_.load(); }  // includes failed attempts

 private:
  IdempotentConsumer(db::Pool& pool, ConsumerOptions options, Handler handler, rd_kafka_s* rk,
                     std::unique_ptr<Producer> own_dlq);
  absl::Status Process(const rd_kafka_message_s& msg);
  absl::Status DeadLetter(const rd_kafka_message_s& msg, const absl::Status& error, int attempts);
  absl::Status CommitSync();
  bool SleepUnlessStopped(absl::Duration d);

  db::Pool& pool_;
  const ConsumerOptions options_;
  const Handler handler_;
  rd_kafka_s* rk_;  // owned; null after close
  std::unique_ptr<Producer> own_dlq_;
  Producer* dlq_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> closed_{false};
  std::thread thread_;
  absl::Time last_commit_ = absl::InfinitePast();
  bool uncommitted_ = false;
  std::atomic<int64_t> handled_{0}, duplicates_{0}, dead_lettered_{0}, handler_calls_{0},
      not_accepted_{0};
};

}  // namespace switchboard::events
