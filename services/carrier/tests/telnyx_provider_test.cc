#include "services/carrier/telnyx_provider.h"

#include <nlohmann/json.hpp>

#include <catch2/catch.hpp>

#include "libs/crypto/encoding.h"
#include "libs/http/url.h"
#include "services/carrier/tests/fake_http_server.h"

namespace switchboard::carrier {
namespace {

using nlohmann::json;
using testing::Canned;
using testing::FakeHttpServer;
using testing::Field;

constexpr char kKey[] = "KEY0123456789ABCDEF_secret";
constexpr char kBearer[] = "Bearer KEY0123456789ABCDEF_secret";

struct Fixture {
  FakeHttpServer server;
  std::unique_ptr<http::CurlHttpClient> client;
  std::unique_ptr<TelnyxProvider> provider;
  std::vector<absl::Duration> sleeps;

  void Start(bool retry_keyed_posts = false, std::string messaging_profile_id = "mp-1") {
    server.Start();
    auto c = http::CurlHttpClient::Create();
    REQUIRE(c.ok());
    client = std::move(*c);
    auto p = TelnyxProvider::Create(
        {.api_key = kKey,
         .connection_id = "conn-1",
         .messaging_profile_id = std::move(messaging_profile_id)},
        {.base_url = server.base(),
         .retry = {.max_attempts = 3},
         .retry_keyed_posts = retry_keyed_posts,
         .sleep = [this](absl::Duration d) { sleeps.push_back(d); }},
        *client);
    REQUIRE(p.ok());
    provider = std::move(*p);
  }

  json LastJson() {
    http::Request r = server.last();
    CHECK(r.Header("Authorization") == std::optional<std::string>(kBearer));
    CHECK(r.Header("Content-Type") == std::optional<std::string>("application/json"));
    return json::parse(r.body);
  }
};

TEST_CASE("telnyx search numbers", "[telnyx]") {
  Fixture f;
  f.server.On("GET", "/v2/available_phone_numbers",
              {{200, R"({"data":[{"record_type":"available_phone_number",
                 "phone_number":"+13125550100","vanity_format":"","best_effort":false,
                 "quickship":true,"reservable":true,
                 "region_information":[{"region_type":"country_code","region_name":"US"},
                                       {"region_type":"rate_center","region_name":"CHICAGO ZONE 01"},
                                       {"region_type":"state","region_name":"IL"}],
                 "cost_information":{"upfront_cost":"1.00","monthly_cost":"1.00","currency":"USD"},
                 "features":[{"name":"sms"},{"name":"voice"},{"name":"mms"}]}],
                 "meta":{"total_results":1,"best_effort_results":0}})"}});
  f.Start();
  auto numbers = f.provider->SearchNumbers(
      {.country = "US", .area_code = "312", .contains = "555", .starts_with = "312", .limit = 7});
  REQUIRE(numbers.ok());
  REQUIRE(numbers->size() == 1);
  const AvailableNumber& n = (*numbers)[0];
  CHECK(n.e164 == "+13125550100");
  CHECK(n.locality == "CHICAGO ZONE 01");
  CHECK(n.region == "IL");
  CHECK(n.monthly_cost == "1.00");
  CHECK(n.currency == "USD");
  CHECK(n.capabilities.voice);
  CHECK(n.capabilities.sms);
  CHECK(n.capabilities.mms);
  CHECK(!n.capabilities.fax);

  http::Request r = f.server.last();
  CHECK(r.Header("Authorization") == std::optional<std::string>(kBearer));
  http::Params q = http::ParseQuery(r.query);
  CHECK(Field(q, "filter[country_code]") == "US");
  CHECK(Field(q, "filter[phone_number_type]") == "local");
  CHECK(Field(q, "filter[national_destination_code]") == "312");
  CHECK(Field(q, "filter[phone_number][contains]") == "555");
  CHECK(Field(q, "filter[phone_number][starts_with]") == "312");
  CHECK(Field(q, "filter[limit]") == "7");

  REQUIRE(f.provider->SearchNumbers({.type = NumberType::kTollFree}).ok());
  CHECK(Field(http::ParseQuery(f.server.last().query), "filter[phone_number_type]") ==
        "toll_free");
  CHECK(f.provider->SearchNumbers({.contains = "55*"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("telnyx order, update and release a number", "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/number_orders",
              {{200, R"({"data":{"id":"12ade33a-21c0-473b-b055-b3c836e1c292",
                 "record_type":"number_order","phone_numbers_count":1,"connection_id":"conn-1",
                 "phone_numbers":[{"id":"dc8e4d67","record_type":"number_order_phone_number",
                   "phone_number":"+13125550100","status":"pending"}],
                 "status":"pending"}})"}});
  f.server.On("GET", "/v2/phone_numbers",
              {{200, R"({"data":[{"id":"1293384261075731499","phone_number":"+13125550100",
                 "status":"active"}],"meta":{"total_results":1}})"}});
  f.server.On("PATCH", "/v2/phone_numbers/1293384261075731499",
              {{200, R"({"data":{"id":"1293384261075731499"}})"}});
  f.server.On("PATCH", "/v2/phone_numbers/1293384261075731499/messaging",
              {{200, R"({"data":{"id":"1293384261075731499"}})"}});
  f.server.On("DELETE", "/v2/phone_numbers/1293384261075731499",
              {{200, R"({"data":{"id":"1293384261075731499","status":"deleted"}})"}});
  f.Start();
  auto ordered = f.provider->OrderNumber("+13125550100", {.voice_url = "https://sb/voice"});
  REQUIRE(ordered.ok());
  CHECK(ordered->status == NumberState::kPending);
  CHECK(ordered->order_id == "12ade33a-21c0-473b-b055-b3c836e1c292");
  CHECK(ordered->provider_number_id == "+13125550100");
  json body = f.LastJson();
  CHECK(body == json::parse(R"({"phone_numbers":[{"phone_number":"+13125550100"}],
                               "connection_id":"conn-1","messaging_profile_id":"mp-1"})"));

  REQUIRE(f.provider->UpdateNumberWebhooks(ordered->provider_number_id,
                                           {.voice_url = "https://sb/voice"})
              .ok());
  std::vector<http::Request> requests = f.server.requests();
  REQUIRE(requests.size() == 4);
  CHECK(Field(http::ParseQuery(requests[1].query), "filter[phone_number]") == "+13125550100");
  CHECK(requests[2].method == "PATCH");
  CHECK(json::parse(requests[2].body) == json{{"connection_id", "conn-1"}});
  CHECK(requests[3].path == "/v2/phone_numbers/1293384261075731499/messaging");
  CHECK(json::parse(requests[3].body) == json{{"messaging_profile_id", "mp-1"}});

  REQUIRE(f.provider->ReleaseNumber("1293384261075731499").ok());
  CHECK(f.server.last().method == "DELETE");
  CHECK(f.server.count() == 5);  // an id is used as is, no lookup
}

TEST_CASE("telnyx release of a number not on the account is kNotFound", "[telnyx]") {
  Fixture f;
  f.server.On("GET", "/v2/phone_numbers", {{200, R"({"data":[],"meta":{"total_results":0}})"}});
  f.Start();
  absl::Status s = f.provider->ReleaseNumber("+13125550100");
  CHECK(s.code() == absl::StatusCode::kNotFound);
}

TEST_CASE("telnyx invalid number maps to kInvalidArgument keeping code, title, detail",
          "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/number_orders",
              {{422, R"({"errors":[{"code":"10002","title":"Invalid phone number",
                 "detail":"The phone number +1999 is invalid.",
                 "source":{"pointer":"/phone_numbers/0/phone_number"}}]})"}});
  f.Start();
  absl::Status s = f.provider->OrderNumber("+13125550100", {}).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "telnyx error 10002: Invalid phone number: The phone number +1999 is invalid. "
        "(HTTP 422)");
}

TEST_CASE("telnyx place call to a number and to a softphone", "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/calls",
              {{200, R"({"data":{"call_control_id":"v3:abc-123","call_leg_id":"leg-1",
                 "call_session_id":"sess-1","is_alive":false,"record_type":"call"}})"}});
  f.Start();
  auto call = f.provider->PlaceCall({.from = "+13125550100",
                                     .to = "+13125550101",
                                     .instructions_url = "https://sb/webhooks/telnyx/call-control",
                                     .idempotency_key = "req-1",
                                     .timeout_s = 20});
  REQUIRE(call.ok());
  CHECK(call->call_id == "v3:abc-123");
  CHECK(call->session_id == "sess-1");
  CHECK(call->provider == "telnyx");
  CHECK(f.server.last().Header("Idempotency-Key") == std::optional<std::string>("req-1"));
  CHECK(f.LastJson() == json::parse(R"({"connection_id":"conn-1","from":"+13125550100",
      "to":"+13125550101","webhook_url":"https://sb/webhooks/telnyx/call-control",
      "webhook_url_method":"POST","timeout_secs":20})"));

  REQUIRE(f.provider
              ->PlaceCall({.from = "+13125550100",
                           .to = "client:alice",
                           .instructions_url = "https://sb/cc"})
              .ok());
  CHECK(f.LastJson()["to"] == "sip:alice@sip.telnyx.com");
  CHECK(!f.server.last().Header("Idempotency-Key").has_value());
  CHECK_FALSE(f.LastJson().contains("client_state"));

  // A client state goes base64-encoded, as Telnyx's own client_state.
  REQUIRE(f.provider
              ->PlaceCall({.from = "+13125550100",
                           .to = "+13125550101",
                           .instructions_url = "https://sb/cc",
                           .client_state = "sbcall:0190"})
              .ok());
  CHECK(f.LastJson()["client_state"] == crypto::Base64Encode("sbcall:0190"));
}

TEST_CASE("telnyx conference control: request shapes of every action", "[telnyx][conference]") {
  Fixture f;
  f.server.On("POST", "/v2/conferences",
              {{200, R"({"data":{"id":"conf-1","name":"sb-call-1","record_type":"conference"}})"}});
  f.server.On("POST", "/v2/conferences/conf-1/actions/join", {{200, R"({"data":{"result":"ok"}})"}});
  f.server.On("POST", "/v2/conferences/conf-1/actions/hold", {{200, R"({"data":{"result":"ok"}})"}});
  f.server.On("POST", "/v2/conferences/conf-1/actions/unhold",
              {{200, R"({"data":{"result":"ok"}})"}});
  f.server.On("POST", "/v2/calls",
              {{200, R"({"data":{"call_control_id":"v3:added-1","call_session_id":"s-2"}})"}});
  f.server.On("POST", "/v2/calls/v3:added-1/actions/hangup",
              {{200, R"({"data":{"result":"ok"}})"}});
  f.server.On("POST", "/v2/calls/v3:gone/actions/hangup",
              {{422, R"({"errors":[{"code":"90018","title":"Call has already ended"}]})"}});
  f.Start();
  using A = ConferenceRequest::Action;

  // MOVE_BRIDGE: created with A, the id handed over, then B joins.
  std::vector<std::string> created;
  auto moved = f.provider->ConferenceControl(
      {.action = A::kMoveBridge, .call_id = "v3:a", .conference = "sb-call-1",
       .bridged_leg = "v3:b",
       .on_created = [&](absl::string_view id) {
         created.emplace_back(id);
         return absl::OkStatus();
       }});
  REQUIRE(moved.ok());
  CHECK(moved->leg == "v3:b");
  CHECK(moved->conference_id == "conf-1");
  CHECK(created == std::vector<std::string>{"conf-1"});
  std::vector<http::Request> requests = f.server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].path == "/v2/conferences");
  CHECK(json::parse(requests[0].body) ==
        json{{"call_control_id", "v3:a"}, {"name", "sb-call-1"}, {"beep_enabled", "never"}});
  CHECK(requests[1].path == "/v2/conferences/conf-1/actions/join");
  CHECK(json::parse(requests[1].body) == json{{"call_control_id", "v3:b"}});

  // The callback's failure stops it before B joins.
  const size_t before = f.server.requests().size();
  CHECK(f.provider
            ->ConferenceControl({.action = A::kMoveBridge, .call_id = "v3:a",
                                 .conference = "sb-call-1", .bridged_leg = "v3:b",
                                 .on_created = [](absl::string_view) {
                                   return absl::UnavailableError("db down");
                                 }})
            .status()
            .code() == absl::StatusCode::kUnavailable);
  CHECK(f.server.requests().size() == before + 1);  // the create only

  REQUIRE(f.provider
              ->ConferenceControl({.action = A::kHold, .call_id = "v3:a",
                                   .conference = "sb-call-1", .conference_id = "conf-1",
                                   .leg = "v3:b", .hold_audio_url = "https://m.example/h.mp3"})
              .ok());
  CHECK(f.server.last().path == "/v2/conferences/conf-1/actions/hold");
  CHECK(f.LastJson() ==
        json{{"call_control_ids", {"v3:b"}}, {"audio_url", "https://m.example/h.mp3"}});
  REQUIRE(f.provider
              ->ConferenceControl({.action = A::kUnhold, .call_id = "v3:a",
                                   .conference = "sb-call-1", .conference_id = "conf-1",
                                   .leg = "v3:b"})
              .ok());
  CHECK(f.server.last().path == "/v2/conferences/conf-1/actions/unhold");
  CHECK(f.LastJson() == json{{"call_control_ids", {"v3:b"}}});

  // ADD: a new call whose client_state names the conference.
  auto added = f.provider->ConferenceControl(
      {.action = A::kAdd, .call_id = "v3:a", .conference = "sb-call-1",
       .conference_id = "conf-1", .to = "client:agent_7", .from = "+14155550100",
       .timeout_s = 20, .idempotency_key = "add-1",
       .status_callback_url = "https://sb.example/webhooks/telnyx/call-control",
       .client_state = R"({"cf":"conf-1","cn":"sb-call-1"})"});
  REQUIRE(added.ok());
  CHECK(added->leg == "v3:added-1");
  CHECK(f.server.last().path == "/v2/calls");
  CHECK(f.server.last().Header("Idempotency-Key") == std::optional<std::string>("add-1"));
  json dial = f.LastJson();
  CHECK(dial["connection_id"] == "conn-1");
  CHECK(dial["from"] == "+14155550100");
  CHECK(dial["to"] == "sip:agent_7@sip.telnyx.com");
  CHECK(dial["webhook_url"] == "https://sb.example/webhooks/telnyx/call-control");
  CHECK(dial["timeout_secs"] == 20);
  CHECK(dial["client_state"] == crypto::Base64Encode(R"({"cf":"conf-1","cn":"sb-call-1"})"));

  // REMOVE: the leg hung up; one that has ended already is fine.
  REQUIRE(f.provider
              ->ConferenceControl({.action = A::kRemove, .call_id = "v3:a",
                                   .conference = "sb-call-1", .leg = "v3:added-1"})
              .ok());
  CHECK(f.server.last().path == "/v2/calls/v3:added-1/actions/hangup");
  CHECK(f.provider
            ->ConferenceControl({.action = A::kRemove, .call_id = "v3:a",
                                 .conference = "sb-call-1", .leg = "v3:gone"})
            .ok());
}

TEST_CASE("telnyx call control actions carry command_id and are retried", "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/calls/v3:abc-123/actions/hangup",
              {{502, "bad gateway"}, {200, R"({"data":{"result":"ok"}})"}});
  f.server.On("POST", "/v2/calls/v3:abc-123/actions/record_start",
              {{200, R"({"data":{"result":"ok","recording_id":"rec-9"}})"}});
  f.server.On("POST", "/v2/calls/v3:abc-123/actions/record_stop",
              {{200, R"({"data":{"result":"ok"}})"}});
  f.server.On("POST", "/v2/calls/v3:gone/actions/hangup",
              {{422, R"({"errors":[{"code":"90018","title":"Call has already ended",
                 "detail":"This call is no longer active and can't receive commands."}]})"}});
  f.Start();
  REQUIRE(f.provider
              ->ModifyCall("v3:abc-123", {.action = CallModification::Action::kHangup,
                                          .idempotency_key = "hang-1"})
              .ok());
  std::vector<http::Request> requests = f.server.requests();
  REQUIRE(requests.size() == 2);  // 502 then retried with the same command_id
  CHECK(json::parse(requests[0].body)["command_id"] == "hang-1");
  CHECK(requests[1].body == requests[0].body);
  CHECK(f.sleeps.size() == 1);

  auto rec = f.provider->StartRecording("v3:abc-123", "");
  REQUIRE(rec.ok());
  CHECK(*rec == "rec-9");
  json start = f.LastJson();
  CHECK(start["channels"] == "single");
  CHECK(start["format"] == "wav");
  CHECK(start["command_id"].is_string());
  REQUIRE(f.provider->StopRecording("v3:abc-123", "rec-9").ok());
  CHECK(f.LastJson()["recording_id"] == "rec-9");

  absl::Status gone =
      f.provider->ModifyCall("v3:gone", {.action = CallModification::Action::kHangup});
  CHECK(gone.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(gone.message() ==
        "telnyx error 90018: Call has already ended: This call is no longer active and can't "
        "receive commands. (HTTP 422)");

  absl::Status redirect = f.provider->ModifyCall(
      "v3:abc-123", {.action = CallModification::Action::kRedirect, .redirect_url = "https://x"});
  CHECK(redirect.code() == absl::StatusCode::kUnimplemented);
}

TEST_CASE("telnyx send message; blocked recipient; POST not retried by default", "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/messages",
              {{200, R"({"data":{"record_type":"message","direction":"outbound",
                 "id":"40385f64-5717-4562-b3fc-2c963f66afa6","type":"MMS",
                 "from":{"phone_number":"+13125550100"},
                 "to":[{"phone_number":"+13125550101","status":"queued","carrier":"T-MOBILE",
                        "line_type":"Wireless"}],
                 "text":"hi","parts":1,"encoding":"GSM-7"}})"},
               {422, R"({"errors":[{"code":"40300","title":"Blocked due to STOP message",
                 "detail":"Messages cannot be sent from '+13125550100' to '+13125550101' due to an existing block rule."}]})"},
               {503, R"({"errors":[{"code":"10011","title":"Service unavailable"}]})"}});
  f.Start();
  SendMessageRequest m{.from = "+13125550100",
                       .to = "+13125550101",
                       .body = "hi",
                       .media_urls = {"https://m/1.png"},
                       .status_callback_url = "https://sb/webhooks/telnyx/messaging",
                       .idempotency_key = "msg-1"};
  auto sent = f.provider->SendMessage(m);
  REQUIRE(sent.ok());
  CHECK(sent->message_id == "40385f64-5717-4562-b3fc-2c963f66afa6");
  CHECK(sent->status == SmsDeliveryStatus::kQueued);
  CHECK(f.server.last().Header("Idempotency-Key") == std::optional<std::string>("msg-1"));
  CHECK(f.LastJson() == json::parse(R"({"from":"+13125550100","to":"+13125550101","text":"hi",
      "media_urls":["https://m/1.png"],"webhook_url":"https://sb/webhooks/telnyx/messaging",
      "messaging_profile_id":"mp-1"})"));

  absl::Status blocked = f.provider->SendMessage(m).status();
  CHECK(blocked.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(blocked.message() ==
        "telnyx error 40300: Blocked due to STOP message: Messages cannot be sent from "
        "'+13125550100' to '+13125550101' due to an existing block rule. (HTTP 422)");

  absl::Status down = f.provider->SendMessage(m).status();
  CHECK(down.code() == absl::StatusCode::kUnavailable);
  CHECK(down.message() == "telnyx error 10011: Service unavailable (HTTP 503)");
  CHECK(f.server.count() == 3);  // no retry of the 503 POST
  CHECK(f.sleeps.empty());

  m.idempotency_key = "bad key!";
  CHECK(f.provider->SendMessage(m).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("telnyx keyed POST is retried when enabled", "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/messages",
              {{503, R"({"errors":[{"code":"10011","title":"Service unavailable"}]})"},
               {200, R"({"data":{"id":"m-2","to":[{"status":"sent"}]}})"}});
  f.Start(/*retry_keyed_posts=*/true);
  auto sent = f.provider->SendMessage(
      {.from = "+13125550100", .to = "+13125550101", .body = "x", .idempotency_key = "k-2"});
  REQUIRE(sent.ok());
  CHECK(sent->status == SmsDeliveryStatus::kSent);
  CHECK(f.server.count() == 2);
}

TEST_CASE("telnyx auth, not found, rate limit and unparsable errors", "[telnyx]") {
  Fixture f;
  f.server.On("GET", "/v2/porting_orders/po-1",
              {{401, R"({"errors":[{"code":"10009","title":"Authentication failed",
                 "detail":"The API key looks malformed."}]})"},
               {404, R"({"errors":[{"code":"10005","title":"Resource not found",
                 "detail":"The requested resource or URL could not be found."}]})"},
               {429, R"({"errors":[{"code":"10010","title":"Too many requests"}]})"},
               {200, "not json"}});
  f.Start();
  f.provider.reset();
  auto p = TelnyxProvider::Create({.api_key = kKey, .connection_id = "conn-1"},
                                  {.base_url = f.server.base(), .retry = {.max_attempts = 1}},
                                  *f.client);
  REQUIRE(p.ok());
  absl::Status auth = (*p)->GetPortOrder("po-1").status();
  CHECK(auth.code() == absl::StatusCode::kPermissionDenied);
  CHECK(auth.message() ==
        "telnyx error 10009: Authentication failed: The API key looks malformed. (HTTP 401)");
  CHECK(auth.message().find(kKey) == absl::string_view::npos);
  CHECK((*p)->GetPortOrder("po-1").status().code() == absl::StatusCode::kNotFound);
  CHECK((*p)->GetPortOrder("po-1").status().code() == absl::StatusCode::kResourceExhausted);
  absl::Status garbage = (*p)->GetPortOrder("po-1").status();
  CHECK(garbage.code() == absl::StatusCode::kInternal);
}

TEST_CASE("telnyx porting order create and read", "[telnyx]") {
  Fixture f;
  f.server.On("POST", "/v2/porting_orders",
              {{201, R"({"data":[{"id":"po-1","status":{"value":"draft","details":[]},
                 "phone_numbers":[{"phone_number":"+13125550199"}]}]})"}});
  f.server.On("PATCH", "/v2/porting_orders/po-1",
              {{200, R"({"data":{"id":"po-1","status":{"value":"draft"}}})"}});
  f.server.On("GET", "/v2/porting_orders/po-1",
              {{200, R"({"data":{"id":"po-1","status":{"value":"foc-date-confirmed"}}})"}});
  f.Start();
  auto order = f.provider->CreatePortOrder(
      {.numbers = {"+13125550199"},
       .current_carrier = "OldTel",
       .account_number = "ACC-42",
       .pin = "1234",
       .authorized_name = "Jane Doe",
       .service_address = {.street = "1 Main St", .locality = "Chicago", .region = "IL",
                           .postal_code = "60601"},
       .desired_foc_date = "2026-12-15"});
  REQUIRE(order.ok());
  CHECK(order->id == "po-1");
  CHECK(order->status == PortState::kDraft);
  CHECK(order->numbers == std::vector<std::string>{"+13125550199"});
  std::vector<http::Request> requests = f.server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(json::parse(requests[0].body) == json{{"phone_numbers", {"+13125550199"}}});
  json patch = json::parse(requests[1].body);
  CHECK(patch["end_user"]["admin"]["auth_person_name"] == "Jane Doe");
  CHECK(patch["end_user"]["admin"]["account_number"] == "ACC-42");
  CHECK(patch["end_user"]["admin"]["pin_passcode"] == "1234");
  CHECK(patch["end_user"]["location"]["postal_code"] == "60601");
  CHECK(patch["activation_settings"]["foc_datetime_requested"] == "2026-12-15T00:00:00Z");

  auto read = f.provider->GetPortOrder("po-1");
  REQUIRE(read.ok());
  CHECK(read->status == PortState::kFocDateConfirmed);
}

TEST_CASE("telnyx fetch recording via download URL without the API key", "[telnyx]") {
  Fixture f;
  f.server.On("GET", "/storage/rec-9.wav", {{200, "RIFFwav", "audio/wav"}});  // "storage"
  f.Start();
  FakeHttpServer api;  // "api.telnyx.com", answering with a URL on the storage server
  api.On("GET", "/v2/recordings/rec-9",
         {{200, R"({"data":{"id":"rec-9","download_urls":{"wav":")" + f.server.base() +
                    R"(/storage/rec-9.wav","mp3":""},"duration_millis":5000}})"}});
  api.Start();
  auto p = TelnyxProvider::Create({.api_key = kKey, .connection_id = "conn-1"},
                                  {.base_url = api.base()}, *f.client);
  REQUIRE(p.ok());
  auto media = (*p)->FetchRecording("rec-9");
  REQUIRE(media.ok());
  CHECK(media->bytes == "RIFFwav");
  CHECK(media->content_type == "audio/wav");
  CHECK(api.last().Header("Authorization") == std::optional<std::string>(kBearer));
  CHECK(!f.server.last().Header("Authorization").has_value());
}

TEST_CASE("telnyx Create validates credentials", "[telnyx]") {
  auto c = http::CurlHttpClient::Create();
  REQUIRE(c.ok());
  CHECK(TelnyxProvider::Create({.connection_id = "c"}, {}, **c).status().message() ==
        "telnyx.api_key is required");
  CHECK(TelnyxProvider::Create({.api_key = "k"}, {}, **c).status().message() ==
        "telnyx.connection_id is required");
  CHECK(TelnyxProvider::Create({.api_key = "k", .connection_id = "c"},
                               {.timeout = absl::ZeroDuration()}, **c)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::carrier
