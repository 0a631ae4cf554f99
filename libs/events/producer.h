// A thin wrapper over librdkafka's C producer: idempotent (enable.idempotence=true, acks=all),
// asynchronous Produce() and an explicit Flush() that reports delivery failures.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct rd_kafka_s;

namespace switchboard::events {

struct ProducerOptions {
  std::string brokers;    // "host:port[,host:port]"; required
  std::string client_id;  // shows up in broker logs; required
  // Extra librdkafka settings, applied last (they override the defaults: linger.ms=5,
  // batch.num.messages=10000, compression.type=lz4, enable.idempotence=true, acks=all).
  std::map<std::string, std::string> config;
  // How long Produce() waits (serving delivery reports) when the local queue is full.
  absl::Duration queue_full_wait = absl::Seconds(1);
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// Thread-safe: Produce/Flush may be called from several threads. Delivery errors are collected
// per producer: Flush() returns the first one recorded since the previous Flush(), so callers
// that need to attribute failures should not share a producer across unrelated batches.
class Producer {
 public:
  // kInvalidArgument for missing brokers/client_id or a setting librdkafka rejects (naming it).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Producer>> Create(ProducerOptions options);
  ~Producer();  // Close(10s) if not closed yet
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues one message (copied). Returns once queued, not once delivered.
  // kInvalidArgument (empty topic, message too large), kResourceExhausted (queue full for longer
  // than queue_full_wait), kInternal (fatal producer error: restart), kFailedPrecondition (closed).
  [[nodiscard]] absl::Status Produce(absl::string_view topic, absl::string_view key,
                                     absl::string_view value, const Headers& headers = {});

  // Waits until every queued message is acknowledged (or failed). Returns the first delivery
  // error since the previous Flush(): kUnavailable (_MSG_TIMED_OUT, _TRANSPORT, broker down, or
  // `timeout` elapsed with messages outstanding), kInternal (fatal), others mapped by code.
  [[nodiscard]] absl::Status Flush(absl::Duration timeout);

  // Flushes then destroys the handle. Idempotent; later Produce() calls fail.
  [[nodiscard]] absl::Status Close(absl::Duration timeout = absl::Seconds(10));

  // Messages queued but not yet acknowledged.
  int OutstandingForTest() const;

 private:
  explicit Producer(rd_kafka_s* rk, ProducerOptions options);
  friend struct ProducerCallbacks;
  void RecordError(absl::Status status);

  const ProducerOptions options_;
  rd_kafka_s* rk_;  // owned; null after Close()
  absl::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;
  absl::Mutex error_mu_;
  absl::Status first_error_ ABSL_GUARDED_BY(error_mu_);
};

// Maps a librdkafka error code (rd_kafka_resp_err_t as int) to an absl code per STYLE §2.6.
absl::Status StatusFromKafka(int err, absl::string_view context);

}  // namespace switchboard::events
