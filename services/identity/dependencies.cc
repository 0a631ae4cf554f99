#include "services/identity/dependencies.h"

#include <optional>

#include "libs/common/health_watcher.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/topics.h"

namespace switchboard::identity {

absl::StatusOr<std::unique_ptr<Dependencies>> Dependencies::Create(const IdentityConfig& config,
                                                                   const Clock& clock) {
  std::unique_ptr<Dependencies> d(new Dependencies());
  ASSIGN_OR_RETURN(d->pool_, db::Pool::Create(db::PoolOptions{.dsn = config.pg_dsn,
                                                              .schema = config.pg_schema,
                                                              .max_size = config.pg_pool_size}));
  RETURN_IF_ERROR(MigrateIdentity(*d->pool_));
  ASSIGN_OR_RETURN(d->redis_,
                   cache::RedisPool::Create(cache::RedisOptions{.url = config.redis_url,
                                                                .key_prefix = "identity:"}));
  ASSIGN_OR_RETURN(d->producer_,
                   events::Producer::Create(events::ProducerOptions{
                       .brokers = config.kafka_brokers, .client_id = "identity"}));
  RETURN_IF_ERROR(Annotate(events::EnsureTopics(config.kafka_brokers, {config.events_topic},
                                                /*partitions=*/6, /*replication_factor=*/1,
                                                absl::Seconds(15)),
                           "kafka"));
  d->store_ = std::make_unique<PgStore>(
      *d->pool_, clock, PgStoreOptions{.topic = config.events_topic, .source = "identity"});
  d->presence_ = std::make_unique<RedisPresenceStore>(*d->redis_);
  ASSIGN_OR_RETURN(d->tokens_,
                   TokenService::Create(*d->store_, clock,
                                        TokenOptions{.issuer = config.issuer,
                                                     .access_token_ttl = config.access_token_ttl,
                                                     .key_encryption_key =
                                                         config.key_encryption_key}));
  RETURN_IF_ERROR(Annotate(d->tokens_->EnsureSigningKey(), "signing key"));
  d->core_ = std::make_unique<IdentityCore>(
      *d->store_, *d->presence_, *d->tokens_, clock,
      CoreOptions{.invitation_ttl = config.invitation_ttl,
                  .refresh_token_ttl = config.refresh_token_ttl,
                  .password_cost = crypto::PasswordCost::kInteractive});
  d->relay_ = std::make_unique<events::OutboxRelay>(*d->pool_, *d->producer_);
  RETURN_IF_ERROR(Annotate(d->relay_->Start(), "outbox relay"));
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
  if (relay_ != nullptr) relay_->Stop();
  if (producer_ != nullptr) {
    absl::Status closed = producer_->Close(absl::Seconds(10));
    if (!closed.ok()) log::Error("kafka producer close", {{"error", std::string(closed.message())}});
  }
}

}  // namespace switchboard::identity
