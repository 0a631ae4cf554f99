#include "libs/grpc/server.h"

#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>

#include "grpc/health/v1/health.grpc.pb.h"
#include "libs/common/ids.h"
#include "libs/grpc/tests/echo_service.h"
#include "libs/testing/service_process.h"

namespace switchboard::rpc {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using switchboard::rpctest::v1::Echo;
using switchboard::rpctest::v1::EchoRequest;
using switchboard::rpctest::v1::EchoResponse;

constexpr char kEchoService[] = "switchboard.rpctest.v1.Echo";

std::unique_ptr<GrpcServer> StartOrDie(grpc::Service* service,
                                       metrics::Registry* registry = nullptr) {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  options.service_name = "rpctest";
  options.metrics = registry;
  auto server = GrpcServer::Start(options, {service});
  REQUIRE(server.ok());
  REQUIRE((*server)->port() > 0);
  return std::move(*server);
}

// Returns the status, or -1 with the RPC error code stored in `rpc_code`.
int HealthOf(Health::Stub& stub, const std::string& service,
             grpc::StatusCode* rpc_code = nullptr) {
  grpc::ClientContext context;
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub.Check(&context, request, &response);
  if (rpc_code != nullptr) *rpc_code = status.error_code();
  if (!status.ok()) return -1;
  return response.status();
}

TEST_CASE("GrpcServer health goes NOT_SERVING -> SERVING -> NOT_SERVING", "[grpc][server]") {
  testing::EchoService service;
  auto server = StartOrDie(&service);
  auto health = Health::NewStub(testing::ChannelTo(server->port()));

  CHECK(HealthOf(*health, "") == HealthCheckResponse::NOT_SERVING);
  CHECK(HealthOf(*health, kEchoService) == HealthCheckResponse::NOT_SERVING);

  server->SetServing(true);
  CHECK(HealthOf(*health, "") == HealthCheckResponse::SERVING);
  CHECK(HealthOf(*health, kEchoService) == HealthCheckResponse::SERVING);
  grpc::StatusCode code;
  CHECK(HealthOf(*health, "no.such.Service", &code) == -1);
  CHECK(code == grpc::StatusCode::NOT_FOUND);

  // A Watch stream open across Shutdown sees NOT_SERVING before the server goes away.
  grpc::ClientContext watch_context;
  HealthCheckRequest watch_request;
  auto watch = health->Watch(&watch_context, watch_request);
  HealthCheckResponse update;
  REQUIRE(watch->Read(&update));
  CHECK(update.status() == HealthCheckResponse::SERVING);

  std::thread stopper([&] { server->Shutdown(absl::Seconds(5)); });
  REQUIRE(watch->Read(&update));
  CHECK(update.status() == HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();
  watch->Finish().IgnoreError();
  stopper.join();

  server->SetServing(true);            // ignored after Shutdown
  server->Shutdown(absl::Seconds(1));  // idempotent
  grpc::StatusCode after;
  CHECK(HealthOf(*health, "", &after) == -1);
  CHECK(after == grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("GrpcServer::Shutdown lets an in-flight call finish within the grace period",
          "[grpc][server]") {
  testing::EchoService service;
  auto server = StartOrDie(&service);
  server->SetServing(true);
  auto stub = Echo::NewStub(testing::ChannelTo(server->port()));

  grpc::Status call_status;
  EchoResponse response;
  std::thread caller([&] {
    grpc::ClientContext context;
    EchoRequest request;
    request.set_text("in flight");
    request.set_block(true);
    call_status = stub->Echo(&context, request, &response);
  });
  service.entered.WaitForNotification();

  // A Watch stream tells us when Shutdown has begun (it flips health first).
  auto health = Health::NewStub(testing::ChannelTo(server->port()));
  grpc::ClientContext watch_context;
  auto watch = health->Watch(&watch_context, HealthCheckRequest());
  HealthCheckResponse update;
  REQUIRE(watch->Read(&update));
  CHECK(update.status() == HealthCheckResponse::SERVING);

  std::thread stopper([&] { server->Shutdown(absl::Seconds(10)); });
  REQUIRE(watch->Read(&update));
  CHECK(update.status() == HealthCheckResponse::NOT_SERVING);
  watch_context.TryCancel();  // so the watch itself does not hold up the drain
  watch->Finish().IgnoreError();
  service.release.Notify();   // the blocked call now completes during Shutdown
  caller.join();
  stopper.join();
  CHECK(call_status.ok());
  CHECK(response.text() == "in flight");
}

TEST_CASE("GrpcServer exposes server reflection listing every service", "[grpc][server]") {
  testing::EchoService service;
  auto server = StartOrDie(&service);
  auto channel = testing::ChannelTo(server->port());

  absl::StatusOr<std::vector<std::string>> services =
      switchboard::testing::ListServicesViaReflection(channel);
  REQUIRE(services.ok());
  const std::vector<std::string>& listed = *services;
  CHECK(listed == std::vector<std::string>{"grpc.health.v1.Health",
                                           "grpc.reflection.v1alpha.ServerReflection",
                                           kEchoService});
  std::vector<std::string> names = server->service_names();
  std::sort(names.begin(), names.end());
  CHECK(names == listed);
}

TEST_CASE("GrpcServer round-trips the request id", "[grpc][server]") {
  testing::EchoService service;
  auto server = StartOrDie(&service);
  auto stub = Echo::NewStub(testing::ChannelTo(server->port()));
  EchoRequest request;
  request.set_text("hello");
  EchoResponse response;
  grpc::ClientContext context;

  auto response_request_id = [&context]() {
    auto it = context.GetServerInitialMetadata().find(kRequestIdKey);
    REQUIRE(it != context.GetServerInitialMetadata().end());
    return std::string(it->second.data(), it->second.size());
  };

  SECTION("an incoming id is kept and echoed") {
    context.AddMetadata(kRequestIdKey, "req-abc-123");
    REQUIRE(stub->Echo(&context, request, &response).ok());
    CHECK(response.text() == "hello");
    CHECK(response.request_id() == "req-abc-123");
    CHECK(response_request_id() == "req-abc-123");
  }
  SECTION("a missing id is generated as a UUIDv7") {
    REQUIRE(stub->Echo(&context, request, &response).ok());
    CHECK(IsUuid(response.request_id()));
    CHECK(response.request_id()[14] == '7');
    CHECK(response_request_id() == response.request_id());
  }
  SECTION("an unacceptable id (too long) is replaced") {
    context.AddMetadata(kRequestIdKey, std::string(200, 'x'));
    REQUIRE(stub->Echo(&context, request, &response).ok());
    CHECK(IsUuid(response.request_id()));
    CHECK(response_request_id() == response.request_id());
  }
  SECTION("an internal error carries the id, not the details") {
    context.AddMetadata(kRequestIdKey, "req-500");
    request.set_fail_code(static_cast<int>(absl::StatusCode::kInternal));
    request.set_text("db password was wrong");
    grpc::Status status = stub->Echo(&context, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INTERNAL);
    CHECK(status.error_message() == "internal error; request id req-500");
    CHECK(response_request_id() == "req-500");
  }
  SECTION("an invalid-argument error keeps its message") {
    request.set_fail_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
    request.set_text("text: too long");
    grpc::Status status = stub->Echo(&context, request, &response);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message() == "text: too long");
  }
}

TEST_CASE("GrpcServer records per-method metrics", "[grpc][server][metrics]") {
  metrics::Registry registry;
  testing::EchoService service;
  auto server = StartOrDie(&service, &registry);
  auto stub = Echo::NewStub(testing::ChannelTo(server->port()));

  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    EchoRequest request;
    EchoResponse response;
    REQUIRE(stub->Echo(&context, request, &response).ok());
  }
  {
    grpc::ClientContext context;
    EchoRequest request;
    request.set_fail_code(static_cast<int>(absl::StatusCode::kNotFound));
    EchoResponse response;
    CHECK(stub->Echo(&context, request, &response).error_code() == grpc::StatusCode::NOT_FOUND);
  }

  const std::string text = registry.Exposition();
  INFO(text);
  CHECK(text.find("grpc_server_handled_total{code=\"OK\",method=\"Echo\",service=\"" +
                  std::string(kEchoService) + "\"} 2\n") != std::string::npos);
  CHECK(text.find("grpc_server_handled_total{code=\"NOT_FOUND\",method=\"Echo\",service=\"" +
                  std::string(kEchoService) + "\"} 1\n") != std::string::npos);
  CHECK(text.find("grpc_server_handling_seconds_count{code=\"OK\",method=\"Echo\",service=\"" +
                  std::string(kEchoService) + "\"} 2\n") != std::string::npos);
  CHECK(text.find("# TYPE grpc_server_handling_seconds histogram\n") != std::string::npos);
  CHECK(registry
            .GetCounter("grpc_server_handled_total", "",
                        {{"service", kEchoService}, {"method", "Echo"}, {"code", "OK"}})
            .Value() == 2);
}

TEST_CASE("GrpcServer::Start reports bad options and bind failures", "[grpc][server]") {
  testing::EchoService service;
  auto first = StartOrDie(&service);

  SECTION("port in use is kUnavailable naming the address") {
    testing::EchoService other;
    ServerOptions options;
    options.address = "127.0.0.1:" + std::to_string(first->port());
    auto second = GrpcServer::Start(options, {&other});
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == absl::StatusCode::kUnavailable);
    CHECK(second.status().message().find(options.address) != std::string::npos);
  }
  SECTION("empty address is kInvalidArgument") {
    ServerOptions options;
    options.address = "";
    CHECK(GrpcServer::Start(options, {}).status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("null service is kInvalidArgument") {
    ServerOptions options;
    CHECK(GrpcServer::Start(options, {nullptr}).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace switchboard::rpc
