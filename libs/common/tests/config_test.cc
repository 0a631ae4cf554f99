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

}  // namespace
}  // namespace switchboard
