// The whole identity stack against real PostgreSQL, Kafka and Redis: PgStore + outbox relay +
// RedisPresenceStore + IdentityService on a port-0 gRPC server.
#include <set>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "libs/cache/redis_pool.h"
#include "libs/events/outbox_relay.h"
#include "libs/grpc/principal.h"
#include "libs/testing/testing.h"
#include "services/identity/identity_service.h"
#include "services/identity/pg_store.h"
#include "services/identity/redis_presence_store.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::identity {
namespace {

struct Stack {
  std::unique_ptr<switchboard::testing::PgTestSchema> db;
  std::unique_ptr<switchboard::testing::KafkaTestTopic> topic;
  std::unique_ptr<switchboard::testing::RedisTestNamespace> redis_ns;
  std::unique_ptr<cache::RedisPool> redis;
  std::unique_ptr<events::Producer> producer;
  std::unique_ptr<PgStore> store;
  std::unique_ptr<RedisPresenceStore> presence;
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<IdentityCore> core;
  std::unique_ptr<IdentityService> service;
  std::unique_ptr<switchboard::testing::GrpcTestServer> server;
  std::unique_ptr<events::OutboxRelay> relay;  // last: destroyed first
  std::unique_ptr<v1::Identity::Stub> stub;

  Stack() {
    db = switchboard::testing::PgTestSchema::CreateOrFail();
    REQUIRE(MigrateIdentity(db->pool()).ok());
    topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
    redis_ns = switchboard::testing::RedisTestNamespace::CreateOrFail();
    auto r = cache::RedisPool::Create({.url = redis_ns->url(), .key_prefix = redis_ns->prefix()});
    REQUIRE(r.ok());
    redis = std::move(*r);
    auto p = topic->NewProducer();
    REQUIRE(p.ok());
    producer = std::move(*p);
    store = std::make_unique<PgStore>(db->pool(), SystemClock(),
                                      PgStoreOptions{.topic = topic->name()});
    presence = std::make_unique<RedisPresenceStore>(*redis);
    auto t = TokenService::Create(*store, SystemClock(),
                                  TokenOptions{.issuer = "it",
                                               .key_encryption_key = std::string(32, 'k')});
    REQUIRE(t.ok());
    tokens = std::move(*t);
    REQUIRE(tokens->EnsureSigningKey().ok());
    core = std::make_unique<IdentityCore>(
        *store, *presence, *tokens, SystemClock(),
        CoreOptions{.password_cost = crypto::PasswordCost::kMinimalForTests});
    service = std::make_unique<IdentityService>(*core);
    server = switchboard::testing::GrpcTestServer::CreateOrFail({service.get()});
    stub = v1::Identity::NewStub(server->channel());
    relay = std::make_unique<events::OutboxRelay>(db->pool(), *producer,
                                                  events::RelayOptions{
                                                      .poll_interval = absl::Milliseconds(100)});
    REQUIRE(relay->Start().ok());
  }
  ~Stack() { relay->Stop(); }

  v1::CreateCompanyResponse Signup(const std::string& email) {
    v1::CreateCompanyRequest req;
    req.set_name("Acme");
    req.set_time_zone("America/Los_Angeles");
    req.set_plan(v1::PLAN_BUSINESS);
    req.set_owner_email(email);
    req.set_owner_full_name("Olive Owner");
    req.set_owner_password("owner-password");
    req.mutable_address()->set_state("CA");
    req.mutable_address()->set_country("US");
    v1::CreateCompanyResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = stub->CreateCompany(&ctx, req, &resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }
};

void As(grpc::ClientContext& ctx, const v1::User& u, const std::string& role) {
  rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = u.company_id(), .user_id = u.id(),
                                           .role = role});
}

TEST_CASE("identity over gRPC with real stores: tenancy, duplicates, events to Kafka",
          "[integration][identity]") {
  Stack s;
  v1::CreateCompanyResponse acme = s.Signup("owner@acme.test");
  v1::CreateCompanyResponse other = s.Signup("owner@other.test");

  // Cross-company reads and writes are NOT_FOUND, never PERMISSION_DENIED.
  {
    v1::GetUserRequest req;
    req.set_user_id(other.owner().id());
    v1::User u;
    grpc::ClientContext ctx;
    As(ctx, acme.owner(), "owner");
    CHECK(s.stub->GetUser(&ctx, req, &u).error_code() == grpc::StatusCode::NOT_FOUND);
    v1::GetCompanyRequest creq;
    creq.set_company_id(other.company().id());
    v1::Company c;
    grpc::ClientContext ctx2;
    As(ctx2, acme.owner(), "owner");
    CHECK(s.stub->GetCompany(&ctx2, creq, &c).error_code() == grpc::StatusCode::NOT_FOUND);
    v1::DeactivateUserRequest dreq;
    dreq.set_user_id(other.owner().id());
    grpc::ClientContext ctx3;
    As(ctx3, acme.owner(), "owner");
    CHECK(s.stub->DeactivateUser(&ctx3, dreq, &u).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  // Duplicate email is ALREADY_EXISTS (signup and invitation).
  {
    v1::CreateCompanyRequest req;
    req.set_name("Dup");
    req.set_time_zone("UTC");
    req.set_plan(v1::PLAN_SOLO);
    req.set_owner_email(" Owner@Acme.TEST ");
    req.set_owner_full_name("Dup");
    req.set_owner_password("owner-password");
    v1::CreateCompanyResponse resp;
    grpc::ClientContext ctx;
    CHECK(s.stub->CreateCompany(&ctx, req, &resp).error_code() ==
          grpc::StatusCode::ALREADY_EXISTS);
    v1::InviteUserRequest inv;
    inv.set_email("owner@other.test");
    inv.set_full_name("X");
    inv.set_role(v1::ROLE_TECH);
    v1::InviteUserResponse ir;
    grpc::ClientContext ctx2;
    As(ctx2, acme.owner(), "owner");
    CHECK(s.stub->InviteUser(&ctx2, inv, &ir).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  }
  // State changes: invite, accept, change role, update company, deactivate.
  v1::InviteUserRequest inv;
  inv.set_email("tech@acme.test");
  inv.set_full_name("Tina Tech");
  inv.set_role(v1::ROLE_TECH);
  inv.set_extension("201");
  v1::InviteUserResponse invited;
  {
    grpc::ClientContext ctx;
    As(ctx, acme.owner(), "owner");
    REQUIRE(s.stub->InviteUser(&ctx, inv, &invited).ok());
  }
  v1::AcceptInvitationResponse accepted;
  {
    v1::AcceptInvitationRequest req;
    req.set_invitation_token(invited.invitation_token());
    req.set_password("tech-password");
    grpc::ClientContext ctx;
    REQUIRE(s.stub->AcceptInvitation(&ctx, req, &accepted).ok());
  }
  {
    v1::ChangeRoleRequest req;
    req.set_user_id(accepted.user().id());
    req.set_role(v1::ROLE_OFFICE);
    v1::User u;
    grpc::ClientContext ctx;
    As(ctx, acme.owner(), "owner");
    REQUIRE(s.stub->ChangeRole(&ctx, req, &u).ok());
    CHECK(u.role() == v1::ROLE_OFFICE);
  }
  {
    v1::UpdateCompanyRequest req;
    req.add_update_mask("name");
    req.set_name("Acme Heating");
    v1::Company c;
    grpc::ClientContext ctx;
    As(ctx, acme.owner(), "owner");
    REQUIRE(s.stub->UpdateCompany(&ctx, req, &c).ok());
    CHECK(c.name() == "Acme Heating");
  }
  {
    v1::DeactivateUserRequest req;
    req.set_user_id(accepted.user().id());
    v1::User u;
    grpc::ClientContext ctx;
    As(ctx, acme.owner(), "owner");
    REQUIRE(s.stub->DeactivateUser(&ctx, req, &u).ok());
    CHECK(u.status() == v1::USER_STATUS_DEACTIVATED);
  }
  // Login, refresh, reuse detection against Postgres.
  {
    v1::LoginRequest login;
    login.set_email("owner@acme.test");
    login.set_password("owner-password");
    v1::TokenPair first;
    grpc::ClientContext c1;
    REQUIRE(s.stub->Login(&c1, login, &first).ok());
    v1::RefreshTokenRequest rr;
    rr.set_refresh_token(first.refresh_token());
    v1::TokenPair second;
    grpc::ClientContext c2;
    REQUIRE(s.stub->RefreshToken(&c2, rr, &second).ok());
    grpc::ClientContext c3;
    v1::TokenPair reuse;
    CHECK(s.stub->RefreshToken(&c3, rr, &reuse).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    rr.set_refresh_token(second.refresh_token());
    grpc::ClientContext c4;
    CHECK(s.stub->RefreshToken(&c4, rr, &reuse).error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
  }
  // Presence through Redis.
  {
    v1::SetPresenceRequest sp;
    sp.set_state(v1::PRESENCE_STATE_DND);
    v1::Presence p;
    grpc::ClientContext c1;
    As(c1, acme.owner(), "owner");
    REQUIRE(s.stub->SetPresence(&c1, sp, &p).ok());
    v1::GetPresenceRequest gp;
    gp.set_user_id(acme.owner().id());
    grpc::ClientContext c2;
    As(c2, acme.owner(), "owner");
    REQUIRE(s.stub->GetPresence(&c2, gp, &p).ok());
    CHECK(p.state() == v1::PRESENCE_STATE_DND);
    CHECK_FALSE(p.degraded());
    CHECK(p.changed_at().seconds() > 0);
  }

  // Every state change reached Kafka: 2 x (company_created + user_activated), user_invited,
  // user_activated, user_role_changed, company_updated, user_deactivated.
  const std::set<std::string> expected_types = {
      "identity.company_created", "identity.user_activated", "identity.user_invited",
      "identity.user_role_changed", "identity.company_updated", "identity.user_deactivated"};
  auto records = s.topic->ReadAll(s.topic->name(), absl::Seconds(30), 9);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 9);
  std::multiset<std::string> types;
  for (const auto& rec : *records) {
    events::v1::Event e;
    REQUIRE(e.ParseFromString(rec.value));
    CHECK(e.source() == "identity");
    CHECK(rec.key == e.aggregate_id());
    CHECK(expected_types.count(e.type()) == 1);
    types.insert(e.type());
    if (e.type() == "identity.user_role_changed") {
      CHECK(e.user_role_changed().old_role() == "tech");
      CHECK(e.user_role_changed().new_role() == "office");
      CHECK(e.company_id() == acme.company().id());
    }
  }
  CHECK(types.count("identity.company_created") == 2);
  CHECK(types.count("identity.user_activated") == 3);
  CHECK(types.count("identity.user_invited") == 1);
  CHECK(types.count("identity.user_role_changed") == 1);
  CHECK(types.count("identity.company_updated") == 1);
  CHECK(types.count("identity.user_deactivated") == 1);
}

}  // namespace
}  // namespace switchboard::identity
