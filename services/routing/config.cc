#include "services/routing/config.h"

#include "absl/flags/flag.h"
#include "libs/common/status_macros.h"

ABSL_FLAG(std::string, grpc_address, "0.0.0.0:50054", "host:port the gRPC server listens on");
ABSL_FLAG(std::string, admin_address, "0.0.0.0",
          "address of the admin HTTP server (/metrics, /healthz, /readyz)");
ABSL_FLAG(int, admin_port, 9104, "port of the admin HTTP server (0 = pick a free port)");
ABSL_FLAG(std::string, pg_dsn, "", "PostgreSQL connection string; required");
ABSL_FLAG(std::string, pg_schema, "routing", "PostgreSQL schema owned by this service");
ABSL_FLAG(int, pg_pool_size, 16, "maximum PostgreSQL connections");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379",
          "Redis URL of live call state and round-robin counters");
ABSL_FLAG(std::string, redis_key_prefix, "routing:", "prefix of every Redis key of this service");
ABSL_FLAG(int, redis_pool_size, 8, "Redis connections");
ABSL_FLAG(std::string, kafka_brokers, "", "Kafka bootstrap servers (host:port,...); required");
ABSL_FLAG(std::string, events_topic, "calls.v1", "Kafka topic call events go to");
ABSL_FLAG(std::string, identity_topic, "identity.v1",
          "identity events that invalidate a company's cached directory and config (each process "
          "reads them all, in its own consumer group, from the latest offset)");
ABSL_FLAG(std::string, numbers_topic, "numbers.v1",
          "numbers events that invalidate the cached ResolveNumber answers of their number (read "
          "by the same consumer as identity_topic)");
ABSL_FLAG(std::string, identity_address, "127.0.0.1:50051",
          "host:port of the identity service (users, devices, presence, time zone)");
ABSL_FLAG(std::string, numbers_address, "127.0.0.1:50053",
          "host:port of the numbers service (ResolveNumber)");
ABSL_FLAG(std::string, media_address, "",
          "host:port of the media service: a flow's audio greetings (audio_id) are played from "
          "its URLs; empty = no media service, their text is spoken instead");
ABSL_FLAG(std::string, carrier_address, "127.0.0.1:50052",
          "host:port of the carrier service (click-to-call and live call control)");
ABSL_FLAG(absl::Duration, carrier_timeout, absl::Seconds(10),
          "deadline of each call to the carrier (placing a call waits for the carrier's API)");
ABSL_FLAG(bool, async_commit, false,
          "commit call transitions with synchronous_commit=off (faster; a Postgres crash may lose "
          "the last few hundred ms of call log changes and events)");
ABSL_FLAG(absl::Duration, peer_timeout, absl::Milliseconds(300),
          "deadline of each call to identity / numbers (a cold call may make two in a row within "
          "the carrier's ~1.5 s budget)");
ABSL_FLAG(absl::Duration, call_state_ttl, absl::Hours(2), "lifetime of a call's state in Redis");
ABSL_FLAG(absl::Duration, event_key_retention, absl::Hours(24),
          "how long applied call-event keys are kept to refuse redeliveries (pruned every 10 "
          "minutes; must exceed any call's length)");
ABSL_FLAG(absl::Duration, config_cache_ttl, absl::Seconds(5),
          "how long a company's groups/boxes/schedules/rotations and flows are reused");
ABSL_FLAG(absl::Duration, directory_cache_ttl, absl::Seconds(5),
          "how long a company's users (devices, presence) are reused");
ABSL_FLAG(absl::Duration, number_cache_ttl, absl::Seconds(30),
          "how long a number's ResolveNumber answer is reused for new calls (a NOT_FOUND answer "
          "at most 2 s); numbers_topic events drop it sooner; 0 = ask numbers for every call");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(5),
          "time between NOT_SERVING and server shutdown on SIGTERM (endpoint removal)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight RPCs may finish during shutdown");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warn | error");

namespace switchboard::routing {

absl::StatusOr<RoutingConfig> LoadRoutingConfig(const EnvLookup& env) {
  RETURN_IF_ERROR(ApplyEnvOverrides("routing", env));
  RoutingConfig c;
  c.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  c.admin_address = absl::GetFlag(FLAGS_admin_address);
  c.admin_port = absl::GetFlag(FLAGS_admin_port);
  c.pg_dsn = absl::GetFlag(FLAGS_pg_dsn);
  c.pg_schema = absl::GetFlag(FLAGS_pg_schema);
  c.pg_pool_size = absl::GetFlag(FLAGS_pg_pool_size);
  c.redis_url = absl::GetFlag(FLAGS_redis_url);
  c.redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
  c.redis_pool_size = absl::GetFlag(FLAGS_redis_pool_size);
  c.kafka_brokers = absl::GetFlag(FLAGS_kafka_brokers);
  c.events_topic = absl::GetFlag(FLAGS_events_topic);
  c.identity_topic = absl::GetFlag(FLAGS_identity_topic);
  c.numbers_topic = absl::GetFlag(FLAGS_numbers_topic);
  c.identity_address = absl::GetFlag(FLAGS_identity_address);
  c.numbers_address = absl::GetFlag(FLAGS_numbers_address);
  c.media_address = absl::GetFlag(FLAGS_media_address);
  c.carrier_address = absl::GetFlag(FLAGS_carrier_address);
  c.carrier_timeout = absl::GetFlag(FLAGS_carrier_timeout);
  c.async_commit = absl::GetFlag(FLAGS_async_commit);
  c.peer_timeout = absl::GetFlag(FLAGS_peer_timeout);
  c.call_state_ttl = absl::GetFlag(FLAGS_call_state_ttl);
  c.event_key_retention = absl::GetFlag(FLAGS_event_key_retention);
  c.config_cache_ttl = absl::GetFlag(FLAGS_config_cache_ttl);
  c.directory_cache_ttl = absl::GetFlag(FLAGS_directory_cache_ttl);
  c.number_cache_ttl = absl::GetFlag(FLAGS_number_cache_ttl);
  c.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  c.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);

  RETURN_IF_ERROR(RequireHostPort("grpc_address", c.grpc_address));
  RETURN_IF_ERROR(RequireNonEmpty("admin_address", c.admin_address));
  RETURN_IF_ERROR(RequireInRange("admin_port", c.admin_port, 0, 65535));
  RETURN_IF_ERROR(RequireNonEmpty("pg_dsn", c.pg_dsn));
  RETURN_IF_ERROR(RequireNonEmpty("pg_schema", c.pg_schema));
  RETURN_IF_ERROR(RequireInRange("pg_pool_size", c.pg_pool_size, 1, 1000));
  RETURN_IF_ERROR(RequireNonEmpty("redis_url", c.redis_url));
  if (c.redis_url.rfind("redis://", 0) != 0) {
    return ConfigError("redis_url", "must start with redis://");
  }
  RETURN_IF_ERROR(RequireInRange("redis_pool_size", c.redis_pool_size, 1, 256));
  RETURN_IF_ERROR(RequireNonEmpty("kafka_brokers", c.kafka_brokers));
  RETURN_IF_ERROR(RequireNonEmpty("events_topic", c.events_topic));
  RETURN_IF_ERROR(RequireNonEmpty("identity_topic", c.identity_topic));
  RETURN_IF_ERROR(RequireNonEmpty("numbers_topic", c.numbers_topic));
  RETURN_IF_ERROR(RequireHostPort("identity_address", c.identity_address));
  RETURN_IF_ERROR(RequireHostPort("numbers_address", c.numbers_address));
  if (!c.media_address.empty()) RETURN_IF_ERROR(RequireHostPort("media_address", c.media_address));
  RETURN_IF_ERROR(RequireHostPort("carrier_address", c.carrier_address));
  RETURN_IF_ERROR(RequirePositive("carrier_timeout", c.carrier_timeout));
  RETURN_IF_ERROR(RequirePositive("peer_timeout", c.peer_timeout));
  if (c.event_key_retention < absl::Hours(1)) {
    return absl::InvalidArgumentError("event_key_retention: must be at least 1h");
  }
  RETURN_IF_ERROR(RequirePositive("call_state_ttl", c.call_state_ttl));
  RETURN_IF_ERROR(RequireNonNegative("config_cache_ttl", c.config_cache_ttl));
  RETURN_IF_ERROR(RequireNonNegative("directory_cache_ttl", c.directory_cache_ttl));
  RETURN_IF_ERROR(RequireNonNegative("number_cache_ttl", c.number_cache_ttl));
  RETURN_IF_ERROR(RequireNonNegative("drain_delay", c.drain_delay));
  RETURN_IF_ERROR(RequirePositive("shutdown_grace", c.shutdown_grace));
  ASSIGN_OR_RETURN(c.log_level, RequireLogLevel("log_level", absl::GetFlag(FLAGS_log_level)));
  return c;
}

}  // namespace switchboard::routing
