// Configuration of the identity service: ABSL_FLAGs (see config.cc for defaults and help),
// each overridable by IDENTITY_<FLAG> in the environment. Loaded and validated once in main.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/config.h"
#include "libs/common/log.h"

namespace switchboard::identity {

struct IdentityConfig {
  std::string grpc_address;
  std::string admin_address;
  int admin_port = 0;
  std::string pg_dsn;
  std::string pg_schema;
  int pg_pool_size = 0;
  std::string redis_url;
  std::string kafka_brokers;
  std::string events_topic;
  // Raw 32 bytes (decoded from base64). Secret: never log.
  std::string key_encryption_key;
  std::string issuer;
  absl::Duration access_token_ttl;
  absl::Duration refresh_token_ttl;
  absl::Duration invitation_ttl;
  absl::Duration drain_delay;
  absl::Duration shutdown_grace;
  log::Level log_level = log::Level::kInfo;
};

// Applies IDENTITY_* environment overrides from `env` to the flags, then reads and validates
// them. kInvalidArgument naming the key ("config pg_dsn: must not be empty") on a bad value.
absl::StatusOr<IdentityConfig> LoadIdentityConfig(const EnvLookup& env = ProcessEnv());

}  // namespace switchboard::identity
