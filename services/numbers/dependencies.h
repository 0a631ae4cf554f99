// Everything the numbers process wires together: the Postgres pool (migrated), Redis, the Kafka
// producer and outbox relay, gRPC channels to carrier and identity, the store, cache and core,
// and the two idempotent consumers (identity.v1, carrier.v1), plus a Postgres health watcher.
// Built by main and by integration tests; owns all of it. Thread-safe after Create(); Stop()
// is called once (idempotent).
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/common/health_watcher.h"
#include "libs/db/pg_pool.h"
#include "libs/events/consumer.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/producer.h"
#include "services/numbers/config.h"
#include "services/numbers/grpc_clients.h"
#include "services/numbers/numbers_core.h"
#include "services/numbers/pg_store.h"
#include "services/numbers/redis_cache.h"

namespace switchboard::numbers {

class Dependencies {
 public:
  // Connects to Postgres (kUnavailable naming the host), migrates, creates the Redis pool (never
  // fails because Redis is down), the producer (ensuring the numbers topic and the consumed
  // topics exist; kUnavailable when Kafka is unreachable), the gRPC channels (lazy: carrier and
  // identity may start later), starts the relay and both consumers.
  static absl::StatusOr<std::unique_ptr<Dependencies>> Create(const NumbersConfig& config,
                                                              const Clock& clock);
  ~Dependencies();  // Stop()

  NumbersCore& core() { return *core_; }
  NumberStore& store() { return *store_; }

  void StartHealthWatcher(absl::Duration interval, std::function<void(bool)> on_change);
  void StopHealthWatcher();
  // Stops the consumers (committing offsets), the relay, and flushes the producer. Idempotent.
  void Stop();

 private:
  Dependencies() = default;

  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<cache::RedisPool> redis_;
  std::unique_ptr<events::Producer> producer_;
  std::unique_ptr<PgNumberStore> store_;
  std::unique_ptr<RedisNumbersCache> cache_;
  std::unique_ptr<GrpcCarrierClient> carrier_;
  std::unique_ptr<GrpcIdentityClient> identity_;
  std::unique_ptr<NumbersCore> core_;
  std::unique_ptr<events::OutboxRelay> relay_;
  std::unique_ptr<events::IdempotentConsumer> identity_consumer_;
  std::unique_ptr<events::IdempotentConsumer> carrier_consumer_;

  std::unique_ptr<HealthWatcher> watcher_;
  std::atomic<bool> stopped_{false};
};

}  // namespace switchboard::numbers
