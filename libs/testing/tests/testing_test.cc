#include <cstdlib>
#include <set>

#include <catch2/catch.hpp>

#include "libs/testing/testing.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"

namespace switchboard::testing {
namespace {

TEST_CASE("RequireEnv explains how to start the test infrastructure", "[testing]") {
  unsetenv("SB_TESTING_UNSET_VAR");
  auto v = RequireEnv("SB_TESTING_UNSET_VAR");
  CHECK(v.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(v.status().message() ==
        "SB_TESTING_UNSET_VAR not set: run ./tools/dev test (or ./tools/dev testenv up and "
        "source .run/test/endpoints.env)");
  setenv("SB_TESTING_SET_VAR", "x", 1);
  CHECK(*RequireEnv("SB_TESTING_SET_VAR") == "x");
  CHECK(Env("SB_TESTING_SET_VAR") == std::optional<std::string>("x"));
  setenv("SB_TESTING_SET_VAR", "", 1);
  CHECK_FALSE(Env("SB_TESTING_SET_VAR").has_value());
}

TEST_CASE("RandomSuffix is short, lowercase and unique", "[testing]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string s = RandomSuffix();
    CHECK(s.size() == 12);
    CHECK(s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
    seen.insert(s);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("ParseRedisUrl accepts redis://host:port[/db] only", "[testing]") {
  std::string host;
  int port = 0, db = -1;
  REQUIRE(ParseRedisUrl("redis://127.0.0.1:6380/3", &host, &port, &db).ok());
  CHECK(host == "127.0.0.1");
  CHECK(port == 6380);
  CHECK(db == 3);
  REQUIRE(ParseRedisUrl("redis://localhost:6379", &host, &port, &db).ok());
  CHECK(db == 0);
  auto bad = GENERATE(as<std::string>{}, "http://x:1", "redis://x", "redis://x:0",
                      "redis://x:1/abc", "redis://:1");
  CHECK(ParseRedisUrl(bad, &host, &port, &db).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("GrpcTestServer listens on a free loopback port", "[testing]") {
  // Any generated service will do: its unimplemented methods answer UNIMPLEMENTED.
  switchboard::identity::v1::Identity::Service service_a, service_b;
  auto a = GrpcTestServer::CreateOrFail({&service_a});
  auto b = GrpcTestServer::CreateOrFail({&service_b});
  CHECK(a->port() > 0);
  CHECK(a->port() != b->port());
  CHECK(a->address() == "127.0.0.1:" + std::to_string(a->port()));
  auto stub = switchboard::identity::v1::Identity::NewStub(a->channel());
  grpc::ClientContext context;
  switchboard::identity::v1::GetCompanyRequest request;
  switchboard::identity::v1::Company response;
  CHECK(stub->GetCompany(&context, request, &response).error_code() ==
        grpc::StatusCode::UNIMPLEMENTED);
}

}  // namespace
}  // namespace switchboard::testing
