#include "services/media/dependencies.h"

#include <array>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "libs/blob/fs_blob_store.h"
#include "libs/blob/s3_blob_store.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/db/migrations.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "libs/events/topics.h"
#include "sb_envelope_migrations.h"
#include "services/media/ingest_consumer.h"
#include "media_migrations.h"
#include "services/media/playback_http.h"

namespace switchboard::media {

absl::Status MigrateMedia(db::Pool& pool) {
  RETURN_IF_ERROR(events::MigrateOutbox(pool));
  RETURN_IF_ERROR(db::Migrate(pool, "envelope", envelope::sql::Migrations()));
  return db::Migrate(pool, "media", sql::Migrations());
}

absl::StatusOr<std::unique_ptr<Dependencies>> Dependencies::Create(const MediaConfig& config,
                                                                   const Clock& clock,
                                                                   metrics::Registry* registry) {
  std::unique_ptr<Dependencies> d(new Dependencies());
  ASSIGN_OR_RETURN(envelope::MasterKeyRing ring,
                   envelope::MasterKeyRing::Parse(config.master_keys,
                                                  config.active_master_key_id));
  d->ring_ = std::make_unique<envelope::MasterKeyRing>(std::move(ring));
  ASSIGN_OR_RETURN(d->pool_, db::Pool::Create(db::PoolOptions{.dsn = config.pg_dsn,
                                                              .schema = config.pg_schema,
                                                              .max_size = config.pg_pool_size}));
  RETURN_IF_ERROR(Annotate(MigrateMedia(*d->pool_), "migrations"));
  if (config.blob_store == "s3") {
    ASSIGN_OR_RETURN(d->blobs_,
                     blob::S3BlobStore::Create(blob::S3BlobStoreOptions{
                         .endpoint = config.s3_endpoint,
                         .bucket = config.s3_bucket,
                         .region = config.s3_region,
                         .credentials = {.access_key_id = config.s3_access_key,
                                         .secret_access_key = config.s3_secret_key}}));
  } else {
    ASSIGN_OR_RETURN(d->blobs_, blob::FsBlobStore::Create({.root = config.blob_root}));
  }
  d->key_store_ = std::make_unique<envelope::PgDataKeyStore>(*d->pool_);
  d->keys_ = std::make_unique<envelope::DataKeyManager>(*d->key_store_, *d->ring_, clock);
  d->signer_ = std::make_unique<PlaybackSigner>(config.playback_signing_key,
                                                config.public_base_url);
  d->fetcher_ = std::make_unique<CarrierRecordingFetcher>(
      grpc::CreateChannel(config.carrier_address, grpc::InsecureChannelCredentials()),
      config.fetch_timeout);
  ASSIGN_OR_RETURN(d->producer_, events::Producer::Create(events::ProducerOptions{
                                     .brokers = config.kafka_brokers, .client_id = "media"}));
  RETURN_IF_ERROR(Annotate(
      events::EnsureTopics(config.kafka_brokers,
                           {events::kMediaTopic, config.carrier_topic, config.calls_topic},
                           /*partitions=*/6, /*replication_factor=*/1, absl::Seconds(15)),
      "kafka"));
  d->core_ = std::make_unique<MediaCore>(
      *d->pool_, *d->blobs_, *d->keys_, *d->ring_, d->fetcher_.get(), *d->signer_, clock,
      MediaCoreOptions{.playback_url_ttl = config.playback_url_ttl,
                       .greeting_url_ttl = config.greeting_url_ttl,
                       .default_retention_days = config.default_retention_days,
                       .soft_delete_purge_after = config.soft_delete_purge_after,
                       .orphan_grace = config.orphan_grace});
  d->relay_ = std::make_unique<events::OutboxRelay>(*d->pool_, *d->producer_);
  RETURN_IF_ERROR(Annotate(d->relay_->Start(), "outbox relay"));
  http::ServerOptions playback{.address = config.playback_address,
                               .port = config.playback_port,
                               .threads = config.playback_threads};
  if (registry != nullptr) {
    // One counter per outcome, looked up once; the observer only increments them.
    std::array<metrics::Counter*, 4> streams{};
    const std::pair<http::StreamEvent, const char*> outcomes[] = {
        {http::StreamEvent::kStarted, "started"},
        {http::StreamEvent::kCompleted, "completed"},
        {http::StreamEvent::kSourceError, "source_error"},
        {http::StreamEvent::kClientAbort, "client_abort"}};
    for (const auto& [event, outcome] : outcomes) {
      streams[static_cast<size_t>(event)] = &registry->GetCounter(
          "media_playback_streams_total",
          "Playback responses streamed: started (headers written), completed (every byte "
          "written), source_error or client_abort (cut short).",
          {{"outcome", outcome}});
    }
    playback.stream_observer = [streams](http::StreamEvent event) {
      streams[static_cast<size_t>(event)]->Inc();
    };
  }
  ASSIGN_OR_RETURN(d->http_,
                   http::Server::Start(std::move(playback), MakePlaybackRouter(*d->core_)));
  MediaCore* core = d->core_.get();
  ASSIGN_OR_RETURN(d->consumer_,
                   events::IdempotentConsumer::Create(
                       *d->pool_,
                       events::ConsumerOptions{.brokers = config.kafka_brokers,
                                               .group_id = config.consumer_group,
                                               .topics = {config.carrier_topic,
                                                          config.calls_topic},
                                               .consumer_name = "media.ingest",
                                               .dlq_producer = d->producer_.get(),
                                               .accepts =
                                                   [](const events::v1::Event& e) {
                                                     return IngestRequestFromEvent(e).has_value();
                                                   }},
                       [core](pqxx::work& tx, const events::v1::Event& event) {
                         return HandleIngestEvent(*core, tx, event);
                       }));
  RETURN_IF_ERROR(Annotate(d->consumer_->Start(), "ingest consumer"));
  Dependencies* self = d.get();
  d->sweeper_ = std::thread([self, interval = config.sweep_interval] { self->SweepLoop(interval); });
  return d;
}

void Dependencies::SweepLoop(absl::Duration interval) {
  while (!stop_sweeper_.WaitForNotificationWithTimeout(interval)) {
    absl::StatusOr<SweepStats> swept = core_->SweepRetention();
    if (!swept.ok()) {
      log::Error("retention sweep failed", {{"error", swept.status().ToString()}});
    } else if (swept->recordings_deleted + swept->voicemails_deleted > 0) {
      log::Info("retention sweep", {{"recordings", std::to_string(swept->recordings_deleted)},
                                    {"voicemails", std::to_string(swept->voicemails_deleted)}});
    }
    absl::StatusOr<int> orphans = core_->SweepOrphans();
    if (!orphans.ok()) {
      log::Error("orphan sweep failed", {{"error", orphans.status().ToString()}});
    }
  }
}

Dependencies::~Dependencies() { Stop(); }

void Dependencies::StartHealthWatcher(absl::Duration interval,
                                      std::function<void(bool)> on_change) {
  watcher_ = std::make_unique<HealthWatcher>(
      "postgres",
      [this] { return pool_->Unscoped([](pqxx::work& tx) {
                      tx.exec("SELECT 1");
                      return absl::OkStatus();
                    }).ok(); },
      interval, std::move(on_change));
}

void Dependencies::StopHealthWatcher() {
  if (watcher_ != nullptr) watcher_->Stop();
}

void Dependencies::Stop() {
  if (stopped_.exchange(true)) return;
  StopHealthWatcher();
  if (consumer_ != nullptr) {
    absl::Status stopped = consumer_->Stop();
    if (!stopped.ok()) log::Error("ingest consumer stop", {{"error", stopped.ToString()}});
  }
  if (!stop_sweeper_.HasBeenNotified()) stop_sweeper_.Notify();
  if (sweeper_.joinable()) sweeper_.join();
  if (http_ != nullptr) http_->Stop();
  if (relay_ != nullptr) relay_->Stop();
  if (producer_ != nullptr) {
    absl::Status closed = producer_->Close(absl::Seconds(10));
    if (!closed.ok()) log::Error("kafka producer close", {{"error", std::string(closed.message())}});
  }
}

}  // namespace switchboard::media
