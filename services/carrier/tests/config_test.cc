#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "absl/flags/reflection.h"
#include "libs/metrics/registry.h"
#include "services/carrier/config.h"
#include "services/carrier/dependencies.h"

namespace switchboard::carrier {
namespace {

std::map<std::string, std::string> Valid() {
  return {{"CARRIER_PG_DSN", "postgresql://u@127.0.0.1:5432/db"},
          {"CARRIER_KAFKA_BROKERS", "127.0.0.1:9092"},
          {"CARRIER_KEY_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}};
}

absl::StatusOr<CarrierConfig> LoadWith(const std::map<std::string, std::string>& vars) {
  absl::FlagSaver saver;
  return LoadCarrierConfig(EnvFromMap(vars));
}

bool NamesKey(const absl::Status& s, const std::string& key) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         std::string(s.message()).find(key) != std::string::npos;
}

TEST_CASE("LoadCarrierConfig reads CARRIER_ overrides and validates", "[config][carrier]") {
  SECTION("defaults") {
    auto c = LoadWith(Valid());
    REQUIRE(c.ok());
    CHECK(c->grpc_address == "0.0.0.0:50052");
    CHECK(c->admin_port == 9102);
    CHECK(c->webhook_address == "0.0.0.0:8080");
    CHECK(c->pg_schema == "carrier");
    CHECK(c->events_topic == "carrier.v1");
    CHECK(c->key_encryption_key == std::string(32, '\0'));
    CHECK(c->emulator_url.empty());
    CHECK(c->lookup_cache_ttl == absl::Seconds(5));
    CHECK(c->webhook_dedupe_retention == absl::Hours(72));
  }
  SECTION("overrides") {
    auto vars = Valid();
    vars["CARRIER_WEBHOOK_ADDRESS"] = "127.0.0.1:0";
    vars["CARRIER_PUBLIC_BASE_URL"] = "https://hooks.example.com";
    vars["CARRIER_EMULATOR_URL"] = "http://127.0.0.1:4010";
    vars["CARRIER_LOOKUP_CACHE_TTL"] = "0s";
    vars["CARRIER_WEBHOOK_DEDUPE_RETENTION"] = "6h";
    auto c = LoadWith(vars);
    REQUIRE(c.ok());
    CHECK(c->webhook_address == "127.0.0.1:0");
    CHECK(c->public_base_url == "https://hooks.example.com");
    CHECK(c->emulator_url == "http://127.0.0.1:4010");
    CHECK(c->lookup_cache_ttl == absl::ZeroDuration());
    CHECK(c->webhook_dedupe_retention == absl::Hours(6));
  }
  SECTION("bad values name the key and never echo the secret") {
    auto vars = Valid();
    vars.erase("CARRIER_PG_DSN");
    CHECK(NamesKey(LoadWith(vars).status(), "pg_dsn"));
    vars = Valid();
    vars["CARRIER_PUBLIC_BASE_URL"] = "hooks.example.com";
    CHECK(NamesKey(LoadWith(vars).status(), "public_base_url"));
    vars = Valid();
    vars["CARRIER_WEBHOOK_ADDRESS"] = "nope";
    CHECK(NamesKey(LoadWith(vars).status(), "webhook_address"));
    vars = Valid();
    vars["CARRIER_EMULATOR_URL"] = "ftp://x";
    CHECK(NamesKey(LoadWith(vars).status(), "emulator_url"));
    vars = Valid();
    vars["CARRIER_LOOKUP_CACHE_TTL"] = "-1s";
    CHECK(NamesKey(LoadWith(vars).status(), "lookup_cache_ttl"));
    for (const char* bad : {"0s", "-1h", "three days"}) {
      vars = Valid();
      vars["CARRIER_WEBHOOK_DEDUPE_RETENTION"] = bad;
      INFO(bad);
      CHECK(NamesKey(LoadWith(vars).status(), "webhook_dedupe_retention"));
    }
    vars = Valid();
    vars["CARRIER_KEY_ENCRYPTION_KEY"] = "c2hvcnQtc2VjcmV0";
    auto s = LoadWith(vars).status();
    CHECK(NamesKey(s, "key_encryption_key"));
    CHECK(std::string(s.message()).find("c2hvcnQtc2VjcmV0") == std::string::npos);
  }
}

TEST_CASE("A config built in code keeps the 72h dedupe retention; <= 0 is refused before "
          "anything starts", "[config][carrier]") {
  CHECK(CarrierConfig{}.webhook_dedupe_retention == absl::Hours(72));
  metrics::Registry registry;
  // Nothing listens on this DSN: reaching Postgres would fail with kUnavailable instead.
  auto d = Dependencies::Create(
      CarrierConfig{.pg_dsn = "postgresql://u@127.0.0.1:1/db",
                    .webhook_dedupe_retention = absl::ZeroDuration()},
      SystemClock(), registry);
  CHECK(NamesKey(d.status(), "webhook_dedupe_retention"));
}

}  // namespace
}  // namespace switchboard::carrier
