// Everything the media process wires together: the Postgres pool (migrated: events, envelope,
// media), the blob store (filesystem or S3), the master key ring and data key manager, the
// carrier channel (FetchRecording), the domain core, the Kafka producer + outbox relay, the
// ingest consumer (carrier.v1 + calls.v1), the playback HTTP listener and the periodic sweeper.
// Built by main (and end-to-end tests); owns all of it. Stop() is called once from main.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "libs/blob/blob_store.h"
#include "libs/common/clock.h"
#include "libs/common/health_watcher.h"
#include "libs/db/pg_pool.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/master_key_ring.h"
#include "libs/envelope/pg_data_key_store.h"
#include "libs/events/consumer.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/producer.h"
#include "libs/http/server.h"
#include "libs/metrics/registry.h"
#include "services/media/carrier_fetcher.h"
#include "services/media/config.h"
#include "services/media/media_core.h"
#include "services/media/playback_signer.h"

namespace switchboard::media {

// Applies the "events", "envelope" and "media" migrations to the pool's schema.
[[nodiscard]] absl::Status MigrateMedia(db::Pool& pool);

class Dependencies {
 public:
  // Errors: kInvalidArgument for bad key material (naming master_keys / active_master_key_id),
  // kUnavailable when Postgres, Kafka or the blob store cannot be reached, kUnavailable when
  // the playback port cannot be bound.
  // With `registry`, playback streams are counted in media_playback_streams_total{outcome=
  // started|completed|source_error|client_abort}; the registry must outlive the Dependencies.
  static absl::StatusOr<std::unique_ptr<Dependencies>> Create(
      const MediaConfig& config, const Clock& clock, metrics::Registry* registry = nullptr);
  ~Dependencies();  // Stop()

  MediaCore& core() { return *core_; }
  int playback_port() const { return http_->port(); }

  // Pings Postgres every `interval`; `on_change(healthy)` on change (watcher thread).
  void StartHealthWatcher(absl::Duration interval, std::function<void(bool)> on_change);
  void StopHealthWatcher();

  // Stops the consumer (commit), the sweeper, the HTTP listener, the relay, then flushes and
  // closes the producer. Idempotent.
  void Stop();

 private:
  Dependencies() = default;
  void SweepLoop(absl::Duration interval);

  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<envelope::MasterKeyRing> ring_;
  std::unique_ptr<envelope::PgDataKeyStore> key_store_;
  std::unique_ptr<envelope::DataKeyManager> keys_;
  std::unique_ptr<PlaybackSigner> signer_;
  std::unique_ptr<CarrierRecordingFetcher> fetcher_;
  std::unique_ptr<events::Producer> producer_;
  std::unique_ptr<MediaCore> core_;
  std::unique_ptr<events::OutboxRelay> relay_;
  std::unique_ptr<http::Server> http_;
  // Declared late so they are destroyed first: they use the core.
  std::unique_ptr<events::IdempotentConsumer> consumer_;
  absl::Notification stop_sweeper_;
  std::thread sweeper_;
  std::unique_ptr<HealthWatcher> watcher_;
  std::atomic<bool> stopped_{false};
};

}  // namespace switchboard::media
