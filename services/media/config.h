// Configuration of the media service: ABSL_FLAGs (config.cc has defaults and help), each
// overridable by MEDIA_<FLAG> in the environment. Loaded and validated once in main.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/config.h"
#include "libs/common/log.h"

namespace switchboard::media {

struct MediaConfig {
  std::string grpc_address;
  std::string admin_address;
  int admin_port = 0;
  std::string playback_address;
  int playback_port = 0;
  int playback_threads = 0;
  std::string public_base_url;  // base of signed links, e.g. https://media.example.com
  std::string pg_dsn;
  std::string pg_schema;
  int pg_pool_size = 0;
  std::string kafka_brokers;
  std::string consumer_group;
  std::string carrier_topic;
  std::string calls_topic;
  std::string carrier_address;
  absl::Duration fetch_timeout;
  // Blob store: "fs" (blob_root) or "s3" (s3_*).
  std::string blob_store;
  std::string blob_root;
  std::string s3_endpoint;
  std::string s3_bucket;
  std::string s3_region;
  std::string s3_access_key;  // secret
  std::string s3_secret_key;  // secret
  // Envelope encryption: "id:base64,id:base64" and the id new data keys are wrapped with.
  std::string master_keys;  // secret
  std::string active_master_key_id;
  std::string playback_signing_key;  // raw 32 bytes (decoded); secret
  absl::Duration playback_url_ttl;
  absl::Duration greeting_url_ttl;
  int default_retention_days = 0;
  absl::Duration soft_delete_purge_after;
  absl::Duration orphan_grace;
  absl::Duration sweep_interval;
  absl::Duration drain_delay;
  absl::Duration shutdown_grace;
  log::Level log_level = log::Level::kInfo;
};

// Applies MEDIA_* environment overrides from `env`, then reads and validates the flags.
// kInvalidArgument naming the key ("config master_keys: ...") on a bad value; secrets are never
// echoed.
absl::StatusOr<MediaConfig> LoadMediaConfig(const EnvLookup& env = ProcessEnv());

}  // namespace switchboard::media
