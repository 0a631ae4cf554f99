#include "services/carrier/twilio_provider.h"

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/http/url.h"
#include "services/carrier/tests/fake_http_server.h"

namespace switchboard::carrier {
namespace {

using testing::Canned;
using testing::FakeHttpServer;
using testing::Field;
using testing::Fields;

constexpr char kSid[] = "AC00000000000000000000000000000001";
constexpr char kToken[] = "secret-token-123";
// base64("AC00000000000000000000000000000001:secret-token-123")
constexpr char kAuth[] =
    "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQtdG9rZW4tMTIz";
const std::string kAccount = std::string("/2010-04-01/Accounts/") + kSid;

struct Fixture {
  FakeHttpServer server;
  std::unique_ptr<http::CurlHttpClient> client;
  std::unique_ptr<TwilioProvider> provider;
  std::vector<absl::Duration> sleeps;

  void Start(TwilioCredentials credentials = {.account_sid = kSid, .auth_token = kToken}) {
    server.Start();
    auto c = http::CurlHttpClient::Create();
    REQUIRE(c.ok());
    client = std::move(*c);
    TwilioOptions options{.api_base_url = server.base(),
                          .numbers_base_url = server.base() + "/numbers",
                          .retry = {.max_attempts = 3},
                          .sleep = [this](absl::Duration d) { sleeps.push_back(d); }};
    auto p = TwilioProvider::Create(std::move(credentials), options, *client);
    REQUIRE(p.ok());
    provider = std::move(*p);
  }
};

TEST_CASE("twilio search local numbers", "[twilio]") {
  Fixture f;
  f.server.On("GET", kAccount + "/AvailablePhoneNumbers/US/Local.json",
              {{200, R"({"available_phone_numbers":[
                {"friendly_name":"(415) 555-0100","phone_number":"+14155550100","lata":"722",
                 "locality":"San Francisco","rate_center":"SNFC","region":"CA",
                 "postal_code":"94105","iso_country":"US","beta":false,
                 "capabilities":{"voice":true,"SMS":true,"MMS":false,"fax":false}}],
                "uri":"/x"})"}});
  f.Start();
  auto numbers = f.provider->SearchNumbers(
      {.country = "US", .area_code = "415", .contains = "55501*", .limit = 5});
  REQUIRE(numbers.ok());
  REQUIRE(numbers->size() == 1);
  const AvailableNumber& n = (*numbers)[0];
  CHECK(n.e164 == "+14155550100");
  CHECK(n.locality == "San Francisco");
  CHECK(n.region == "CA");
  CHECK(n.capabilities.voice);
  CHECK(n.capabilities.sms);
  CHECK(!n.capabilities.mms);
  CHECK(n.monthly_cost.empty());

  http::Request r = f.server.last();
  CHECK(r.Header("Authorization") == std::optional<std::string>(kAuth));
  http::Params q = http::ParseQuery(r.query);
  CHECK(Field(q, "AreaCode") == "415");
  CHECK(Field(q, "Contains") == "55501*");
  CHECK(Field(q, "PageSize") == "5");
}

TEST_CASE("twilio search toll-free with starts_with and a subaccount", "[twilio]") {
  Fixture f;
  const std::string sub = "AC00000000000000000000000000000002";
  f.server.On("GET", "/2010-04-01/Accounts/" + sub + "/AvailablePhoneNumbers/US/TollFree.json",
              {{200, R"({"available_phone_numbers":[]})"}});
  f.Start({.account_sid = kSid, .auth_token = kToken, .subaccount_sid = sub});
  auto numbers = f.provider->SearchNumbers(
      {.country = "US", .type = NumberType::kTollFree, .starts_with = "1888", .limit = 3});
  REQUIRE(numbers.ok());
  CHECK(numbers->empty());
  http::Request r = f.server.last();
  CHECK(r.Header("Authorization") == std::optional<std::string>(kAuth));  // parent credentials
  CHECK(Field(http::ParseQuery(r.query), "Contains") == "+1888");
}

TEST_CASE("twilio search validates before sending", "[twilio]") {
  Fixture f;
  f.Start();
  CHECK(f.provider->SearchNumbers({.country = "usa"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(f.provider->SearchNumbers({.limit = 0}).status().message() ==
        "search.limit must be in 1..1000");
  CHECK(f.provider->SearchNumbers({.contains = "55", .starts_with = "1415"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  std::string euro_1600;
  for (int i = 0; i < 1600; ++i) euro_1600 += "\xE2\x82\xAC";  // 1600 characters, 4800 bytes
  SendMessageRequest long_message{.from = "+14155550100", .to = "+14155550101"};
  long_message.body = euro_1600 + "x";
  CHECK(f.provider->SendMessage(long_message).status().message() ==
        "message.body is longer than 1600 characters");
  CHECK(f.provider->SendMessage({.from = "4155550100", .to = "+14155550101", .body = "x"})
            .status()
            .message() == "message.from must be an E.164 number (+ and 2-15 digits)");
  CHECK(f.server.count() == 0);
}

TEST_CASE("twilio order, update and release a number", "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/IncomingPhoneNumbers.json",
              {{201, R"({"sid":"PN0123","phone_number":"+14155550100","status":"in-use"})"}});
  f.server.On("POST", kAccount + "/IncomingPhoneNumbers/PN0123.json",
              {{200, R"({"sid":"PN0123"})"}});
  f.server.On("DELETE", kAccount + "/IncomingPhoneNumbers/PN0123.json", {{204, ""}});
  f.Start();
  NumberWebhooks hooks{.voice_url = "https://sb.example/webhooks/twilio/voice",
                       .messaging_url = "https://sb.example/webhooks/twilio/sms",
                       .status_callback_url = "https://sb.example/webhooks/twilio/status"};
  auto ordered = f.provider->OrderNumber("+14155550100", hooks);
  REQUIRE(ordered.ok());
  CHECK(ordered->provider_number_id == "PN0123");
  CHECK(ordered->status == NumberState::kActive);
  http::Request r = f.server.last();
  CHECK(r.Header("Content-Type") ==
        std::optional<std::string>("application/x-www-form-urlencoded"));
  http::Params form = http::ParseForm(r.body);
  CHECK(Field(form, "PhoneNumber") == "+14155550100");
  CHECK(Field(form, "VoiceUrl") == hooks.voice_url);
  CHECK(Field(form, "VoiceMethod") == "POST");
  CHECK(Field(form, "SmsUrl") == hooks.messaging_url);
  CHECK(Field(form, "StatusCallback") == hooks.status_callback_url);

  REQUIRE(f.provider->UpdateNumberWebhooks("PN0123", {.voice_url = "https://new/voice"}).ok());
  form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "VoiceUrl") == "https://new/voice");
  CHECK(Field(form, "SmsUrl") == "<missing>");

  REQUIRE(f.provider->ReleaseNumber("PN0123").ok());
  CHECK(f.server.last().method == "DELETE");
  CHECK(f.provider->ReleaseNumber("PN/../x").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("twilio number not available is kFailedPrecondition with code and message",
          "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/IncomingPhoneNumbers.json",
              {{400, R"({"code":21422,"message":"PhoneNumber requested is not available",
                 "more_info":"https://www.twilio.com/docs/errors/21422","status":400})"}});
  f.Start();
  auto ordered = f.provider->OrderNumber("+14155550100", {});
  CHECK(ordered.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ordered.status().message() ==
        "twilio error 21422: PhoneNumber requested is not available (HTTP 400)");
}

TEST_CASE("twilio place call, modify, record", "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/Calls.json",
              {{201, R"({"sid":"CA0001","status":"queued","to":"client:alice"})"}});
  f.server.On("POST", kAccount + "/Calls/CA0001.json", {{200, R"({"sid":"CA0001"})"}});
  f.server.On("POST", kAccount + "/Calls/CA0001/Recordings.json",
              {{201, R"({"sid":"RE0001","status":"in-progress"})"}});
  f.server.On("POST", kAccount + "/Calls/CA0001/Recordings/RE0001.json",
              {{200, R"({"sid":"RE0001","status":"stopped"})"}});
  f.server.On("POST", kAccount + "/Calls/CA0001/Recordings/Twilio.CURRENT.json",
              {{200, R"({"sid":"RE0001","status":"stopped"})"}});
  f.Start();
  auto call = f.provider->PlaceCall({.from = "+14155550100",
                                     .to = "client:alice",
                                     .instructions_url = "https://sb.example/voice?x=1",
                                     .status_callback_url = "https://sb.example/status",
                                     .idempotency_key = "req-1",
                                     .timeout_s = 25});
  REQUIRE(call.ok());
  CHECK(call->call_id == "CA0001");
  CHECK(call->provider == "twilio");
  http::Request r = f.server.last();
  http::Params form = http::ParseForm(r.body);
  CHECK(Field(form, "To") == "client:alice");
  CHECK(Field(form, "From") == "+14155550100");
  CHECK(Field(form, "Url") == "https://sb.example/voice?x=1");
  CHECK(Field(form, "Method") == "POST");
  CHECK(Field(form, "StatusCallback") == "https://sb.example/status");
  CHECK(Fields(form, "StatusCallbackEvent") ==
        std::vector<std::string>{"initiated", "ringing", "answered", "completed"});
  CHECK(Field(form, "Timeout") == "25");
  CHECK(!r.Header("Idempotency-Key").has_value());

  // A client state rides on both of our URLs as the query parameter `cs`.
  REQUIRE(f.provider
              ->PlaceCall({.from = "+14155550100",
                           .to = "+14155550123",
                           .instructions_url = "https://sb.example/voice?x=1",
                           .status_callback_url = "https://sb.example/status",
                           .client_state = "sbcall:0190-ab_c"})
              .ok());
  form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "Url") == "https://sb.example/voice?x=1&cs=sbcall:0190-ab_c");
  CHECK(Field(form, "StatusCallback") == "https://sb.example/status?cs=sbcall:0190-ab_c");
  CHECK(f.provider
            ->PlaceCall({.from = "+14155550100",
                         .to = "+14155550123",
                         .instructions_url = "https://sb.example/voice",
                         .client_state = "a b&c"})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);

  REQUIRE(f.provider->ModifyCall("CA0001", {.action = CallModification::Action::kRedirect,
                                            .redirect_url = "https://sb.example/next"})
              .ok());
  form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "Url") == "https://sb.example/next");
  CHECK(Field(form, "Status") == "<missing>");
  REQUIRE(f.provider->ModifyCall("CA0001", {.action = CallModification::Action::kHangup}).ok());
  CHECK(Field(http::ParseForm(f.server.last().body), "Status") == "completed");

  // INSTRUCT sends the TwiML document itself (updating the call replaces what it runs, a
  // <Dial> included).
  const std::string twiml =
      R"(<?xml version="1.0" encoding="UTF-8"?><Response><Say>moved</Say></Response>)";
  REQUIRE(f.provider
              ->ModifyCall("CA0001", {.action = CallModification::Action::kInstruct,
                                      .twiml = twiml})
              .ok());
  form = http::ParseForm(f.server.last().body);
  CHECK(f.server.last().path == kAccount + "/Calls/CA0001.json");
  CHECK(Field(form, "Twiml") == twiml);
  CHECK(Field(form, "Url") == "<missing>");
  CHECK(Field(form, "Status") == "<missing>");

  // An on-demand recording reports to the given callback when it is complete.
  auto rec = f.provider->StartRecording("CA0001", "https://sb.example/webhooks/twilio/recording");
  REQUIRE(rec.ok());
  CHECK(*rec == "RE0001");
  CHECK(f.server.last().path == kAccount + "/Calls/CA0001/Recordings.json");
  form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "RecordingStatusCallback") ==
        "https://sb.example/webhooks/twilio/recording");
  CHECK(Field(form, "RecordingStatusCallbackMethod") == "POST");
  CHECK(Fields(form, "RecordingStatusCallbackEvent") == std::vector<std::string>{"completed"});
  // Without one, no callback fields; a bad URL is refused before any request.
  REQUIRE(f.provider->StartRecording("CA0001", "").ok());
  CHECK(Field(http::ParseForm(f.server.last().body), "RecordingStatusCallback") == "<missing>");
  const size_t sent = f.server.requests().size();
  absl::Status bad = f.provider->StartRecording("CA0001", "ftp://x").status();
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad.message(), "status_callback_url"));
  CHECK(f.server.requests().size() == sent);
  REQUIRE(f.provider->StopRecording("CA0001", "RE0001").ok());
  CHECK(Field(http::ParseForm(f.server.last().body), "Status") == "stopped");
  REQUIRE(f.provider->StopRecording("CA0001", "").ok());
  CHECK(f.server.last().path == kAccount + "/Calls/CA0001/Recordings/Twilio.CURRENT.json");
}

TEST_CASE("twilio conference control: request shapes of every action", "[twilio][conference]") {
  Fixture f;
  const std::string cf = kAccount + "/Conferences/CF0001/Participants";
  f.server.On("POST", kAccount + "/Calls/CAB0001.json", {{200, R"({"sid":"CAB0001"})"}});
  f.server.On("GET", kAccount + "/Conferences.json",
              {{200, R"({"conferences":[{"sid":"CF0001","friendly_name":"sb-call-1",
                 "status":"in-progress"}]})"}});
  // The first hold finds the participant still joining (404), the second one there.
  f.server.On("POST", cf + "/CAB0001.json",
              {{404, R"({"code":20404,"message":"The requested resource was not found","status":404})"},
               {200, R"({"call_sid":"CAB0001","hold":true})"}});
  f.server.On("POST", cf + ".json", {{201, R"({"call_sid":"CAC0001"})"}});
  f.server.On("DELETE", cf + "/CAC0001.json", {{204, ""}});
  f.server.On("DELETE", cf + "/CAGONE.json",
              {{404, R"({"code":20404,"message":"The requested resource was not found","status":404})"}});
  f.Start();
  using A = ConferenceRequest::Action;

  // MOVE_BRIDGE: B gets the TwiML.
  auto moved = f.provider->ConferenceControl({.action = A::kMoveBridge, .call_id = "CAA0001",
                                              .conference = "sb-call-1",
                                              .bridged_leg = "CAB0001",
                                              .twiml = "<Response><Dial/></Response>"});
  REQUIRE(moved.ok());
  CHECK(moved->leg == "CAB0001");
  CHECK(f.server.last().path == kAccount + "/Calls/CAB0001.json");
  CHECK(Field(http::ParseForm(f.server.last().body), "Twiml") == "<Response><Dial/></Response>");

  // HOLD: the conference found by name, then the participant updated.
  auto held = f.provider->ConferenceControl({.action = A::kHold, .call_id = "CAA0001",
                                             .conference = "sb-call-1", .leg = "CAB0001",
                                             .hold_audio_url = "https://m.example/hold.mp3"});
  REQUIRE(held.ok());
  std::vector<http::Request> requests = f.server.requests();
  REQUIRE(requests.size() == 4);
  http::Params list = http::ParseQuery(requests[1].query);
  CHECK(requests[1].method == "GET");
  CHECK(Field(list, "FriendlyName") == "sb-call-1");
  CHECK(Field(list, "Status") == "in-progress");
  CHECK(requests[2].path == cf + "/CAB0001.json");
  CHECK(requests[3].path == cf + "/CAB0001.json");
  http::Params form = http::ParseForm(requests[3].body);
  CHECK(Field(form, "Hold") == "true");
  CHECK(Field(form, "HoldUrl") == "https://m.example/hold.mp3");

  REQUIRE(f.provider->ConferenceControl({.action = A::kUnhold, .call_id = "CAA0001",
                                         .conference = "sb-call-1", .leg = "CAB0001"})
              .ok());
  form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "Hold") == "false");
  CHECK(Field(form, "HoldUrl") == "<missing>");

  // ADD: a participant dialled into the conference, reporting to our callback.
  auto added = f.provider->ConferenceControl(
      {.action = A::kAdd, .call_id = "CAA0001", .conference = "sb-call-1",
       .to = "client:agent_7", .from = "+14155550100",
       .status_callback_url =
           "https://sb.example/webhooks/twilio/conference-participant?conference=sb-call-1"});
  REQUIRE(added.ok());
  CHECK(added->leg == "CAC0001");
  CHECK(f.server.last().path == cf + ".json");
  form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "From") == "+14155550100");
  CHECK(Field(form, "To") == "client:agent_7");
  CHECK(Field(form, "Timeout") == "30");
  CHECK(Field(form, "EndConferenceOnExit") == "false");
  CHECK(Field(form, "StatusCallback") ==
        "https://sb.example/webhooks/twilio/conference-participant?conference=sb-call-1");
  CHECK(Field(form, "StatusCallbackMethod") == "POST");
  CHECK(Fields(form, "StatusCallbackEvent") == std::vector<std::string>{"completed"});

  // REMOVE: DELETE of the participant; one that is gone already (404) is fine.
  REQUIRE(f.provider->ConferenceControl({.action = A::kRemove, .call_id = "CAA0001",
                                         .conference = "sb-call-1", .leg = "CAC0001"})
              .ok());
  CHECK(f.server.last().method == "DELETE");
  CHECK(f.server.last().path == cf + "/CAC0001.json");
  CHECK(f.provider->ConferenceControl({.action = A::kRemove, .call_id = "CAA0001",
                                       .conference = "sb-call-1", .leg = "CAGONE"})
            .ok());
}

TEST_CASE("twilio conference control: no conference in progress, bad input", "[twilio][conference]") {
  Fixture f;
  f.server.On("GET", kAccount + "/Conferences.json", {{200, R"({"conferences":[]})"}});
  f.Start();
  using A = ConferenceRequest::Action;
  absl::Status hold = f.provider
                          ->ConferenceControl({.action = A::kHold, .call_id = "CAA0001",
                                               .conference = "sb-call-1", .leg = "CAB0001"})
                          .status();
  CHECK(hold.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(hold.message(), "conference"));
  // REMOVE when the conference has ended: the leg is out of it already.
  CHECK(f.provider->ConferenceControl({.action = A::kRemove, .call_id = "CAA0001",
                                       .conference = "sb-call-1", .leg = "CAB0001"})
            .ok());
  const size_t sent = f.server.requests().size();
  struct Bad {
    ConferenceRequest request;
    const char* field;
  };
  for (const Bad& bad : std::vector<Bad>{
           {{.action = A::kHold, .call_id = "CAA0001", .conference = "bad name", .leg = "L"},
            "conference"},
           {{.action = A::kHold, .call_id = "CAA0001", .conference = "c"}, "leg"},
           {{.action = A::kHold, .call_id = "", .conference = "c", .leg = "L"}, "call_id"},
           {{.action = A::kAdd, .call_id = "CAA0001", .conference = "c", .to = "+14155550101",
             .from = "nope"}, "from"},
           {{.action = A::kAdd, .call_id = "CAA0001", .conference = "c", .to = "555",
             .from = "+14155550100"}, "to"},
           {{.action = A::kAdd, .call_id = "CAA0001", .conference = "c", .to = "+14155550101",
             .from = "+14155550100", .timeout_s = -1}, "timeout_s"},
           {{.action = A::kHold, .call_id = "CAA0001", .conference = "c", .leg = "L",
             .hold_audio_url = "ftp://x"}, "hold_audio_url"}}) {
    absl::Status s = f.provider->ConferenceControl(bad.request).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), bad.field));
  }
  CHECK(f.server.requests().size() == sent);
}

TEST_CASE("twilio invalid To maps to kInvalidArgument keeping code and message", "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/Calls.json",
              {{400, R"({"code":21211,"message":"The 'To' number +1555 is not a valid phone number.",
                 "more_info":"https://www.twilio.com/docs/errors/21211","status":400})"}});
  f.Start();
  auto call = f.provider->PlaceCall(
      {.from = "+14155550100", .to = "+1555", .instructions_url = "https://sb.example/v"});
  CHECK(call.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(call.status().message() ==
        "twilio error 21211: The 'To' number +1555 is not a valid phone number. (HTTP 400)");
}

TEST_CASE("twilio POST is never retried; 5xx is kUnavailable", "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/Messages.json",
              {{503, R"({"code":20503,"message":"Service Unavailable","status":503})"}});
  f.Start();
  auto sent = f.provider->SendMessage({.from = "+14155550100", .to = "+14155550101",
                                       .body = "hi", .idempotency_key = "k1"});
  CHECK(sent.status().code() == absl::StatusCode::kUnavailable);
  CHECK(sent.status().message() == "twilio error 20503: Service Unavailable (HTTP 503)");
  CHECK(f.server.count() == 1);
  CHECK(f.sleeps.empty());
}

TEST_CASE("twilio GET is retried on 5xx with backoff", "[twilio]") {
  Fixture f;
  f.server.On("GET", kAccount + "/AvailablePhoneNumbers/US/Local.json",
              {{500, "oops"}, {200, R"({"available_phone_numbers":[]})"}});
  f.Start();
  REQUIRE(f.provider->SearchNumbers({}).ok());
  CHECK(f.server.count() == 2);
  CHECK(f.sleeps.size() == 1);
}

TEST_CASE("twilio send SMS and MMS", "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/Messages.json",
              {{201, R"({"sid":"SM0001","status":"queued","num_media":"2"})"}});
  f.Start();
  auto sent = f.provider->SendMessage({.from = "+14155550100",
                                       .to = "+14155550101",
                                       .body = "Hello & welcome = 100%",
                                       .media_urls = {"https://m/1.png", "https://m/2.png"},
                                       .status_callback_url = "https://sb.example/sms-status"});
  REQUIRE(sent.ok());
  CHECK(sent->message_id == "SM0001");
  CHECK(sent->status == SmsDeliveryStatus::kQueued);
  CHECK(sent->provider_status == "queued");
  http::Params form = http::ParseForm(f.server.last().body);
  CHECK(Field(form, "Body") == "Hello & welcome = 100%");
  CHECK(Fields(form, "MediaUrl") == std::vector<std::string>{"https://m/1.png", "https://m/2.png"});
  CHECK(Field(form, "StatusCallback") == "https://sb.example/sms-status");
}

TEST_CASE("twilio opted-out recipient, bad credentials, not found, rate limit", "[twilio]") {
  Fixture f;
  f.server.On("POST", kAccount + "/Messages.json",
              {{400, R"({"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400})"},
               {401, R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})"},
               {429, R"({"code":20429,"message":"Too Many Requests","status":429})"}});
  f.server.On("GET", kAccount + "/Recordings/RE404.wav",
              {{404, R"({"code":20404,"message":"The requested resource was not found","status":404})"}});
  f.Start();
  SendMessageRequest m{.from = "+14155550100", .to = "+14155550101", .body = "x"};
  absl::Status opted = f.provider->SendMessage(m).status();
  CHECK(opted.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(opted.message() ==
        "twilio error 21610: Attempt to send to unsubscribed recipient (HTTP 400)");
  absl::Status auth = f.provider->SendMessage(m).status();
  CHECK(auth.code() == absl::StatusCode::kPermissionDenied);
  CHECK(auth.message() == "twilio error 20003: Authenticate (HTTP 401)");
  CHECK(auth.message().find(kToken) == absl::string_view::npos);
  CHECK(f.provider->SendMessage(m).status().code() == absl::StatusCode::kResourceExhausted);
  absl::Status missing = f.provider->FetchRecording("RE404").status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message() ==
        "twilio error 20404: The requested resource was not found (HTTP 404)");
}

TEST_CASE("twilio RFC 9457 error body and unparsable error body", "[twilio]") {
  http::HttpResponse problem{
      .status = 400,
      .body = R"({"type":"https://www.twilio.com/docs/errors/21211","title":"Invalid To",
                  "status":400,"code":21211,"detail":"The 'To' number is invalid",
                  "instance":"/x"})"};
  absl::Status s = TwilioProvider::ErrorFromResponse(problem);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "twilio error 21211: The 'To' number is invalid (HTTP 400)");
  absl::Status html =
      TwilioProvider::ErrorFromResponse({.status = 502, .body = "<html>Bad gateway</html>"});
  CHECK(html.code() == absl::StatusCode::kUnavailable);
  CHECK(html.message() == "twilio HTTP 502: <html>Bad gateway</html>");
}

TEST_CASE("twilio fetch recording by sid and by URL", "[twilio]") {
  Fixture f;
  f.server.On("GET", kAccount + "/Recordings/RE0001.wav", {{200, "RIFFdata", "audio/x-wav"}});
  f.server.On("GET", "/elsewhere/rec.mp3", {{200, "ID3data", "audio/mpeg"}});
  f.Start();
  auto media = f.provider->FetchRecording("RE0001");
  REQUIRE(media.ok());
  CHECK(media->bytes == "RIFFdata");
  CHECK(media->content_type == "audio/x-wav");
  CHECK(f.server.last().Header("Authorization") == std::optional<std::string>(kAuth));

  // A URL under the API base gets auth.
  auto by_url = f.provider->FetchRecording(f.server.base() + kAccount + "/Recordings/RE0001.wav");
  REQUIRE(by_url.ok());
  CHECK(f.server.last().Header("Authorization") == std::optional<std::string>(kAuth));
}

TEST_CASE("twilio port-in order create and read", "[twilio]") {
  Fixture f;
  f.server.On("POST", "/numbers/v1/Porting/PortIn",
              {{201, R"({"port_in_request_sid":"KW0001","port_in_request_status":"in-review",
                 "phone_numbers":[{"phone_number":"+14155550199"}]})"}});
  f.server.On("GET", "/numbers/v1/Porting/PortIn/KW0001",
              {{200, R"({"port_in_request_sid":"KW0001","port_in_request_status":"completed"})"}});
  // Statuses as twilio-python documents them ("Action Required", "Waiting for Signature").
  f.server.On("GET", "/numbers/v1/Porting/PortIn/KW0002",
              {{200, R"({"port_in_request_sid":"KW0002",)"
                     R"("port_in_request_status":"Action Required"})"},
               {200, R"({"port_in_request_sid":"KW0002",)"
                     R"("port_in_request_status":"Waiting for Signature"})"}});
  f.Start();
  PortOrderRequest request{.numbers = {"+14155550199"},
                           .current_carrier = "OldTel",
                           .account_number = "ACC-42",
                           .pin = "1234",
                           .authorized_name = "Jane Doe",
                           .service_address = {.street = "1 Main St",
                                               .locality = "San Francisco",
                                               .region = "CA",
                                               .postal_code = "94105"},
                           .desired_foc_date = "2026-12-15"};
  auto order = f.provider->CreatePortOrder(request);
  REQUIRE(order.ok());
  CHECK(order->id == "KW0001");
  CHECK(order->status == PortState::kSubmitted);
  CHECK(order->numbers == std::vector<std::string>{"+14155550199"});
  http::Request r = f.server.last();
  CHECK(r.Header("Content-Type") == std::optional<std::string>("application/json"));
  CHECK(r.Header("Authorization") == std::optional<std::string>(kAuth));
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["account_sid"] == kSid);
  CHECK(body["target_port_in_date"] == "2026-12-15");
  CHECK(body["losing_carrier_information"]["account_number"] == "ACC-42");
  CHECK(body["losing_carrier_information"]["authorized_representative"] == "Jane Doe");
  CHECK(body["losing_carrier_information"]["address"]["zip"] == "94105");
  CHECK(body["phone_numbers"][0]["pin"] == "1234");

  auto read = f.provider->GetPortOrder("KW0001");
  REQUIRE(read.ok());
  CHECK(read->status == PortState::kPorted);
  CHECK(read->provider_status == "completed");
  CHECK(f.provider->GetPortOrder("KW0002")->status == PortState::kException);
  CHECK(f.provider->GetPortOrder("KW0002")->status == PortState::kInProcess);

  request.desired_foc_date = "15/12/2026";
  CHECK(f.provider->CreatePortOrder(request).status().message() ==
        "port.desired_foc_date must be YYYY-MM-DD");
}

TEST_CASE("twilio transport failures", "[twilio]") {
  auto c = http::CurlHttpClient::Create();
  REQUIRE(c.ok());
  int port = 0;
  {
    FakeHttpServer dead;
    dead.Start();
    port = std::stoi(dead.base().substr(dead.base().rfind(':') + 1));
  }
  auto p = TwilioProvider::Create(
      {.account_sid = kSid, .auth_token = kToken},
      {.api_base_url = "http://127.0.0.1:" + std::to_string(port), .retry = {.max_attempts = 1}},
      **c);
  REQUIRE(p.ok());
  absl::Status s = (*p)->SendMessage({.from = "+14155550100", .to = "+14155550101", .body = "x"})
                       .status();
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(s.message(), "twilio: "));
  CHECK(s.message().find(kToken) == absl::string_view::npos);
}

TEST_CASE("twilio Create validates credentials", "[twilio]") {
  auto c = http::CurlHttpClient::Create();
  REQUIRE(c.ok());
  CHECK(TwilioProvider::Create({.account_sid = "XX1", .auth_token = "t"}, {}, **c)
            .status()
            .message() == "twilio.account_sid must start with AC");
  CHECK(TwilioProvider::Create({.account_sid = kSid}, {}, **c).status().message() ==
        "twilio.auth_token is required");
  CHECK(TwilioProvider::Create({.account_sid = kSid, .auth_token = "t"},
                               {.api_base_url = "ftp://x"}, **c)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::carrier
