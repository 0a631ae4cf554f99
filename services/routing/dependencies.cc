#include "services/routing/dependencies.h"

#include <string>
#include <vector>

#include <grpcpp/create_channel.h>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/topics.h"

namespace switchboard::routing {

absl::StatusOr<std::unique_ptr<events::IdempotentConsumer>> NewCacheEventsConsumer(
    db::Pool& pool, const RoutingConfig& config, events::Producer* dlq_producer,
    DirectoryCache& directory, ConfigCache& company_config, CachingNumberResolver& numbers) {
  const std::string instance = NewUuidV7();
  std::vector<std::string> topics = {config.identity_topic};
  if (config.numbers_topic != config.identity_topic) topics.push_back(config.numbers_topic);
  return events::IdempotentConsumer::Create(
      pool,
      events::ConsumerOptions{.brokers = config.kafka_brokers,
                              .group_id = absl::StrCat("routing-cache-", instance),
                              .topics = std::move(topics),
                              .consumer_name = absl::StrCat("routing.cache.", instance),
                              .dlq_producer = dlq_producer,
                              .config = {{"auto.offset.reset", "latest"}}},
      [&directory, &company_config, &numbers](pqxx::work&, const events::v1::Event& event) {
        InvalidateCachesOnEvent(event, directory, company_config, numbers);
        return absl::OkStatus();
      });
}

absl::StatusOr<std::unique_ptr<Dependencies>> Dependencies::Create(const RoutingConfig& config,
                                                                   const Clock& clock,
                                                                   metrics::Registry* registry) {
  std::unique_ptr<Dependencies> d(new Dependencies());
  ASSIGN_OR_RETURN(d->pool_, db::Pool::Create(db::PoolOptions{.dsn = config.pg_dsn,
                                                              .schema = config.pg_schema,
                                                              .max_size = config.pg_pool_size}));
  RETURN_IF_ERROR(MigrateRouting(*d->pool_));
  ASSIGN_OR_RETURN(d->redis_, cache::RedisPool::Create(
                                  cache::RedisOptions{.url = config.redis_url,
                                                      .pool_size = config.redis_pool_size,
                                                      .key_prefix = config.redis_key_prefix}));
  ASSIGN_OR_RETURN(d->producer_,
                   events::Producer::Create(events::ProducerOptions{
                       .brokers = config.kafka_brokers, .client_id = "routing"}));
  RETURN_IF_ERROR(Annotate(events::EnsureTopics(config.kafka_brokers,
                                                {config.events_topic, config.identity_topic,
                                                 config.numbers_topic},
                                                /*partitions=*/6, /*replication_factor=*/1,
                                                absl::Seconds(15)),
                           "kafka"));
  d->store_ = std::make_unique<PgStore>(*d->pool_, config.events_topic, config.async_commit);
  d->identity_ = std::make_unique<IdentityClient>(
      grpc::CreateChannel(config.identity_address, grpc::InsecureChannelCredentials()),
      config.peer_timeout);
  d->numbers_ = std::make_unique<NumbersClient>(
      grpc::CreateChannel(config.numbers_address, grpc::InsecureChannelCredentials()),
      config.peer_timeout);
  if (!config.media_address.empty()) {
    d->media_ = std::make_unique<MediaClient>(
        grpc::CreateChannel(config.media_address, grpc::InsecureChannelCredentials()),
        config.peer_timeout);
    d->greeting_urls_ = std::make_unique<GreetingUrlCache>(*d->media_, clock);
  }
  d->carrier_ = std::make_unique<CarrierClient>(
      grpc::CreateChannel(config.carrier_address, grpc::InsecureChannelCredentials()),
      config.carrier_timeout);
  d->calls_ = std::make_unique<CallStateCache>(*d->redis_, config.call_state_ttl);
  d->directory_ =
      std::make_unique<DirectoryCache>(*d->identity_, clock, config.directory_cache_ttl);
  d->config_ = std::make_unique<ConfigCache>(*d->store_, *d->identity_, clock,
                                             config.config_cache_ttl);
  d->number_cache_ = std::make_unique<CachingNumberResolver>(
      *d->numbers_, clock, config.number_cache_ttl, CachingNumberResolver::kDefaultMaxEntries,
      registry);
  d->core_ = std::make_unique<RoutingCore>(
      *d->store_, *d->calls_, *d->redis_, *d->number_cache_, *d->directory_, *d->config_, clock,
      RoutingCoreOptions{.flow_cache_ttl = config.config_cache_ttl,
                         .metrics = registry,
                         .greeting_urls = d->greeting_urls_.get(),
                         .call_control = d->carrier_.get()});
  d->relay_ = std::make_unique<events::OutboxRelay>(*d->pool_, *d->producer_);
  RETURN_IF_ERROR(Annotate(d->relay_->Start(), "outbox relay"));
  ASSIGN_OR_RETURN(d->cache_events_,
                   NewCacheEventsConsumer(*d->pool_, config, d->producer_.get(), *d->directory_,
                                          *d->config_, *d->number_cache_));
  RETURN_IF_ERROR(Annotate(d->cache_events_->Start(), "cache events consumer"));
  PgStore* store = d->store_.get();
  d->pruner_ = std::make_unique<PeriodicTask>(
      [store, &clock, retention = config.event_key_retention] {
        absl::StatusOr<int64_t> n = store->PruneEventKeys(clock.Now() - retention);
        if (!n.ok()) {
          log::Warn("pruning call event keys failed", {{"error", n.status().ToString()}});
        } else if (*n > 0) {
          log::Info("pruned call event keys", {{"rows", absl::StrCat(*n)}});
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
  if (cache_events_ != nullptr) {
    absl::Status stopped = cache_events_->Stop();
    if (!stopped.ok()) {
      log::Warn("cache consumer stop", {{"error", std::string(stopped.message())}});
    }
  }
  if (relay_ != nullptr) relay_->Stop();
  if (producer_ != nullptr) {
    absl::Status closed = producer_->Close(absl::Seconds(10));
    if (!closed.ok()) log::Error("kafka producer close", {{"error", std::string(closed.message())}});
  }
}

}  // namespace switchboard::routing
