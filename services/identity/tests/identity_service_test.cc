// The gRPC adapter end to end over a real in-process server on port 0, with the in-memory
// stores: status-code mapping, principal metadata, proto conversion.
#include <memory>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "libs/grpc/principal.h"
#include "libs/grpc/server.h"
#include "services/identity/identity_service.h"
#include "services/identity/tests/fake_stores.h"

namespace switchboard::identity {
namespace {

struct Harness {
  testing::FakeIdentityStore store;
  testing::FakePresenceStore presence;
  FakeClock clock{absl::Now()};
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<IdentityCore> core;
  std::unique_ptr<IdentityService> service;
  std::unique_ptr<rpc::GrpcServer> server;
  std::unique_ptr<v1::Identity::Stub> stub;

  Harness() {
    tokens = *TokenService::Create(store, clock,
                                   TokenOptions{.issuer = "iss",
                                                .key_encryption_key = std::string(32, 'k')});
    REQUIRE(tokens->EnsureSigningKey().ok());
    core = std::make_unique<IdentityCore>(
        store, presence, *tokens, clock,
        CoreOptions{.password_cost = crypto::PasswordCost::kMinimalForTests});
    service = std::make_unique<IdentityService>(*core);
    auto s = rpc::GrpcServer::Start({.address = "127.0.0.1:0", .service_name = "identity"},
                                    {service.get()});
    REQUIRE(s.ok());
    server = std::move(*s);
    server->SetServing(true);
    stub = v1::Identity::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials()));
  }

  v1::CreateCompanyResponse Signup(const std::string& email) {
    v1::CreateCompanyRequest req;
    req.set_name("Acme");
    req.set_time_zone("Europe/Paris");
    req.set_plan(v1::PLAN_TEAM);
    req.set_owner_email(email);
    req.set_owner_full_name("Olive");
    req.set_owner_password("owner-password");
    req.mutable_address()->set_state("CA");
    v1::CreateCompanyResponse resp;
    grpc::ClientContext ctx;
    REQUIRE(stub->CreateCompany(&ctx, req, &resp).ok());
    return resp;
  }
};

void As(grpc::ClientContext& ctx, const v1::User& u) {
  rpc::Principal p{.company_id = u.company_id(), .user_id = u.id(), .role = "owner"};
  if (u.role() == v1::ROLE_ADMIN) p.role = "admin";
  if (u.role() == v1::ROLE_OFFICE) p.role = "office";
  if (u.role() == v1::ROLE_TECH) p.role = "tech";
  rpc::AttachPrincipal(ctx, p);
}

TEST_CASE("IdentityService maps core results to gRPC statuses", "[service][identity]") {
  Harness h;
  v1::CreateCompanyResponse acme = h.Signup("owner@acme.test");
  CHECK(acme.company().limits().max_users() == 5);
  CHECK(acme.owner().status() == v1::USER_STATUS_ACTIVE);
  CHECK(acme.owner().role() == v1::ROLE_OWNER);
  v1::CreateCompanyResponse other = h.Signup("owner@other.test");

  SECTION("bad input is INVALID_ARGUMENT naming the field") {
    v1::CreateCompanyRequest req;
    req.set_name("X");
    req.set_time_zone("Atlantis/Capital");
    req.set_plan(v1::PLAN_SOLO);
    v1::CreateCompanyResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = h.stub->CreateCompany(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().find("time_zone") != std::string::npos);
  }
  SECTION("duplicate email is ALREADY_EXISTS") {
    v1::CreateCompanyRequest req;
    req.set_name("Acme 2");
    req.set_time_zone("UTC");
    req.set_plan(v1::PLAN_SOLO);
    req.set_owner_email("OWNER@acme.test");
    req.set_owner_full_name("Dup");
    req.set_owner_password("owner-password");
    v1::CreateCompanyResponse resp;
    grpc::ClientContext ctx;
    CHECK(h.stub->CreateCompany(&ctx, req, &resp).error_code() ==
          grpc::StatusCode::ALREADY_EXISTS);
  }
  SECTION("no principal is UNAUTHENTICATED; another company's user is NOT_FOUND") {
    v1::GetUserRequest req;
    req.set_user_id(other.owner().id());
    v1::User resp;
    grpc::ClientContext anon;
    CHECK(h.stub->GetUser(&anon, req, &resp).error_code() == grpc::StatusCode::UNAUTHENTICATED);
    grpc::ClientContext ctx;
    As(ctx, acme.owner());
    CHECK(h.stub->GetUser(&ctx, req, &resp).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  SECTION("login, verify, refresh; wrong password UNAUTHENTICATED") {
    v1::LoginRequest login;
    login.set_email("owner@acme.test");
    login.set_password("owner-password");
    v1::TokenPair pair;
    grpc::ClientContext c1;
    REQUIRE(h.stub->Login(&c1, login, &pair).ok());
    CHECK(pair.token_type() == "Bearer");
    v1::VerifyAccessTokenRequest vreq;
    vreq.set_access_token(pair.access_token());
    v1::VerifyAccessTokenResponse vresp;
    grpc::ClientContext c2;
    REQUIRE(h.stub->VerifyAccessToken(&c2, vreq, &vresp).ok());
    CHECK(vresp.company_id() == acme.company().id());
    CHECK(vresp.role() == v1::ROLE_OWNER);
    v1::GetVerificationKeysResponse keys;
    grpc::ClientContext c3;
    REQUIRE(h.stub->GetVerificationKeys(&c3, v1::GetVerificationKeysRequest(), &keys).ok());
    CHECK(keys.keys_size() == 1);
    CHECK(keys.jwks_json().find("\"keys\":[{") != std::string::npos);
    login.set_password("wrong-password");
    grpc::ClientContext c4;
    CHECK(h.stub->Login(&c4, login, &pair).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  }
  SECTION("invite flow and role rules over gRPC") {
    v1::InviteUserRequest inv;
    inv.set_email("tech@acme.test");
    inv.set_full_name("Tina");
    inv.set_role(v1::ROLE_TECH);
    v1::InviteUserResponse invited;
    grpc::ClientContext c1;
    As(c1, acme.owner());
    REQUIRE(h.stub->InviteUser(&c1, inv, &invited).ok());
    v1::AcceptInvitationRequest acc;
    acc.set_invitation_token(invited.invitation_token());
    acc.set_password("tech-password");
    v1::AcceptInvitationResponse accepted;
    grpc::ClientContext c2;
    REQUIRE(h.stub->AcceptInvitation(&c2, acc, &accepted).ok());
    CHECK(accepted.user().status() == v1::USER_STATUS_ACTIVE);
    grpc::ClientContext c3;
    CHECK(h.stub->AcceptInvitation(&c3, acc, &accepted).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    // The tech cannot invite; cannot read the owner.
    grpc::ClientContext c4;
    As(c4, accepted.user());
    inv.set_email("x@acme.test");
    CHECK(h.stub->InviteUser(&c4, inv, &invited).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
    v1::GetUserRequest get;
    get.set_user_id(acme.owner().id());
    v1::User u;
    grpc::ClientContext c5;
    As(c5, accepted.user());
    CHECK(h.stub->GetUser(&c5, get, &u).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  SECTION("Authorize answers for the request principal") {
    v1::AuthorizeRequest req;
    req.mutable_principal()->set_company_id(acme.company().id());
    req.mutable_principal()->set_user_id("u1");
    req.mutable_principal()->set_role(v1::ROLE_TECH);
    req.set_permission(v1::PERMISSION_VIEW_ANALYTICS);
    v1::AuthorizeResponse resp;
    grpc::ClientContext c1;
    REQUIRE(h.stub->Authorize(&c1, req, &resp).ok());
    CHECK_FALSE(resp.allowed());
    CHECK(resp.reason().find("view_analytics") != std::string::npos);
    req.set_permission(v1::PERMISSION_CALLS_OWN);
    req.set_resource_owner_user_id("u1");
    grpc::ClientContext c2;
    REQUIRE(h.stub->Authorize(&c2, req, &resp).ok());
    CHECK(resp.allowed());
    req.set_permission(v1::PERMISSION_UNSPECIFIED);
    grpc::ClientContext c3;
    CHECK(h.stub->Authorize(&c3, req, &resp).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  SECTION("presence degraded when the presence store is down") {
    h.presence.SetDown(true);
    v1::GetPresenceRequest req;
    req.set_user_id(acme.owner().id());
    v1::Presence p;
    grpc::ClientContext ctx;
    As(ctx, acme.owner());
    REQUIRE(h.stub->GetPresence(&ctx, req, &p).ok());
    CHECK(p.degraded());
    CHECK(p.state() == v1::PRESENCE_STATE_UNKNOWN);
  }
  SECTION("store outage is UNAVAILABLE, internal errors are hidden") {
    v1::GetCompanyRequest req;
    v1::Company c;
    h.store.FailNext(absl::UnavailableError("postgres down"));
    grpc::ClientContext c1;
    As(c1, acme.owner());
    CHECK(h.stub->GetCompany(&c1, req, &c).error_code() == grpc::StatusCode::UNAVAILABLE);
    h.store.FailNext(absl::InternalError("secret detail"));
    grpc::ClientContext c2;
    As(c2, acme.owner());
    grpc::Status s = h.stub->GetCompany(&c2, req, &c);
    CHECK(s.error_code() == grpc::StatusCode::INTERNAL);
    CHECK(s.error_message().find("secret detail") == std::string::npos);
  }
  SECTION("bad update mask is INVALID_ARGUMENT") {
    v1::UpdateCompanyRequest req;
    req.add_update_mask("owner");
    v1::Company c;
    grpc::ClientContext ctx;
    As(ctx, acme.owner());
    grpc::Status s = h.stub->UpdateCompany(&ctx, req, &c);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().find("update_mask") != std::string::npos);
  }
}

}  // namespace
}  // namespace switchboard::identity
