// The gRPC adapter over the core with fakes: principals and roles, update masks, field names in
// errors, and the proto conversion of numbers, port requests and resolve answers.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/common/clock.h"
#include "libs/grpc/principal.h"
#include "libs/testing/testing.h"
#include "services/numbers/numbers_service.h"
#include "services/numbers/tests/fakes.h"

namespace switchboard::numbers {
namespace {

constexpr char kCompany[] = "0190c5d2-0000-7000-8000-0000000000a1";
constexpr char kUser[] = "0190c5d2-0000-7000-8000-00000000aa01";

struct Rig {
  testing::FakeNumberStore store;
  testing::FakeCarrier carrier;
  testing::FakeIdentity identity;
  testing::FakeCache cache;
  FakeClock clock{absl::FromUnixSeconds(1790000000)};
  std::unique_ptr<NumbersCore> core;
  std::unique_ptr<NumbersService> service;
  std::unique_ptr<switchboard::testing::GrpcTestServer> server;
  std::unique_ptr<v1::Numbers::Stub> stub;
  Rig() {
    identity.users = {{kUser, true}};
    core = *NumbersCore::Create(store, carrier, identity, cache, clock,
                                CoreOptions{.key_encryption_key = std::string(32, 'k')});
    service = std::make_unique<NumbersService>(*core);
    server = switchboard::testing::GrpcTestServer::CreateOrFail({service.get()});
    stub = v1::Numbers::NewStub(server->channel());
  }
  template <typename Req, typename Resp>
  grpc::Status Call(const std::string& role,
                    grpc::Status (v1::Numbers::Stub::*m)(grpc::ClientContext*, const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    if (!role.empty()) {
      rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = kCompany, .user_id = kUser,
                                               .role = role});
    }
    return ((*stub).*m)(&ctx, req, resp);
  }
};

TEST_CASE("roles: managers change numbers, others read; resolve is for services") {
  Rig r;
  v1::ProvisionNumberRequest req;
  req.set_e164("+12035550100");
  req.set_line_type(v1::LINE_MAIN);
  req.set_nickname("Main");
  v1::Number n;
  CHECK(r.Call("", &v1::Numbers::Stub::ProvisionNumber, req, &n).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  CHECK(r.Call("tech", &v1::Numbers::Stub::ProvisionNumber, req, &n).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(r.Call("owner", &v1::Numbers::Stub::ProvisionNumber, req, &n).ok());
  CHECK(n.e164() == "+12035550100");
  CHECK(n.line_type() == v1::LINE_MAIN);
  CHECK(n.status() == v1::NUMBER_ACTIVE);
  CHECK(n.nickname() == "Main");
  CHECK(n.type() == v1::LOCAL);
  CHECK(n.area_code() == "203");
  CHECK(n.created_at().seconds() == 1790000000);

  v1::ListNumbersRequest list;
  v1::ListNumbersResponse listed;
  REQUIRE(r.Call("tech", &v1::Numbers::Stub::ListNumbers, list, &listed).ok());
  CHECK(listed.numbers_size() == 1);

  v1::ResolveNumberRequest rr;
  rr.set_e164("+12035550100");
  v1::ResolvedNumber resolved;
  CHECK(r.Call("admin", &v1::Numbers::Stub::ResolveNumber, rr, &resolved).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(r.Call("service", &v1::Numbers::Stub::ResolveNumber, rr, &resolved).ok());
  CHECK(resolved.line_id() == n.line_id());
  CHECK(resolved.company_id() == kCompany);
  CHECK_FALSE(resolved.cached());

  // A user sets their own caller ID preference; not someone else's.
  v1::SetCallerIdPreferenceRequest pref;
  pref.set_user_id("0190c5d2-0000-7000-8000-00000000aa09");
  v1::CallerIdPreference saved;
  CHECK(r.Call("tech", &v1::Numbers::Stub::SetCallerIdPreference, pref, &saved).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  pref.set_user_id(kUser);
  REQUIRE(r.Call("tech", &v1::Numbers::Stub::SetCallerIdPreference, pref, &saved).ok());
  CHECK(saved.choice() == v1::CALLER_ID_MAIN);
}

TEST_CASE("UpdateLine applies only the masked fields and names bad ones") {
  Rig r;
  v1::ProvisionNumberRequest req;
  req.set_e164("+12035550101");
  v1::Number n;
  REQUIRE(r.Call("owner", &v1::Numbers::Stub::ProvisionNumber, req, &n).ok());
  CHECK(n.line_type() == v1::LINE_DIRECT);  // unspecified = direct
  v1::UpdateLineRequest up;
  up.set_line_id(n.line_id());
  up.add_update_mask("nickname");
  up.set_nickname("Scheduling");
  up.set_caller_id_name("IGNORED");
  v1::Number out;
  REQUIRE(r.Call("admin", &v1::Numbers::Stub::UpdateLine, up, &out).ok());
  CHECK(out.nickname() == "Scheduling");
  CHECK(out.caller_id_name().empty());
  up.clear_update_mask();
  grpc::Status st = r.Call("admin", &v1::Numbers::Stub::UpdateLine, up, &out);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(absl::StartsWith(st.error_message(), "update_mask: "));
  up.add_update_mask("colour");
  st = r.Call("admin", &v1::Numbers::Stub::UpdateLine, up, &out);
  CHECK(absl::StrContains(st.error_message(), "colour"));
  up.clear_update_mask();
  up.add_update_mask("caller_id_name");
  up.set_caller_id_name("A NAME THAT IS TOO LONG");
  st = r.Call("admin", &v1::Numbers::Stub::UpdateLine, up, &out);
  CHECK(absl::StartsWith(st.error_message(), "caller_id_name: "));
  up.set_line_id("not-a-uuid");
  up.set_caller_id_name("OK");
  st = r.Call("admin", &v1::Numbers::Stub::UpdateLine, up, &out);
  CHECK(absl::StartsWith(st.error_message(), "line_id: "));
}

TEST_CASE("port requests never return their secrets") {
  Rig r;
  v1::CreatePortRequestRequest create;
  create.add_numbers("+12035559900");
  create.set_current_carrier("Frontier");
  create.set_account_number("ACCT-1");
  create.set_pin("PIN9931");
  create.set_authorized_name("Robert Smith");
  create.mutable_service_address()->set_street("1 Main St");
  create.mutable_service_address()->set_locality("New Haven");
  create.mutable_service_address()->set_region("CT");
  create.mutable_service_address()->set_postal_code("06510");
  v1::PortRequest port;
  REQUIRE(r.Call("owner", &v1::Numbers::Stub::CreatePortRequest, create, &port).ok());
  CHECK(port.status() == v1::PORT_DRAFT);
  CHECK(port.has_account_number());
  CHECK(port.has_pin());
  CHECK_FALSE(absl::StrContains(port.DebugString(), "ACCT-1"));
  CHECK_FALSE(absl::StrContains(port.DebugString(), "PIN9931"));
  CHECK(port.service_address().locality() == "New Haven");
}

}  // namespace
}  // namespace switchboard::numbers
