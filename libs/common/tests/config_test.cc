#include <catch2/catch.hpp>

#include <map>

#include "absl/flags/flag.h"
#include "libs/common/config.h"

ABSL_FLAG(int, configtest_port, 5, "test flag");
ABSL_FLAG(std::string, configtest_dsn, "default", "test flag");

namespace switchboard {
namespace {

TEST_CASE("Environment variables override flags", "[common][config]") {
  CHECK(EnvNameForFlag("routing", "pg_dsn") == "ROUTING_PG_DSN");
  REQUIRE(ApplyEnvOverrides("ct", EnvFromMap({{"CT_CONFIGTEST_PORT", "7"}, {"CT_CONFIGTEST_DSN", "x"}})).ok());
  CHECK(absl::GetFlag(FLAGS_configtest_port) == 7);
  CHECK(absl::GetFlag(FLAGS_configtest_dsn) == "x");
}

TEST_CASE("A malformed override is InvalidArgument naming the variable", "[common][config]") {
  absl::Status s = ApplyEnvOverrides("ct", EnvFromMap({{"CT_CONFIGTEST_PORT", "seven"}}));
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message().find("CT_CONFIGTEST_PORT") != absl::string_view::npos);
}

TEST_CASE("Validation helpers name the key", "[common][config]") {
  CHECK(RequireHostPort("grpc_address", "0.0.0.0:50051").ok());
  CHECK(RequireHostPort("grpc_address", "[::]:0").ok());
  CHECK(RequireHostPort("grpc_address", "nope").message().find("grpc_address") != absl::string_view::npos);
  CHECK_FALSE(RequireHostPort("a", "h:70000").ok());
  CHECK_FALSE(RequireNonEmpty("pg_dsn", "").ok());
  CHECK_FALSE(RequirePositive("drain", absl::ZeroDuration()).ok());
  CHECK(RequireInRange("pool", 4, 1, 64).ok());
  CHECK_FALSE(RequireInRange("pool", 0, 1, 64).ok());
}

TEST_CASE("Key, log level and duration helpers name the key and never echo a secret",
          "[common][config]") {
  absl::StatusOr<std::string> key =
      RequireBase64Key("kek", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 32);
  REQUIRE(key.ok());
  CHECK(*key == std::string(32, '\0'));
  absl::Status short_key = RequireBase64Key("kek", "c2VjcmV0", 32).status();
  CHECK(short_key.code() == absl::StatusCode::kInvalidArgument);
  CHECK(short_key.message().find("kek") != absl::string_view::npos);
  CHECK(short_key.message().find("c2VjcmV0") == absl::string_view::npos);
  CHECK_FALSE(RequireBase64Key("kek", "", 32).ok());
  CHECK(*RequireLogLevel("log_level", "debug") == log::Level::kDebug);
  CHECK(RequireLogLevel("log_level", "loud").status().message().find("log_level") !=
        absl::string_view::npos);
  CHECK(RequireNonNegative("drain", absl::ZeroDuration()).ok());
  CHECK_FALSE(RequireNonNegative("drain", absl::Seconds(-1)).ok());
}

}  // namespace
}  // namespace switchboard
