#include "services/media/config.h"

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "libs/common/status_macros.h"

ABSL_FLAG(std::string, grpc_address, "0.0.0.0:50055", "host:port the gRPC server listens on");
ABSL_FLAG(std::string, admin_address, "0.0.0.0",
          "address of the admin HTTP server (/metrics, /healthz, /readyz)");
ABSL_FLAG(int, admin_port, 9105, "port of the admin HTTP server (0 = pick a free port)");
ABSL_FLAG(std::string, playback_address, "0.0.0.0", "address of the playback HTTP listener");
ABSL_FLAG(int, playback_port, 8081, "port of the playback HTTP listener (0 = pick a free port)");
ABSL_FLAG(int, playback_threads, 4, "io threads of the playback HTTP listener");
ABSL_FLAG(std::string, public_base_url, "http://127.0.0.1:8081",
          "scheme://host[:port] that signed playback and greeting links start with");
ABSL_FLAG(std::string, pg_dsn, "",
          "PostgreSQL connection string (postgresql://user:pass@host:port/db); required");
ABSL_FLAG(std::string, pg_schema, "media", "PostgreSQL schema owned by this service");
ABSL_FLAG(int, pg_pool_size, 8, "maximum PostgreSQL connections");
ABSL_FLAG(std::string, kafka_brokers, "", "Kafka bootstrap servers (host:port,...); required");
ABSL_FLAG(std::string, consumer_group, "media.ingest", "Kafka consumer group of the ingest");
ABSL_FLAG(std::string, carrier_topic, "carrier.v1", "topic with carrier RecordingReady events");
ABSL_FLAG(std::string, calls_topic, "calls.v1", "topic with routing VoicemailLeft events");
ABSL_FLAG(std::string, carrier_address, "127.0.0.1:50052",
          "host:port of the carrier service (FetchRecording)");
ABSL_FLAG(absl::Duration, fetch_timeout, absl::Minutes(2), "deadline of one FetchRecording");
ABSL_FLAG(std::string, blob_store, "fs", "fs | s3");
ABSL_FLAG(std::string, blob_root, "/var/lib/switchboard/media",
          "root directory of the filesystem blob store (--blob_store=fs)");
ABSL_FLAG(std::string, s3_endpoint, "", "S3 endpoint, e.g. http://127.0.0.1:9000 (--blob_store=s3)");
ABSL_FLAG(std::string, s3_bucket, "", "S3 bucket (--blob_store=s3)");
ABSL_FLAG(std::string, s3_region, "us-east-1", "S3 region (--blob_store=s3)");
ABSL_FLAG(std::string, s3_access_key, "", "S3 access key id (secret; MEDIA_S3_ACCESS_KEY)");
ABSL_FLAG(std::string, s3_secret_key, "", "S3 secret access key (secret; MEDIA_S3_SECRET_KEY)");
ABSL_FLAG(std::string, master_keys, "",
          "envelope master keys 'id:base64(32 bytes),id2:...'; required, secret "
          "(MEDIA_MASTER_KEYS)");
ABSL_FLAG(std::string, active_master_key_id, "",
          "master key id that wraps new data keys (and the target of RotateMasterKey)");
ABSL_FLAG(std::string, playback_signing_key, "",
          "base64 of 32 random bytes; HMAC key of signed links; required, secret");
ABSL_FLAG(absl::Duration, playback_url_ttl, absl::Hours(1), "lifetime of playback links");
ABSL_FLAG(absl::Duration, greeting_url_ttl, absl::Hours(24 * 365),
          "lifetime of greeting links (fetched by the carrier during calls)");
ABSL_FLAG(int, default_retention_days, 90,
          "days recordings and voicemails are kept unless the company sets its own");
ABSL_FLAG(absl::Duration, soft_delete_purge_after, absl::Hours(24 * 30),
          "how long a deleted voicemail stays recoverable before it is purged");
ABSL_FLAG(absl::Duration, orphan_grace, absl::Hours(1),
          "age before a blob without a row is considered an orphan and deleted");
ABSL_FLAG(absl::Duration, sweep_interval, absl::Minutes(10),
          "how often the retention and orphan sweeper runs");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(5),
          "time between NOT_SERVING and server shutdown on SIGTERM (endpoint removal)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight RPCs may finish during shutdown");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warn | error");

namespace switchboard::media {

absl::StatusOr<MediaConfig> LoadMediaConfig(const EnvLookup& env) {
  RETURN_IF_ERROR(ApplyEnvOverrides("media", env));
  MediaConfig c;
  c.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  c.admin_address = absl::GetFlag(FLAGS_admin_address);
  c.admin_port = absl::GetFlag(FLAGS_admin_port);
  c.playback_address = absl::GetFlag(FLAGS_playback_address);
  c.playback_port = absl::GetFlag(FLAGS_playback_port);
  c.playback_threads = absl::GetFlag(FLAGS_playback_threads);
  c.public_base_url = absl::GetFlag(FLAGS_public_base_url);
  c.pg_dsn = absl::GetFlag(FLAGS_pg_dsn);
  c.pg_schema = absl::GetFlag(FLAGS_pg_schema);
  c.pg_pool_size = absl::GetFlag(FLAGS_pg_pool_size);
  c.kafka_brokers = absl::GetFlag(FLAGS_kafka_brokers);
  c.consumer_group = absl::GetFlag(FLAGS_consumer_group);
  c.carrier_topic = absl::GetFlag(FLAGS_carrier_topic);
  c.calls_topic = absl::GetFlag(FLAGS_calls_topic);
  c.carrier_address = absl::GetFlag(FLAGS_carrier_address);
  c.fetch_timeout = absl::GetFlag(FLAGS_fetch_timeout);
  c.blob_store = absl::GetFlag(FLAGS_blob_store);
  c.blob_root = absl::GetFlag(FLAGS_blob_root);
  c.s3_endpoint = absl::GetFlag(FLAGS_s3_endpoint);
  c.s3_bucket = absl::GetFlag(FLAGS_s3_bucket);
  c.s3_region = absl::GetFlag(FLAGS_s3_region);
  c.s3_access_key = absl::GetFlag(FLAGS_s3_access_key);
  c.s3_secret_key = absl::GetFlag(FLAGS_s3_secret_key);
  c.master_keys = absl::GetFlag(FLAGS_master_keys);
  c.active_master_key_id = absl::GetFlag(FLAGS_active_master_key_id);
  c.playback_url_ttl = absl::GetFlag(FLAGS_playback_url_ttl);
  c.greeting_url_ttl = absl::GetFlag(FLAGS_greeting_url_ttl);
  c.default_retention_days = absl::GetFlag(FLAGS_default_retention_days);
  c.soft_delete_purge_after = absl::GetFlag(FLAGS_soft_delete_purge_after);
  c.orphan_grace = absl::GetFlag(FLAGS_orphan_grace);
  c.sweep_interval = absl::GetFlag(FLAGS_sweep_interval);
  c.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  c.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);

  RETURN_IF_ERROR(RequireHostPort("grpc_address", c.grpc_address));
  RETURN_IF_ERROR(RequireNonEmpty("admin_address", c.admin_address));
  RETURN_IF_ERROR(RequireInRange("admin_port", c.admin_port, 0, 65535));
  RETURN_IF_ERROR(RequireNonEmpty("playback_address", c.playback_address));
  RETURN_IF_ERROR(RequireInRange("playback_port", c.playback_port, 0, 65535));
  RETURN_IF_ERROR(RequireInRange("playback_threads", c.playback_threads, 1, 256));
  if (!absl::StartsWith(c.public_base_url, "http://") &&
      !absl::StartsWith(c.public_base_url, "https://")) {
    return ConfigError("public_base_url", "must start with http:// or https://");
  }
  RETURN_IF_ERROR(RequireNonEmpty("pg_dsn", c.pg_dsn));
  RETURN_IF_ERROR(RequireNonEmpty("pg_schema", c.pg_schema));
  RETURN_IF_ERROR(RequireInRange("pg_pool_size", c.pg_pool_size, 1, 1000));
  RETURN_IF_ERROR(RequireNonEmpty("kafka_brokers", c.kafka_brokers));
  RETURN_IF_ERROR(RequireNonEmpty("consumer_group", c.consumer_group));
  RETURN_IF_ERROR(RequireNonEmpty("carrier_topic", c.carrier_topic));
  RETURN_IF_ERROR(RequireNonEmpty("calls_topic", c.calls_topic));
  RETURN_IF_ERROR(RequireHostPort("carrier_address", c.carrier_address));
  RETURN_IF_ERROR(RequirePositive("fetch_timeout", c.fetch_timeout));
  if (c.blob_store == "fs") {
    RETURN_IF_ERROR(RequireNonEmpty("blob_root", c.blob_root));
  } else if (c.blob_store == "s3") {
    RETURN_IF_ERROR(RequireNonEmpty("s3_endpoint", c.s3_endpoint));
    RETURN_IF_ERROR(RequireNonEmpty("s3_bucket", c.s3_bucket));
    RETURN_IF_ERROR(RequireNonEmpty("s3_region", c.s3_region));
    RETURN_IF_ERROR(RequireNonEmpty("s3_access_key", c.s3_access_key));
    RETURN_IF_ERROR(RequireNonEmpty("s3_secret_key", c.s3_secret_key));
  } else {
    return ConfigError("blob_store", "must be fs or s3");
  }
  RETURN_IF_ERROR(RequireNonEmpty("master_keys", c.master_keys));
  RETURN_IF_ERROR(RequireNonEmpty("active_master_key_id", c.active_master_key_id));
  ASSIGN_OR_RETURN(c.playback_signing_key,
                   RequireBase64Key("playback_signing_key",
                                    absl::GetFlag(FLAGS_playback_signing_key), 32));
  RETURN_IF_ERROR(RequirePositive("playback_url_ttl", c.playback_url_ttl));
  RETURN_IF_ERROR(RequirePositive("greeting_url_ttl", c.greeting_url_ttl));
  RETURN_IF_ERROR(RequireInRange("default_retention_days", c.default_retention_days, 1, 3650));
  RETURN_IF_ERROR(RequirePositive("soft_delete_purge_after", c.soft_delete_purge_after));
  RETURN_IF_ERROR(RequirePositive("orphan_grace", c.orphan_grace));
  RETURN_IF_ERROR(RequirePositive("sweep_interval", c.sweep_interval));
  RETURN_IF_ERROR(RequireNonNegative("drain_delay", c.drain_delay));
  RETURN_IF_ERROR(RequirePositive("shutdown_grace", c.shutdown_grace));
  ASSIGN_OR_RETURN(c.log_level, RequireLogLevel("log_level", absl::GetFlag(FLAGS_log_level)));
  return c;
}

}  // namespace switchboard::media
