// Call control on live calls (issue 5) across the services as deployed: identity, numbers,
// routing (PlaceCall, asking the carrier to place the call), carrier (placing it, then asking
// routing.HandleCallEvent for every event of the new call) and the carrier emulator, each a
// process configured through the environment. One company per wire format (a Twilio-wire and a
// Telnyx-wire EMULATOR account), seeded through the APIs: people, carrier account, a main line,
// Mike's direct line, and the Powers Electric routing (routing-seed).
//
// Click-to-call: Mike (a tech) places a call to a customer; the emulator rings Mike's forward-to
// phone first (the call's first webhook may reach routing before PlaceCall returned: the call is
// stored before it is placed and recognised by the client state the carrier carries), then,
// once Mike answers, the customer with the chosen business caller ID (Twilio: the main line,
// Telnyx: Mike's direct line). Checked: the emulator's steps, the outbound call log row and its
// calls.v1 events; a customer who does not answer (missed, the user hears why); RBAC and bad
// input over gRPC.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/random.h"
#include "libs/grpc/principal.h"
#include "libs/http/client.h"
#include "libs/http/url.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard {
namespace {

namespace cv1 = switchboard::carrier::v1;
namespace iv1 = switchboard::identity::v1;
namespace nv1 = switchboard::numbers::v1;
namespace rv1 = switchboard::routing::v1;
namespace ev1 = switchboard::events::v1;
using json = nlohmann::json;
using EnvList = std::vector<std::pair<std::string, std::string>>;

constexpr char kTwilioSid[] = "AC0e2e000000000000000000000000ctrl";
constexpr char kTwilioToken[] = "e2e-call-control-twilio-auth-token";
constexpr char kTelnyxKey[] = "KEYe2e-call-control-telnyx-api-key";
constexpr char kPassword[] = "correct horse battery staple";

std::string EnvOr(const char* name) { return testing::Env(name).value_or(""); }

std::string Tail(const std::string& s, size_t n = 12000) {
  return s.size() <= n ? s : s.substr(s.size() - n);
}

// A port that was free a moment ago (the carrier must know routing's address before routing
// binds it). Another process could take it in between; routing would then fail to start and
// the test would say so.
int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<testing::ServiceProcess> Start(const char* binary, EnvList env) {
  auto process = testing::ServiceProcess::Start({.binary = binary, .env = std::move(env)});
  REQUIRE(process.ok());
  return std::move(*process);
}

std::string LogField(testing::ServiceProcess& process, absl::string_view line,
                     absl::string_view field) {
  absl::StatusOr<std::string> logged = process.WaitForLogLine(line, absl::Seconds(90));
  INFO(Tail(process.Output()));
  REQUIRE(logged.ok());
  absl::StatusOr<std::string> value = testing::JsonLogField(*logged, field);
  REQUIRE(value.ok());
  return *value;
}

template <typename Stub, typename Method, typename Request, typename Response>
grpc::Status Rpc(Stub& stub, Method method, const rpc::Principal& who, const Request& request,
                 Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!who.company_id.empty()) rpc::AttachPrincipal(ctx, who);
  return (stub.*method)(&ctx, request, response);
}

void RequireOk(const grpc::Status& status, const std::string& what) {
  INFO(what << ": " << status.error_message());
  REQUIRE(status.ok());
}

// Dial (Twilio) / transfer (Telnyx) steps, in order.
std::vector<json> DialSteps(const json& steps) {
  std::vector<json> dials;
  for (const json& s : steps) {
    const std::string verb = s.value("verb", "");
    if (verb == "Dial" || verb == "transfer") dials.push_back(s);
  }
  return dials;
}

// Every Say / speak text, in order.
std::vector<std::string> Spoken(const json& steps) {
  std::vector<std::string> out;
  for (const json& s : steps) {
    const std::string verb = s.value("verb", "");
    if (verb == "Say" || verb == "speak") {
      const json& d = s["details"];
      out.push_back(d.value("text", d.value("payload", "")));
    }
  }
  return out;
}

std::string PathText(const rv1::CallRecord& row) {
  std::string out;
  for (const rv1::PathEntry& p : row.path()) {
    absl::StrAppend(&out, rv1::PathKind_Name(p.kind()), " [", p.text(), "] ");
  }
  return out;
}

std::string CallIdOf(const ev1::Event& e) {
  switch (e.payload_case()) {
    case ev1::Event::kCallStarted: return e.call_started().call_id();
    case ev1::Event::kCallRouted: return e.call_routed().call_id();
    case ev1::Event::kCallRinging: return e.call_ringing().call_id();
    case ev1::Event::kCallAnswered: return e.call_answered().call_id();
    case ev1::Event::kCallMissed: return e.call_missed().call_id();
    case ev1::Event::kVoicemailLeft: return e.voicemail_left().call_id();
    case ev1::Event::kCallEnded: return e.call_ended().call_id();
    default: return "";
  }
}

struct Tenant {
  std::string carrier;  // "twilio" | "telnyx"
  std::string company;
  rpc::Principal owner;
  std::string robert, sarah, mike, jake, tyler;
  std::map<std::string, std::string> forward;  // user id -> forward-to E.164
  std::string main_number;
  std::string mike_line;  // Mike's direct line
};

// What a click-to-call expects, checked on its events once every call ran.
struct Expected {
  const Tenant* tenant = nullptr;
  std::string call_id;
  std::string from;  // the caller ID
  std::string to;    // the customer
  std::string ended_status;
  std::string answered_by;  // "" = nobody
};

TEST_CASE("click-to-call through the emulator on Twilio and Telnyx", "[e2e][routing][control]") {
  auto id_schema = testing::PgTestSchema::CreateOrFail();
  auto nb_schema = testing::PgTestSchema::CreateOrFail();
  auto rt_schema = testing::PgTestSchema::CreateOrFail();
  auto cr_schema = testing::PgTestSchema::CreateOrFail();
  auto id_topic = testing::KafkaTestTopic::CreateOrFail();
  auto nb_topic = testing::KafkaTestTopic::CreateOrFail();
  auto cr_topic = testing::KafkaTestTopic::CreateOrFail();
  auto calls_topic = testing::KafkaTestTopic::CreateOrFail();
  auto web = testing::ValueOrFail(http::CurlHttpClient::Create(), "curl");

  const int webhook_port = FreeLoopbackPort();
  const int routing_port = FreeLoopbackPort();
  const std::string public_base = absl::StrCat("http://127.0.0.1:", webhook_port);
  const std::string routing_address = absl::StrCat("127.0.0.1:", routing_port);

  // --- processes -------------------------------------------------------------------------
  auto emulator = Start(SB_CARRIER_EMULATOR_BINARY,
                        {{"CARRIER_EMULATOR_LISTEN_ADDRESS", "127.0.0.1"},
                         {"CARRIER_EMULATOR_PORT", "0"},
                         {"CARRIER_EMULATOR_TWILIO_ACCOUNT_SID", kTwilioSid},
                         {"CARRIER_EMULATOR_TWILIO_AUTH_TOKEN", kTwilioToken},
                         {"CARRIER_EMULATOR_TELNYX_API_KEY", kTelnyxKey},
                         {"CARRIER_EMULATOR_WEBHOOK_BASE_URL", public_base},
                         {"CARRIER_EMULATOR_WEBHOOK_TIMEOUT_MS", "15000"},
                         {"CARRIER_EMULATOR_SCENARIO_TIMEOUT_MS", "60000"}});
  const std::string emulator_url =
      absl::StrCat("http://127.0.0.1:", LogField(*emulator, "emulator listening", "port"));

  auto identity = Start(SB_IDENTITY_BINARY,
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
                         {"IDENTITY_DRAIN_DELAY", "100ms"},
                         {"IDENTITY_SHUTDOWN_GRACE", "1s"}});
  const std::string identity_address =
      absl::StrCat("127.0.0.1:", LogField(*identity, "identity serving", "grpc_port"));

  auto carrier = Start(SB_CARRIER_BINARY,
                       {{"CARRIER_GRPC_ADDRESS", "127.0.0.1:0"},
                        {"CARRIER_ADMIN_ADDRESS", "127.0.0.1"},
                        {"CARRIER_ADMIN_PORT", "0"},
                        {"CARRIER_WEBHOOK_ADDRESS", absl::StrCat("127.0.0.1:", webhook_port)},
                        {"CARRIER_PUBLIC_BASE_URL", public_base},
                        {"CARRIER_PG_DSN", EnvOr("SB_PG_DSN")},
                        {"CARRIER_PG_SCHEMA", cr_schema->schema()},
                        {"CARRIER_KAFKA_BROKERS", EnvOr("SB_KAFKA_BROKERS")},
                        {"CARRIER_EVENTS_TOPIC", cr_topic->name()},
                        {"CARRIER_KEY_ENCRYPTION_KEY",
                         crypto::Base64Encode(crypto::RandomBytes(32))},
                        {"CARRIER_EMULATOR_URL", emulator_url},
                        {"CARRIER_ROUTING_ADDRESS", routing_address},
                        {"CARRIER_ROUTING_DEADLINE", "8s"},
                        {"CARRIER_DRAIN_DELAY", "100ms"},
                        {"CARRIER_SHUTDOWN_GRACE", "1s"}});
  const std::string carrier_address =
      absl::StrCat("127.0.0.1:", LogField(*carrier, "carrier serving", "grpc_port"));

  auto numbers = Start(SB_NUMBERS_BINARY,
                       {{"NUMBERS_GRPC_ADDRESS", "127.0.0.1:0"},
                        {"NUMBERS_ADMIN_ADDRESS", "127.0.0.1"},
                        {"NUMBERS_ADMIN_PORT", "0"},
                        {"NUMBERS_PG_DSN", EnvOr("SB_PG_DSN")},
                        {"NUMBERS_PG_SCHEMA", nb_schema->schema()},
                        {"NUMBERS_REDIS_URL", EnvOr("SB_REDIS_URL")},
                        {"NUMBERS_REDIS_KEY_PREFIX",
                         absl::StrCat("e2e-", testing::RandomSuffix(), ":")},
                        {"NUMBERS_KAFKA_BROKERS", EnvOr("SB_KAFKA_BROKERS")},
                        {"NUMBERS_EVENTS_TOPIC", nb_topic->name()},
                        {"NUMBERS_IDENTITY_TOPIC", id_topic->name()},
                        {"NUMBERS_CARRIER_TOPIC", cr_topic->name()},
                        {"NUMBERS_CONSUMER_GROUP", nb_topic->UniqueGroupId()},
                        {"NUMBERS_CARRIER_ADDRESS", carrier_address},
                        {"NUMBERS_IDENTITY_ADDRESS", identity_address},
                        {"NUMBERS_KEY_ENCRYPTION_KEY",
                         crypto::Base64Encode(crypto::RandomBytes(32))},
                        {"NUMBERS_DRAIN_DELAY", "100ms"},
                        {"NUMBERS_SHUTDOWN_GRACE", "1s"}});
  const std::string numbers_address =
      absl::StrCat("127.0.0.1:", LogField(*numbers, "numbers serving", "grpc_port"));

  auto routing = Start(SB_ROUTING_BINARY,
                       {{"ROUTING_GRPC_ADDRESS", routing_address},
                        {"ROUTING_ADMIN_ADDRESS", "127.0.0.1"},
                        {"ROUTING_ADMIN_PORT", "0"},
                        {"ROUTING_PG_DSN", EnvOr("SB_PG_DSN")},
                        {"ROUTING_PG_SCHEMA", rt_schema->schema()},
                        {"ROUTING_REDIS_URL", EnvOr("SB_REDIS_URL")},
                        {"ROUTING_REDIS_KEY_PREFIX",
                         absl::StrCat("e2e-", testing::RandomSuffix(), ":")},
                        {"ROUTING_KAFKA_BROKERS", EnvOr("SB_KAFKA_BROKERS")},
                        {"ROUTING_EVENTS_TOPIC", calls_topic->name()},
                        {"ROUTING_IDENTITY_TOPIC", id_topic->name()},
                        {"ROUTING_IDENTITY_ADDRESS", identity_address},
                        {"ROUTING_NUMBERS_ADDRESS", numbers_address},
                        {"ROUTING_CARRIER_ADDRESS", carrier_address},
                        {"ROUTING_PEER_TIMEOUT", "5s"},
                        {"ROUTING_DIRECTORY_CACHE_TTL", "60s"},
                        {"ROUTING_CONFIG_CACHE_TTL", "60s"},
                        {"ROUTING_DRAIN_DELAY", "100ms"},
                        {"ROUTING_SHUTDOWN_GRACE", "1s"}});
  CHECK(LogField(*routing, "routing serving", "grpc_port") == std::to_string(routing_port));

  auto channel = [](const std::string& address) {
    auto c = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    REQUIRE(testing::WaitUntilServing(c, absl::Seconds(30)).ok());
    return c;
  };
  auto identity_stub = iv1::Identity::NewStub(channel(identity_address));
  auto carrier_stub = cv1::Carrier::NewStub(channel(carrier_address));
  auto numbers_stub = nv1::Numbers::NewStub(channel(numbers_address));
  auto routing_stub = rv1::Routing::NewStub(channel(routing_address));

  absl::StatusOr<http::HttpResponse> info = web->Send({.url = emulator_url + "/emulator/info"});
  REQUIRE(info.ok());
  const std::string telnyx_public_key =
      json::parse(info->body, nullptr, false).value("telnyx_public_key", "");
  REQUIRE_FALSE(telnyx_public_key.empty());

  // --- seeding through the APIs ----------------------------------------------------------
  auto provision = [&](const Tenant& t, const std::string& area_code, nv1::LineType type,
                       int pick) {
    nv1::SearchNumbersRequest search;
    search.set_area_code(area_code);
    search.set_limit(5);
    nv1::SearchNumbersResponse found;
    RequireOk(Rpc(*numbers_stub, &nv1::Numbers::Stub::SearchNumbers, t.owner, search, &found),
              "numbers SearchNumbers");
    REQUIRE(found.numbers_size() > pick);
    nv1::ProvisionNumberRequest req;
    req.set_e164(found.numbers(pick).e164());
    req.set_line_type(type);
    nv1::Number number;
    RequireOk(Rpc(*numbers_stub, &nv1::Numbers::Stub::ProvisionNumber, t.owner, req, &number),
              "numbers ProvisionNumber");
    REQUIRE(number.status() == nv1::NUMBER_ACTIVE);
    return number;
  };
  auto seed = [&](const std::string& wire, const std::string& area_code,
                  const std::string& forward_prefix) {
    Tenant t;
    t.carrier = wire;
    iv1::CreateCompanyRequest create;
    create.set_name(absl::StrCat("Powers Electric (", wire, ", call control)"));
    create.set_time_zone("America/New_York");
    create.set_plan(iv1::PLAN_BUSINESS);
    create.set_owner_email(absl::StrCat("robert-", NewUuidV7(), "@powers.test"));
    create.set_owner_full_name("Robert Smith");
    create.set_owner_password(kPassword);
    create.set_owner_forward_to(forward_prefix + "1");
    iv1::CreateCompanyResponse company;
    RequireOk(Rpc(*identity_stub, &iv1::Identity::Stub::CreateCompany, rpc::Principal{}, create,
                  &company),
              "CreateCompany");
    t.company = company.company().id();
    t.robert = company.owner().id();
    t.forward[t.robert] = forward_prefix + "1";
    t.owner = rpc::Principal{.company_id = t.company, .user_id = t.robert, .role = "owner"};
    const std::pair<const char*, std::string*> people[] = {{"Sarah Johnson", &t.sarah},
                                                           {"Mike Torres", &t.mike},
                                                           {"Jake Williams", &t.jake},
                                                           {"Tyler Chen", &t.tyler}};
    int n = 2;
    for (const auto& [name, id] : people) {
      iv1::InviteUserRequest invite;
      invite.set_email(absl::StrCat("u", n, "-", NewUuidV7(), "@powers.test"));
      invite.set_full_name(name);
      invite.set_role(n == 2 ? iv1::ROLE_OFFICE : iv1::ROLE_TECH);
      invite.set_forward_to(absl::StrCat(forward_prefix, n));
      iv1::InviteUserResponse invited;
      RequireOk(Rpc(*identity_stub, &iv1::Identity::Stub::InviteUser, t.owner, invite, &invited),
                "InviteUser");
      *id = invited.user().id();
      t.forward[*id] = absl::StrCat(forward_prefix, n);
      iv1::AcceptInvitationRequest accept;
      accept.set_invitation_token(invited.invitation_token());
      accept.set_password(kPassword);
      iv1::AcceptInvitationResponse accepted;
      RequireOk(Rpc(*identity_stub, &iv1::Identity::Stub::AcceptInvitation, rpc::Principal{},
                    accept, &accepted),
                "AcceptInvitation");
      ++n;
    }

    cv1::SetCarrierAccountRequest account;
    account.mutable_primary()->set_provider(cv1::EMULATOR);
    if (wire == "twilio") {
      account.mutable_primary()->mutable_twilio()->set_account_sid(kTwilioSid);
      account.mutable_primary()->mutable_twilio()->set_auth_token(kTwilioToken);
    } else {
      auto* telnyx = account.mutable_primary()->mutable_telnyx();
      telnyx->set_api_key(kTelnyxKey);
      telnyx->set_public_key(telnyx_public_key);
      telnyx->set_connection_id("1494404757140276706");
    }
    cv1::CarrierAccount saved_account;
    RequireOk(Rpc(*carrier_stub, &cv1::Carrier::Stub::SetCarrierAccount, t.owner, account,
                  &saved_account),
              "SetCarrierAccount");

    t.main_number = provision(t, area_code, nv1::LINE_MAIN, 0).e164();
    nv1::Number direct = provision(t, area_code, nv1::LINE_DIRECT, 1);
    nv1::AssignLineRequest assign;
    assign.set_line_id(direct.line_id());
    assign.set_user_id(t.mike);
    nv1::Number assigned;
    RequireOk(Rpc(*numbers_stub, &nv1::Numbers::Stub::AssignLine, t.owner, assign, &assigned),
              "numbers AssignLine");
    t.mike_line = direct.e164();

    auto seeder = testing::ServiceProcess::Start(
        {.binary = SB_ROUTING_SEED_BINARY,
         .args = {"--routing=" + routing_address, "--numbers=" + numbers_address,
                  "--company_id=" + t.company, "--owner_id=" + t.robert, "--robert=" + t.robert,
                  "--sarah=" + t.sarah, "--mike=" + t.mike, "--jake=" + t.jake,
                  "--tyler=" + t.tyler, "--main_number=" + t.main_number}});
    REQUIRE(seeder.ok());
    absl::StatusOr<int> code = (*seeder)->WaitForExit(absl::Seconds(60));
    INFO((*seeder)->Output());
    REQUIRE(code.ok());
    REQUIRE(*code == 0);
    return t;
  };
  std::vector<Tenant> tenants;
  tenants.reserve(2);
  tenants.push_back(seed("twilio", "415", "+1917555870"));
  tenants.push_back(seed("telnyx", "646", "+1917555860"));

  // The far ends: each customer number behaves as configured.
  auto callees = [&](const json& config) {
    absl::StatusOr<http::HttpResponse> r =
        web->Send({.method = "POST",
                   .url = emulator_url + "/emulator/callees",
                   .headers = {{"Content-Type", "application/json"}},
                   .body = config.dump()});
    REQUIRE(r.ok());
    INFO(r->body);
    REQUIRE(r->status == 200);
  };
  // The emulator's record of a carrier call once it is done.
  auto emulated = [&](const std::string& carrier_call_id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    json result;
    while (true) {
      absl::StatusOr<http::HttpResponse> r = web->Send(
          {.url = absl::StrCat(emulator_url, "/emulator/calls/",
                               http::PercentEncode(carrier_call_id))});
      REQUIRE(r.ok());
      if (r->status == 200) {
        result = json::parse(r->body, nullptr, false);
        if (result.is_object() && result.value("done", false)) break;
      }
      if (absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(100));  // polling interval, bounded by the deadline
    }
    INFO("emulator: " << result.dump());
    REQUIRE(result.is_object());
    REQUIRE(result.value("done", false));
    return result;
  };
  // Routing's call log row once it has `want` (or whatever it has after 30 s).
  auto logged = [&](const Tenant& t, const std::string& call_id, rv1::CallStatus want) {
    rv1::GetCallRequest get;
    get.set_call_id(call_id);
    rv1::CallRecord row;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (true) {
      row.Clear();
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::GetCall, t.owner, get, &row), "GetCall");
      if (row.status() == want || absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(100));  // polling interval, bounded by the deadline
    }
    return row;
  };

  std::vector<Expected> expected;
  int customer_seq = 0;
  for (const Tenant& t : tenants) {
    INFO(t.carrier);
    const bool twilio = t.carrier == "twilio";
    const rpc::Principal mike{.company_id = t.company, .user_id = t.mike, .role = "tech"};
    const std::string& mike_fwd = t.forward.at(t.mike);
    const std::string caller_id = twilio ? t.main_number : t.mike_line;

    // Bad input and RBAC over gRPC.
    {
      rv1::PlaceCallRequest req;
      req.set_user_id(t.robert);
      req.set_to("+13125550100");
      rv1::PlaceCallResponse resp;
      grpc::Status denied = Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, mike, req, &resp);
      CHECK(denied.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      req.set_user_id(t.mike);
      req.set_to("555-0100");
      grpc::Status bad = Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, mike, req, &resp);
      CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(bad.error_message(), "to:"));
      req.set_to("+13125550100");
      req.set_user_id("no-such-user");
      grpc::Status unknown =
          Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, t.owner, req, &resp);
      CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
    }

    // 1. Mike calls a customer, who answers.
    {
      const std::string customer = absl::StrCat("+1312555", 3100 + customer_seq++);
      callees({{mike_fwd, {{"answer_after_s", 1}}},
               {customer, {{"answer_after_s", 2}, {"talk_s", 8}}}});
      rv1::PlaceCallRequest req;
      req.set_to(customer);
      req.set_caller_id(twilio ? rv1::CALLER_ID_MAIN_LINE : rv1::CALLER_ID_DIRECT_LINE);
      rv1::PlaceCallResponse placed;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, mike, req, &placed),
                "PlaceCall");
      CHECK(placed.caller_id() == caller_id);
      CHECK(placed.device() == mike_fwd);  // no softphone connected: the forward-to phone
      REQUIRE_FALSE(placed.carrier_call_id().empty());
      json r = emulated(placed.carrier_call_id());
      rv1::CallRecord row = logged(t, placed.call_id(), rv1::COMPLETED);
      INFO("steps: " << r["steps"].dump() << "\npath: " << PathText(row));
      INFO("routing log: " << Tail(routing->Output()));
      INFO("carrier log: " << Tail(carrier->Output()));
      CHECK(r.value("to", "") == mike_fwd);
      std::vector<std::string> spoken = Spoken(r["steps"]);
      CHECK(std::find(spoken.begin(), spoken.end(), "Connecting your call.") != spoken.end());
      std::vector<json> dials = DialSteps(r["steps"]);
      REQUIRE(dials.size() == 1);
      CHECK(absl::StrContains(dials[0].dump(), customer));
      // The customer sees the business caller ID (Twilio <Dial callerId>, Telnyx transfer from).
      CHECK(dials[0]["details"].value(twilio ? "callerId" : "from", "") == caller_id);
      CHECK(dials[0].value("outcome", "") == "completed");
      CHECK(row.direction() == rv1::DIRECTION_OUTBOUND);
      CHECK(row.status() == rv1::COMPLETED);
      CHECK(row.from() == caller_id);
      CHECK(row.to() == customer);
      CHECK(row.answered_by() == customer);
      CHECK(row.flow_id() == "outbound");
      CHECK(row.has_answered_at());
      CHECK(row.has_ended_at());
      CHECK_FALSE(absl::StartsWith(row.call_key(), "pending:"));
      if (twilio) CHECK(row.call_key() == placed.carrier_call_id());
      CHECK(std::find(row.user_ids().begin(), row.user_ids().end(), t.mike) !=
            row.user_ids().end());
      // Mike sees his own call in his history.
      rv1::ListCallsRequest mine;
      mine.set_direction(rv1::DIRECTION_OUTBOUND);
      rv1::ListCallsResponse listed;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::ListCalls, mike, mine, &listed),
                "ListCalls (Mike)");
      bool found = false;
      for (const rv1::CallRecord& c : listed.calls()) found = found || c.id() == row.id();
      CHECK(found);
      expected.push_back(Expected{.tenant = &t, .call_id = placed.call_id(), .from = caller_id,
                                  .to = customer, .ended_status = "completed",
                                  .answered_by = customer});
    }

    // 2. The customer does not answer: Mike hears why; missed.
    {
      const std::string customer = absl::StrCat("+1312555", 3100 + customer_seq++);
      callees({{mike_fwd, {{"answer_after_s", 1}}}, {customer, "no-answer"}});
      rv1::PlaceCallRequest req;
      req.set_user_id(t.mike);
      req.set_to(customer);
      rv1::PlaceCallResponse placed;
      RequireOk(Rpc(*routing_stub, &rv1::Routing::Stub::PlaceCall, t.owner, req, &placed),
                "PlaceCall (owner for Mike)");
      CHECK(placed.caller_id() == t.main_number);
      json r = emulated(placed.carrier_call_id());
      rv1::CallRecord row = logged(t, placed.call_id(), rv1::MISSED);
      INFO("steps: " << r["steps"].dump() << "\npath: " << PathText(row));
      INFO("routing log: " << Tail(routing->Output()));
      std::vector<json> dials = DialSteps(r["steps"]);
      REQUIRE(dials.size() == 1);
      CHECK(dials[0].value("outcome", "") == "no-answer");
      std::vector<std::string> spoken = Spoken(r["steps"]);
      CHECK(std::find(spoken.begin(), spoken.end(),
                      "The call could not be connected: no answer. Goodbye.") != spoken.end());
      CHECK(row.status() == rv1::MISSED);
      CHECK(row.answered_by().empty());
      expected.push_back(Expected{.tenant = &t, .call_id = placed.call_id(),
                                  .from = t.main_number, .to = customer,
                                  .ended_status = "missed"});
    }
  }

  // --- calls.v1: each call's events ------------------------------------------------------
  {
    std::map<std::string, std::vector<ev1::Event>> by_call;
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    size_t want = expected.size() * 4;
    while (true) {
      auto records = calls_topic->ReadAll(calls_topic->name(),
                                          std::max(deadline - absl::Now(), absl::Seconds(1)), want);
      REQUIRE(records.ok());
      by_call.clear();
      for (const auto& r : *records) {
        ev1::Event ev;
        REQUIRE(ev.ParseFromString(r.value));
        const std::string id = CallIdOf(ev);
        if (!id.empty()) by_call[id].push_back(ev);
      }
      bool all_ended = true;
      for (const Expected& e : expected) {
        bool ended = false;
        for (const ev1::Event& ev : by_call[e.call_id]) ended = ended || ev.has_call_ended();
        all_ended = all_ended && ended;
      }
      if (all_ended || absl::Now() >= deadline) break;
      want = records->size() + 1;
    }
    for (const Expected& e : expected) {
      INFO(e.tenant->carrier << " call " << e.call_id << " to " << e.to);
      const std::vector<ev1::Event>& events = by_call[e.call_id];
      const ev1::Event* started = nullptr;
      const ev1::Event* answered = nullptr;
      const ev1::Event* ended = nullptr;
      bool rang_mike = false;
      for (const ev1::Event& ev : events) {
        CHECK(ev.company_id() == e.tenant->company);
        if (ev.has_call_started()) started = &ev;
        if (ev.has_call_answered()) answered = &ev;
        if (ev.has_call_ended()) {
          CHECK(ended == nullptr);  // exactly one
          ended = &ev;
        }
        if (ev.has_call_ringing()) {
          for (const std::string& u : ev.call_ringing().user_ids()) {
            rang_mike = rang_mike || u == e.tenant->mike;
          }
        }
      }
      REQUIRE(started != nullptr);
      CHECK(started->call_started().direction() == "outbound");
      CHECK(started->call_started().from() == e.from);
      CHECK(started->call_started().to() == e.to);
      CHECK(rang_mike);
      REQUIRE(ended != nullptr);
      CHECK(ended->call_ended().status() == e.ended_status);
      CHECK(ended->call_ended().answered_by() == e.answered_by);
      if (e.answered_by.empty()) {
        CHECK(answered == nullptr);
      } else {
        REQUIRE(answered != nullptr);
        CHECK(answered->call_answered().answered_by() == e.answered_by);
      }
    }
  }

  for (auto* p : {carrier.get(), routing.get(), numbers.get(), identity.get(), emulator.get()}) {
    absl::StatusOr<int> code = p->SignalAndWait(SIGTERM, absl::Seconds(30));
    REQUIRE(code.ok());
    CHECK(*code == 0);
  }
  CHECK_FALSE(absl::StrContains(carrier->Output(), kTwilioToken));
  CHECK_FALSE(absl::StrContains(carrier->Output(), kTelnyxKey));
}

}  // namespace
}  // namespace switchboard
