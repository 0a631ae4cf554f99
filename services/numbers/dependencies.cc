#include "services/numbers/dependencies.h"

#include <grpcpp/grpcpp.h>

#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/topics.h"
#include "services/numbers/event_handlers.h"

namespace switchboard::numbers {

absl::StatusOr<std::unique_ptr<Dependencies>> Dependencies::Create(const NumbersConfig& config,
                                                                   const Clock& clock) {
  std::unique_ptr<Dependencies> d(new Dependencies());
  ASSIGN_OR_RETURN(d->pool_, db::Pool::Create(db::PoolOptions{.dsn = config.pg_dsn,
                                                              .schema = config.pg_schema,
                                                              .max_size = config.pg_pool_size}));
  RETURN_IF_ERROR(MigrateNumbers(*d->pool_));
  ASSIGN_OR_RETURN(d->redis_,
                   cache::RedisPool::Create(cache::RedisOptions{.url = config.redis_url,
                                                                .pool_size = 8,
                                                                .key_prefix = config.redis_key_prefix}));
  ASSIGN_OR_RETURN(d->producer_,
                   events::Producer::Create(events::ProducerOptions{
                       .brokers = config.kafka_brokers, .client_id = "numbers"}));
  RETURN_IF_ERROR(Annotate(
      events::EnsureTopics(config.kafka_brokers,
                           {config.events_topic, config.identity_topic, config.carrier_topic},
                           /*partitions=*/6, /*replication_factor=*/1, absl::Seconds(15)),
      "kafka"));
  d->store_ = std::make_unique<PgNumberStore>(
      *d->pool_, clock, PgStoreOptions{.topic = config.events_topic, .source = "numbers"});
  d->cache_ = std::make_unique<RedisNumbersCache>(
      *d->redis_, RedisCacheOptions{.resolve_ttl = config.resolve_cache_ttl,
                                    .search_ttl = config.search_cache_ttl});
  d->carrier_ = std::make_unique<GrpcCarrierClient>(
      grpc::CreateChannel(config.carrier_address, grpc::InsecureChannelCredentials()),
      config.rpc_timeout);
  d->identity_ = std::make_unique<GrpcIdentityClient>(
      grpc::CreateChannel(config.identity_address, grpc::InsecureChannelCredentials()),
      config.rpc_timeout);
  ASSIGN_OR_RETURN(d->core_, NumbersCore::Create(*d->store_, *d->carrier_, *d->identity_,
                                                 *d->cache_, clock,
                                                 CoreOptions{.key_encryption_key =
                                                                 config.key_encryption_key}));
  d->relay_ = std::make_unique<events::OutboxRelay>(*d->pool_, *d->producer_);
  RETURN_IF_ERROR(Annotate(d->relay_->Start(), "outbox relay"));
  NumbersCore* core = d->core_.get();
  ASSIGN_OR_RETURN(d->identity_consumer_,
                   events::IdempotentConsumer::Create(
                       *d->pool_,
                       events::ConsumerOptions{.brokers = config.kafka_brokers,
                                               .group_id = config.consumer_group + ".identity",
                                               .topics = {config.identity_topic},
                                               .consumer_name = "numbers.identity",
                                               .dlq_producer = d->producer_.get(),
                                               .accepts = IsIdentityEventForNumbers},
                       [core](pqxx::work&, const events::v1::Event& e) {
                         return HandleIdentityEvent(*core, e);
                       }));
  ASSIGN_OR_RETURN(d->carrier_consumer_,
                   events::IdempotentConsumer::Create(
                       *d->pool_,
                       events::ConsumerOptions{.brokers = config.kafka_brokers,
                                               .group_id = config.consumer_group + ".carrier",
                                               .topics = {config.carrier_topic},
                                               .consumer_name = "numbers.carrier",
                                               .dlq_producer = d->producer_.get(),
                                               .accepts = IsCarrierEventForNumbers},
                       [core](pqxx::work&, const events::v1::Event& e) {
                         return HandleCarrierEvent(*core, e);
                       }));
  RETURN_IF_ERROR(Annotate(d->identity_consumer_->Start(), "identity consumer"));
  RETURN_IF_ERROR(Annotate(d->carrier_consumer_->Start(), "carrier consumer"));
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
  for (auto* c : {identity_consumer_.get(), carrier_consumer_.get()}) {
    if (c == nullptr) continue;
    absl::Status s = c->Stop();
    if (!s.ok()) log::Warn("consumer stop", {{"error", std::string(s.message())}});
  }
  if (relay_ != nullptr) relay_->Stop();
  if (producer_ != nullptr) {
    absl::Status closed = producer_->Close(absl::Seconds(10));
    if (!closed.ok()) log::Error("kafka producer close", {{"error", std::string(closed.message())}});
  }
}

}  // namespace switchboard::numbers
