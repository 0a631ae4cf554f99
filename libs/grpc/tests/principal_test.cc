#include "libs/grpc/principal.h"

#include <catch2/catch.hpp>

#include "libs/grpc/tests/echo_service.h"

namespace switchboard::rpc {
namespace {

using switchboard::rpctest::v1::Echo;
using switchboard::rpctest::v1::EchoRequest;
using switchboard::rpctest::v1::EchoResponse;

// PrincipalFromContext needs a real ServerContext, so each case goes through the echo server.
struct Fixture {
  testing::EchoService service;
  std::unique_ptr<GrpcServer> server;
  std::unique_ptr<Echo::Stub> stub;

  Fixture() {
    ServerOptions options;
    options.address = "127.0.0.1:0";
    auto started = GrpcServer::Start(options, {&service});
    REQUIRE(started.ok());
    server = std::move(*started);
    stub = Echo::NewStub(testing::ChannelTo(server->port()));
  }

  EchoResponse Call(grpc::ClientContext& context) {
    EchoRequest request;
    request.set_text("hi");
    EchoResponse response;
    grpc::Status status = stub->Echo(&context, request, &response);
    REQUIRE(status.ok());
    return response;
  }
};

TEST_CASE("PrincipalFromContext reads what AttachPrincipal wrote", "[grpc][principal]") {
  Fixture f;
  grpc::ClientContext context;
  AttachPrincipal(context, Principal{"c1", "u1", "admin", {"calls:read", "texts:send"}, ""});
  EchoResponse response = f.Call(context);
  CHECK(response.principal_error_code() == 0);
  CHECK(response.company_id() == "c1");
  CHECK(response.user_id() == "u1");
  CHECK(response.role() == "admin");
  REQUIRE(response.scopes_size() == 2);
  CHECK(response.scopes(0) == "calls:read");
  CHECK(response.scopes(1) == "texts:send");
  CHECK(response.api_key_id().empty());
}

TEST_CASE("PrincipalFromContext accepts an API key without a user", "[grpc][principal]") {
  Fixture f;
  grpc::ClientContext context;
  AttachPrincipal(context, Principal{"c1", "", "service", {}, "key-9"});
  EchoResponse response = f.Call(context);
  CHECK(response.principal_error_code() == 0);
  CHECK(response.api_key_id() == "key-9");
  CHECK(response.scopes_size() == 0);
}

TEST_CASE("PrincipalFromContext accepts a sibling service with no user or key id",
          "[grpc][principal]") {
  Fixture f;
  grpc::ClientContext context;
  AttachPrincipal(context, Principal{"c1", "", "service", {}, ""});
  EchoResponse response = f.Call(context);
  CHECK(response.principal_error_code() == 0);
  CHECK(response.company_id() == "c1");
  CHECK(response.role() == "service");
  CHECK(response.user_id().empty());
}

TEST_CASE("PrincipalFromContext drops empty scope tokens", "[grpc][principal]") {
  Fixture f;
  grpc::ClientContext context;
  AttachPrincipal(context, Principal{"c1", "u1", "tech", {}, ""});
  context.AddMetadata(kScopesKey, "  a   b ");
  EchoResponse response = f.Call(context);
  REQUIRE(response.scopes_size() == 2);
  CHECK(response.scopes(0) == "a");
  CHECK(response.scopes(1) == "b");
}

TEST_CASE("PrincipalFromContext rejects incomplete or malformed metadata", "[grpc][principal]") {
  Fixture f;
  grpc::ClientContext context;
  int want_code = 0;
  std::string want_in_message;
  SECTION("no metadata at all") {
    want_code = static_cast<int>(absl::StatusCode::kUnauthenticated);
    want_in_message = kCompanyIdKey;
  }
  SECTION("company without user or API key") {
    AttachPrincipal(context, Principal{"c1", "", "owner", {}, ""});
    want_code = static_cast<int>(absl::StatusCode::kUnauthenticated);
    want_in_message = kUserIdKey;
  }
  SECTION("user without company") {
    AttachPrincipal(context, Principal{"", "u1", "owner", {}, ""});
    want_code = static_cast<int>(absl::StatusCode::kUnauthenticated);
    want_in_message = kCompanyIdKey;
  }
  SECTION("missing role") {
    AttachPrincipal(context, Principal{"c1", "u1", "", {}, ""});
    want_code = static_cast<int>(absl::StatusCode::kUnauthenticated);
    want_in_message = kRoleKey;
  }
  SECTION("unknown role") {
    AttachPrincipal(context, Principal{"c1", "u1", "superuser", {}, ""});
    want_code = static_cast<int>(absl::StatusCode::kInvalidArgument);
    want_in_message = "superuser";
  }
  EchoResponse response = f.Call(context);
  CHECK(response.principal_error_code() == want_code);
  CHECK(response.principal_error().find(want_in_message) != std::string::npos);
  CHECK(response.company_id().empty());
}

TEST_CASE("IsValidRole knows the five roles", "[grpc][principal]") {
  for (const char* role : {"owner", "admin", "office", "tech", "service"}) CHECK(IsValidRole(role));
  for (const char* role : {"", "Owner", "root", "admin "}) CHECK_FALSE(IsValidRole(role));
}

}  // namespace
}  // namespace switchboard::rpc
