#include "services/carrier/dependencies.h"

#include <optional>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/health_watcher.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/topics.h"
#include "services/carrier/routing_source.h"

namespace switchboard::carrier {

absl::StatusOr<std::unique_ptr<Dependencies>> Dependencies::Create(const CarrierConfig& config,
                                                                   const Clock& clock,
                                                                   metrics::Registry& registry) {
  // LoadCarrierConfig checks it too; a config built in code skips that, and a retention <= 0
  // would prune every dedupe key (redeliveries processed twice).
  if (config.webhook_dedupe_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("webhook_dedupe_retention: must be > 0");
  }
  std::unique_ptr<Dependencies> d(new Dependencies());
  ASSIGN_OR_RETURN(d->pool_, db::Pool::Create(db::PoolOptions{.dsn = config.pg_dsn,
                                                              .schema = config.pg_schema,
                                                              .max_size = config.pg_pool_size}));
  RETURN_IF_ERROR(MigrateCarrier(*d->pool_));
  ASSIGN_OR_RETURN(d->producer_,
                   events::Producer::Create(events::ProducerOptions{
                       .brokers = config.kafka_brokers, .client_id = "carrier"}));
  RETURN_IF_ERROR(Annotate(events::EnsureTopics(config.kafka_brokers, {config.events_topic},
                                                /*partitions=*/6, /*replication_factor=*/1,
                                                absl::Seconds(15)),
                           "kafka"));
  d->store_ = std::make_unique<PgCarrierStore>(
      *d->pool_, config.events_topic, PgStoreOptions{.lookup_cache_ttl = config.lookup_cache_ttl});
  ASSIGN_OR_RETURN(d->http_client_, http::CurlHttpClient::Create());
  ASSIGN_OR_RETURN(d->core_,
                   CarrierCore::Create(*d->store_, *d->http_client_, clock, registry,
                                       CoreOptions{.key_encryption_key = config.key_encryption_key,
                                                   .public_base_url = config.public_base_url,
                                                   .twilio_api_base_url = config.twilio_api_base_url,
                                                   .telnyx_base_url = config.telnyx_base_url,
                                                   .emulator_url = config.emulator_url,
                                                   .http_timeout = config.http_timeout,
                                                   .topic = config.events_topic}));
  d->static_instructions_ = std::make_unique<StaticInstructionSource>(*d->store_);
  InstructionSource* source = d->static_instructions_.get();
  if (!config.routing_address.empty()) {
    // Routing answers its lines; numbers it does not manage keep their static sets.
    d->instructions_ = std::make_unique<RoutingInstructionSource>(
        routing::v1::Routing::NewStub(
            grpc::CreateChannel(config.routing_address, grpc::InsecureChannelCredentials())),
        registry, RoutingSourceOptions{.deadline = config.routing_deadline},
        d->static_instructions_.get());
    source = d->instructions_.get();
  }
  d->webhooks_ = std::make_unique<WebhookHandler>(
      *d->core_, *d->store_, *source, clock, registry,
      WebhookOptions{.command_workers = config.command_workers});
  http::Router router;
  d->webhooks_->Register(router);
  const size_t colon = config.webhook_address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(config.webhook_address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("webhook_address: must be host:port");
  }
  std::string host = config.webhook_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  ASSIGN_OR_RETURN(d->listener_,
                   http::Server::Start(http::ServerOptions{.address = host,
                                                           .port = port,
                                                           .threads = config.webhook_threads,
                                                           .body_limit = 1 << 20},
                                       std::move(router)));
  d->relay_ = std::make_unique<events::OutboxRelay>(*d->pool_, *d->producer_);
  RETURN_IF_ERROR(Annotate(d->relay_->Start(), "outbox relay"));
  PgCarrierStore* store = d->store_.get();
  d->pruner_ = std::make_unique<PeriodicTask>(
      [store, &clock, retention = config.webhook_dedupe_retention] {
        absl::StatusOr<int64_t> n = store->PruneWebhookDeliveries(clock.Now() - retention);
        if (!n.ok()) {
          log::Warn("pruning webhook deliveries failed", {{"error", n.status().ToString()}});
        } else if (*n > 0) {
          log::Info("pruned webhook deliveries", {{"rows", absl::StrCat(*n)}});
        }
      },
      absl::Minutes(10));
  return d;
}

Dependencies::~Dependencies() { Stop(); }

void Dependencies::StartHealthWatcher(absl::Duration interval,
                                      std::function<void(bool)> on_change) {
  watcher_ = std::make_unique<HealthWatcher>(
      "postgres", [this] { return store_->Ping().ok(); }, interval, std::move(on_change));
}

void Dependencies::StopHealthWatcher() {
  if (watcher_ != nullptr) watcher_->Stop();
}

void Dependencies::Stop() {
  if (stopped_.exchange(true)) return;
  StopHealthWatcher();
  if (pruner_ != nullptr) pruner_->Stop();
  if (listener_ != nullptr) listener_->Stop();
  if (webhooks_ != nullptr) webhooks_->Stop();
  if (relay_ != nullptr) relay_->Stop();
  if (producer_ != nullptr) {
    absl::Status closed = producer_->Close(absl::Seconds(10));
    if (!closed.ok()) log::Error("kafka producer close", {{"error", std::string(closed.message())}});
  }
}

}  // namespace switchboard::carrier
