// Everything the identity process wires together: the Postgres pool (migrated), the Redis pool,
// the Kafka producer and outbox relay, the stores, the token service and the domain core, plus
// a background Postgres health watcher. Built by main (and by end-to-end tests); owns all of it.
// Thread-safe after Create(); Stop() is called once from main.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/common/health_watcher.h"
#include "libs/db/pg_pool.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/producer.h"
#include "services/identity/config.h"
#include "services/identity/identity_core.h"
#include "services/identity/pg_store.h"
#include "services/identity/redis_presence_store.h"
#include "services/identity/token_service.h"

namespace switchboard::identity {

class Dependencies {
 public:
  // Connects to Postgres (kUnavailable naming the host when unreachable), applies the outbox
  // and identity migrations, creates the Redis pool (never fails because Redis is down), creates
  // the Kafka producer and ensures the events topic exists (kUnavailable when Kafka is
  // unreachable), creates the first signing key if needed, and starts the outbox relay.
  static absl::StatusOr<std::unique_ptr<Dependencies>> Create(const IdentityConfig& config,
                                                              const Clock& clock);
  ~Dependencies();  // Stop()

  IdentityCore& core() { return *core_; }

  // Starts a thread that pings Postgres every `interval` and calls `on_change(healthy)` when
  // the answer changes (first call after the first ping). `on_change` runs on that thread.
  void StartHealthWatcher(absl::Duration interval, std::function<void(bool)> on_change);

  // Stops the health watcher (no more on_change calls once this returns). Idempotent.
  void StopHealthWatcher();

  // Stops the health watcher, stops the relay (finishing its batch) and flushes and closes the
  // producer. Idempotent.
  void Stop();

 private:
  Dependencies() = default;

  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<cache::RedisPool> redis_;
  std::unique_ptr<events::Producer> producer_;
  std::unique_ptr<PgStore> store_;
  std::unique_ptr<RedisPresenceStore> presence_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<IdentityCore> core_;
  // Declared last so it is destroyed first: it reads the pool and feeds the producer.
  std::unique_ptr<events::OutboxRelay> relay_;

  std::unique_ptr<HealthWatcher> watcher_;
  std::atomic<bool> stopped_{false};
};

}  // namespace switchboard::identity
