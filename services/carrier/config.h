// Configuration of the carrier service: ABSL_FLAGs (config.cc has defaults and help), each
// overridable by CARRIER_<FLAG> in the environment. Loaded and validated once in main.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/config.h"
#include "libs/common/log.h"

namespace switchboard::carrier {

struct CarrierConfig {
  std::string grpc_address;
  std::string admin_address;
  int admin_port = 0;
  std::string webhook_address;  // host:port of the webhook listener (port 0 = any)
  std::string public_base_url;  // how the carriers reach the listener (what Twilio signs)
  std::string pg_dsn;
  std::string pg_schema;
  int pg_pool_size = 0;
  std::string kafka_brokers;
  std::string events_topic;
  std::string key_encryption_key;  // raw 32 bytes; secret, never logged
  std::string emulator_url;        // "" = EMULATOR accounts refused
  std::string twilio_api_base_url;
  std::string telnyx_base_url;
  absl::Duration http_timeout;
  absl::Duration lookup_cache_ttl;  // PgStoreOptions.lookup_cache_ttl
  // webhook_deliveries older than this are pruned (the flag's default here too, so a config
  // built in code without it keeps 72h rather than pruning every key; must be > 0).
  absl::Duration webhook_dedupe_retention = absl::Hours(72);
  std::string routing_address;  // "" = static instructions
  absl::Duration routing_deadline;
  int webhook_threads = 0;
  int command_workers = 0;
  absl::Duration drain_delay;
  absl::Duration shutdown_grace;
  log::Level log_level = log::Level::kInfo;
};

// Applies CARRIER_* environment overrides, then reads and validates the flags.
// kInvalidArgument naming the key ("config pg_dsn: must not be empty") on a bad value.
absl::StatusOr<CarrierConfig> LoadCarrierConfig(const EnvLookup& env = ProcessEnv());

}  // namespace switchboard::carrier
