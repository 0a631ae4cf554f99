// Configuration of the routing service: ABSL_FLAGs (see config.cc for defaults and help), each
// overridable by ROUTING_<FLAG> in the environment. Loaded and validated once in main.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/config.h"
#include "libs/common/log.h"

namespace switchboard::routing {

struct RoutingConfig {
  std::string grpc_address;
  std::string admin_address;
  int admin_port = 0;
  std::string pg_dsn;
  std::string pg_schema;
  int pg_pool_size = 0;
  std::string redis_url;
  std::string redis_key_prefix;
  int redis_pool_size = 0;
  std::string kafka_brokers;
  std::string events_topic;
  std::string identity_topic;
  std::string numbers_topic;
  std::string identity_address;
  std::string numbers_address;
  std::string media_address;  // "" = no media service (audio greetings fall back to text)
  std::string carrier_address;
  absl::Duration carrier_timeout;
  bool async_commit = false;
  absl::Duration peer_timeout;
  absl::Duration call_state_ttl;
  absl::Duration event_key_retention;
  absl::Duration config_cache_ttl;
  absl::Duration directory_cache_ttl;
  absl::Duration number_cache_ttl;  // 0 = no cache of ResolveNumber answers
  absl::Duration drain_delay;
  absl::Duration shutdown_grace;
  log::Level log_level = log::Level::kInfo;
};

// Applies ROUTING_* environment overrides from `env` to the flags, then reads and validates
// them. kInvalidArgument naming the key ("config pg_dsn: must not be empty") on a bad value.
absl::StatusOr<RoutingConfig> LoadRoutingConfig(const EnvLookup& env = ProcessEnv());

}  // namespace switchboard::routing
