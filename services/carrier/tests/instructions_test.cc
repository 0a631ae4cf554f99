// The InstructionSource contract as the webhook listener applies it: the source answers every
// call event with the call's current set; the same id continues after the reporting verb, a new
// id starts from the first verb (Twilio TwiML, Telnyx plan without an answer step); and
// CarrierCore::InstructCall replacing a live call's instructions on both carriers.
#include <deque>
#include <mutex>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "libs/http/url.h"
#include "services/carrier/telnyx_plan.h"
#include "services/carrier/tests/fake_store.h"
#include "services/carrier/tests/service_test_support.h"
#include "services/carrier/twiml.h"

namespace switchboard::carrier {
namespace {

using testing::FakeStore;
using testing::ServiceHarness;

constexpr char kCompany[] = "0190c5d2-0000-7000-8000-0000000000c1";
constexpr char kNumber[] = "+15550004444";

// Answers with a fixed set per call and records what it was asked.
class ScriptedSource final : public InstructionSource {
 public:
  absl::StatusOr<CallEventAnswer> ForCallEvent(absl::string_view company_id,
                                               const CarrierEvent& event,
                                               absl::string_view current_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    asked.push_back({std::string(company_id), event, std::string(current_id)});
    if (answer.instructions.empty()) return absl::NotFoundError("nothing");
    return CallEventAnswer{.instructions = answer, .replayed = replayed};
  }
  struct Ask {
    std::string company_id;
    CarrierEvent event;
    std::string current_id;
  };
  std::vector<Ask> Asked() {
    std::lock_guard<std::mutex> lock(mu_);
    return asked;
  }
  CallInstructions answer;
  bool replayed = false;

 private:
  std::mutex mu_;
  std::vector<Ask> asked;
};

CallInstructions SetA() {
  return {.id = "set-a",
          .instructions = {Say{.text = "a0"},
                           Gather{.num_digits = 1, .prompts = {Say{.text = "a1"}}},
                           Say{.text = "a2"}, Hangup{}}};
}
CallInstructions SetB() {
  return {.id = "set-b", .instructions = {Say{.text = "b0"}, Hangup{}}};
}

void WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  REQUIRE(done());
}

// Text of the first <Say> in a TwiML document.
std::string FirstSay(const std::string& twiml) {
  absl::StatusOr<TwimlNode> root = ParseTwiml(twiml);
  REQUIRE(root.ok());
  REQUIRE_FALSE(root->children.empty());
  CHECK(root->children[0].tag == "Say");
  return root->children[0].text;
}

nlohmann::json StateOf(const http::Request& command) {
  nlohmann::json body = nlohmann::json::parse(command.body);
  absl::StatusOr<std::string> raw =
      crypto::Base64Decode(body["client_state"].get<std::string>());
  REQUIRE(raw.ok());
  return nlohmann::json::parse(*raw);
}

struct Fixture {
  FakeStore store;
  ServiceHarness h{store};
  ScriptedSource source;
  Fixture() {
    for (const char* action : {"speak", "hangup", "answer"}) {
      h.telnyx.On("POST", std::string("/v2/calls/v3:A/actions/") + action,
                  {{200, R"({"data":{"result":"ok"}})"}});
    }
    h.telnyx.On("POST", "/v2/calls/v3:B/actions/hangup", {{200, R"({"data":{"result":"ok"}})"}});
    h.twilio.On("POST", testing::kTwilioAccountPath + "/Calls/CA7.json",
                {{200, R"({"sid":"CA7","status":"in-progress"})"}});
    h.twilio.On("POST", testing::kTwilioAccountPath + "/Calls/CA7/Recordings.json",
                {{201, R"({"sid":"RE9","status":"in-progress"})"}});
    // Conferences (ConferenceControl).
    const std::string tw = testing::kTwilioAccountPath;
    h.twilio.On("POST", tw + "/Calls/CB1.json", {{200, R"({"sid":"CB1"})"}});
    h.twilio.On("GET", tw + "/Conferences.json",
                {{200, R"({"conferences":[{"sid":"CF1","friendly_name":"sb-call-7"}]})"}});
    h.twilio.On("POST", tw + "/Conferences/CF1/Participants.json", {{201, R"({"call_sid":"CC1"})"}});
    h.twilio.On("POST", tw + "/Conferences/CF1/Participants/CB1.json", {{200, R"({"hold":true})"}});
    h.telnyx.On("POST", "/v2/conferences", {{200, R"({"data":{"id":"conf-1"}})"}});
    for (const char* action : {"join", "hold", "unhold"}) {
      h.telnyx.On("POST", std::string("/v2/conferences/conf-1/actions/") + action,
                  {{200, R"({"data":{"result":"ok"}})"}});
    }
    h.telnyx.On("POST", "/v2/calls",
                {{200, R"({"data":{"call_control_id":"v3:C"}})"},
                 {200, R"({"data":{"call_control_id":"v3:D"}})"}});
    h.telnyx.On("POST", "/v2/calls/v3:C/actions/hangup", {{200, R"({"data":{"result":"ok"}})"}});
    h.Start(&source);
    REQUIRE(h.core().SetCarrierAccount(
                        kCompany, {.primary = h.TwilioConfig(), .secondary = h.TelnyxConfig()})
                .ok());
    REQUIRE(store.PutNumber({.e164 = kNumber, .company_id = kCompany, .provider = "twilio",
                             .provider_number_id = "PN4"}).ok());
  }
  http::Response Send(const http::Request& r) { return h.router().Dispatch(r); }
};

TEST_CASE("Twilio: the source's set continues or replaces the running one", "[instructions]") {
  Fixture f;
  FormParams voice = testing::TwilioVoiceParams("CA7", kNumber);
  f.source.answer = SetA();
  http::Response first = f.Send(f.h.TwilioRequest("/webhooks/twilio/voice", voice));
  REQUIRE(first.status == 200);
  CHECK(FirstSay(first.body) == "a0");
  REQUIRE(f.source.Asked().size() == 1);
  CHECK(f.source.Asked()[0].current_id.empty());
  CHECK(std::holds_alternative<CallIncoming>(f.source.Asked()[0].event.kind));

  FormParams gathered = voice;
  gathered.emplace_back("Digits", "1");
  SECTION("same id: resumes after the gather verb") {
    http::Response next =
        f.Send(f.h.TwilioRequest("/webhooks/twilio/gather?i=set-a&s=1", gathered));
    REQUIRE(next.status == 200);
    CHECK(FirstSay(next.body) == "a2");
    CHECK(f.source.Asked().back().current_id == "set-a");
    const auto* digits = std::get_if<DigitsGathered>(&f.source.Asked().back().event.kind);
    REQUIRE(digits != nullptr);
    CHECK(digits->digits == "1");
  }
  SECTION("new id: the new set from its first verb") {
    f.source.answer = SetB();
    http::Response next =
        f.Send(f.h.TwilioRequest("/webhooks/twilio/gather?i=set-a&s=1", gathered));
    REQUIRE(next.status == 200);
    CHECK(FirstSay(next.body) == "b0");
  }
  SECTION("status callbacks reach the source; the answer is an empty Response") {
    FormParams done = voice;
    for (auto& [k, v] : done) {
      if (k == "CallStatus") v = "completed";
    }
    done.emplace_back("CallDuration", "12");
    http::Response r = f.Send(f.h.TwilioRequest("/webhooks/twilio/status", done));
    REQUIRE(r.status == 200);
    CHECK(absl::StrContains(r.body, "<Response/>"));
    CHECK(std::holds_alternative<CallCompleted>(f.source.Asked().back().event.kind));
  }
  SECTION("a Dial's nouns ask for the answered callback; the child leg's answer is a DialResult "
          "of the parent call, answered with an empty Response") {
    f.source.answer = CallInstructions{
        .id = "set-d",
        .instructions = {Dial{.targets = {{DialTarget::Kind::kNumber, "+15550007777"},
                                          {DialTarget::Kind::kClient, "alice"}}}}};
    http::Response dial =
        f.Send(f.h.TwilioRequest("/webhooks/twilio/gather?i=set-a&s=1", gathered));
    REQUIRE(dial.status == 200);
    absl::StatusOr<TwimlNode> root = ParseTwiml(dial.body);
    REQUIRE(root.ok());
    REQUIRE(root->children.size() == 1);
    REQUIRE(root->children[0].children.size() == 2);
    for (const TwimlNode& noun : root->children[0].children) {
      REQUIRE(noun.Attr("statusCallback") != nullptr);
      // Like the action URLs, it names the set and the Dial's index.
      CHECK(*noun.Attr("statusCallback") ==
            std::string(testing::kPublicBase) + "/webhooks/twilio/status?i=set-d&s=0");
      CHECK(*noun.Attr("statusCallbackEvent") == "answered");
    }
    const std::string status_target =
        root->children[0].children[1].Attr("statusCallback")->substr(
            std::string(testing::kPublicBase).size());
    const size_t events_before = f.store.events().size();
    const size_t asked_before = f.source.Asked().size();
    FormParams child = {{"AccountSid", testing::kTwilioSid}, {"CallSid", "CAchild7"},
                        {"CallStatus", "in-progress"}, {"Direction", "outbound-dial"},
                        {"From", kNumber}, {"To", "client:alice"}, {"ParentCallSid", "CA7"},
                        {"CallbackSource", "call-progress-events"}, {"SequenceNumber", "0"}};
    http::Response r = f.Send(f.h.TwilioRequest(status_target, child));
    REQUIRE(r.status == 200);
    CHECK(r.body == R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
    REQUIRE(f.source.Asked().size() == asked_before + 1);
    const ScriptedSource::Ask ask = f.source.Asked().back();
    CHECK(ask.company_id == kCompany);
    // The source is told which set's Dial was answered (a stale one's is told apart).
    CHECK(ask.current_id == "set-d");
    CHECK(ask.event.ids.call_sid == "CA7");
    CHECK(ask.event.ids.parent_call_sid == "CA7");
    const auto* result = std::get_if<DialResult>(&ask.event.kind);
    REQUIRE(result != nullptr);
    CHECK(result->status == DialStatus::kAnswered);
    CHECK(result->at_answer);
    CHECK(result->dialed == "client:alice");
    CHECK(result->dialed_call_id == "CAchild7");
    auto events = f.store.events();
    REQUIRE(events.size() == events_before + 1);
    CHECK(events.back().type() == "carrier.dial_result");
    CHECK(events.back().aggregate_id() == "CA7");
    CHECK(events.back().carrier_event().ids().call_sid() == "CA7");
    CHECK(events.back().carrier_event().dial_result().dialed() == "client:alice");
    // A redelivery is stored once.
    REQUIRE(f.Send(f.h.TwilioRequest(status_target, child)).status == 200);
    CHECK(f.store.events().size() == events_before + 1);
    // The child leg completing is not the call completing: acknowledged, not an event.
    FormParams child_done = child;
    for (auto& [k, v] : child_done) {
      if (k == "CallStatus") v = "completed";
      if (k == "SequenceNumber") v = "1";
    }
    child_done.emplace_back("CallDuration", "12");
    http::Response done = f.Send(f.h.TwilioRequest("/webhooks/twilio/status", child_done));
    REQUIRE(done.status == 200);
    CHECK(f.store.events().size() == events_before + 1);
    CHECK(f.source.Asked().size() == asked_before + 2);  // the redelivery was asked, not this
  }
  SECTION("no instructions: empty Response") {
    f.source.answer = CallInstructions{};
    http::Response r = f.Send(f.h.TwilioRequest("/webhooks/twilio/gather?i=set-a&s=1", gathered));
    REQUIRE(r.status == 200);
    CHECK(absl::StrContains(r.body, "<Response/>"));
  }
}

TEST_CASE("Telnyx: outbound answer and mid-call sets start a plan without an answer step",
          "[instructions]") {
  Fixture f;
  f.source.answer = SetB();
  SECTION("an answered outbound call without client_state") {
    const std::string answered = testing::TelnyxEnvelope(
        "call.answered", "ev-o1",
        R"({"call_control_id":"v3:A","call_session_id":"s-1","connection_id":"conn-1",)"
        R"("direction":"outgoing","from":")" + std::string(kNumber) + R"(","to":"+15550009999"})");
    REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", answered)).status == 200);
    WaitFor([&] { return f.h.hooks().CommandsSentForTest() >= 1; });
    const http::Request cmd = f.h.telnyx.last();
    CHECK(cmd.path == "/v2/calls/v3:A/actions/speak");
    nlohmann::json state = StateOf(cmd);
    CHECK(state["i"] == "set-b");
    CHECK(state["s"] == 0);
    CHECK(state["n"] == 1);

    // speak ended with that state: the same set continues (hang-up), no answer step counted.
    TelnyxPlanState s{.instructions_id = "set-b", .step = 0, .answer_step = false};
    const std::string ended = testing::TelnyxEnvelope(
        "call.speak.ended", "ev-o2",
        R"({"call_control_id":"v3:A","call_session_id":"s-1","connection_id":"conn-1",)"
        R"("status":"completed","client_state":")" + EncodeClientState(s) + R"("})");
    REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", ended)).status == 200);
    WaitFor([&] { return f.h.hooks().CommandsSentForTest() >= 2; });
    CHECK(f.h.telnyx.last().path == "/v2/calls/v3:A/actions/hangup");
    CHECK(f.source.Asked().back().current_id == "set-b");
  }
  SECTION("a gather result answered with a new set") {
    TelnyxPlanState s{.instructions_id = "set-a", .step = 2};  // inbound plan: answer, a0, a1
    const std::string gathered = testing::TelnyxEnvelope(
        "call.gather.ended", "ev-g1",
        R"({"call_control_id":"v3:A","call_session_id":"s-2","connection_id":"conn-1",)"
        R"("digits":"2","status":"valid","client_state":")" + EncodeClientState(s) + R"("})");
    REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", gathered)).status == 200);
    WaitFor([&] { return f.h.hooks().CommandsSentForTest() >= 1; });
    const http::Request cmd = f.h.telnyx.last();
    CHECK(cmd.path == "/v2/calls/v3:A/actions/speak");
    CHECK(nlohmann::json::parse(cmd.body)["payload"] == "b0");
    CHECK(StateOf(cmd)["i"] == "set-b");
    CHECK(StateOf(cmd)["n"] == 1);
    CHECK(f.source.Asked().back().current_id == "set-a");
  }
  SECTION("an unanswered incoming call without instructions is hung up") {
    f.source.answer = CallInstructions{};
    const std::string initiated = testing::TelnyxEnvelope(
        "call.initiated", "ev-i1",
        R"({"call_control_id":"v3:A","call_session_id":"s-3","connection_id":"conn-1",)"
        R"("direction":"incoming","from":"+15550001111","to":")" + std::string(kNumber) +
            R"("})");
    REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control", initiated)).status == 200);
    WaitFor([&] { return f.h.hooks().CommandsSentForTest() >= 1; });
    CHECK(f.h.telnyx.last().path == "/v2/calls/v3:A/actions/hangup");
  }
}

TEST_CASE("InstructCall replaces a live call's instructions on both carriers", "[instructions]") {
  Fixture f;
  REQUIRE(f.store.PutCall({.call_id = "CA7", .company_id = kCompany, .provider = "twilio"}).ok());
  REQUIRE(f.store.PutCall({.call_id = "v3:A", .company_id = kCompany, .provider = "telnyx"}).ok());

  REQUIRE(f.h.core().InstructCall(kCompany, "CA7", SetB()).ok());
  const http::Request update = f.h.twilio.last();
  CHECK(update.path == testing::kTwilioAccountPath + "/Calls/CA7.json");
  FormParams form = http::ParseForm(update.body);
  std::string twiml;
  for (const auto& [k, v] : form) {
    if (k == "Twiml") twiml = v;
  }
  CHECK(FirstSay(twiml) == "b0");

  REQUIRE(f.h.core().InstructCall(kCompany, "v3:A", SetB()).ok());
  const http::Request speak = f.h.telnyx.last();
  CHECK(speak.path == "/v2/calls/v3:A/actions/speak");
  CHECK(StateOf(speak)["n"] == 1);

  CHECK(f.h.core().InstructCall(kCompany, "CA-unknown", SetB()).code() ==
        absl::StatusCode::kNotFound);
  constexpr char kOther[] = "0190c5d2-0000-7000-8000-0000000000c2";
  REQUIRE(f.h.core().SetCarrierAccount(kOther, {.primary = f.h.TwilioConfig()}).ok());
  CHECK(f.h.core().InstructCall(kOther, "CA7", SetB()).code() == absl::StatusCode::kNotFound);
  absl::Status invalid = f.h.core().InstructCall(
      kCompany, "CA7", CallInstructions{.id = "x", .instructions = {Say{.text = ""}}});
  CHECK(invalid.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(invalid.message(), "instructions"));
}

// A transfer running on the Telnyx leg v3:A: say, dial +15550007777 (plan step 1: the plan was
// started mid-call, without an answer step), hang up. v3:B is the transfer's target leg.
constexpr char kTarget[] = "+15550007777";
TelnyxPlanState TargetLegState() {
  return TelnyxPlanState{.instructions_id = "set-x", .step = 1, .a_leg_call_control_id = "v3:A",
                         .dial_leg = true, .answer_step = false};
}
std::string TargetLegEvent(const std::string& type, const std::string& id,
                           const std::string& extra = "") {
  return testing::TelnyxEnvelope(
      type, id,
      R"({"call_control_id":"v3:B","call_session_id":"s-x","connection_id":"conn-1",)"
      R"("direction":"outgoing","from":")" + std::string(kNumber) + R"(","to":")" + kTarget +
          R"(","client_state":")" + EncodeClientState(TargetLegState()) + "\"" + extra + "}");
}
// An event of the A leg itself; `state` "" = no client_state.
std::string ALegEvent(const std::string& type, const std::string& id, const std::string& state,
                      const std::string& extra) {
  std::string payload = R"({"call_control_id":"v3:A","call_session_id":"s-x",)"
                        R"("connection_id":"conn-1")";
  if (!state.empty()) payload += R"(,"client_state":")" + state + "\"";
  return testing::TelnyxEnvelope(type, id, payload + extra + "}");
}
constexpr char kSaved[] =
    R"(,"recording_id":"rec-9","recording_urls":{"mp3":"https://rec.example/9.mp3"},)"
    R"("recording_started_at":"2026-01-02T03:00:00Z","recording_ended_at":"2026-01-02T03:00:30Z")";

TEST_CASE("Telnyx transfer: the target's answer is reported at once and starts nothing; "
          "INSTRUCT hangs the bridged leg up first; its stale hang-up starts nothing",
          "[instructions]") {
  Fixture f;
  REQUIRE(f.store.PutCall({.call_id = "v3:A", .company_id = kCompany, .provider = "telnyx"}).ok());
  // What the source makes of the answer: a new set, which must not run during the bridge.
  f.source.answer = SetB();
  const size_t events_before = f.store.events().size();
  for (const char* type : {"call.answered", "call.bridged"}) {
    REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                     TargetLegEvent(type, std::string("ev-") + type)))
                .status == 200);
  }
  // One event for both webhooks: the A leg's Dial answered by the target leg.
  auto events = f.store.events();
  REQUIRE(events.size() == events_before + 1);
  CHECK(events.back().type() == "carrier.dial_result");
  CHECK(events.back().carrier_event().ids().parent_call_sid() == "v3:A");
  CHECK(events.back().carrier_event().dial_result().dialed_call_id() == "v3:B");
  const ScriptedSource::Ask ask = f.source.Asked().back();
  CHECK(ask.current_id == "set-x");
  const auto* answered = std::get_if<DialResult>(&ask.event.kind);
  REQUIRE(answered != nullptr);
  CHECK(answered->status == DialStatus::kAnswered);
  CHECK(answered->dialed == kTarget);
  CHECK(answered->at_answer);
  // The bridge is recorded with the webhook.
  absl::StatusOr<std::string> bridged = f.store.GetBridgedLeg(kCompany, "v3:A");
  REQUIRE(bridged.ok());
  CHECK(*bridged == "v3:B");

  // INSTRUCT: the bridged leg is hung up, then the new plan starts on the A leg.
  const size_t sent_before = f.h.telnyx.count();
  REQUIRE(f.h.core().InstructCall(kCompany, "v3:A", SetB()).ok());
  std::vector<http::Request> sent = f.h.telnyx.requests();
  REQUIRE(sent.size() == sent_before + 2);
  const http::Request& hangup = sent[sent_before];
  CHECK(hangup.path == "/v2/calls/v3:B/actions/hangup");
  const std::string command_id = nlohmann::json::parse(hangup.body)["command_id"];
  CHECK(command_id.size() == 32);
  CHECK(sent[sent_before + 1].path == "/v2/calls/v3:A/actions/speak");
  CHECK(StateOf(sent[sent_before + 1])["i"] == "set-b");
  CHECK(absl::IsNotFound(f.store.GetBridgedLeg(kCompany, "v3:A").status()));
  // Nothing bridged any more: a second INSTRUCT only starts the plan.
  REQUIRE(f.h.core().InstructCall(kCompany, "v3:A", SetB()).ok());
  CHECK(f.h.telnyx.count() == sent_before + 3);
  CHECK(f.h.telnyx.last().path == "/v2/calls/v3:A/actions/speak");

  // The dropped leg's hang-up: a stale result, the current set replayed -> nothing starts
  // (it would re-run set-b's first command on the A leg).
  f.source.replayed = true;
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   TargetLegEvent("call.hangup", "ev-hangup-b",
                                                  R"(,"hangup_cause":"normal_clearing")")))
              .status == 200);
  const auto* ended = std::get_if<DialResult>(&f.source.Asked().back().event.kind);
  REQUIRE(ended != nullptr);
  CHECK_FALSE(ended->at_answer);
  // An on-demand recording's call.recording.saved (no client_state) is a RecordingReady of
  // the call and starts nothing either, even as a non-replayed answer.
  f.source.replayed = false;
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   ALegEvent("call.recording.saved", "ev-rec-1", "", kSaved)))
              .status == 200);
  CHECK(std::holds_alternative<RecordingReady>(f.source.Asked().back().event.kind));
  CHECK(f.store.events().back().type() == "carrier.recording_ready");
  f.h.hooks().Stop();  // drains the command queue
  CHECK(f.h.hooks().CommandsSentForTest() == 0);
  CHECK(f.h.telnyx.count() == sent_before + 3);
}

TEST_CASE("Telnyx transfer: nothing runs on the A leg while bridged; the bridge's own end runs "
          "the current set, replayed or not",
          "[instructions]") {
  Fixture f;
  f.source.answer = SetB();
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   TargetLegEvent("call.bridged", "ev-br-1")))
              .status == 200);
  // An A-leg event during the bridge (a recording carrying the transfer step's client_state,
  // as Telnyx keeps the last one on the call), answered with a new, non-replayed set.
  TelnyxPlanState a_state{.instructions_id = "set-x", .step = 1, .answer_step = false};
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   ALegEvent("call.recording.saved", "ev-rec-2",
                                             EncodeClientState(a_state), kSaved)))
              .status == 200);
  // The target leg hangs up on its own: the set made at its answer runs now, though replayed.
  f.source.replayed = true;
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   TargetLegEvent("call.hangup", "ev-hangup-b2",
                                                  R"(,"hangup_cause":"normal_clearing")")))
              .status == 200);
  CHECK(absl::IsNotFound(f.store.GetBridgedLeg(kCompany, "v3:A").status()));
  f.h.hooks().Stop();
  REQUIRE(f.h.hooks().CommandsSentForTest() == 1);
  const http::Request cmd = f.h.telnyx.last();
  CHECK(cmd.path == "/v2/calls/v3:A/actions/speak");
  CHECK(nlohmann::json::parse(cmd.body)["payload"] == "b0");
  CHECK(StateOf(cmd)["i"] == "set-b");
  CHECK(StateOf(cmd)["n"] == 1);
}

// A conference.* webhook of conference `id` for `leg`.
std::string ConferenceEvent(const std::string& type, const std::string& id, const std::string& leg,
                            const std::string& conference_id, const std::string& extra = "") {
  std::string payload = R"({"conference_id":")" + conference_id + R"(","connection_id":"conn-1")";
  if (!leg.empty()) payload += R"(,"call_control_id":")" + leg + R"(","call_session_id":"s-x")";
  return testing::TelnyxEnvelope(type, id, payload + extra + "}");
}

TEST_CASE("Telnyx MOVE_BRIDGE: conference created with A, B joined, the bridge cleared so B's "
          "end runs nothing; conference events are forwarded with the name and start no plan",
          "[instructions][conference]") {
  Fixture f;
  REQUIRE(f.store.PutCall({.call_id = "v3:A", .company_id = kCompany, .provider = "telnyx"}).ok());
  using A = ConferenceRequest::Action;
  // Not bridged yet.
  absl::StatusOr<std::string> early = f.h.core().ConferenceControl(
      kCompany, {.action = A::kMoveBridge, .call_id = "v3:A", .conference = "sb-call-1"});
  CHECK(early.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(early.status().message() == "call_id: the call is not connected");
  CHECK(absl::IsNotFound(f.h.core()
                             .ConferenceControl(kCompany, {.action = A::kMoveBridge,
                                                           .call_id = "v3:unknown",
                                                           .conference = "sb-call-1"})
                             .status()));
  absl::Status bad = f.h.core()
                         .ConferenceControl(kCompany, {.action = A::kMoveBridge, .call_id = "v3:A",
                                                       .conference = "sb call"})
                         .status();
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(bad.message(), "conference:"));

  f.source.answer = SetB();  // a new set, non-replayed: nothing below may start it
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   TargetLegEvent("call.answered", "ev-ans-b")))
              .status == 200);
  REQUIRE(f.store.GetBridgedLeg(kCompany, "v3:A").ok());
  const size_t sent_before = f.h.telnyx.count();
  absl::StatusOr<std::string> moved = f.h.core().ConferenceControl(
      kCompany, {.action = A::kMoveBridge, .call_id = "v3:A", .conference = "sb-call-1"});
  REQUIRE(moved.ok());
  CHECK(*moved == "v3:B");
  std::vector<http::Request> sent = f.h.telnyx.requests();
  REQUIRE(sent.size() == sent_before + 2);
  CHECK(sent[sent_before].path == "/v2/conferences");
  CHECK(nlohmann::json::parse(sent[sent_before].body) ==
        nlohmann::json{{"call_control_id", "v3:A"}, {"name", "sb-call-1"},
                       {"beep_enabled", "never"}});
  CHECK(sent[sent_before + 1].path == "/v2/conferences/conf-1/actions/join");
  CHECK(nlohmann::json::parse(sent[sent_before + 1].body) ==
        nlohmann::json{{"call_control_id", "v3:B"}});
  CHECK(absl::IsNotFound(f.store.GetBridgedLeg(kCompany, "v3:A").status()));
  absl::StatusOr<ConferenceRow> row = f.store.GetConferenceByName(kCompany, "sb-call-1");
  REQUIRE(row.ok());
  CHECK(row->conference_id == "conf-1");
  CHECK(row->a_leg == "v3:A");

  // A's join, carrying a plan client_state Telnyx kept on the call: recorded, forwarded with
  // the name, no plan.
  const size_t asked_before = f.source.Asked().size();
  REQUIRE(f.Send(f.h.TelnyxRequest(
                     "/webhooks/telnyx/call-control",
                     ConferenceEvent("conference.participant.joined", "ev-j-a", "v3:A", "conf-1",
                                     R"(,"client_state":")" +
                                         EncodeClientState({.instructions_id = "set-x",
                                                            .step = 1}) +
                                         "\"")))
              .status == 200);
  REQUIRE(f.source.Asked().size() == asked_before + 1);
  const ScriptedSource::Ask ask = f.source.Asked().back();
  CHECK(ask.current_id.empty());
  const auto* update = std::get_if<ConferenceUpdate>(&ask.event.kind);
  REQUIRE(update != nullptr);
  CHECK(update->conference == "sb-call-1");
  CHECK(update->leg == "v3:A");
  CHECK(update->kind == ConferenceUpdateKind::kJoined);
  CHECK(ask.event.ids.call_control_id == "v3:A");
  auto events = f.store.events();
  CHECK(events.back().type() == "carrier.conference_update");
  CHECK(events.back().aggregate_id() == "sb-call-1");
  CHECK(events.back().carrier_event().conference_update().conference() == "sb-call-1");
  CHECK(events.back().carrier_event().conference_update().kind() == v1::ConferenceUpdate::JOINED);

  // B's end: the bridge is a conference now, so its replayed answer runs nothing.
  f.source.replayed = true;
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   TargetLegEvent("call.hangup", "ev-hangup-b",
                                                  R"(,"hangup_cause":"normal_clearing")")))
              .status == 200);
  f.source.replayed = false;
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   ConferenceEvent("conference.ended", "ev-end", "", "conf-1",
                                                   R"(,"reason":"host_left")")))
              .status == 200);
  const auto* ended = std::get_if<ConferenceUpdate>(&f.source.Asked().back().event.kind);
  REQUIRE(ended != nullptr);
  CHECK(ended->kind == ConferenceUpdateKind::kEnded);
  CHECK(ended->conference == "sb-call-1");
  // An unknown conference, and conference.created: acknowledged, no event.
  const size_t stored = f.store.events().size();
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   ConferenceEvent("conference.participant.left", "ev-x", "v3:Z",
                                                   "conf-other")))
              .status == 200);
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   ConferenceEvent("conference.created", "ev-c", "v3:A", "conf-1")))
              .status == 200);
  CHECK(f.store.events().size() == stored);
  f.h.hooks().Stop();
  CHECK(f.h.hooks().CommandsSentForTest() == 0);
  CHECK(f.h.telnyx.count() == sent_before + 2);
}

TEST_CASE("Telnyx ADD: the added leg joins on answer, its end before joining is NOT_ANSWERED, "
          "it is never an ordinary call event; HOLD and REMOVE",
          "[instructions][conference]") {
  Fixture f;
  REQUIRE(f.store.PutCall({.call_id = "v3:A", .company_id = kCompany, .provider = "telnyx"}).ok());
  using A = ConferenceRequest::Action;
  // No conference yet for this call.
  CHECK(f.h.core()
            .ConferenceControl(kCompany, {.action = A::kHold, .call_id = "v3:A",
                                          .conference = "sb-call-1", .leg = "v3:B"})
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  REQUIRE(f.store.PutConference({.company_id = kCompany, .name = "sb-call-1", .a_leg = "v3:A",
                                 .conference_id = "conf-1"})
              .ok());
  f.source.answer = SetB();
  absl::StatusOr<std::string> added = f.h.core().ConferenceControl(
      kCompany, {.action = A::kAdd, .call_id = "v3:A", .conference = "sb-call-1",
                 .to = "+15550009999", .from = kNumber});
  REQUIRE(added.ok());
  CHECK(*added == "v3:C");
  nlohmann::json dial = nlohmann::json::parse(f.h.telnyx.last().body);
  CHECK(dial["webhook_url"] == std::string(testing::kPublicBase) + "/webhooks/telnyx/call-control");
  absl::StatusOr<std::string> marker = crypto::Base64Decode(dial["client_state"].get<std::string>());
  REQUIRE(marker.ok());
  std::optional<ConferenceLegState> state = DecodeConferenceLegState(*marker);
  REQUIRE(state.has_value());
  CHECK(state->conference_id == "conf-1");
  CHECK(state->conference == "sb-call-1");

  auto leg_event = [&](const std::string& type, const std::string& id, const std::string& leg,
                       const std::string& extra) {
    return f.h.TelnyxRequest(
        "/webhooks/telnyx/call-control",
        testing::TelnyxEnvelope(
            type, id,
            R"({"call_control_id":")" + leg + R"(","connection_id":"conn-1",)"
            R"("direction":"outgoing","from":")" + std::string(kNumber) +
                R"(","to":"+15550009999","client_state":")" + dial["client_state"].get<std::string>() +
                "\"" + extra + "}"));
  };
  const size_t asked_before = f.source.Asked().size();
  const size_t sent_before = f.h.telnyx.count();
  REQUIRE(f.Send(leg_event("call.answered", "ev-c-ans", "v3:C", "")).status == 200);
  WaitFor([&] { return f.h.hooks().CommandsSentForTest() == 1; });
  CHECK(f.h.telnyx.last().path == "/v2/conferences/conf-1/actions/join");
  CHECK(nlohmann::json::parse(f.h.telnyx.last().body) ==
        nlohmann::json{{"call_control_id", "v3:C"}});
  CHECK(f.source.Asked().size() == asked_before);  // not a call event of any call routing knows
  CHECK(f.store.events().back().type() == "carrier.call_answered");  // recorded

  // It hangs up before joining (busy): NOT_ANSWERED, recorded and forwarded.
  REQUIRE(f.Send(leg_event("call.hangup", "ev-c-hup", "v3:C", R"(,"hangup_cause":"user_busy")"))
              .status == 200);
  REQUIRE(f.source.Asked().size() == asked_before + 1);
  const ScriptedSource::Ask ask = f.source.Asked().back();
  const auto* update = std::get_if<ConferenceUpdate>(&ask.event.kind);
  REQUIRE(update != nullptr);
  CHECK(update->kind == ConferenceUpdateKind::kNotAnswered);
  CHECK(update->conference == "sb-call-1");
  CHECK(update->leg == "v3:C");
  CHECK(update->to == "+15550009999");
  CHECK(update->reason == "busy");
  CHECK(ask.event.ids.call_control_id == "v3:C");
  CHECK(ask.event.to == "+15550009999");
  CHECK(f.store.events().back().type() == "carrier.conference_update");

  // A second added leg joins, then hangs up: its LEFT comes from the conference, the hangup is
  // only recorded.
  REQUIRE(f.h.core()
              .ConferenceControl(kCompany, {.action = A::kAdd, .call_id = "v3:A",
                                            .conference = "sb-call-1", .to = "+15550009999",
                                            .from = kNumber})
              .value() == "v3:D");
  REQUIRE(f.Send(f.h.TelnyxRequest("/webhooks/telnyx/call-control",
                                   ConferenceEvent("conference.participant.joined", "ev-j-d",
                                                   "v3:D", "conf-1")))
              .status == 200);
  const size_t asked_joined = f.source.Asked().size();
  const size_t stored = f.store.events().size();
  REQUIRE(f.Send(leg_event("call.hangup", "ev-d-hup", "v3:D",
                           R"(,"hangup_cause":"normal_clearing")"))
              .status == 200);
  CHECK(f.source.Asked().size() == asked_joined);
  CHECK(f.store.events().size() == stored + 1);
  CHECK(f.store.events().back().type() == "carrier.call_completed");

  REQUIRE(f.h.core()
              .ConferenceControl(kCompany, {.action = A::kHold, .call_id = "v3:A",
                                            .conference = "sb-call-1", .leg = "v3:B"})
              .ok());
  CHECK(f.h.telnyx.last().path == "/v2/conferences/conf-1/actions/hold");
  REQUIRE(f.h.core()
              .ConferenceControl(kCompany, {.action = A::kRemove, .call_id = "v3:A",
                                            .conference = "sb-call-1", .leg = "v3:C"})
              .ok());
  CHECK(f.h.telnyx.last().path == "/v2/calls/v3:C/actions/hangup");
  f.h.hooks().Stop();
  CHECK(f.h.hooks().CommandsSentForTest() == 1);  // only the join: no plan ever started
  CHECK(f.h.telnyx.count() == sent_before + 4);  // join, ADD, HOLD, REMOVE
}

TEST_CASE("Twilio: the answered child leg records the bridge; MOVE_BRIDGE redirects B into the "
          "conference; conference callbacks are forwarded and answered <Response/>; ADD",
          "[instructions][conference]") {
  Fixture f;
  REQUIRE(f.store.PutCall({.call_id = "CA7", .company_id = kCompany, .provider = "twilio"}).ok());
  f.source.answer = SetA();
  FormParams child = {{"AccountSid", testing::kTwilioSid}, {"CallSid", "CB1"},
                      {"CallStatus", "in-progress"}, {"Direction", "outbound-dial"},
                      {"From", kNumber}, {"To", kTarget}, {"ParentCallSid", "CA7"}};
  REQUIRE(f.Send(f.h.TwilioRequest("/webhooks/twilio/status?i=set-a&s=3", child)).status == 200);
  absl::StatusOr<std::string> bridged = f.store.GetBridgedLeg(kCompany, "CA7");
  REQUIRE(bridged.ok());
  CHECK(*bridged == "CB1");

  using A = ConferenceRequest::Action;
  absl::StatusOr<std::string> moved = f.h.core().ConferenceControl(
      kCompany, {.action = A::kMoveBridge, .call_id = "CA7", .conference = "sb-call-7"});
  REQUIRE(moved.ok());
  CHECK(*moved == "CB1");
  CHECK(f.h.twilio.last().path == testing::kTwilioAccountPath + "/Calls/CB1.json");
  const std::string twiml = testing::Field(http::ParseForm(f.h.twilio.last().body), "Twiml");
  absl::StatusOr<TwimlNode> root = ParseTwiml(twiml);
  REQUIRE(root.ok());
  REQUIRE(root->children.size() == 1);
  CHECK(root->children[0].tag == "Dial");
  CHECK(root->children[0].Attr("action") == nullptr);
  const TwimlNode& noun = root->children[0].children.at(0);
  CHECK(noun.tag == "Conference");
  CHECK(noun.text == "sb-call-7");
  CHECK(*noun.Attr("startConferenceOnEnter") == "true");
  CHECK(*noun.Attr("endConferenceOnExit") == "false");
  CHECK(*noun.Attr("statusCallback") ==
        std::string(testing::kPublicBase) + "/webhooks/twilio/conference");
  CHECK(*noun.Attr("statusCallbackEvent") == "join leave end");
  CHECK(absl::IsNotFound(f.store.GetBridgedLeg(kCompany, "CA7").status()));

  // The conference's callback: forwarded, recorded, answered with an empty document.
  const size_t asked_before = f.source.Asked().size();
  FormParams join = {{"AccountSid", testing::kTwilioSid}, {"ConferenceSid", "CF1"},
                     {"FriendlyName", "sb-call-7"}, {"StatusCallbackEvent", "participant-join"},
                     {"CallSid", "CB1"}, {"SequenceNumber", "1"}};
  http::Response r = f.Send(f.h.TwilioRequest("/webhooks/twilio/conference", join));
  REQUIRE(r.status == 200);
  CHECK(r.body == R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
  REQUIRE(f.source.Asked().size() == asked_before + 1);
  const ScriptedSource::Ask ask = f.source.Asked().back();
  const auto* update = std::get_if<ConferenceUpdate>(&ask.event.kind);
  REQUIRE(update != nullptr);
  CHECK(update->kind == ConferenceUpdateKind::kJoined);
  CHECK(update->conference == "sb-call-7");
  CHECK(ask.event.ids.call_sid == "CB1");
  CHECK(f.store.events().back().type() == "carrier.conference_update");
  // Unsigned: refused.
  CHECK(f.Send(f.h.TwilioRequest("/webhooks/twilio/conference", join, "")).status == 403);

  // ADD: to the conference found by name, reporting to the participant route with the name.
  absl::StatusOr<std::string> added = f.h.core().ConferenceControl(
      kCompany, {.action = A::kAdd, .call_id = "CA7", .conference = "sb-call-7",
                 .to = "client:agent_7", .from = kNumber, .timeout_s = 25});
  REQUIRE(added.ok());
  CHECK(*added == "CC1");
  http::Params form = http::ParseForm(f.h.twilio.last().body);
  const std::string callback = testing::Field(form, "StatusCallback");
  CHECK(callback == std::string(testing::kPublicBase) +
                        "/webhooks/twilio/conference-participant?conference=sb-call-7");
  CHECK(testing::Field(form, "Timeout") == "25");
  FormParams busy = {{"AccountSid", testing::kTwilioSid}, {"CallSid", "CC1"},
                     {"CallStatus", "busy"}, {"To", "client:agent_7"}, {"From", kNumber},
                     {"Direction", "outbound-api"}};
  r = f.Send(f.h.TwilioRequest(callback.substr(std::string(testing::kPublicBase).size()), busy));
  REQUIRE(r.status == 200);
  CHECK(r.body == R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
  const auto* not_answered = std::get_if<ConferenceUpdate>(&f.source.Asked().back().event.kind);
  REQUIRE(not_answered != nullptr);
  CHECK(not_answered->kind == ConferenceUpdateKind::kNotAnswered);
  CHECK(not_answered->leg == "CC1");
  CHECK(not_answered->to == "client:agent_7");
  CHECK(not_answered->reason == "busy");
  CHECK(f.source.Asked().back().event.ids.call_sid == "CC1");

  // HOLD goes to the participant of the conference found by name.
  REQUIRE(f.h.core()
              .ConferenceControl(kCompany, {.action = A::kHold, .call_id = "CA7",
                                            .conference = "sb-call-7", .leg = "CB1"})
              .ok());
  CHECK(f.h.twilio.last().path ==
        testing::kTwilioAccountPath + "/Conferences/CF1/Participants/CB1.json");

  // A later Dial's bridge ends with A's Dial action.
  child[1].second = "CB2";
  REQUIRE(f.Send(f.h.TwilioRequest("/webhooks/twilio/status?i=set-a&s=3", child)).status == 200);
  REQUIRE(f.store.GetBridgedLeg(kCompany, "CA7").ok());
  FormParams action = testing::TwilioVoiceParams("CA7", kNumber);
  action.emplace_back("DialCallStatus", "completed");
  action.emplace_back("DialCallSid", "CB2");
  REQUIRE(f.Send(f.h.TwilioRequest("/webhooks/twilio/dial?i=set-a&s=3", action)).status == 200);
  CHECK(absl::IsNotFound(f.store.GetBridgedLeg(kCompany, "CA7").status()));
}

TEST_CASE("Twilio on-demand recording reports to the recording route; its callback is a "
          "RecordingReady of the call",
          "[instructions]") {
  Fixture f;
  REQUIRE(f.store.PutCall({.call_id = "CA7", .company_id = kCompany, .provider = "twilio"}).ok());
  absl::StatusOr<std::string> rec = f.h.core().StartRecording(kCompany, "CA7");
  REQUIRE(rec.ok());
  CHECK(*rec == "RE9");
  FormParams form = http::ParseForm(f.h.twilio.last().body);
  std::string callback;
  for (const auto& [k, v] : form) {
    if (k == "RecordingStatusCallback") callback = v;
  }
  CHECK(callback == std::string(testing::kPublicBase) + "/webhooks/twilio/recording");

  f.source.answer = SetB();
  const size_t events_before = f.store.events().size();
  FormParams done = {{"AccountSid", testing::kTwilioSid}, {"CallSid", "CA7"},
                     {"RecordingSid", "RE9"},
                     {"RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/" +
                                          std::string(testing::kTwilioSid) + "/Recordings/RE9"},
                     {"RecordingStatus", "completed"}, {"RecordingDuration", "31"},
                     {"RecordingChannels", "1"}, {"RecordingSource", "StartCallRecordingAPI"}};
  http::Response r =
      f.Send(f.h.TwilioRequest(callback.substr(std::string(testing::kPublicBase).size()), done));
  REQUIRE(r.status == 200);
  CHECK(r.body == R"(<?xml version="1.0" encoding="UTF-8"?><Response/>)");
  const ScriptedSource::Ask ask = f.source.Asked().back();
  CHECK(ask.current_id.empty());
  CHECK(ask.event.ids.call_sid == "CA7");
  const auto* ready = std::get_if<RecordingReady>(&ask.event.kind);
  REQUIRE(ready != nullptr);
  CHECK(ready->recording_id == "RE9");
  CHECK(ready->duration_s == 31);
  auto events = f.store.events();
  REQUIRE(events.size() == events_before + 1);
  CHECK(events.back().type() == "carrier.recording_ready");
  CHECK(events.back().carrier_event().ids().call_sid() == "CA7");
  CHECK(events.back().carrier_event().recording_ready().recording_id() == "RE9");
}

TEST_CASE("PlaceCall failing over to Telnyx gets Telnyx's own webhook URL", "[instructions]") {
  FakeStore store;
  ServiceHarness h(store);
  h.twilio.On("POST", testing::kTwilioAccountPath + "/Calls.json",
              {{503, R"({"code":20500,"message":"down","more_info":"","status":503})"}});
  h.telnyx.On("POST", "/v2/calls",
              {{200, R"({"data":{"call_control_id":"v3:OUT","call_session_id":"s-out",)"
                     R"("call_leg_id":"l-out"}})"}});
  h.Start();
  REQUIRE(h.core().SetCarrierAccount(
                      kCompany, {.primary = h.TwilioConfig(), .secondary = h.TelnyxConfig()})
              .ok());
  absl::StatusOr<PlacedCall> placed =
      h.core().PlaceCall(kCompany, PlaceCallRequest{.from = kNumber, .to = "+15550007777"});
  REQUIRE(placed.ok());
  CHECK(placed->call_id == "v3:OUT");
  // Twilio was asked with its own voice webhook, Telnyx with the Call Control route.
  FormParams twilio_form = http::ParseForm(h.twilio.last().body);
  std::string twilio_url;
  for (const auto& [k, v] : twilio_form) {
    if (k == "Url") twilio_url = v;
  }
  CHECK(twilio_url == std::string(testing::kPublicBase) + "/webhooks/twilio/voice");
  nlohmann::json dial = nlohmann::json::parse(h.telnyx.last().body);
  CHECK(dial["webhook_url"] == std::string(testing::kPublicBase) + "/webhooks/telnyx/call-control");
  // Later operations on the call go to the provider that placed it.
  CHECK(store.FindCall("v3:OUT")->provider == "telnyx");
}

TEST_CASE("SearchNumbers merges both providers; OrderNumber orders on the one offering",
          "[numbers]") {
  FakeStore store;
  ServiceHarness h(store);
  auto twilio_number = [](const std::string& e164) {
    return R"({"phone_number":")" + e164 + R"(","locality":"Hartford","region":"CT",)"
           R"("capabilities":{"voice":true,"SMS":true,"MMS":false,"fax":false}})";
  };
  auto telnyx_number = [](const std::string& e164) {
    return R"({"phone_number":")" + e164 + R"(","region_information":[],)"
           R"("cost_information":{"monthly_cost":"1.15","currency":"USD"},)"
           R"("features":[{"name":"voice"}]})";
  };
  h.twilio.On("GET", testing::kTwilioAccountPath + "/AvailablePhoneNumbers/US/Local.json",
              {{200, R"({"available_phone_numbers":[)" + twilio_number("+12035550100") + "," +
                         twilio_number("+12035550101") + "," + twilio_number("+12035550102") +
                         "]}"}});
  h.telnyx.On("GET", "/v2/available_phone_numbers",
              {{200, R"({"data":[)" + telnyx_number("+12035550101") + "," +
                         telnyx_number("+12035550200") + "," + telnyx_number("+12035550201") +
                         R"(],"meta":{"total_results":3}})"}});
  h.telnyx.On("POST", "/v2/number_orders",
              {{200, R"({"data":{"id":"ord-1","status":"success","phone_numbers":[)"
                     R"({"id":"pn-1","phone_number":"+12035550200","status":"success"}]}})"}});
  h.telnyx.On("GET", "/v2/phone_numbers",
              {{200, R"({"data":[{"id":"tn-200","phone_number":"+12035550200",)"
                     R"("status":"active"}],"meta":{"total_results":1}})"}});
  h.Start();
  REQUIRE(h.core().SetCarrierAccount(
                      kCompany, {.primary = h.TwilioConfig(), .secondary = h.TelnyxConfig()})
              .ok());

  absl::StatusOr<std::vector<AvailableNumber>> found =
      h.core().SearchNumbers(kCompany, NumberSearch{.area_code = "203", .limit = 4});
  REQUIRE(found.ok());
  std::vector<std::string> got;
  for (const AvailableNumber& n : *found) got.push_back(n.e164 + "@" + n.provider);
  // Alternately, limit 4, the number both offer is the primary's.
  CHECK(got == std::vector<std::string>{"+12035550100@twilio", "+12035550101@twilio",
                                        "+12035550200@telnyx", "+12035550102@twilio"});
  CHECK(found->at(2).monthly_cost == "1.15");

  absl::StatusOr<std::pair<OrderedNumber, std::string>> ordered =
      h.core().OrderNumber(kCompany, "+12035550200", NumberWebhooks{}, "telnyx");
  REQUIRE(ordered.ok());
  CHECK(ordered->second == "telnyx");
  CHECK(store.FindNumber("+12035550200")->provider == "telnyx");
  bool ordered_on_telnyx = false;
  for (const http::Request& r : h.telnyx.requests()) {
    if (r.path == "/v2/number_orders") ordered_on_telnyx = true;
  }
  CHECK(ordered_on_telnyx);

  absl::Status unknown =
      h.core().OrderNumber(kCompany, "+12035550201", NumberWebhooks{}, "bandwidth").status();
  CHECK(unknown.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(unknown.message(), "provider"));
}

TEST_CASE("SearchNumbers survives one provider failing", "[numbers]") {
  FakeStore store;
  ServiceHarness h(store);
  h.twilio.On("GET", testing::kTwilioAccountPath + "/AvailablePhoneNumbers/US/Local.json",
              {{503, R"({"code":20500,"message":"down","more_info":"","status":503})"}});
  h.telnyx.On("GET", "/v2/available_phone_numbers",
              {{200, R"({"data":[{"phone_number":"+12035550300","features":[]}],"meta":{}})"}});
  h.Start();
  REQUIRE(h.core().SetCarrierAccount(
                      kCompany, {.primary = h.TwilioConfig(), .secondary = h.TelnyxConfig()})
              .ok());
  absl::StatusOr<std::vector<AvailableNumber>> found =
      h.core().SearchNumbers(kCompany, NumberSearch{.area_code = "203"});
  REQUIRE(found.ok());
  REQUIRE(found->size() == 1);
  CHECK(found->at(0).provider == "telnyx");
}

}  // namespace
}  // namespace switchboard::carrier
