// Everything the carrier process wires together: the Postgres pool (migrated), the Kafka
// producer and outbox relay, the store, the libcurl HTTP client, CarrierCore, the static
// instruction source, the webhook handler and its HTTP listener, the webhook_deliveries pruner
// (every 10 minutes, keys older than --webhook_dedupe_retention), plus a Postgres health watcher.
// Built by main (and by integration tests); owns all of it. Thread-safe after Create(); Stop()
// is called once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/common/health_watcher.h"
#include "libs/common/periodic.h"
#include "libs/db/pg_pool.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/producer.h"
#include "libs/http/client.h"
#include "libs/http/server.h"
#include "libs/metrics/registry.h"
#include "services/carrier/config.h"
#include "services/carrier/core.h"
#include "services/carrier/pg_store.h"
#include "services/carrier/webhooks.h"

namespace switchboard::carrier {

class Dependencies {
 public:
  // Connects to Postgres (kUnavailable naming the host), applies the outbox and carrier
  // migrations, creates the Kafka producer and ensures the events topic (kUnavailable when
  // Kafka is unreachable), starts the outbox relay and the webhook listener on
  // config.webhook_address (kUnavailable when it cannot bind), and starts the pruner (its first
  // run at once, on its own thread; kInvalidArgument, before anything starts, when
  // config.webhook_dedupe_retention <= 0). `clock` must outlive the Dependencies.
  static absl::StatusOr<std::unique_ptr<Dependencies>> Create(const CarrierConfig& config,
                                                              const Clock& clock,
                                                              metrics::Registry& registry);
  ~Dependencies();  // Stop()

  CarrierCore& core() { return *core_; }
  CarrierStore& store() { return *store_; }
  int webhook_port() const { return listener_->port(); }

  void StartHealthWatcher(absl::Duration interval, std::function<void(bool)> on_change);
  void StopHealthWatcher();  // idempotent
  // Stops the pruner (a run in progress finishes), the webhook listener (in-flight requests
  // finish), the command workers, the relay, and flushes the producer. Idempotent.
  void Stop();

 private:
  Dependencies() = default;

  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<events::Producer> producer_;
  std::unique_ptr<PgCarrierStore> store_;
  std::unique_ptr<http::CurlHttpClient> http_client_;
  std::unique_ptr<CarrierCore> core_;
  std::unique_ptr<StaticInstructionSource> static_instructions_;
  std::unique_ptr<InstructionSource> instructions_;  // routing's, when --routing_address is set
  std::unique_ptr<WebhookHandler> webhooks_;
  std::unique_ptr<http::Server> listener_;
  std::unique_ptr<events::OutboxRelay> relay_;

  std::unique_ptr<HealthWatcher> watcher_;
  std::unique_ptr<PeriodicTask> pruner_;  // webhook_deliveries older than the retention
  std::atomic<bool> stopped_{false};
};

}  // namespace switchboard::carrier
