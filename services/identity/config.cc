#include "services/identity/config.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

ABSL_FLAG(std::string, grpc_address, "0.0.0.0:50051", "host:port the gRPC server listens on");
ABSL_FLAG(std::string, admin_address, "0.0.0.0",
          "address of the admin HTTP server (/metrics, /healthz, /readyz)");
ABSL_FLAG(int, admin_port, 9101, "port of the admin HTTP server (0 = pick a free port)");
ABSL_FLAG(std::string, pg_dsn, "",
          "PostgreSQL connection string (postgresql://user:pass@host:port/db); required");
ABSL_FLAG(std::string, pg_schema, "identity", "PostgreSQL schema owned by this service");
ABSL_FLAG(int, pg_pool_size, 8, "maximum PostgreSQL connections");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379",
          "Redis URL for presence (redis://[[user]:password@]host[:port][/db])");
ABSL_FLAG(std::string, kafka_brokers, "", "Kafka bootstrap servers (host:port,...); required");
ABSL_FLAG(std::string, events_topic, "identity.v1", "Kafka topic identity events go to");
ABSL_FLAG(std::string, key_encryption_key, "",
          "base64 of 32 random bytes; AES-256-GCM key sealing the token signing keys at rest; "
          "required, secret (set via IDENTITY_KEY_ENCRYPTION_KEY)");
ABSL_FLAG(std::string, issuer, "switchboard-identity", "'iss' claim of access tokens");
ABSL_FLAG(absl::Duration, access_token_ttl, absl::Minutes(15), "lifetime of access tokens");
ABSL_FLAG(absl::Duration, refresh_token_ttl, absl::Hours(24 * 30),
          "lifetime of refresh tokens (renewed on each rotation)");
ABSL_FLAG(absl::Duration, invitation_ttl, absl::Hours(24 * 7), "lifetime of invitations");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(5),
          "time between NOT_SERVING and server shutdown on SIGTERM (endpoint removal)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight RPCs may finish during shutdown");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warn | error");

namespace switchboard::identity {
absl::StatusOr<IdentityConfig> LoadIdentityConfig(const EnvLookup& env) {
  RETURN_IF_ERROR(ApplyEnvOverrides("identity", env));
  IdentityConfig c;
  c.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  c.admin_address = absl::GetFlag(FLAGS_admin_address);
  c.admin_port = absl::GetFlag(FLAGS_admin_port);
  c.pg_dsn = absl::GetFlag(FLAGS_pg_dsn);
  c.pg_schema = absl::GetFlag(FLAGS_pg_schema);
  c.pg_pool_size = absl::GetFlag(FLAGS_pg_pool_size);
  c.redis_url = absl::GetFlag(FLAGS_redis_url);
  c.kafka_brokers = absl::GetFlag(FLAGS_kafka_brokers);
  c.events_topic = absl::GetFlag(FLAGS_events_topic);
  c.issuer = absl::GetFlag(FLAGS_issuer);
  c.access_token_ttl = absl::GetFlag(FLAGS_access_token_ttl);
  c.refresh_token_ttl = absl::GetFlag(FLAGS_refresh_token_ttl);
  c.invitation_ttl = absl::GetFlag(FLAGS_invitation_ttl);
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
  RETURN_IF_ERROR(RequireNonEmpty("kafka_brokers", c.kafka_brokers));
  RETURN_IF_ERROR(RequireNonEmpty("events_topic", c.events_topic));
  RETURN_IF_ERROR(RequireNonEmpty("issuer", c.issuer));
  RETURN_IF_ERROR(RequirePositive("access_token_ttl", c.access_token_ttl));
  RETURN_IF_ERROR(RequirePositive("refresh_token_ttl", c.refresh_token_ttl));
  RETURN_IF_ERROR(RequirePositive("invitation_ttl", c.invitation_ttl));
  if (c.refresh_token_ttl <= c.access_token_ttl) {
    return ConfigError("refresh_token_ttl", "must be longer than access_token_ttl");
  }
  RETURN_IF_ERROR(RequireNonNegative("drain_delay", c.drain_delay));
  RETURN_IF_ERROR(RequirePositive("shutdown_grace", c.shutdown_grace));

  ASSIGN_OR_RETURN(c.key_encryption_key,
                   RequireBase64Key("key_encryption_key",
                                    absl::GetFlag(FLAGS_key_encryption_key), 32));

  ASSIGN_OR_RETURN(c.log_level, RequireLogLevel("log_level", absl::GetFlag(FLAGS_log_level)));
  return c;
}

}  // namespace switchboard::identity
