#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "absl/flags/reflection.h"
#include "services/identity/config.h"

namespace switchboard::identity {
namespace {

std::map<std::string, std::string> Valid() {
  return {{"IDENTITY_PG_DSN", "postgresql://u@127.0.0.1:5432/db"},
          {"IDENTITY_KAFKA_BROKERS", "127.0.0.1:9092"},
          // base64 of 32 zero bytes
          {"IDENTITY_KEY_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
}

// Loads with `vars` and restores every flag afterwards, so cases do not leak into each other.
absl::StatusOr<IdentityConfig> LoadWith(const std::map<std::string, std::string>& vars) {
  absl::FlagSaver saver;
  return LoadIdentityConfig(EnvFromMap(vars));
}

bool NamesKey(const absl::Status& s, const std::string& key) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         std::string(s.message()).find(key) != std::string::npos;
}

TEST_CASE("LoadIdentityConfig reads env overrides and validates every key", "[config][identity]") {
  SECTION("valid config with defaults") {
    auto c = LoadWith(Valid());
    REQUIRE(c.ok());
    CHECK(c->grpc_address == "0.0.0.0:50051");
    CHECK(c->admin_port == 9101);
    CHECK(c->pg_schema == "identity");
    CHECK(c->events_topic == "identity.v1");
    CHECK(c->access_token_ttl == absl::Minutes(15));
    CHECK(c->refresh_token_ttl == absl::Hours(24 * 30));
    CHECK(c->invitation_ttl == absl::Hours(24 * 7));
    CHECK(c->key_encryption_key == std::string(32, '\0'));
  }
  SECTION("missing required keys are named") {
    auto env = Valid();
    env.erase("IDENTITY_PG_DSN");
    CHECK(NamesKey(LoadWith(env).status(), "pg_dsn"));
    env = Valid();
    env.erase("IDENTITY_KAFKA_BROKERS");
    CHECK(NamesKey(LoadWith(env).status(), "kafka_brokers"));
  }
  SECTION("bad values are named, secrets are not echoed") {
    auto env = Valid();
    env["IDENTITY_KEY_ENCRYPTION_KEY"] = "c2hvcnQ=";  // "short"
    auto s = LoadWith(env).status();
    CHECK(NamesKey(s, "key_encryption_key"));
    CHECK(std::string(s.message()).find("c2hvcnQ") == std::string::npos);
    env = Valid();
    env["IDENTITY_GRPC_ADDRESS"] = "nonsense";
    CHECK(NamesKey(LoadWith(env).status(), "grpc_address"));
    env = Valid();
    env["IDENTITY_ACCESS_TOKEN_TTL"] = "-1s";
    CHECK(NamesKey(LoadWith(env).status(), "access_token_ttl"));
    env = Valid();
    env["IDENTITY_ACCESS_TOKEN_TTL"] = "soon";
    CHECK(NamesKey(LoadWith(env).status(), "access_token_ttl"));
    env = Valid();
    env["IDENTITY_LOG_LEVEL"] = "loud";
    CHECK(NamesKey(LoadWith(env).status(), "log_level"));
    env = Valid();
    env["IDENTITY_REDIS_URL"] = "http://x";
    CHECK(NamesKey(LoadWith(env).status(), "redis_url"));
    env = Valid();
    env["IDENTITY_ADMIN_PORT"] = "70000";
    CHECK(NamesKey(LoadWith(env).status(), "admin_port"));
  }
}

}  // namespace
}  // namespace switchboard::identity
