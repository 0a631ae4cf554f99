// The routing binary as deployed, next to a real identity process: configuration from the
// environment, reflection, the demo configuration saved and validated against identity's users
// (IdentityClient over gRPC), a dry run, the carrier contract when numbers cannot be reached,
// SIGTERM exits 0.
#include <signal.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/random.h"
#include "libs/grpc/principal.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "services/routing/demo_flow.h"
#include "tests/e2e/e2e_util.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard {
namespace {

namespace iv1 = switchboard::identity::v1;
namespace rv1 = switchboard::routing::v1;

using e2e::LogField;
using e2e::StartProcess;

std::string EnvOr(const char* name) { return testing::Env(name).value_or(""); }

TEST_CASE("routing process: reflection, demo config validated against identity, dry run, "
          "carrier contract, SIGTERM",
          "[e2e][routing]") {
  auto id_schema = testing::PgTestSchema::CreateOrFail();
  auto rt_schema = testing::PgTestSchema::CreateOrFail();
  auto id_topic = testing::KafkaTestTopic::CreateOrFail();
  auto rt_topic = testing::KafkaTestTopic::CreateOrFail();
  auto identity = StartProcess(SB_IDENTITY_BINARY,
                        {{"IDENTITY_GRPC_ADDRESS", "127.0.0.1:0"},
                         {"IDENTITY_ADMIN_ADDRESS", "127.0.0.1"},
                         {"IDENTITY_ADMIN_PORT", "0"},
                         {"IDENTITY_PG_DSN", EnvOr("SB_PG_DSN")},
                         {"IDENTITY_PG_SCHEMA", id_schema->schema()},
                         {"IDENTITY_REDIS_URL", EnvOr("SB_REDIS_URL")},
                         {"IDENTITY_KAFKA_BROKERS", EnvOr("SB_KAFKA_BROKERS")},
                         {"IDENTITY_EVENTS_TOPIC", id_topic->name()},
                         {"IDENTITY_KEY_ENCRYPTION_KEY",
                          crypto::Base64Encode(crypto::RandomBytes(32))},
                         {"IDENTITY_DRAIN_DELAY", "100ms"}});
  const std::string identity_port = LogField(*identity, "identity serving", "grpc_port");
  auto routing = StartProcess(SB_ROUTING_BINARY,
                       {{"ROUTING_GRPC_ADDRESS", "127.0.0.1:0"},
                        {"ROUTING_ADMIN_ADDRESS", "127.0.0.1"},
                        {"ROUTING_ADMIN_PORT", "0"},
                        {"ROUTING_PG_DSN", EnvOr("SB_PG_DSN")},
                        {"ROUTING_PG_SCHEMA", rt_schema->schema()},
                        {"ROUTING_REDIS_URL", EnvOr("SB_REDIS_URL")},
                        {"ROUTING_REDIS_KEY_PREFIX",
                         absl::StrCat("e2e-", testing::RandomSuffix(), ":")},
                        {"ROUTING_KAFKA_BROKERS", EnvOr("SB_KAFKA_BROKERS")},
                        {"ROUTING_EVENTS_TOPIC", rt_topic->name()},
                        {"ROUTING_IDENTITY_ADDRESS", absl::StrCat("127.0.0.1:", identity_port)},
                        {"ROUTING_NUMBERS_ADDRESS", "127.0.0.1:1"},  // unreachable on purpose
                        {"ROUTING_PEER_TIMEOUT", "300ms"},
                        {"ROUTING_DRAIN_DELAY", "100ms"}});
  const std::string routing_port = LogField(*routing, "routing serving", "grpc_port");
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", routing_port), grpc::InsecureChannelCredentials());
  REQUIRE(testing::WaitUntilServing(channel, absl::Seconds(30)).ok());
  auto services = testing::ListServicesViaReflection(channel);
  REQUIRE(services.ok());
  CHECK(std::count(services->begin(), services->end(), "switchboard.routing.v1.Routing") == 1);

  // The company and its people, in identity.
  auto id_stub = iv1::Identity::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", identity_port), grpc::InsecureChannelCredentials()));
  iv1::CreateCompanyRequest create;
  create.set_name("Powers Electric");
  create.set_time_zone("America/New_York");
  create.set_plan(iv1::PLAN_BUSINESS);
  create.set_owner_email(absl::StrCat("robert-", NewUuidV7(), "@powers.test"));
  create.set_owner_full_name("Robert Smith");
  create.set_owner_password("correct horse battery staple");
  create.set_owner_forward_to("+19175558801");
  iv1::CreateCompanyResponse company;
  {
    grpc::ClientContext ctx;
    grpc::Status s = id_stub->CreateCompany(&ctx, create, &company);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  const rpc::Principal owner{.company_id = company.company().id(),
                             .user_id = company.owner().id(),
                             .role = "owner"};
  routing::DemoUsers users{.robert = company.owner().id()};
  const std::pair<const char*, std::string*> people[] = {{"Sarah Johnson", &users.sarah},
                                                         {"Mike Torres", &users.mike},
                                                         {"Jake Williams", &users.jake},
                                                         {"Tyler Chen", &users.tyler}};
  int n = 2;
  for (const auto& [name, id] : people) {
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, owner);
    iv1::InviteUserRequest invite;
    invite.set_email(absl::StrCat("u", n, "-", NewUuidV7(), "@powers.test"));
    invite.set_full_name(name);
    invite.set_role(n == 2 ? iv1::ROLE_OFFICE : iv1::ROLE_TECH);
    invite.set_forward_to(absl::StrCat("+1917555880", n));
    iv1::InviteUserResponse invited;
    grpc::Status s = id_stub->InviteUser(&ctx, invite, &invited);
    INFO(s.error_message());
    REQUIRE(s.ok());
    *id = invited.user().id();
    grpc::ClientContext accept_ctx;
    iv1::AcceptInvitationRequest accept;
    accept.set_invitation_token(invited.invitation_token());
    accept.set_password("correct horse battery staple");
    iv1::AcceptInvitationResponse accepted;
    REQUIRE(id_stub->AcceptInvitation(&accept_ctx, accept, &accepted).ok());
    ++n;
  }

  // The demo configuration, saved through routing (flow validation reads identity's users).
  auto stub = rv1::Routing::NewStub(channel);
  const routing::DemoConfig demo = routing::PowersElectricDemo(users);
  auto call = [&](auto method, const auto& request, auto* response) {
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, owner);
    return ((*stub).*method)(&ctx, request, response);
  };
  rv1::NamedSchedule schedule;
  REQUIRE(call(&rv1::Routing::Stub::SaveSchedule, demo.schedule, &schedule).ok());
  rv1::NamedRotation rotation;
  REQUIRE(call(&rv1::Routing::Stub::SaveOnCallRotation, demo.rotation, &rotation).ok());
  for (const auto& b : demo.boxes) {
    rv1::VoicemailBox out;
    grpc::Status s = call(&rv1::Routing::Stub::SaveVoicemailBox, b, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
  }
  for (const auto& g : demo.groups) {
    rv1::RingGroup out;
    REQUIRE(call(&rv1::Routing::Stub::SaveRingGroup, g, &out).ok());
  }
  rv1::SaveFlowRequest save;
  *save.mutable_flow() = demo.main_flow;
  rv1::SaveFlowResponse saved;
  {
    grpc::Status s = call(&rv1::Routing::Stub::SaveFlow, save, &saved);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(saved.flow().version() == 1);
  }
  // routing-seed saves the same configuration again: nothing changes, the flow stays version 1.
  {
    auto seed = testing::ServiceProcess::Start(
        {.binary = SB_ROUTING_SEED_BINARY,
         .args = {absl::StrCat("--routing=127.0.0.1:", routing_port),
                  "--company_id=" + owner.company_id, "--owner_id=" + owner.user_id,
                  "--robert=" + users.robert, "--sarah=" + users.sarah, "--mike=" + users.mike,
                  "--jake=" + users.jake, "--tyler=" + users.tyler, "--main_number="}});
    REQUIRE(seed.ok());
    absl::StatusOr<int> code = (*seed)->WaitForExit(absl::Seconds(60));
    INFO((*seed)->Output());
    REQUIRE(code.ok());
    CHECK(*code == 0);
    CHECK((*seed)->Output().find("\"version\":1,\"saved\":false") != std::string::npos);
  }
  // A user identity does not know is refused, with its path.
  {
    rv1::SaveFlowRequest bad = save;
    bad.mutable_flow()->mutable_menus()->mutable_menus(0)->mutable_keys(0)->mutable_action()
        ->mutable_ring_user()->set_user_id("u_42");
    rv1::SaveFlowResponse out;
    grpc::Status s = call(&rv1::Routing::Stub::SaveFlow, bad, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().find("unknown user u_42") != std::string::npos);
  }
  // Dry run of the saved flow as a draft bundle, Tuesday 10:00 New York: press 1, Sarah answers.
  {
    rv1::SimulateCallRequest sim;
    *sim.mutable_bundle()->mutable_flow() = saved.flow();
    sim.set_from("+12035550199");
    sim.mutable_at()->set_seconds(1'794'927'600);  // 2026-11-17 15:00 UTC
    sim.add_key_presses("1");
    rv1::SimulatedAnswer* a = sim.add_answers();
    a->set_target(users.sarah);
    a->set_outcome(rv1::SimulatedAnswer::ANSWER);
    rv1::SimulateCallResponse out;
    grpc::Status s = call(&rv1::Routing::Stub::SimulateCall, sim, &out);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(out.status() == rv1::COMPLETED);
    CHECK(out.answered_by() == users.sarah);
  }
  // The carrier's HandleCallEvent while numbers is unreachable: UNAVAILABLE (the carrier falls
  // back to the company voicemail), not a hang.
  {
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = owner.company_id, .role = "service"});
    rv1::HandleCallEventRequest req;
    req.mutable_event()->set_provider(carrier::v1::TWILIO);
    req.mutable_event()->mutable_ids()->set_call_sid("CA-e2e");
    req.mutable_event()->set_to("+12035550100");
    req.mutable_event()->mutable_call_incoming();
    rv1::HandleCallEventResponse out;
    CHECK(stub->HandleCallEvent(&ctx, req, &out).error_code() == grpc::StatusCode::UNAVAILABLE);
  }

  absl::StatusOr<int> code = routing->SignalAndWait(SIGTERM, absl::Seconds(30));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  REQUIRE(identity->SignalAndWait(SIGTERM, absl::Seconds(30)).ok());
}

}  // namespace
}  // namespace switchboard
