// The carrier service and the carrier emulator as deployed: two processes configured through the
// environment, a company's carrier account set over gRPC, a number ordered through the service
// (so the emulator's webhooks reach the service's listener), a static instruction set (greeting,
// gather one digit, dial a target that does not answer, record, hang up), and an inbound call
// placed by the emulator for each provider: Twilio pulls TwiML, Telnyx is driven by Call Control
// commands. The emulator's scenario result and the events on the carrier.v1 topic are checked;
// both processes stop with SIGTERM and exit 0.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/random.h"
#include "libs/grpc/principal.h"
#include "libs/http/client.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "tests/e2e/e2e_util.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard {
namespace {

namespace v1 = switchboard::carrier::v1;
using json = nlohmann::json;

constexpr char kTwilioSid[] = "AC0e2e0000000000000000000000000e2e";
constexpr char kTwilioToken[] = "e2e-twilio-auth-token";
constexpr char kTelnyxKey[] = "KEYe2e-telnyx-api-key";
constexpr char kUnansweredTarget[] = "+19175550100";

using e2e::LogField;
using e2e::StartProcess;

json HttpJson(http::HttpClient& client, const std::string& method, const std::string& url,
              const std::string& body = "") {
  http::HttpRequest request{.method = method, .url = url, .timeout = absl::Seconds(60)};
  if (!body.empty()) {
    request.headers = {{"Content-Type", "application/json"}};
    request.body = body;
  }
  absl::StatusOr<http::HttpResponse> response = client.Send(request);
  REQUIRE(response.ok());
  INFO(method << " " << url << " -> " << response->status << " " << response->body);
  REQUIRE(response->status == 200);
  json doc = json::parse(response->body, nullptr, false);
  REQUIRE(doc.is_object());
  return doc;
}

v1::CallInstructions StaticIvr(const std::string& id) {
  v1::CallInstructions ivr;
  ivr.set_id(id);
  ivr.add_instructions()->mutable_say()->set_text("Thanks for calling Powers Electric.");
  v1::Gather* gather = ivr.add_instructions()->mutable_gather();
  gather->set_num_digits(1);
  gather->set_timeout_s(5);
  gather->add_prompts()->mutable_say()->set_text("Press 1 for service.");
  v1::Dial* dial = ivr.add_instructions()->mutable_dial();
  dial->add_targets()->set_number(kUnansweredTarget);
  dial->set_timeout_s(20);
  v1::Record* record = ivr.add_instructions()->mutable_record();
  record->set_max_length_s(120);
  ivr.add_instructions()->mutable_hangup();
  return ivr;
}

// The index of the first step at or after `from` whose verb is one of `verbs`, or -1.
int FindStep(const json& steps, int from, std::initializer_list<const char*> verbs) {
  for (int i = from; i < static_cast<int>(steps.size()); ++i) {
    for (const char* v : verbs) {
      if (steps[i].value("verb", "") == v) return i;
    }
  }
  return -1;
}

// Events of `company` on the topic, read until every kind in `wanted` was seen or 60 s passed.
std::vector<v1::CarrierEvent> WaitForEvents(testing::KafkaTestTopic& topic,
                                            const std::string& company,
                                            const std::set<v1::CarrierEvent::KindCase>& wanted) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  size_t expected = wanted.size();
  std::vector<v1::CarrierEvent> mine;
  while (true) {
    auto records = topic.ReadAll(topic.name(), std::max(deadline - absl::Now(), absl::Seconds(1)),
                                 expected);
    REQUIRE(records.ok());
    mine.clear();
    std::set<v1::CarrierEvent::KindCase> seen;
    for (const auto& r : *records) {
      events::v1::Event e;
      REQUIRE(e.ParseFromString(r.value));
      if (e.company_id() != company || !e.has_carrier_event()) continue;
      mine.push_back(e.carrier_event());
      seen.insert(e.carrier_event().kind_case());
    }
    bool all = true;
    for (auto k : wanted) all = all && seen.count(k) > 0;
    if (all || absl::Now() >= deadline) return mine;
    expected = records->size() + 1;
  }
}

const v1::CarrierEvent* FirstOf(const std::vector<v1::CarrierEvent>& events,
                                v1::CarrierEvent::KindCase kind) {
  for (const auto& e : events) {
    if (e.kind_case() == kind) return &e;
  }
  return nullptr;
}

TEST_CASE(
    "carrier + emulator processes: inbound IVR call on Twilio and Telnyx, events on carrier.v1",
    "[e2e][carrier]") {
  auto schema = testing::PgTestSchema::CreateOrFail();
  auto topic = testing::KafkaTestTopic::CreateOrFail();
  auto client = http::CurlHttpClient::Create();
  REQUIRE(client.ok());

  const int webhook_port = testing::ValueOrFail(testing::FreeLoopbackPort(), "free port");
  const std::string public_base = absl::StrCat("http://127.0.0.1:", webhook_port);

  auto emulator = StartProcess(SB_CARRIER_EMULATOR_BINARY,
                        {{"CARRIER_EMULATOR_LISTEN_ADDRESS", "127.0.0.1"},
                         {"CARRIER_EMULATOR_PORT", "0"},
                         {"CARRIER_EMULATOR_TWILIO_ACCOUNT_SID", kTwilioSid},
                         {"CARRIER_EMULATOR_TWILIO_AUTH_TOKEN", kTwilioToken},
                         {"CARRIER_EMULATOR_TELNYX_API_KEY", kTelnyxKey},
                         // Telnyx posts call events to the Call Control application's URL.
                         {"CARRIER_EMULATOR_WEBHOOK_BASE_URL", public_base}});
  const std::string emulator_url =
      absl::StrCat("http://127.0.0.1:", LogField(*emulator, "emulator listening", "port"));

  auto env_or_empty = [](const char* name) { return testing::Env(name).value_or(""); };
  auto carrier = StartProcess(SB_CARRIER_BINARY,
                       {{"CARRIER_GRPC_ADDRESS", "127.0.0.1:0"},
                        {"CARRIER_ADMIN_ADDRESS", "127.0.0.1"},
                        {"CARRIER_ADMIN_PORT", "0"},
                        {"CARRIER_WEBHOOK_ADDRESS", absl::StrCat("127.0.0.1:", webhook_port)},
                        {"CARRIER_PUBLIC_BASE_URL", public_base},
                        {"CARRIER_PG_DSN", env_or_empty("SB_PG_DSN")},
                        {"CARRIER_PG_SCHEMA", schema->schema()},
                        {"CARRIER_KAFKA_BROKERS", env_or_empty("SB_KAFKA_BROKERS")},
                        {"CARRIER_EVENTS_TOPIC", topic->name()},
                        {"CARRIER_KEY_ENCRYPTION_KEY",
                         crypto::Base64Encode(crypto::RandomBytes(32))},
                        {"CARRIER_EMULATOR_URL", emulator_url},
                        {"CARRIER_DRAIN_DELAY", "100ms"},
                        {"CARRIER_SHUTDOWN_GRACE", "5s"}});
  absl::StatusOr<std::string> serving =
      carrier->WaitForLogLine("carrier serving", absl::Seconds(60));
  INFO(carrier->Output());
  REQUIRE(serving.ok());
  CHECK(testing::JsonLogField(*serving, "webhook_port").value_or("") ==
        std::to_string(webhook_port));
  absl::StatusOr<std::string> grpc_port = testing::JsonLogField(*serving, "grpc_port");
  REQUIRE(grpc_port.ok());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", *grpc_port),
                                     grpc::InsecureChannelCredentials());
  REQUIRE(testing::WaitUntilServing(channel, absl::Seconds(30)).ok());
  auto stub = v1::Carrier::NewStub(channel);

  const json info = HttpJson(**client, "GET", emulator_url + "/emulator/info");
  REQUIRE(info.value("twilio_account_sid", "") == kTwilioSid);
  const std::string telnyx_public_key = info.value("telnyx_public_key", "");
  REQUIRE_FALSE(telnyx_public_key.empty());

  auto rpc = [&](const std::string& company, auto method, const auto& request, auto* response) {
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = company,
                                             .user_id = NewUuidV7(),
                                             .role = "owner"});
    grpc::Status status = ((*stub).*method)(&ctx, request, response);
    INFO(status.error_message());
    REQUIRE(status.ok());
  };

  struct Case {
    const char* carrier;
    const char* area_code;
  };
  for (const Case& c : {Case{"twilio", "415"}, Case{"telnyx", "646"}}) {
    DYNAMIC_SECTION("an inbound call through the " << c.carrier << " wire format") {
      const bool twilio = std::string(c.carrier) == "twilio";
      const std::string company = NewUuidV7();

      v1::SetCarrierAccountRequest set;
      set.mutable_primary()->set_provider(v1::EMULATOR);
      if (twilio) {
        set.mutable_primary()->mutable_twilio()->set_account_sid(kTwilioSid);
        set.mutable_primary()->mutable_twilio()->set_auth_token(kTwilioToken);
      } else {
        auto* telnyx = set.mutable_primary()->mutable_telnyx();
        telnyx->set_api_key(kTelnyxKey);
        telnyx->set_public_key(telnyx_public_key);
        telnyx->set_connection_id("1494404757140276705");
      }
      v1::CarrierAccount account;
      rpc(company, &v1::Carrier::Stub::SetCarrierAccount, set, &account);
      CHECK(account.company_id() == company);
      CHECK(account.primary_provider() == v1::EMULATOR);

      v1::SearchNumbersRequest search;
      search.set_area_code(c.area_code);
      search.set_limit(5);
      v1::SearchNumbersResponse found;
      rpc(company, &v1::Carrier::Stub::SearchNumbers, search, &found);
      REQUIRE(found.numbers_size() > 0);
      const std::string number = found.numbers(0).e164();

      v1::OrderNumberRequest order;
      order.set_e164(number);  // empty webhooks: the service's own listener
      v1::OrderedNumber ordered;
      rpc(company, &v1::Carrier::Stub::OrderNumber, order, &ordered);
      CHECK(ordered.e164() == number);
      CHECK(ordered.status() == v1::NUMBER_ACTIVE);

      v1::SetStaticInstructionsRequest static_ivr;
      static_ivr.set_e164(number);
      *static_ivr.mutable_instructions() = StaticIvr(absl::StrCat("e2e-ivr-", c.carrier));
      v1::SetStaticInstructionsResponse ignored;
      rpc(company, &v1::Carrier::Stub::SetStaticInstructions, static_ivr, &ignored);

      const json scenario = {
          {"carrier", c.carrier},
          {"from", "+13125550111"},
          {"to", number},
          {"caller",
           json::array({json{{"on", "gather"}, {"press", "1"}},
                        json{{"on", "record"},
                             {"speak", "Hi, this is Bob, please call me back"}}})},
          {"callees", {{kUnansweredTarget, "no-answer"},
                       {"default", {{"answer_after_s", 3}, {"talk_s", 20}}}}}};
      absl::StatusOr<http::HttpResponse> answer = (*client)->Send(
          {.method = "POST",
           .url = emulator_url + "/emulator/calls",
           .headers = {{"Content-Type", "application/json"}},
           .body = scenario.dump(),
           .timeout = absl::Seconds(60)});
      REQUIRE(answer.ok());
      INFO("scenario result: " << answer->body);
      INFO("carrier log: " << carrier->Output());
      REQUIRE(answer->status == 200);
      const json result = json::parse(answer->body, nullptr, false);
      REQUIRE(result.is_object());
      CHECK(result.value("carrier", "") == c.carrier);
      CHECK(result.value("status", "") == "completed");
      const std::string call_id = result.value("call_id", "");
      REQUIRE_FALSE(call_id.empty());
      const json& steps = result.at("steps");
      REQUIRE(steps.is_array());

      // greeting, gather with the digit, dial without answer, record, hang-up: in this order.
      int greeting = FindStep(steps, 0, {"Say", "speak"});
      REQUIRE(greeting >= 0);
      const json& said = steps[greeting]["details"];  // Twilio: text, Telnyx: payload
      CHECK(absl::StrContains(said.value("text", said.value("payload", "")), "Powers Electric"));
      int gather = FindStep(steps, greeting + 1, {"Gather", "gather_using_speak", "gather"});
      REQUIRE(gather >= 0);
      CHECK(steps[gather].value("outcome", "") == "digits:1");
      int dial = FindStep(steps, gather + 1, {"Dial", "transfer"});
      REQUIRE(dial >= 0);
      CHECK(steps[dial].value("outcome", "") == "no-answer");
      CHECK(steps[dial].dump().find(kUnansweredTarget) != std::string::npos);
      int record = FindStep(steps, dial + 1, {"Record", "record_start"});
      REQUIRE(record >= 0);
      CHECK(steps[record].value("outcome", "") == (twilio ? "recorded" : "recording"));
      int hangup = FindStep(steps, record + 1, {"Hangup", "hangup"});
      REQUIRE(hangup >= 0);
      if (!twilio) CHECK(FindStep(steps, 0, {"answer"}) == 0);

      using K = v1::CarrierEvent::KindCase;
      const std::set<K> wanted = {K::kCallIncoming, K::kDigitsGathered, K::kDialResult,
                                  K::kRecordingReady, K::kCallCompleted};
      std::vector<v1::CarrierEvent> events = WaitForEvents(*topic, company, wanted);
      std::string kinds;
      for (const auto& e : events) {
        const auto* field = e.GetDescriptor()->FindFieldByNumber(e.kind_case());
        absl::StrAppend(&kinds, field != nullptr ? field->name() : "?", " ");
      }
      INFO("events: " << kinds);
      for (const auto& e : events) {
        CHECK(e.provider() == (twilio ? v1::TWILIO : v1::TELNYX));  // the wire format
        CHECK(e.company_id() == company);
        if (twilio) {
          CHECK(e.ids().call_sid() == call_id);
        } else if (e.kind_case() != K::kDialResult) {
          CHECK(e.ids().call_control_id() == call_id);
        }
      }
      const v1::CarrierEvent* incoming = FirstOf(events, K::kCallIncoming);
      REQUIRE(incoming != nullptr);
      CHECK(incoming->from() == "+13125550111");
      CHECK(incoming->to() == number);
      CHECK(incoming->direction() == v1::INBOUND);
      const v1::CarrierEvent* digits = FirstOf(events, K::kDigitsGathered);
      REQUIRE(digits != nullptr);
      CHECK(digits->digits_gathered().digits() == "1");
      CHECK_FALSE(digits->digits_gathered().timed_out());
      const v1::CarrierEvent* dialed = FirstOf(events, K::kDialResult);
      REQUIRE(dialed != nullptr);
      CHECK(dialed->dial_result().status() == v1::DIAL_NO_ANSWER);
      const v1::CarrierEvent* recording = FirstOf(events, K::kRecordingReady);
      REQUIRE(recording != nullptr);
      CHECK_FALSE(recording->recording_ready().recording_id().empty());
      CHECK(absl::StartsWith(recording->recording_ready().url(), emulator_url));
      const v1::CarrierEvent* completed = FirstOf(events, K::kCallCompleted);
      REQUIRE(completed != nullptr);
      CHECK(completed->call_completed().reason() == v1::CALL_END_COMPLETED);
      // Each provider delivery is published once: dedupe keys are unique.
      std::set<std::string> keys;
      for (const auto& e : events) CHECK(keys.insert(e.dedupe_key()).second);
    }
  }

  absl::StatusOr<int> carrier_code = carrier->SignalAndWait(SIGTERM, absl::Seconds(30));
  REQUIRE(carrier_code.ok());
  CHECK(*carrier_code == 0);
  absl::StatusOr<int> emulator_code = emulator->SignalAndWait(SIGTERM, absl::Seconds(30));
  REQUIRE(emulator_code.ok());
  CHECK(*emulator_code == 0);
  // Credentials never reach the logs.
  CHECK_FALSE(absl::StrContains(carrier->Output(), kTwilioToken));
  CHECK_FALSE(absl::StrContains(carrier->Output(), kTelnyxKey));
  CHECK_FALSE(absl::StrContains(emulator->Output(), kTwilioToken));
}

}  // namespace
}  // namespace switchboard
