// Unit tests of the carrier service's core and webhook listener over an in-memory store, with
// FakeHttpServer standing in for Twilio and Telnyx.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "services/carrier/tests/fake_store.h"
#include "services/carrier/tests/service_test_support.h"
#include "services/carrier/twiml.h"

namespace switchboard::carrier {
namespace {

using testing::FakeStore;
using testing::ServiceHarness;

constexpr char kCompanyA[] = "0190c5d2-0000-7000-8000-00000000000a";
constexpr char kCompanyB[] = "0190c5d2-0000-7000-8000-00000000000b";
constexpr char kNumberA[] = "+15550002222";
constexpr char kNumberB[] = "+15550003333";

void WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  REQUIRE(done());
}

TEST_CASE("SetCarrierAccount validates, seals and never returns secrets", "[carrier][core]") {
  FakeStore store;
  ServiceHarness h(store);
  h.Start();

  auto missing = h.core().SetCarrierAccount(kCompanyA, AccountSettings{});
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(missing.status().message(), "primary.provider"));

  ProviderConfig bad = h.TwilioConfig();
  bad.twilio.auth_token = "";
  auto no_token = h.core().SetCarrierAccount(kCompanyA, AccountSettings{.primary = bad});
  CHECK(no_token.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(no_token.status().message(), "primary.twilio."));

  ProviderConfig telnyx = h.TelnyxConfig();
  telnyx.telnyx.public_key = "";
  auto no_key = h.core().SetCarrierAccount(
      kCompanyA, AccountSettings{.primary = h.TwilioConfig(), .secondary = telnyx});
  CHECK(no_key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(no_key.status().message(), "secondary.telnyx.public_key"));

  ProviderConfig emulator = h.TwilioConfig();
  emulator.provider = Provider::kEmulator;
  auto no_emulator = h.core().SetCarrierAccount(kCompanyA, AccountSettings{.primary = emulator});
  CHECK(no_emulator.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(no_emulator.status().message(), "emulator_url"));

  auto set = h.core().SetCarrierAccount(
      kCompanyA, AccountSettings{.primary = h.TwilioConfig(), .secondary = h.TelnyxConfig()});
  REQUIRE(set.ok());
  CHECK(set->primary_provider == Provider::kTwilio);
  CHECK(set->primary_account_id == testing::kTwilioSid);
  CHECK(set->secondary_provider == Provider::kTelnyx);
  CHECK(set->secondary_account_id == "conn-1");

  auto row = store.GetAccount(kCompanyA);
  REQUIRE(row.ok());
  CHECK_FALSE(absl::StrContains(row->sealed_credentials, testing::kTwilioToken));
  CHECK_FALSE(absl::StrContains(row->sealed_credentials, testing::kTelnyxKey));
  // Sealed under the company id: another company's aad does not open it.
  CHECK_FALSE(OpenSettings(std::string(32, 'k'), kCompanyB, *row).ok());
  auto opened = OpenSettings(std::string(32, 'k'), kCompanyA, *row);
  REQUIRE(opened.ok());
  CHECK(opened->primary.twilio.auth_token == testing::kTwilioToken);

  CHECK(h.core().GetCarrierAccount(kCompanyB).status().code() == absl::StatusCode::kNotFound);
  CHECK(h.core().SearchNumbers(kCompanyB, NumberSearch{}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("Objects of other companies are NOT_FOUND", "[carrier][core]") {
  FakeStore store;
  ServiceHarness h(store);
  h.twilio.On("POST", testing::kTwilioAccountPath + "/IncomingPhoneNumbers.json",
              {{201, R"({"sid":"PN0123","phone_number":"+15550003333","status":"in-use"})"}});
  h.twilio.On("POST", testing::kTwilioAccountPath + "/Calls.json",
              {{201, R"({"sid":"CA0001","status":"queued"})"}});
  h.Start();
  REQUIRE(h.core().SetCarrierAccount(kCompanyA, {.primary = h.TwilioConfig()}).ok());
  REQUIRE(h.core().SetCarrierAccount(kCompanyB, {.primary = h.TwilioConfig()}).ok());

  auto ordered = h.core().OrderNumber(kCompanyB, kNumberB, NumberWebhooks{});
  REQUIRE(ordered.ok());
  CHECK(ordered->first.provider_number_id == "PN0123");
  // Our listener's URLs were set on the number.
  const http::Params form = http::ParseForm(h.twilio.last().body);
  CHECK(testing::Field(form, "VoiceUrl") == std::string(testing::kPublicBase) +
                                                "/webhooks/twilio/voice");
  CHECK(testing::Field(form, "SmsUrl") == std::string(testing::kPublicBase) +
                                              "/webhooks/twilio/sms");

  CHECK(h.core().ReleaseNumber(kCompanyA, kNumberB).code() == absl::StatusCode::kNotFound);
  CHECK(h.core().UpdateNumberWebhooks(kCompanyA, kNumberB, {}).code() ==
        absl::StatusCode::kNotFound);
  CHECK(h.core().SetStaticInstructions(kCompanyA, kNumberB, testing::GreetingInstructions())
            .code() == absl::StatusCode::kNotFound);
  CHECK(h.core().OrderNumber(kCompanyA, kNumberB, {}).status().code() ==
        absl::StatusCode::kNotFound);
  auto foreign_from = h.core().SendMessage(
      kCompanyA, SendMessageRequest{.from = kNumberB, .to = "+15559990000", .body = "hi"});
  CHECK(foreign_from.status().code() == absl::StatusCode::kNotFound);

  auto placed = h.core().PlaceCall(kCompanyB, PlaceCallRequest{.from = kNumberB,
                                                               .to = "+15559990000"});
  REQUIRE(placed.ok());
  CHECK(placed->call_id == "CA0001");
  const http::Params call_form = http::ParseForm(h.twilio.last().body);
  CHECK(testing::Field(call_form, "Url") == std::string(testing::kPublicBase) +
                                                "/webhooks/twilio/voice");
  CHECK(h.core().ModifyCall(kCompanyA, "CA0001", CallModification{}).code() ==
        absl::StatusCode::kNotFound);
  CHECK(h.core().StartRecording(kCompanyA, "CA0001").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(h.core().StopRecording(kCompanyA, "CA0001", "").code() == absl::StatusCode::kNotFound);
  CHECK(h.core().ModifyCall(kCompanyB, "CA9999", CallModification{}).code() ==
        absl::StatusCode::kNotFound);
}

TEST_CASE("Validation errors name the field", "[carrier][core]") {
  FakeStore store;
  ServiceHarness h(store);
  h.Start();
  REQUIRE(h.core().SetCarrierAccount(kCompanyA, {.primary = h.TwilioConfig()}).ok());
  auto bad_e164 = h.core().SetStaticInstructions(kCompanyA, "555", testing::GreetingInstructions());
  CHECK(bad_e164.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_e164.message(), "e164"));
  CallInstructions empty_say;
  empty_say.id = "x";
  empty_say.instructions.push_back(Say{});
  auto bad_instr = h.core().SetStaticInstructions(kCompanyA, kNumberA, empty_say);
  CHECK(bad_instr.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(bad_instr.message(), "instructions: "));
  auto bad_to = h.core().SendMessage(kCompanyA, {.from = kNumberA, .to = "nope", .body = "x"});
  CHECK(bad_to.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_to.status().message(), "to"));
  auto bad_call = h.core().ModifyCall(kCompanyA, "bad/id", CallModification{});
  CHECK(bad_call.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_call.message(), "call_id"));
  CHECK(h.core().GetCarrierAccount("").status().code() == absl::StatusCode::kUnauthenticated);
}

struct ListenerFixture {
  FakeStore store;
  ServiceHarness h{store};
  ListenerFixture() {
    h.telnyx.On("POST", "/v2/calls/v3:A/actions/answer", {{200, R"({"data":{"result":"ok"}})"}});
    h.Start();
    REQUIRE(h.core().SetCarrierAccount(
                        kCompanyA, {.primary = h.TwilioConfig(), .secondary = h.TelnyxConfig()})
                .ok());
    REQUIRE(store.PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "twilio",
                             .provider_number_id = "PN1"}).ok());
    REQUIRE(h.core().SetStaticInstructions(kCompanyA, kNumberA, testing::GreetingInstructions())
                .ok());
  }
  http::Response Send(const http::Request& r) { return h.router().Dispatch(r); }
};

TEST_CASE("Twilio voice webhook: signature, TwiML, one event per delivery", "[carrier][webhooks]") {
  ListenerFixture f;
  const FormParams params = testing::TwilioVoiceParams("CA100", kNumberA);

  SECTION("missing or invalid signature: 403 and nothing stored") {
    http::Response none = f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", params, ""));
    CHECK(none.status == 403);
    CHECK(absl::StrContains(none.body, "\"forbidden\""));
    http::Response wrong =
        f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", params, "another-token"));
    CHECK(wrong.status == 403);
    // Signed for another URL (query changed after signing).
    http::Request moved = f.h.TwilioRequest("/webhooks/twilio/voice", params);
    moved.target += "?x=1";
    moved.query = "x=1";
    CHECK(f.Send(moved).status == 403);
    CHECK(f.store.events().empty());
    CHECK(f.store.call_count() == 0);
  }

  SECTION("valid: TwiML from the static instructions, event stored once") {
    http::Response first = f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", params));
    REQUIRE(first.status == 200);
    auto tree = ParseTwiml(first.body);
    REQUIRE(tree.ok());
    REQUIRE(tree->children.size() == 4);
    CHECK(tree->children[0].tag == "Say");
    CHECK(tree->children[0].text == "Hello from Switchboard");
    CHECK(tree->children[1].tag == "Gather");
    CHECK(*tree->children[1].Attr("action") ==
          std::string(testing::kPublicBase) + "/webhooks/twilio/gather?i=greet&s=1");
    http::Response again = f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", params));
    CHECK(again.status == 200);
    CHECK(again.body == first.body);
    auto events = f.store.events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].type() == "carrier.call_incoming");
    CHECK(events[0].company_id() == kCompanyA);
    CHECK(events[0].carrier_event().company_id() == kCompanyA);
    CHECK(events[0].carrier_event().ids().call_sid() == "CA100");
    CHECK(f.store.FindCall("CA100").ok());
  }

  SECTION("gather action resumes after the gather verb") {
    FormParams g = params;
    g.emplace_back("Digits", "1");
    http::Response r = f.Send(f.h.TwilioRequest("/webhooks/twilio/gather?i=greet&s=1", g));
    REQUIRE(r.status == 200);
    auto tree = ParseTwiml(r.body);
    REQUIRE(tree.ok());
    REQUIRE(tree->children.size() == 2);
    CHECK(tree->children[0].text == "Goodbye");
    CHECK(tree->children[1].tag == "Hangup");
    auto events = f.store.events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].carrier_event().digits_gathered().digits() == "1");
  }

  SECTION("malformed requests: 4xx with a JSON body") {
    http::Request json = f.h.TwilioRequest("/webhooks/twilio/voice", params);
    json.headers[0].second = "application/json";
    http::Response r415 = f.Send(json);
    CHECK(r415.status == 415);
    CHECK(absl::StrContains(r415.body, "\"error\""));
    FormParams bad_utf8 = params;
    bad_utf8.emplace_back("CallerName", std::string("\xC3\x28", 2));
    CHECK(f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", bad_utf8)).status == 400);
    FormParams no_sid = {{"AccountSid", testing::kTwilioSid}, {"To", kNumberA},
                         {"From", "+15550001111"}, {"Direction", "inbound"}};
    http::Response missing = f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", no_sid));
    CHECK(missing.status == 400);
    CHECK(absl::StrContains(missing.body, "CallSid"));
    CHECK(f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", {{"CallSid", "CA1"}})).status ==
          400);
    CHECK(f.store.events().empty());
  }

  SECTION("ignored status: 200 and counted") {
    FormParams ringing = params;
    http::Response r = f.Send(f.h.TwilioRequest("/webhooks/twilio/status", ringing));
    CHECK(r.status == 200);
    CHECK(f.store.events().empty());
    CHECK(absl::StrContains(f.h.registry.Exposition(), "carrier_webhooks_ignored_total"));
  }

  SECTION("database outage: 503 so the carrier retries") {
    f.store.fail_writes = true;
    CHECK(f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", params)).status == 503);
    f.store.fail_writes = false;
    CHECK(f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", params)).status == 200);
    CHECK(f.store.events().size() == 1);
  }
}

TEST_CASE("Telnyx call-control webhook: verify, store, send commands", "[carrier][webhooks]") {
  ListenerFixture f;
  const std::string initiated = testing::TelnyxEnvelope(
      "call.initiated", "ev-1",
      R"({"call_control_id":"v3:A","call_session_id":"sess-1","call_leg_id":"leg-1",)"
      R"("connection_id":"conn-1","direction":"incoming","from":"+15550001111","to":")" +
          std::string(kNumberA) + R"("})");

  SECTION("valid: 200 at once, answer command sent, one event for two deliveries") {
    http::Response r = f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", initiated));
    CHECK(r.status == 200);
    CHECK(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", initiated)).status == 200);
    WaitFor([&] { return f.h.hooks().CommandsSentForTest() >= 2; });
    REQUIRE(f.h.telnyx.count() == 2);
    const http::Request cmd = f.h.telnyx.last();
    CHECK(cmd.path == "/v2/calls/v3:A/actions/answer");
    CHECK(cmd.Header("Authorization").value_or("") == std::string("Bearer ") + testing::kTelnyxKey);
    // Same command_id both times: Telnyx drops the repeat.
    auto bodies = f.h.telnyx.requests();
    CHECK(nlohmann::json::parse(bodies[0].body)["command_id"] ==
          nlohmann::json::parse(bodies[1].body)["command_id"]);
    auto events = f.store.events();
    REQUIRE(events.size() == 1);
    CHECK(events[0].type() == "carrier.call_incoming");
    CHECK(events[0].company_id() == kCompanyA);
  }

  SECTION("tampered, stale or unsigned: 403, nothing stored or sent") {
    http::Request tampered = f.h.TelnyxRequest("/webhooks/telnyx/call-control", initiated);
    tampered.body.replace(tampered.body.find("+15550001111"), 12, "+15550001112");
    CHECK(f.Send(tampered).status == 403);
    CHECK(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", initiated,
                                   absl::Now() - absl::Minutes(10)))
              .status == 403);
    http::Request unsigned_request = f.h.TelnyxRequest("/webhooks/telnyx/call-control", initiated);
    unsigned_request.headers.pop_back();
    CHECK(f.Send(unsigned_request).status == 403);
    CHECK(f.store.events().empty());
    CHECK(f.h.telnyx.count() == 0);
  }

  SECTION("unknown type: 200 and counted; malformed: 400") {
    const std::string unknown = testing::TelnyxEnvelope(
        "call.something_new", "ev-9", R"({"call_control_id":"v3:A","connection_id":"conn-1"})");
    CHECK(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", unknown)).status == 200);
    CHECK(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", "not json")).status == 400);
    CHECK(f.store.events().empty());
  }
}

}  // namespace
}  // namespace switchboard::carrier
