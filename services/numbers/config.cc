#include "services/numbers/config.h"

#include "absl/flags/flag.h"
#include "libs/common/status_macros.h"

ABSL_FLAG(std::string, grpc_address, "0.0.0.0:50053", "host:port the gRPC server listens on");
ABSL_FLAG(std::string, admin_address, "0.0.0.0",
          "address of the admin HTTP server (/metrics, /healthz, /readyz)");
ABSL_FLAG(int, admin_port, 9103, "port of the admin HTTP server (0 = pick a free port)");
ABSL_FLAG(std::string, pg_dsn, "", "PostgreSQL connection string; required");
ABSL_FLAG(std::string, pg_schema, "numbers", "PostgreSQL schema owned by this service");
ABSL_FLAG(int, pg_pool_size, 8, "maximum PostgreSQL connections");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379",
          "Redis URL of the ResolveNumber and search caches");
ABSL_FLAG(std::string, redis_key_prefix, "numbers:", "prefix of every Redis key of this service");
ABSL_FLAG(std::string, kafka_brokers, "", "Kafka bootstrap servers (host:port,...); required");
ABSL_FLAG(std::string, events_topic, "numbers.v1", "Kafka topic numbers events go to");
ABSL_FLAG(std::string, identity_topic, "identity.v1", "identity events consumed (deactivations)");
ABSL_FLAG(std::string, carrier_topic, "carrier.v1",
          "carrier events consumed (number order and port status)");
ABSL_FLAG(std::string, consumer_group, "numbers", "Kafka consumer group of this service");
ABSL_FLAG(std::string, carrier_address, "127.0.0.1:50052", "host:port of the carrier service");
ABSL_FLAG(std::string, identity_address, "127.0.0.1:50051", "host:port of the identity service");
ABSL_FLAG(absl::Duration, rpc_timeout, absl::Seconds(20),
          "deadline of calls to carrier and identity");
ABSL_FLAG(std::string, key_encryption_key, "",
          "base64 of 32 random bytes; AES-256-GCM key sealing port-in account numbers and PINs; "
          "required, secret (set via NUMBERS_KEY_ENCRYPTION_KEY)");
ABSL_FLAG(absl::Duration, resolve_cache_ttl, absl::Minutes(10),
          "lifetime of cached ResolveNumber answers (every change invalidates them at once)");
ABSL_FLAG(absl::Duration, search_cache_ttl, absl::Seconds(60),
          "lifetime of cached search results per query");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(5),
          "time between NOT_SERVING and server shutdown on SIGTERM");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight RPCs may finish during shutdown");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warn | error");

namespace switchboard::numbers {

absl::StatusOr<NumbersConfig> LoadNumbersConfig(const EnvLookup& env) {
  RETURN_IF_ERROR(ApplyEnvOverrides("numbers", env));
  NumbersConfig c;
  c.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  c.admin_address = absl::GetFlag(FLAGS_admin_address);
  c.admin_port = absl::GetFlag(FLAGS_admin_port);
  c.pg_dsn = absl::GetFlag(FLAGS_pg_dsn);
  c.pg_schema = absl::GetFlag(FLAGS_pg_schema);
  c.pg_pool_size = absl::GetFlag(FLAGS_pg_pool_size);
  c.redis_url = absl::GetFlag(FLAGS_redis_url);
  c.redis_key_prefix = absl::GetFlag(FLAGS_redis_key_prefix);
  c.kafka_brokers = absl::GetFlag(FLAGS_kafka_brokers);
  c.events_topic = absl::GetFlag(FLAGS_events_topic);
  c.identity_topic = absl::GetFlag(FLAGS_identity_topic);
  c.carrier_topic = absl::GetFlag(FLAGS_carrier_topic);
  c.consumer_group = absl::GetFlag(FLAGS_consumer_group);
  c.carrier_address = absl::GetFlag(FLAGS_carrier_address);
  c.identity_address = absl::GetFlag(FLAGS_identity_address);
  c.rpc_timeout = absl::GetFlag(FLAGS_rpc_timeout);
  c.resolve_cache_ttl = absl::GetFlag(FLAGS_resolve_cache_ttl);
  c.search_cache_ttl = absl::GetFlag(FLAGS_search_cache_ttl);
  c.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  c.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);

  RETURN_IF_ERROR(RequireHostPort("grpc_address", c.grpc_address));
  RETURN_IF_ERROR(RequireNonEmpty("admin_address", c.admin_address));
  RETURN_IF_ERROR(RequireInRange("admin_port", c.admin_port, 0, 65535));
  RETURN_IF_ERROR(RequireNonEmpty("pg_dsn", c.pg_dsn));
  RETURN_IF_ERROR(RequireNonEmpty("pg_schema", c.pg_schema));
  RETURN_IF_ERROR(RequireInRange("pg_pool_size", c.pg_pool_size, 2, 1000));
  if (c.redis_url.rfind("redis://", 0) != 0) {
    return ConfigError("redis_url", "must start with redis://");
  }
  RETURN_IF_ERROR(RequireNonEmpty("kafka_brokers", c.kafka_brokers));
  RETURN_IF_ERROR(RequireNonEmpty("events_topic", c.events_topic));
  RETURN_IF_ERROR(RequireNonEmpty("identity_topic", c.identity_topic));
  RETURN_IF_ERROR(RequireNonEmpty("carrier_topic", c.carrier_topic));
  RETURN_IF_ERROR(RequireNonEmpty("consumer_group", c.consumer_group));
  RETURN_IF_ERROR(RequireHostPort("carrier_address", c.carrier_address));
  RETURN_IF_ERROR(RequireHostPort("identity_address", c.identity_address));
  RETURN_IF_ERROR(RequirePositive("rpc_timeout", c.rpc_timeout));
  RETURN_IF_ERROR(RequirePositive("resolve_cache_ttl", c.resolve_cache_ttl));
  RETURN_IF_ERROR(RequirePositive("search_cache_ttl", c.search_cache_ttl));
  RETURN_IF_ERROR(RequireNonNegative("drain_delay", c.drain_delay));
  RETURN_IF_ERROR(RequirePositive("shutdown_grace", c.shutdown_grace));
  ASSIGN_OR_RETURN(c.key_encryption_key,
                   RequireBase64Key("key_encryption_key",
                                    absl::GetFlag(FLAGS_key_encryption_key), 32));
  ASSIGN_OR_RETURN(c.log_level, RequireLogLevel("log_level", absl::GetFlag(FLAGS_log_level)));
  return c;
}

}  // namespace switchboard::numbers
