// Configuration of the numbers service: ABSL_FLAGs (config.cc has defaults and help), each
// overridable by NUMBERS_<FLAG> in the environment. Loaded and validated once in main.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/config.h"
#include "libs/common/log.h"

namespace switchboard::numbers {

struct NumbersConfig {
  std::string grpc_address;
  std::string admin_address;
  int admin_port = 0;
  std::string pg_dsn;
  std::string pg_schema;
  int pg_pool_size = 0;
  std::string redis_url;
  std::string redis_key_prefix;
  std::string kafka_brokers;
  std::string events_topic;    // numbers.v1 (produced)
  std::string identity_topic;  // identity.v1 (consumed)
  std::string carrier_topic;   // carrier.v1 (consumed)
  std::string consumer_group;
  std::string carrier_address;
  std::string identity_address;
  absl::Duration rpc_timeout;
  std::string key_encryption_key;  // raw 32 bytes; secret, never logged
  absl::Duration resolve_cache_ttl;
  absl::Duration search_cache_ttl;
  absl::Duration drain_delay;
  absl::Duration shutdown_grace;
  log::Level log_level = log::Level::kInfo;
};

// Applies NUMBERS_* environment overrides, then reads and validates the flags.
// kInvalidArgument naming the key ("config pg_dsn: must not be empty") on a bad value.
absl::StatusOr<NumbersConfig> LoadNumbersConfig(const EnvLookup& env = ProcessEnv());

}  // namespace switchboard::numbers
