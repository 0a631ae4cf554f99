#include "libs/metrics/admin_server.h"

#include <atomic>

#include <catch2/catch.hpp>

#include "libs/http/tests/test_client.h"

namespace switchboard::metrics {
namespace {

using http::testing::TestClient;

TEST_CASE("AdminServer serves /metrics, /healthz and /readyz", "[metrics][admin]") {
  Registry registry;
  registry.GetCounter("requests_total", "Requests.", {{"code", "200"}}).Inc(3);
  std::atomic<bool> ready{false};
  AdminOptions options;
  options.address = "127.0.0.1";
  auto admin = AdminServer::Start(options, registry, [&ready] { return ready.load(); });
  REQUIRE(admin.ok());
  TestClient client((*admin)->port());

  SECTION("metrics in the Prometheus text format") {
    client.Send(TestClient::Get("/metrics"));
    auto response = client.Read();
    CHECK(response.result_int() == 200);
    CHECK(response[boost::beast::http::field::content_type] ==
          "text/plain; version=0.0.4; charset=utf-8");
    CHECK(response.body() == registry.Exposition());
    CHECK(response.body().find("requests_total{code=\"200\"} 3\n") != std::string::npos);
  }
  SECTION("healthz is always ok") {
    client.Send(TestClient::Get("/healthz"));
    auto response = client.Read();
    CHECK(response.result_int() == 200);
    CHECK(response.body() == "ok");
  }
  SECTION("readyz flips from 503 to 200") {
    client.Send(TestClient::Get("/readyz"));
    CHECK(client.Read().result_int() == 503);
    ready = true;
    client.Send(TestClient::Get("/readyz"));
    CHECK(client.Read().result_int() == 200);
    ready = false;
    client.Send(TestClient::Get("/readyz"));
    CHECK(client.Read().result_int() == 503);
  }
  SECTION("other paths are 404") {
    client.Send(TestClient::Get("/debug"));
    CHECK(client.Read().result_int() == 404);
  }
  (*admin)->Stop();
}

TEST_CASE("AdminServer reports a busy port as kUnavailable", "[metrics][admin]") {
  Registry registry;
  AdminOptions options;
  options.address = "127.0.0.1";
  auto first = AdminServer::Start(options, registry, nullptr);
  REQUIRE(first.ok());
  options.port = (*first)->port();
  auto second = AdminServer::Start(options, registry, nullptr);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == absl::StatusCode::kUnavailable);
  CHECK(second.status().message().find("admin server") != std::string::npos);
}

}  // namespace
}  // namespace switchboard::metrics
