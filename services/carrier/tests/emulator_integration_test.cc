// Integration: TwilioProvider, TelnyxProvider and FailoverProvider against the in-process
// carrier emulator (tools/carrier-emulator) over real HTTP (CurlHttpClient, 127.0.0.1, port 0).
// Every outbound CarrierProvider operation runs against both wire formats; the emulator's
// /emulator/state is the carrier-side truth. A local libs/http Server stands in for our
// webhook listener (status callbacks, Telnyx call events).
#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/common/clock.h"
#include "libs/http/client.h"
#include "libs/http/server.h"
#include "nlohmann/json.hpp"
#include "services/carrier/failover.h"
#include "services/carrier/provider.h"
#include "services/carrier/telnyx_provider.h"
#include "services/carrier/twilio_provider.h"
#include "tools/carrier-emulator/emulator.h"

namespace switchboard::carrier {
namespace {

using nlohmann::json;

constexpr char kSid[] = "AC0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "emulator-auth-token";
constexpr char kApiKey[] = "KEYemulator";
constexpr char kConnection[] = "conn-1";
constexpr char kProfile[] = "mp-1";

struct Received {
  std::string path;
  std::string body;
};

// Our side of the webhooks: records every request, answers 200.
class Receiver {
 public:
  Receiver() {
    http::Router router;
    router.SetFallback([this](const http::Request& r) {
      absl::MutexLock lock(&mu_);
      received_.push_back({r.path, r.body});
      // Call instructions: a Gather the callee holds open (see Env), so a REST-created call
      // the emulator plays stays in progress until the test hangs it up.
      if (r.path == "/webhooks/call" || r.path == "/webhooks/next") {
        http::Response twiml = http::Response::Text(200, "<Response><Gather/></Response>");
        twiml.headers = {{"Content-Type", "text/xml"}};
        return twiml;
      }
      return http::Response::Text(200, "");
    });
    auto server = http::Server::Start({.threads = 2}, std::move(router));
    REQUIRE(server.ok());
    server_ = std::move(*server);
  }
  std::string url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }
  std::vector<Received> On(absl::string_view path) {
    absl::MutexLock lock(&mu_);
    std::vector<Received> out;
    for (const Received& r : received_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }
  // Polls with a deadline until `n` requests have arrived on `path`.
  std::vector<Received> WaitFor(absl::string_view path, size_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    std::vector<Received> got = On(path);
    while (got.size() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      got = On(path);
    }
    return got;
  }

 private:
  absl::Mutex mu_;
  std::vector<Received> received_;
  std::unique_ptr<http::Server> server_;
};

struct Env {
  Receiver receiver;
  std::unique_ptr<carrier_emulator::CarrierEmulator> emulator;
  std::unique_ptr<http::CurlHttpClient> client;
  std::string base;
  std::unique_ptr<TwilioProvider> twilio;
  std::unique_ptr<TelnyxProvider> telnyx;

  Env() {
    auto emulator_client = http::CurlHttpClient::Create();
    REQUIRE(emulator_client.ok());
    carrier_emulator::EmulatorOptions options;
    options.twilio_account_sid = kSid;
    options.twilio_auth_token = kToken;
    options.telnyx_api_key = kApiKey;
    auto created =
        carrier_emulator::CarrierEmulator::Create(options, std::move(*emulator_client));
    REQUIRE(created.ok());
    emulator = std::move(*created);
    REQUIRE(emulator->Start({.threads = 4}).ok());
    // The emulator plays REST-created calls: every callee answers and keeps the instructions'
    // Gathers open until the call is modified or hung up.
    const json hold = {{"on", "gather"}, {"hold", true}};
    REQUIRE(emulator->SetCallees({{"default", {{"actions", json::array({hold, hold, hold})}}}})
                .ok());
    base = absl::StrCat("http://127.0.0.1:", emulator->port());
    auto client_or = http::CurlHttpClient::Create();
    REQUIRE(client_or.ok());
    client = std::move(*client_or);
    twilio = MakeTwilio(kToken);
    telnyx = MakeTelnyx(kApiKey, kConnection);
  }

  std::unique_ptr<TwilioProvider> MakeTwilio(const std::string& token) {
    TwilioOptions options{.api_base_url = base, .numbers_base_url = base,
                          .timeout = absl::Seconds(5)};
    options.retry.max_attempts = 1;
    auto p = TwilioProvider::Create({.account_sid = kSid, .auth_token = token}, options, *client);
    REQUIRE(p.ok());
    return std::move(*p);
  }
  std::unique_ptr<TelnyxProvider> MakeTelnyx(const std::string& key,
                                             const std::string& connection) {
    TelnyxOptions options{.base_url = base, .timeout = absl::Seconds(5)};
    options.retry.max_attempts = 1;
    auto p = TelnyxProvider::Create(
        {.api_key = key, .connection_id = connection, .messaging_profile_id = kProfile}, options,
        *client);
    REQUIRE(p.ok());
    return std::move(*p);
  }
  CarrierProvider& Provider(const std::string& carrier) {
    if (carrier == "twilio") return *twilio;
    return *telnyx;
  }

  json State() {
    auto response = client->Send({.method = "GET", .url = base + "/emulator/state"});
    REQUIRE(response.ok());
    REQUIRE(response->status == 200);
    return json::parse(response->body);
  }
  std::vector<json> StateOf(const std::string& kind, const std::string& carrier) {
    std::vector<json> out;
    const json state = State();
    for (const json& item : state[kind]) {
      if (item["carrier"] == carrier) out.push_back(item);
    }
    return out;
  }
  std::optional<json> Number(const std::string& e164) {
    const json state = State();
    for (const json& n : state["numbers"]) {
      if (n["phone_number"] == e164) return n;
    }
    return std::nullopt;
  }
  std::optional<json> CallState(const std::string& id) {
    const json state = State();
    for (const json& c : state["calls"]) {
      if (c["id"] == id) return c;
    }
    return std::nullopt;
  }
  void AddFault(const json& fault) {
    auto response = client->Send({.method = "POST",
                                  .url = base + "/emulator/faults",
                                  .headers = {{"Content-Type", "application/json"}},
                                  .body = fault.dump()});
    REQUIRE(response.ok());
    REQUIRE(response->status == 201);
  }
};

// The status message keeps the carrier's code and never leaks a credential.
void CheckError(const absl::Status& status, absl::StatusCode code,
                const std::vector<std::string>& fragments) {
  INFO(status.ToString());
  CHECK(status.code() == code);
  for (const std::string& f : fragments) CHECK(absl::StrContains(status.message(), f));
  CHECK_FALSE(absl::StrContains(status.message(), kToken));
  CHECK_FALSE(absl::StrContains(status.message(), kApiKey));
}

bool IsWav(const std::string& bytes) {
  return bytes.size() >= 44 && bytes.compare(0, 4, "RIFF") == 0 &&
         bytes.compare(8, 4, "WAVE") == 0;
}

TEST_CASE("emulator: search numbers by area code and pattern and toll-free",
          "[emulator][numbers]") {
  Env env;
  const std::string carrier = GENERATE(as<std::string>{}, "twilio", "telnyx");
  CarrierProvider& p = env.Provider(carrier);
  INFO(carrier);

  auto local = p.SearchNumbers({.area_code = "212", .limit = 5});
  REQUIRE(local.ok());
  REQUIRE(local->size() == 5);
  for (const AvailableNumber& n : *local) CHECK(absl::StartsWith(n.e164, "+1212"));
  if (carrier == "telnyx") {
    CHECK((*local)[0].monthly_cost == "1.15");
    CHECK((*local)[0].currency == "USD");
  }
  CHECK((*local)[0].capabilities.voice);
  CHECK((*local)[0].capabilities.sms);

  auto pattern = p.SearchNumbers({.area_code = "415", .contains = "0142", .limit = 10});
  REQUIRE(pattern.ok());
  REQUIRE_FALSE(pattern->empty());
  for (const AvailableNumber& n : *pattern) {
    CHECK(absl::StartsWith(n.e164, "+1415"));
    CHECK(absl::StrContains(n.e164, "0142"));
  }

  auto toll_free = p.SearchNumbers({.type = NumberType::kTollFree, .limit = 3});
  REQUIRE(toll_free.ok());
  REQUIRE(toll_free->size() == 3);
  for (const AvailableNumber& n : *toll_free) CHECK(absl::StartsWith(n.e164, "+18"));
  if (carrier == "telnyx") CHECK((*toll_free)[0].monthly_cost == "2.15");
}

TEST_CASE("emulator: order then update then release a number", "[emulator][numbers]") {
  Env env;
  const std::string carrier = GENERATE(as<std::string>{}, "twilio", "telnyx");
  CarrierProvider& p = env.Provider(carrier);
  INFO(carrier);

  auto found = p.SearchNumbers({.area_code = "646", .limit = 1});
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  const std::string e164 = (*found)[0].e164;
  const NumberWebhooks hooks{.voice_url = env.receiver.url("/webhooks/voice"),
                             .messaging_url = env.receiver.url("/webhooks/sms"),
                             .status_callback_url = env.receiver.url("/webhooks/status")};
  auto ordered = p.OrderNumber(e164, hooks);
  REQUIRE(ordered.ok());
  CHECK(ordered->e164 == e164);
  CHECK(ordered->status == NumberState::kActive);
  auto state = env.Number(e164);
  REQUIRE(state.has_value());
  CHECK((*state)["carrier"] == carrier);
  if (carrier == "twilio") {
    CHECK(absl::StartsWith(ordered->provider_number_id, "PN"));
    CHECK((*state)["id"] == ordered->provider_number_id);
    CHECK((*state)["voice_url"] == hooks.voice_url);
    CHECK((*state)["sms_url"] == hooks.messaging_url);
    CHECK((*state)["status_callback"] == hooks.status_callback_url);
  } else {
    // Telnyx routes by Call Control connection and messaging profile (no per-number URLs).
    CHECK(ordered->provider_number_id == e164);
    CHECK_FALSE(ordered->order_id.empty());
    CHECK((*state)["connection_id"] == kConnection);
    CHECK((*state)["messaging_profile_id"] == kProfile);
  }
  // The number left the pool: ordering it again is refused.
  CheckError(p.OrderNumber(e164, hooks).status(), absl::StatusCode::kFailedPrecondition,
             {carrier == "twilio" ? "21422" : "85001"});

  const NumberWebhooks moved{.voice_url = env.receiver.url("/v2/voice"),
                             .messaging_url = env.receiver.url("/v2/sms")};
  if (carrier == "twilio") {
    REQUIRE(p.UpdateNumberWebhooks(ordered->provider_number_id, moved).ok());
    state = env.Number(e164);
    REQUIRE(state.has_value());
    CHECK((*state)["voice_url"] == moved.voice_url);
    CHECK((*state)["sms_url"] == moved.messaging_url);
    CHECK((*state)["status_callback"] == hooks.status_callback_url);  // not sent: unchanged
  } else {
    // The update re-attaches the number to the provider's connection (E.164 id resolved).
    auto other = env.MakeTelnyx(kApiKey, "conn-2");
    REQUIRE(other->UpdateNumberWebhooks(ordered->provider_number_id, moved).ok());
    state = env.Number(e164);
    REQUIRE(state.has_value());
    CHECK((*state)["connection_id"] == "conn-2");
    CHECK((*state)["messaging_profile_id"] == kProfile);
  }

  REQUIRE(p.ReleaseNumber(ordered->provider_number_id).ok());
  CHECK_FALSE(env.Number(e164).has_value());
  CHECK(p.ReleaseNumber(ordered->provider_number_id).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("emulator: create and read a port order", "[emulator][porting]") {
  Env env;
  const std::string carrier = GENERATE(as<std::string>{}, "twilio", "telnyx");
  CarrierProvider& p = env.Provider(carrier);
  INFO(carrier);

  PortOrderRequest request{.numbers = {"+13125550177", "+13125550178"},
                           .current_carrier = "Old Telco",
                           .account_number = "ACCT-1",
                           .pin = "4321",
                           .authorized_name = "Ada Lovelace",
                           .service_address = {.street = "1 Main St",
                                               .locality = "Chicago",
                                               .region = "IL",
                                               .postal_code = "60601"},
                           .desired_foc_date = "2026-12-15"};
  auto created = p.CreatePortOrder(request);
  REQUIRE(created.ok());
  CHECK_FALSE(created->id.empty());
  CHECK(created->numbers == request.numbers);
  auto read = p.GetPortOrder(created->id);
  REQUIRE(read.ok());
  CHECK(read->id == created->id);
  CHECK(read->numbers == request.numbers);
  if (carrier == "twilio") {
    CHECK(absl::StartsWith(read->id, "KW"));
    CHECK(read->provider_status == "in-review");
    CHECK(read->status == PortState::kSubmitted);
  } else {
    CHECK(read->provider_status == "draft");
    CHECK(read->status == PortState::kDraft);
  }
  const std::string missing =
      carrier == "twilio" ? "KW00000000000000000000000000000999" : "no-such-order";
  CheckError(p.GetPortOrder(missing).status(), absl::StatusCode::kNotFound,
             {carrier == "twilio" ? "20404" : "10005"});
}

TEST_CASE("emulator: place and modify and record calls", "[emulator][calls]") {
  Env env;
  const std::string carrier = GENERATE(as<std::string>{}, "twilio", "telnyx");
  CarrierProvider& p = env.Provider(carrier);
  INFO(carrier);
  const std::string instructions = env.receiver.url("/webhooks/call");

  auto placed = p.PlaceCall({.from = "+12125550100", .to = "+14155550123",
                             .instructions_url = instructions,
                             .status_callback_url =
                                 carrier == "twilio" ? env.receiver.url("/webhooks/status") : "",
                             .idempotency_key = "call-1", .timeout_s = 30});
  REQUIRE(placed.ok());
  CHECK(placed->provider == carrier);
  auto state = env.CallState(placed->call_id);
  REQUIRE(state.has_value());
  CHECK((*state)["to"] == "+14155550123");
  CHECK((*state)["from"] == "+12125550100");
  if (carrier == "telnyx") {
    CHECK_FALSE(placed->session_id.empty());
    // Call Control events are pushed to the call's webhook_url.
    auto events = env.receiver.WaitFor("/webhooks/call", 2);
    REQUIRE(events.size() >= 2);
    CHECK(absl::StrContains(events[0].body, "call.initiated"));
    CHECK(absl::StrContains(events[0].body, placed->call_id));
  }

  // Softphone identity.
  auto softphone = p.PlaceCall({.from = "+12125550100", .to = "client:alice",
                                .instructions_url = instructions});
  REQUIRE(softphone.ok());
  state = env.CallState(softphone->call_id);
  REQUIRE(state.has_value());
  CHECK((*state)["to"] == (carrier == "twilio" ? "client:alice" : "sip:alice@sip.telnyx.com"));

  // Recording: start, stop ("" = the current one), fetch WAV bytes.
  auto recording = p.StartRecording(placed->call_id, "");
  REQUIRE(recording.ok());
  REQUIRE_FALSE(recording->empty());
  REQUIRE(p.StopRecording(placed->call_id, carrier == "twilio" ? "" : *recording).ok());
  auto media = p.FetchRecording(*recording);
  REQUIRE(media.ok());
  CHECK(IsWav(media->bytes));
  CHECK(absl::StrContains(media->content_type, "wav"));

  // Redirect: Twilio fetches new TwiML; Telnyx has no such command.
  const CallModification redirect{.action = CallModification::Action::kRedirect,
                                  .redirect_url = env.receiver.url("/webhooks/next")};
  if (carrier == "twilio") {
    REQUIRE(p.ModifyCall(placed->call_id, redirect).ok());
  } else {
    CHECK(p.ModifyCall(placed->call_id, redirect).code() == absl::StatusCode::kUnimplemented);
  }

  // Hang up; a command on the ended call is a state error with the carrier's code.
  REQUIRE(p.ModifyCall(placed->call_id, {.action = CallModification::Action::kHangup,
                                         .idempotency_key = "hangup-1"})
              .ok());
  state = env.CallState(placed->call_id);
  REQUIRE(state.has_value());
  CHECK((*state)["status"] == "completed");
  CheckError(p.ModifyCall(placed->call_id, {.action = CallModification::Action::kHangup,
                                            .idempotency_key = "hangup-2"}),
             absl::StatusCode::kFailedPrecondition, {carrier == "twilio" ? "21220" : "90018"});
  CheckError(p.StartRecording(placed->call_id, "").status(), absl::StatusCode::kFailedPrecondition,
             {carrier == "twilio" ? "21220" : "90018"});

  // Unknown call.
  const std::string unknown =
      carrier == "twilio" ? "CA00000000000000000000000000000999" : "v3:no-such-call";
  CHECK(p.ModifyCall(unknown, {.action = CallModification::Action::kHangup}).code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("emulator: send a message and receive its status callbacks", "[emulator][messages]") {
  Env env;
  const std::string carrier = GENERATE(as<std::string>{}, "twilio", "telnyx");
  CarrierProvider& p = env.Provider(carrier);
  INFO(carrier);
  const std::string path = "/webhooks/sms-status";

  auto sent = p.SendMessage({.from = "+12125550100", .to = "+14155550123", .body = "hello",
                             .status_callback_url = env.receiver.url(path),
                             .idempotency_key = "msg-1"});
  REQUIRE(sent.ok());
  CHECK(sent->provider == carrier);
  CHECK_FALSE(sent->message_id.empty());
  auto messages = env.StateOf("messages", carrier);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["id"] == sent->message_id);
  CHECK(messages[0]["to"] == "+14155550123");

  auto callbacks = env.receiver.WaitFor(path, 2);
  REQUIRE(callbacks.size() == 2);
  for (const Received& r : callbacks) CHECK(absl::StrContains(r.body, sent->message_id));
  if (carrier == "twilio") {
    CHECK(absl::StrContains(callbacks[0].body, "MessageStatus=sent"));
    CHECK(absl::StrContains(callbacks[1].body, "MessageStatus=delivered"));
  } else {
    CHECK(json::parse(callbacks[0].body)["data"]["event_type"] == "message.sent");
    const json finalized = json::parse(callbacks[1].body)["data"];
    CHECK(finalized["event_type"] == "message.finalized");
    CHECK(finalized["payload"]["to"][0]["status"] == "delivered");
  }
}

TEST_CASE("emulator: carrier error bodies map to status codes", "[emulator][errors]") {
  Env env;
  const std::string carrier = GENERATE(as<std::string>{}, "twilio", "telnyx");
  CarrierProvider& p = env.Provider(carrier);
  INFO(carrier);
  const bool twilio = carrier == "twilio";

  SECTION("wrong credentials -> 401 -> kPermissionDenied") {
    std::unique_ptr<CarrierProvider> wrong;
    if (twilio) {
      wrong = env.MakeTwilio("not-the-token");
    } else {
      wrong = env.MakeTelnyx("not-the-key", kConnection);
    }
    const absl::Status status = wrong->SearchNumbers({.area_code = "212"}).status();
    CheckError(status, absl::StatusCode::kPermissionDenied,
               {twilio ? "20003" : "10009", "HTTP 401"});
    CHECK_FALSE(absl::StrContains(status.message(), "not-the-"));
  }
  SECTION("invalid To -> kInvalidArgument with the carrier code") {
    CheckError(p.PlaceCall({.from = "+12125550100", .to = "+1555",
                            .instructions_url = env.receiver.url("/webhooks/call")})
                   .status(),
               absl::StatusCode::kInvalidArgument,
               {twilio ? "21211" : "90015", twilio ? "HTTP 400" : "HTTP 422"});
    CheckError(p.SendMessage({.from = "+12125550100", .to = "+1555", .body = "x"}).status(),
               absl::StatusCode::kInvalidArgument,
               {twilio ? "21211" : "40310", twilio ? "HTTP 400" : "HTTP 422"});
    CHECK(env.StateOf("messages", carrier).empty());
  }
  SECTION("number not available -> kFailedPrecondition") {
    CheckError(p.OrderNumber("+12125559999", {}).status(), absl::StatusCode::kFailedPrecondition,
               {twilio ? "21422" : "85001", "+12125559999"});
  }
  SECTION("injected 503 -> kUnavailable") {
    env.AddFault({{"path_prefix", twilio ? "/2010-04-01/" : "/v2/"}, {"status", 503}});
    CheckError(p.SearchNumbers({.area_code = "212"}).status(), absl::StatusCode::kUnavailable,
               {twilio ? "20503" : "50300", "HTTP 503"});
  }
}

TEST_CASE("emulator: failover primary 503 sends once via the secondary and the breaker opens",
          "[emulator][failover]") {
  Env env;
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  absl::Mutex mu;
  std::vector<FailoverEvent> events;
  FailoverProvider failover(
      *env.twilio, env.telnyx.get(),
      {.breaker = {.failure_threshold = 2, .cooldown = absl::Minutes(5)}}, clock,
      [&](const FailoverEvent& e) {
        absl::MutexLock lock(&mu);
        events.push_back(e);
      });
  env.AddFault({{"method", "POST"},
                {"path_prefix", absl::StrCat("/2010-04-01/Accounts/", kSid, "/Messages.json")},
                {"status", 503},
                {"times", 0}});
  const std::string callback = env.receiver.url("/webhooks/sms-status");
  SendMessageRequest request{.from = "+12125550100", .to = "+14155550123", .body = "hi",
                             .status_callback_url = callback, .idempotency_key = "key-1"};

  auto sent = failover.SendMessage(request);
  REQUIRE(sent.ok());
  CHECK(sent->provider == "telnyx");
  auto state = env.State();
  REQUIRE(state["messages"].size() == 1);
  CHECK(state["messages"][0]["carrier"] == "telnyx");
  CHECK(state["messages"][0]["id"] == sent->message_id);
  {
    absl::MutexLock lock(&mu);
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == FailoverEvent::Type::kFailover);
    CHECK(events[0].operation == "send_message");
    CHECK(events[0].from_provider == "twilio");
    CHECK(events[0].to_provider == "telnyx");
    CHECK(events[0].cause.code() == absl::StatusCode::kUnavailable);
    CHECK(absl::StrContains(events[0].cause.message(), "20503"));
  }

  // Same idempotency key: the first result, nothing sent anywhere.
  auto again = failover.SendMessage(request);
  REQUIRE(again.ok());
  CHECK(again->message_id == sent->message_id);
  CHECK(env.State()["messages"].size() == 1);
  CHECK(failover.primary_breaker_state() == BreakerState::kClosed);

  // A second primary failure opens the breaker (threshold 2).
  request.idempotency_key = "key-2";
  auto second = failover.SendMessage(request);
  REQUIRE(second.ok());
  CHECK(second->provider == "telnyx");
  CHECK(failover.primary_breaker_state() == BreakerState::kOpen);

  // While open the primary is skipped: the secondary sends, the cause is the open circuit.
  env.emulator->ClearFaults();
  request.idempotency_key = "key-3";
  auto third = failover.SendMessage(request);
  REQUIRE(third.ok());
  CHECK(third->provider == "telnyx");
  CHECK(env.StateOf("messages", "twilio").empty());
  CHECK(env.StateOf("messages", "telnyx").size() == 3);
  {
    absl::MutexLock lock(&mu);
    bool opened = false;
    for (const FailoverEvent& e : events) {
      opened = opened || (e.type == FailoverEvent::Type::kBreakerOpened &&
                          e.from_provider == "twilio");
    }
    CHECK(opened);
    REQUIRE_FALSE(events.empty());
    CHECK(events.back().type == FailoverEvent::Type::kFailover);
    CHECK(absl::StrContains(events.back().cause.message(), "circuit open"));
  }

  // After the cooldown the half-open trial reaches the (recovered) primary and closes it.
  clock.Advance(absl::Minutes(6));
  request.idempotency_key = "key-4";
  auto fourth = failover.SendMessage(request);
  REQUIRE(fourth.ok());
  CHECK(fourth->provider == "twilio");
  CHECK(failover.primary_breaker_state() == BreakerState::kClosed);
  CHECK(env.StateOf("messages", "twilio").size() == 1);

  // Every message's status callbacks reached us (3 via Telnyx, 1 via Twilio, 2 each).
  CHECK(env.receiver.WaitFor("/webhooks/sms-status", 8).size() == 8);
}

}  // namespace
}  // namespace switchboard::carrier
