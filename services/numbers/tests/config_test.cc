#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "absl/flags/reflection.h"
#include "services/numbers/config.h"

namespace switchboard::numbers {
namespace {

std::map<std::string, std::string> Valid() {
  return {{"NUMBERS_PG_DSN", "postgresql://u@127.0.0.1:5432/db"},
          {"NUMBERS_KAFKA_BROKERS", "127.0.0.1:9092"},
          // base64 of 32 zero bytes
          {"NUMBERS_KEY_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
}

absl::StatusOr<NumbersConfig> LoadWith(const std::map<std::string, std::string>& vars) {
  absl::FlagSaver saver;  // cases do not leak into each other
  return LoadNumbersConfig(EnvFromMap(vars));
}

bool NamesKey(const absl::Status& s, const std::string& key) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         std::string(s.message()).find(key) != std::string::npos;
}

TEST_CASE("LoadNumbersConfig reads env overrides and validates every key", "[config][numbers]") {
  SECTION("valid config with defaults") {
    auto c = LoadWith(Valid());
    REQUIRE(c.ok());
    CHECK(c->grpc_address == "0.0.0.0:50053");
    CHECK(c->admin_port == 9103);
    CHECK(c->pg_schema == "numbers");
    CHECK(c->events_topic == "numbers.v1");
    CHECK(c->identity_topic == "identity.v1");
    CHECK(c->carrier_topic == "carrier.v1");
    CHECK(c->carrier_address == "127.0.0.1:50052");
    CHECK(c->identity_address == "127.0.0.1:50051");
    CHECK(c->redis_key_prefix == "numbers:");
    CHECK(c->key_encryption_key == std::string(32, '\0'));
  }
  SECTION("overrides apply") {
    auto env = Valid();
    env["NUMBERS_CARRIER_ADDRESS"] = "carrier:50052";
    env["NUMBERS_RESOLVE_CACHE_TTL"] = "30s";
    auto c = LoadWith(env);
    REQUIRE(c.ok());
    CHECK(c->carrier_address == "carrier:50052");
    CHECK(c->resolve_cache_ttl == absl::Seconds(30));
  }
  SECTION("missing and bad keys are named, secrets are not echoed") {
    auto env = Valid();
    env.erase("NUMBERS_PG_DSN");
    CHECK(NamesKey(LoadWith(env).status(), "pg_dsn"));
    env = Valid();
    env.erase("NUMBERS_KEY_ENCRYPTION_KEY");
    CHECK(NamesKey(LoadWith(env).status(), "key_encryption_key"));
    env = Valid();
    env["NUMBERS_KEY_ENCRYPTION_KEY"] = "c2hvcnQ=";
    auto s = LoadWith(env).status();
    CHECK(NamesKey(s, "key_encryption_key"));
    CHECK(std::string(s.message()).find("c2hvcnQ") == std::string::npos);
    for (auto [key, value, name] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"NUMBERS_GRPC_ADDRESS", "nonsense", "grpc_address"},
             {"NUMBERS_CARRIER_ADDRESS", "", "carrier_address"},
             {"NUMBERS_IDENTITY_ADDRESS", "x", "identity_address"},
             {"NUMBERS_RPC_TIMEOUT", "0s", "rpc_timeout"},
             {"NUMBERS_SEARCH_CACHE_TTL", "-1s", "search_cache_ttl"},
             {"NUMBERS_REDIS_URL", "http://x", "redis_url"},
             {"NUMBERS_PG_POOL_SIZE", "1", "pg_pool_size"},
             {"NUMBERS_LOG_LEVEL", "loud", "log_level"}}) {
      env = Valid();
      env[key] = value;
      INFO(key);
      CHECK(NamesKey(LoadWith(env).status(), name));
    }
  }
}

}  // namespace
}  // namespace switchboard::numbers
