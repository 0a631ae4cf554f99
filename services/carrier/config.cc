#include "services/carrier/config.h"

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

ABSL_FLAG(std::string, grpc_address, "0.0.0.0:50052", "host:port the gRPC server listens on");
ABSL_FLAG(std::string, admin_address, "0.0.0.0",
          "address of the admin HTTP server (/metrics, /healthz, /readyz)");
ABSL_FLAG(int, admin_port, 9102, "port of the admin HTTP server (0 = pick a free port)");
ABSL_FLAG(std::string, webhook_address, "0.0.0.0:8080",
          "host:port of the carrier webhook listener (port 0 = pick a free port)");
ABSL_FLAG(std::string, public_base_url, "http://127.0.0.1:8080",
          "base URL the carriers use to reach the webhook listener (Twilio signs it)");
ABSL_FLAG(std::string, pg_dsn, "", "PostgreSQL connection string; required");
ABSL_FLAG(std::string, pg_schema, "carrier", "PostgreSQL schema owned by this service");
ABSL_FLAG(int, pg_pool_size, 8, "maximum PostgreSQL connections");
ABSL_FLAG(std::string, kafka_brokers, "", "Kafka bootstrap servers (host:port,...); required");
ABSL_FLAG(std::string, events_topic, "carrier.v1", "Kafka topic carrier events go to");
ABSL_FLAG(std::string, key_encryption_key, "",
          "base64 of 32 random bytes; AES-256-GCM key sealing carrier credentials at rest; "
          "required, secret (set via CARRIER_KEY_ENCRYPTION_KEY)");
ABSL_FLAG(std::string, emulator_url, "",
          "base URL of tools/carrier-emulator; EMULATOR accounts use it (\"\" = refused)");
ABSL_FLAG(std::string, twilio_api_base_url, "https://api.twilio.com", "Twilio REST base URL");
ABSL_FLAG(std::string, telnyx_base_url, "https://api.telnyx.com", "Telnyx API base URL");
ABSL_FLAG(absl::Duration, http_timeout, absl::Seconds(10), "per carrier HTTP request");
ABSL_FLAG(absl::Duration, lookup_cache_ttl, absl::Seconds(5),
          "how long webhook lookups (account/number -> company, static instructions) are served "
          "from memory; another replica's changes are seen after at most this long (0 = off)");
ABSL_FLAG(absl::Duration, webhook_dedupe_retention, absl::Hours(72),
          "how long a webhook's dedupe key is kept (webhook_deliveries); older keys are deleted "
          "every 10 minutes, and a redelivery arriving later than this would be processed again, "
          "so keep it well above the carriers' retry window (must be > 0)");
ABSL_FLAG(std::string, routing_address, "",
          "host:port of the routing service; every call event asks its HandleCallEvent for the "
          "call's instructions (\"\" = the per-number static instructions)");
ABSL_FLAG(absl::Duration, routing_deadline, absl::Milliseconds(1500),
          "how long a webhook waits for routing before answering with the fallback voicemail");
ABSL_FLAG(int, webhook_threads, 16,
          "io threads of the webhook listener; each call event waits on routing's answer on one, "
          "so this bounds the webhooks answered at once");
ABSL_FLAG(int, command_workers, 2, "threads sending Telnyx Call Control commands");
ABSL_FLAG(absl::Duration, drain_delay, absl::Seconds(5),
          "time between NOT_SERVING and server shutdown on SIGTERM");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight RPCs may finish during shutdown");
ABSL_FLAG(std::string, log_level, "info", "debug | info | warn | error");

namespace switchboard::carrier {
namespace {

absl::Status RequireHttpUrl(absl::string_view key, absl::string_view url, bool allow_empty) {
  if (url.empty() && allow_empty) return absl::OkStatus();
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return ConfigError(key, "must start with http:// or https://");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CarrierConfig> LoadCarrierConfig(const EnvLookup& env) {
  RETURN_IF_ERROR(ApplyEnvOverrides("carrier", env));
  CarrierConfig c;
  c.grpc_address = absl::GetFlag(FLAGS_grpc_address);
  c.admin_address = absl::GetFlag(FLAGS_admin_address);
  c.admin_port = absl::GetFlag(FLAGS_admin_port);
  c.webhook_address = absl::GetFlag(FLAGS_webhook_address);
  c.public_base_url = absl::GetFlag(FLAGS_public_base_url);
  c.pg_dsn = absl::GetFlag(FLAGS_pg_dsn);
  c.pg_schema = absl::GetFlag(FLAGS_pg_schema);
  c.pg_pool_size = absl::GetFlag(FLAGS_pg_pool_size);
  c.kafka_brokers = absl::GetFlag(FLAGS_kafka_brokers);
  c.events_topic = absl::GetFlag(FLAGS_events_topic);
  c.emulator_url = absl::GetFlag(FLAGS_emulator_url);
  c.twilio_api_base_url = absl::GetFlag(FLAGS_twilio_api_base_url);
  c.telnyx_base_url = absl::GetFlag(FLAGS_telnyx_base_url);
  c.http_timeout = absl::GetFlag(FLAGS_http_timeout);
  c.lookup_cache_ttl = absl::GetFlag(FLAGS_lookup_cache_ttl);
  c.webhook_dedupe_retention = absl::GetFlag(FLAGS_webhook_dedupe_retention);
  c.routing_address = absl::GetFlag(FLAGS_routing_address);
  c.routing_deadline = absl::GetFlag(FLAGS_routing_deadline);
  c.webhook_threads = absl::GetFlag(FLAGS_webhook_threads);
  c.command_workers = absl::GetFlag(FLAGS_command_workers);
  c.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  c.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);

  RETURN_IF_ERROR(RequireHostPort("grpc_address", c.grpc_address));
  RETURN_IF_ERROR(RequireNonEmpty("admin_address", c.admin_address));
  RETURN_IF_ERROR(RequireInRange("admin_port", c.admin_port, 0, 65535));
  RETURN_IF_ERROR(RequireHostPort("webhook_address", c.webhook_address));
  RETURN_IF_ERROR(RequireHttpUrl("public_base_url", c.public_base_url, false));
  RETURN_IF_ERROR(RequireNonEmpty("pg_dsn", c.pg_dsn));
  RETURN_IF_ERROR(RequireNonEmpty("pg_schema", c.pg_schema));
  RETURN_IF_ERROR(RequireInRange("pg_pool_size", c.pg_pool_size, 1, 1000));
  RETURN_IF_ERROR(RequireNonEmpty("kafka_brokers", c.kafka_brokers));
  RETURN_IF_ERROR(RequireNonEmpty("events_topic", c.events_topic));
  RETURN_IF_ERROR(RequireHttpUrl("emulator_url", c.emulator_url, true));
  RETURN_IF_ERROR(RequireHttpUrl("twilio_api_base_url", c.twilio_api_base_url, false));
  RETURN_IF_ERROR(RequireHttpUrl("telnyx_base_url", c.telnyx_base_url, false));
  RETURN_IF_ERROR(RequirePositive("http_timeout", c.http_timeout));
  RETURN_IF_ERROR(RequireNonNegative("lookup_cache_ttl", c.lookup_cache_ttl));
  RETURN_IF_ERROR(RequirePositive("webhook_dedupe_retention", c.webhook_dedupe_retention));
  if (!c.routing_address.empty()) {
    RETURN_IF_ERROR(RequireHostPort("routing_address", c.routing_address));
  }
  RETURN_IF_ERROR(RequirePositive("routing_deadline", c.routing_deadline));
  RETURN_IF_ERROR(RequireInRange("webhook_threads", c.webhook_threads, 1, 64));
  RETURN_IF_ERROR(RequireInRange("command_workers", c.command_workers, 1, 64));
  RETURN_IF_ERROR(RequireNonNegative("drain_delay", c.drain_delay));
  RETURN_IF_ERROR(RequirePositive("shutdown_grace", c.shutdown_grace));

  ASSIGN_OR_RETURN(c.key_encryption_key,
                   RequireBase64Key("key_encryption_key",
                                    absl::GetFlag(FLAGS_key_encryption_key), 32));
  ASSIGN_OR_RETURN(c.log_level, RequireLogLevel("log_level", absl::GetFlag(FLAGS_log_level)));
  return c;
}

}  // namespace switchboard::carrier
