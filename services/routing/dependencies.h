// Everything the routing process wires together: the Postgres pool (migrated), the Redis pool,
// the Kafka producer and outbox relay, the identity and numbers clients, the caches and the core,
// plus a background Postgres health watcher. Built by main (and by end-to-end tests); owns all of
// it. Thread-safe after Create(); Stop() is called once from main.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/common/health_watcher.h"
#include "libs/common/periodic.h"
#include "libs/db/pg_pool.h"
#include "libs/events/consumer.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/producer.h"
#include "libs/metrics/registry.h"
#include "services/routing/clients.h"
#include "services/routing/config.h"
#include "services/routing/live_ports.h"
#include "services/routing/pg_store.h"
#include "services/routing/routing_core.h"

namespace switchboard::routing {

// The consumer that keeps this process's caches current: ONE consumer of `identity_topic` and
// `numbers_topic` (config.kafka_brokers) whose handler is InvalidateCachesOnEvent. Every process
// must see every event (its caches are its own): a consumer group of its own
// ("routing-cache-<uuid>", idempotency name "routing.cache.<uuid>"), starting at the latest
// offset (older events concern caches that no longer exist). Not started. `dlq_producer` may be
// null (the consumer makes its own); the caches must outlive the consumer.
absl::StatusOr<std::unique_ptr<events::IdempotentConsumer>> NewCacheEventsConsumer(
    db::Pool& pool, const RoutingConfig& config, events::Producer* dlq_producer,
    DirectoryCache& directory, ConfigCache& company_config, CachingNumberResolver& numbers);

class Dependencies {
 public:
  // Connects to Postgres (kUnavailable naming the host when unreachable), applies the outbox and
  // routing migrations, creates the Redis pool (never fails because Redis is down), the gRPC
  // channels to identity and numbers (lazy: they may start later; the core asks numbers through
  // a CachingNumberResolver), the Kafka producer (ensuring the events, identity and numbers
  // topics; kUnavailable when Kafka is unreachable), starts the outbox relay and the
  // cache consumer (identity.v1 and numbers.v1, see NewCacheEventsConsumer).
  // `registry` (may be null) receives the core's metrics and must outlive the Dependencies.
  static absl::StatusOr<std::unique_ptr<Dependencies>> Create(const RoutingConfig& config,
                                                              const Clock& clock,
                                                              metrics::Registry* registry);
  ~Dependencies();  // Stop()

  RoutingCore& core() { return *core_; }

  void StartHealthWatcher(absl::Duration interval, std::function<void(bool)> on_change);
  void StopHealthWatcher();
  // Stops the health watcher, the cache consumer and the relay, flushes and closes the
  // producer. Idempotent.
  void Stop();

 private:
  Dependencies() = default;

  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<cache::RedisPool> redis_;
  std::unique_ptr<events::Producer> producer_;
  std::unique_ptr<PgStore> store_;
  std::unique_ptr<IdentityClient> identity_;
  std::unique_ptr<NumbersClient> numbers_;
  std::unique_ptr<CachingNumberResolver> number_cache_;  // over numbers_, what the core asks
  std::unique_ptr<MediaClient> media_;               // null without --media_address
  std::unique_ptr<GreetingUrlCache> greeting_urls_;  // null without --media_address
  std::unique_ptr<CarrierClient> carrier_;
  std::unique_ptr<CallStateCache> calls_;
  std::unique_ptr<DirectoryCache> directory_;
  std::unique_ptr<ConfigCache> config_;
  std::unique_ptr<RoutingCore> core_;
  std::unique_ptr<events::OutboxRelay> relay_;
  std::unique_ptr<events::IdempotentConsumer> cache_events_;
  std::unique_ptr<HealthWatcher> watcher_;
  std::unique_ptr<PeriodicTask> pruner_;  // call_event_keys older than event_key_retention
  std::atomic<bool> stopped_{false};
};

}  // namespace switchboard::routing
