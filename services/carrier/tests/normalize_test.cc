// Normalisation of representative Twilio form webhooks and Telnyx JSON webhooks of every kind,
// plus malformed and unknown ones.
#include "services/carrier/normalize.h"

#include "catch2/catch.hpp"
#include "libs/crypto/encoding.h"
#include "services/carrier/telnyx_plan.h"

namespace switchboard::carrier {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

TwilioWebhook Tw(TwilioWebhookKind kind, FormParams params, FormParams query = {}) {
  return TwilioWebhook{.kind = kind, .params = std::move(params), .query = std::move(query),
                       .received_at = kNow};
}

FormParams CallBase() {
  return {{"CallSid", "CA123"}, {"AccountSid", "AC9"}, {"From", "+15551110000"},
          {"To", "+15552220000"}, {"Direction", "inbound"}, {"CallStatus", "ringing"}};
}

TEST_CASE("Twilio voice webhook -> CallIncoming", "[normalize][twilio]") {
  FormParams p = CallBase();
  p.emplace_back("CallerName", "ACME");
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(Tw(TwilioWebhookKind::kVoice, p));
  REQUIRE(e.ok());
  CHECK(e->provider == Provider::kTwilio);
  CHECK(e->ids.call_sid == "CA123");
  CHECK(e->ids.account_id == "AC9");
  CHECK(e->from == "+15551110000");
  CHECK(e->to == "+15552220000");
  CHECK(e->direction == CallDirection::kInbound);
  CHECK(e->occurred_at == kNow);
  CHECK(e->dedupe_key == "twilio:voice:CA123");
  CHECK(std::get<CallIncoming>(e->kind).caller_name == "ACME");
  CHECK(e->company_id.empty());

  FormParams out = CallBase();
  out[4].second = "outbound-api";
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kVoice, out));
  REQUIRE(e.ok());
  CHECK(std::holds_alternative<CallAnswered>(e->kind));
  CHECK(e->direction == CallDirection::kOutbound);
  CHECK(e->client_state.empty());

  // A placed call's client state comes back as the `cs` query parameter of our URL.
  TwilioWebhook placed = Tw(TwilioWebhookKind::kVoice, out);
  placed.query = {{"cs", "sbcall:0190-ab"}};
  e = NormalizeTwilio(placed);
  REQUIRE(e.ok());
  CHECK(e->client_state == "sbcall:0190-ab");
}

TEST_CASE("Twilio status callbacks", "[normalize][twilio]") {
  FormParams p = CallBase();
  p[5].second = "busy";
  p.emplace_back("CallDuration", "0");
  p.emplace_back("SequenceNumber", "3");
  p.emplace_back("Timestamp", "Mon, 16 Aug 2010 03:45:01 +0000");
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, p));
  REQUIRE(e.ok());
  CHECK(std::get<CallCompleted>(e->kind).reason == CallEndReason::kBusy);
  CHECK(e->dedupe_key == "twilio:status:CA123:busy:3");
  CHECK(e->occurred_at == absl::FromUnixSeconds(1281930301));

  const std::pair<const char*, CallEndReason> cases[] = {
      {"completed", CallEndReason::kCompleted}, {"no-answer", CallEndReason::kNoAnswer},
      {"failed", CallEndReason::kFailed}, {"canceled", CallEndReason::kCanceled}};
  for (const auto& [status, reason] : cases) {
    FormParams q = CallBase();
    q[5].second = status;
    q.emplace_back("CallDuration", "42");
    e = NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, q));
    REQUIRE(e.ok());
    CHECK(std::get<CallCompleted>(e->kind).reason == reason);
    CHECK(std::get<CallCompleted>(e->kind).duration_s == 42);
  }
  FormParams answered = CallBase();
  answered[5].second = "in-progress";
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, answered));
  REQUIRE(e.ok());
  CHECK(std::holds_alternative<CallAnswered>(e->kind));
  // ringing is not an event; missing CallStatus and a bad duration are invalid.
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, CallBase())).status().code() ==
        absl::StatusCode::kNotFound);
  absl::Status missing =
      NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, {{"CallSid", "CA1"}})).status();
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.message() == "CallStatus: missing");
  FormParams bad = CallBase();
  bad[5].second = "completed";
  bad.emplace_back("CallDuration", "x");
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, bad)).status().message() ==
        "CallDuration: not a non-negative integer");
}

TEST_CASE("Twilio dialled child-leg callbacks: the answer is a DialResult of the parent",
          "[normalize][twilio]") {
  FormParams p = {{"AccountSid", "AC9"},
                  {"ApiVersion", "2010-04-01"},
                  {"CallSid", "CAchild1"},
                  {"CallStatus", "in-progress"},
                  {"CallbackSource", "call-progress-events"},
                  {"Direction", "outbound-dial"},
                  {"From", "+15551110000"},
                  {"ParentCallSid", "CA123"},
                  {"SequenceNumber", "0"},
                  {"Timestamp", "Mon, 16 Aug 2010 03:45:01 +0000"},
                  {"To", "client:alice"}};
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, p));
  REQUIRE(e.ok());
  const DialResult* dial = std::get_if<DialResult>(&e->kind);
  REQUIRE(dial != nullptr);
  CHECK(dial->status == DialStatus::kAnswered);
  CHECK(dial->dialed == "client:alice");
  CHECK(dial->dialed_call_id == "CAchild1");
  CHECK(e->ids.call_sid == "CA123");  // the parent call's event
  CHECK(e->ids.parent_call_sid == "CA123");
  CHECK(e->ids.account_id == "AC9");
  CHECK(e->to == "client:alice");
  CHECK(e->occurred_at == absl::FromUnixSeconds(1281930301));
  CHECK(e->dedupe_key == "twilio:dial-answered:CA123:CAchild1");
  CHECK(dial->at_answer);
  CHECK(e->client_state.empty());
  // The Dial noun's statusCallback URL names the set and the Dial's index (i, s): they do not
  // change the event (the webhook handler passes i on as the running set).
  absl::StatusOr<CarrierEvent> with_set = NormalizeTwilio(
      Tw(TwilioWebhookKind::kCallStatus, p, {{"i", "xfer-2"}, {"s", "1"}}));
  REQUIRE(with_set.ok());
  CHECK(with_set->dedupe_key == e->dedupe_key);
  CHECK(std::get<DialResult>(with_set->kind).dialed_call_id == "CAchild1");
  CHECK(with_set->ids.call_sid == "CA123");
  // Distinct from the parent's own status and from the later Dial action callback.
  FormParams action = CallBase();
  action.emplace_back("DialCallStatus", "completed");
  action.emplace_back("DialCallSid", "CAchild1");
  absl::StatusOr<CarrierEvent> later =
      NormalizeTwilio(Tw(TwilioWebhookKind::kDialAction, action, {{"i", "x"}, {"s", "2"}}));
  REQUIRE(later.ok());
  CHECK(later->dedupe_key != e->dedupe_key);
  CHECK_FALSE(std::get<DialResult>(later->kind).at_answer);  // the Dial's end
  // "answered" (as some callbacks name it) is the same event.
  FormParams answered = p;
  answered[3].second = "answered";
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, answered));
  REQUIRE(e.ok());
  CHECK(std::get<DialResult>(e->kind).status == DialStatus::kAnswered);
  // Every other status of a child leg is not an event of the call (completed above all: the
  // child hanging up is not the caller's call completing).
  for (const char* status : {"initiated", "ringing", "completed", "canceled", "busy",
                             "no-answer", "failed"}) {
    FormParams q = p;
    q[3].second = status;
    q.emplace_back("CallDuration", "12");
    INFO(status);
    CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, q)).status().code() ==
          absl::StatusCode::kNotFound);
  }
  // The answered leg must name whom it dialled.
  FormParams no_to(p.begin(), p.end() - 1);
  absl::Status missing = NormalizeTwilio(Tw(TwilioWebhookKind::kCallStatus, no_to)).status();
  CHECK(missing.code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.message() == "To: missing");
}

TEST_CASE("Twilio gather, dial and recording actions", "[normalize][twilio]") {
  FormParams g = CallBase();
  g.emplace_back("Digits", "1");
  FormParams query = {{"i", "static-1"}, {"s", "1"}};
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(Tw(TwilioWebhookKind::kGatherAction, g, query));
  REQUIRE(e.ok());
  CHECK(std::get<DigitsGathered>(e->kind).digits == "1");
  CHECK_FALSE(std::get<DigitsGathered>(e->kind).timed_out);
  CHECK(e->dedupe_key == "twilio:gather:CA123:static-1:1");
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kGatherAction, CallBase(), query));
  REQUIRE(e.ok());
  CHECK(std::get<DigitsGathered>(e->kind).timed_out);

  FormParams d = CallBase();
  d.emplace_back("DialCallStatus", "no-answer");
  d.emplace_back("DialCallSid", "CA777");
  d.emplace_back("DialCallDuration", "0");
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kDialAction, d, {{"i", "static-1"}, {"s", "2"}}));
  REQUIRE(e.ok());
  CHECK(std::get<DialResult>(e->kind).status == DialStatus::kNoAnswer);
  CHECK(std::get<DialResult>(e->kind).dialed_call_id == "CA777");
  CHECK(e->dedupe_key == "twilio:dial:CA123:static-1:2:CA777");
  d[6].second = "completed";
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kDialAction, d));
  REQUIRE(e.ok());
  CHECK(std::get<DialResult>(e->kind).status == DialStatus::kAnswered);
  d[6].second = "weird";
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kDialAction, d)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kDialAction, CallBase())).status().message() ==
        "DialCallStatus: missing");

  FormParams r = CallBase();
  r.emplace_back("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC9/Recordings/RE55");
  r.emplace_back("RecordingDuration", "12");
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kRecordAction, r));
  REQUIRE(e.ok());
  const auto& rec = std::get<RecordingReady>(e->kind);
  CHECK(rec.recording_id == "RE55");
  CHECK(rec.duration_s == 12);
  CHECK(e->dedupe_key == "twilio:record:CA123:RE55");

  r.emplace_back("RecordingSid", "RE55");
  r.emplace_back("RecordingStatus", "completed");
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kRecordingStatus, r));
  REQUIRE(e.ok());
  CHECK(e->dedupe_key == "twilio:recording:RE55:completed");
  r.back().second = "in-progress";
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kRecordingStatus, r)).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kRecordAction, CallBase())).status().message() ==
        "RecordingUrl: missing");
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kVoice, {{"From", "+1"}})).status().message() ==
        "CallSid: missing");
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kVoice, {{"CallSid", "CA1"}, {"To", "+1"}}))
            .status()
            .message() == "From: missing");
}

TEST_CASE("Twilio conference status callbacks", "[normalize][twilio][conference]") {
  FormParams p = {{"AccountSid", "AC9"}, {"ConferenceSid", "CF1"}, {"FriendlyName", "sb-call-1"},
                  {"StatusCallbackEvent", "participant-join"}, {"CallSid", "CA7"},
                  {"SequenceNumber", "2"}, {"Hold", "false"}};
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceStatus, p));
  REQUIRE(e.ok());
  const auto& u = std::get<ConferenceUpdate>(e->kind);
  CHECK(u.kind == ConferenceUpdateKind::kJoined);
  CHECK(u.conference == "sb-call-1");
  CHECK(u.leg == "CA7");
  CHECK(u.provider_conference_id == "CF1");
  CHECK(e->ids.call_sid == "CA7");
  CHECK(e->ids.account_id == "AC9");
  CHECK(e->dedupe_key == "twilio:conference:CF1:CA7:participant-join:2");

  p[3].second = "participant-leave";
  p[5].second = "3";
  e = NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceStatus, p));
  REQUIRE(e.ok());
  CHECK(std::get<ConferenceUpdate>(e->kind).kind == ConferenceUpdateKind::kLeft);
  CHECK(e->dedupe_key == "twilio:conference:CF1:CA7:participant-leave:3");

  e = NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceStatus,
                         {{"AccountSid", "AC9"}, {"ConferenceSid", "CF1"},
                          {"FriendlyName", "sb-call-1"}, {"StatusCallbackEvent", "conference-end"},
                          {"SequenceNumber", "4"}}));
  REQUIRE(e.ok());
  CHECK(std::get<ConferenceUpdate>(e->kind).kind == ConferenceUpdateKind::kEnded);
  CHECK(std::get<ConferenceUpdate>(e->kind).leg.empty());
  CHECK(e->dedupe_key == "twilio:conference:CF1::conference-end:4");

  p[3].second = "participant-hold";
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceStatus, p)).status().code() ==
        absl::StatusCode::kNotFound);
  p[3].second = "participant-join";
  p.erase(p.begin() + 4);  // no CallSid
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceStatus, p)).status().message() ==
        "CallSid: missing");
}

TEST_CASE("Twilio added participant callbacks", "[normalize][twilio][conference]") {
  FormParams p = {{"AccountSid", "AC9"}, {"CallSid", "CA8"}, {"CallStatus", "busy"},
                  {"To", "client:agent_7"}, {"From", "+15551110000"}};
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(
      Tw(TwilioWebhookKind::kConferenceParticipant, p, {{"conference", "sb-call-1"}}));
  REQUIRE(e.ok());
  const auto& u = std::get<ConferenceUpdate>(e->kind);
  CHECK(u.kind == ConferenceUpdateKind::kNotAnswered);
  CHECK(u.conference == "sb-call-1");
  CHECK(u.leg == "CA8");
  CHECK(u.to == "client:agent_7");
  CHECK(u.reason == "busy");
  CHECK(e->to == "client:agent_7");
  CHECK(e->ids.call_sid == "CA8");
  CHECK(e->dedupe_key == "twilio:conference-participant:CA8:busy");
  for (const auto& [status, reason] : std::vector<std::pair<std::string, std::string>>{
           {"no-answer", "no-answer"}, {"failed", "failed"}, {"canceled", "no-answer"}}) {
    p[2].second = status;
    e = NormalizeTwilio(
        Tw(TwilioWebhookKind::kConferenceParticipant, p, {{"conference", "sb-call-1"}}));
    REQUIRE(e.ok());
    CHECK(std::get<ConferenceUpdate>(e->kind).reason == reason);
  }
  p[2].second = "completed";  // it joined and left: the conference callback says so
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceParticipant, p,
                           {{"conference", "sb-call-1"}}))
            .status()
            .code() == absl::StatusCode::kNotFound);
  p[2].second = "busy";
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kConferenceParticipant, p)).status().message() ==
        "conference: missing (URL query)");
}

TEST_CASE("Twilio messaging inbound and status", "[normalize][twilio]") {
  FormParams in = {{"MessageSid", "SM1"}, {"From", "+1555"}, {"To", "+1666"},
                   {"Body", "hi & bye"}, {"NumMedia", "2"},
                   {"MediaUrl0", "https://m/0"}, {"MediaUrl1", "https://m/1"}};
  absl::StatusOr<CarrierEvent> e = NormalizeTwilio(Tw(TwilioWebhookKind::kMessagingInbound, in));
  REQUIRE(e.ok());
  const auto& sms = std::get<SmsReceived>(e->kind);
  CHECK(sms.body == "hi & bye");
  CHECK(sms.media_urls == std::vector<std::string>{"https://m/0", "https://m/1"});
  CHECK(e->ids.message_id == "SM1");
  CHECK(e->dedupe_key == "twilio:sms:SM1");
  in[4].second = "3";
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kMessagingInbound, in)).status().message() ==
        "MediaUrl2: missing");

  const std::pair<const char*, SmsDeliveryStatus> cases[] = {
      {"queued", SmsDeliveryStatus::kQueued}, {"sent", SmsDeliveryStatus::kSent},
      {"delivered", SmsDeliveryStatus::kDelivered},
      {"undelivered", SmsDeliveryStatus::kUndelivered}, {"failed", SmsDeliveryStatus::kFailed}};
  for (const auto& [status, expected] : cases) {
    e = NormalizeTwilio(Tw(TwilioWebhookKind::kMessagingStatus,
                           {{"MessageSid", "SM2"}, {"MessageStatus", status},
                            {"ErrorCode", "30003"}}));
    REQUIRE(e.ok());
    CHECK(std::get<SmsStatus>(e->kind).status == expected);
    CHECK(std::get<SmsStatus>(e->kind).error_code == "30003");
    CHECK(e->dedupe_key == std::string("twilio:sms-status:SM2:") + status);
  }
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kMessagingStatus,
                           {{"MessageSid", "SM2"}, {"MessageStatus", "receiving"}}))
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(NormalizeTwilio(Tw(TwilioWebhookKind::kMessagingStatus, {{"MessageSid", "SM2"}}))
            .status()
            .message() == "MessageStatus: missing");
}

std::string Envelope(const std::string& type, const std::string& payload,
                     const std::string& id = "ev-1") {
  return R"({"data":{"record_type":"event","event_type":")" + type + R"(","id":")" + id +
         R"(","occurred_at":"2026-01-02T03:04:05.000000Z","payload":)" + payload +
         R"(},"meta":{"attempt":1,"delivered_to":"https://x"}})";
}

const char kCallIds[] =
    R"("call_control_id":"v3:A","call_leg_id":"leg-1","call_session_id":"sess-1","connection_id":"conn-1")";

TEST_CASE("Telnyx call events", "[normalize][telnyx]") {
  absl::StatusOr<CarrierEvent> e = NormalizeTelnyx(Envelope(
      "call.initiated", std::string("{") + kCallIds +
                            R"(,"direction":"incoming","from":"+1555","to":"+1666","caller_id_name":"ACME","state":"parked"})"));
  REQUIRE(e.ok());
  CHECK(e->provider == Provider::kTelnyx);
  CHECK(e->ids.call_control_id == "v3:A");
  CHECK(e->ids.call_session_id == "sess-1");
  CHECK(e->ids.call_leg_id == "leg-1");
  CHECK(e->ids.event_id == "ev-1");
  CHECK(e->dedupe_key == "telnyx:ev-1");
  CHECK(e->from == "+1555");
  CHECK(e->direction == CallDirection::kInbound);
  CHECK(e->occurred_at == absl::FromUnixSeconds(1767323045));
  CHECK(std::get<CallIncoming>(e->kind).caller_name == "ACME");

  // Outgoing leg's call.initiated carries no event.
  CHECK(NormalizeTelnyx(Envelope("call.initiated", std::string("{") + kCallIds +
                                                       R"(,"direction":"outgoing"})"))
            .status()
            .code() == absl::StatusCode::kNotFound);

  e = NormalizeTelnyx(Envelope("call.answered", std::string("{") + kCallIds + "}"));
  REQUIRE(e.ok());
  CHECK(std::holds_alternative<CallAnswered>(e->kind));

  e = NormalizeTelnyx(Envelope(
      "call.hangup", std::string("{") + kCallIds +
                         R"(,"hangup_cause":"user_busy","hangup_source":"callee","start_time":"2026-01-02T03:03:05Z"})"));
  REQUIRE(e.ok());
  CHECK(std::get<CallCompleted>(e->kind).reason == CallEndReason::kBusy);
  CHECK(std::get<CallCompleted>(e->kind).duration_s == 60);
  CHECK(std::get<CallCompleted>(e->kind).provider_cause == "user_busy");

  // The dialled leg's hangup (client_state with the dial flag) is a DialResult.
  std::string cs = EncodeClientState(
      {.instructions_id = "i", .step = 3, .a_leg_call_control_id = "v3:A", .dial_leg = true});
  e = NormalizeTelnyx(Envelope(
      "call.hangup",
      R"({"call_control_id":"v3:B","to":"+15551230001","hangup_cause":"timeout","client_state":")" +
          cs + R"("})"));
  REQUIRE(e.ok());
  const auto& dial = std::get<DialResult>(e->kind);
  CHECK(dial.status == DialStatus::kNoAnswer);
  CHECK(dial.dialed == "+15551230001");
  CHECK(dial.dialed_call_id == "v3:B");
  CHECK(e->ids.parent_call_sid == "v3:A");
  absl::StatusOr<TelnyxPlanState> decoded = DecodeClientState(cs);
  REQUIRE(decoded.ok());
  CHECK(e->client_state == *crypto::Base64Decode(cs));

  e = NormalizeTelnyx(Envelope("call.gather.ended", std::string("{") + kCallIds +
                                                         R"(,"digits":"1","status":"valid"})"));
  REQUIRE(e.ok());
  CHECK(std::get<DigitsGathered>(e->kind).digits == "1");
  CHECK_FALSE(std::get<DigitsGathered>(e->kind).timed_out);
  e = NormalizeTelnyx(Envelope("call.gather.ended", std::string("{") + kCallIds +
                                                         R"(,"digits":"","status":"timeout"})"));
  REQUIRE(e.ok());
  CHECK(std::get<DigitsGathered>(e->kind).timed_out);

  for (const char* type : {"call.speak.ended", "call.playback.ended"}) {
    e = NormalizeTelnyx(Envelope(type, std::string("{") + kCallIds + R"(,"status":"completed"})"));
    REQUIRE(e.ok());
    CHECK(std::get<PromptEnded>(e->kind).status == "completed");
  }

  e = NormalizeTelnyx(Envelope(
      "call.recording.saved",
      std::string("{") + kCallIds +
          R"(,"recording_id":"rec-1","channels":"single","recording_urls":{"mp3":"https://r/1.mp3","wav":"https://r/1.wav"},"recording_started_at":"2026-01-02T03:00:00Z","recording_ended_at":"2026-01-02T03:00:09Z"})"));
  REQUIRE(e.ok());
  const auto& rec = std::get<RecordingReady>(e->kind);
  CHECK(rec.recording_id == "rec-1");
  CHECK(rec.url == "https://r/1.mp3");
  CHECK(rec.format == "mp3");
  CHECK(rec.duration_s == 9);

  // The A leg's own call.bridged (its client_state is the transfer command's, no "d") is not
  // an event: the target leg reports the answer.
  std::string a_cs = EncodeClientState({.instructions_id = "i", .step = 3});
  CHECK(NormalizeTelnyx(Envelope("call.bridged", std::string("{") + kCallIds + "}"))
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(NormalizeTelnyx(Envelope("call.bridged", std::string("{") + kCallIds +
                                                     R"(,"client_state":")" + a_cs + R"("})"))
            .status()
            .code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Telnyx transfer target leg answered or bridged: one DialResult of the A leg",
          "[normalize][telnyx]") {
  const std::string cs = EncodeClientState(
      {.instructions_id = "xfer", .step = 1, .a_leg_call_control_id = "v3:A", .dial_leg = true,
       .answer_step = false});
  auto leg = [&](const std::string& type, const std::string& id) {
    return NormalizeTelnyx(
        R"({"data":{"event_type":")" + type + R"(","id":")" + id +
        R"(","occurred_at":"2026-01-02T03:04:05Z","payload":{"call_control_id":"v3:B",)"
        R"("call_session_id":"sess-1","call_leg_id":"leg-b","connection_id":"conn-1",)"
        R"("direction":"outgoing","from":"+15550001111","to":"+15551230001",)"
        R"("client_state":")" + cs + R"("}}})");
  };
  absl::StatusOr<CarrierEvent> answered = leg("call.answered", "ev-a");
  absl::StatusOr<CarrierEvent> bridged = leg("call.bridged", "ev-b");
  for (const absl::StatusOr<CarrierEvent>* e : {&answered, &bridged}) {
    REQUIRE(e->ok());
    const DialResult* dial = std::get_if<DialResult>(&(*e)->kind);
    REQUIRE(dial != nullptr);
    CHECK(dial->status == DialStatus::kAnswered);
    CHECK(dial->dialed == "+15551230001");
    CHECK(dial->dialed_call_id == "v3:B");
    CHECK(dial->at_answer);
    CHECK((*e)->ids.parent_call_sid == "v3:A");   // the A leg's call
    CHECK((*e)->ids.call_control_id == "v3:B");   // the leg that reported
    CHECK((*e)->ids.call_session_id == "sess-1");
    CHECK((*e)->ids.event_id != "");
  }
  // Both webhooks are ONE event: the same dedupe key, whatever their event ids.
  CHECK(answered->dedupe_key == "telnyx:dial-answered:v3:A:v3:B");
  CHECK(bridged->dedupe_key == answered->dedupe_key);
  CHECK(answered->provider_status == "answered");
  CHECK(bridged->provider_status == "bridged");
  // The same leg's hangup is the Dial's end, a distinct event.
  absl::StatusOr<CarrierEvent> ended = NormalizeTelnyx(
      R"({"data":{"event_type":"call.hangup","id":"ev-h","payload":{"call_control_id":"v3:B",)"
      R"("to":"+15551230001","hangup_cause":"normal_clearing","client_state":")" + cs +
      R"("}}})");
  REQUIRE(ended.ok());
  CHECK(ended->dedupe_key == "telnyx:ev-h");
  CHECK_FALSE(std::get<DialResult>(ended->kind).at_answer);
  CHECK(std::get<DialResult>(ended->kind).status == DialStatus::kAnswered);
}

TEST_CASE("Telnyx on-demand recording: RecordingReady with or without a plan's client_state",
          "[normalize][telnyx]") {
  const std::string saved =
      R"(,"recording_id":"rec-7","channels":"single","recording_urls":{"wav":"https://r/7.wav"},)"
      R"("recording_started_at":"2026-01-02T03:00:00Z","recording_ended_at":"2026-01-02T03:01:00Z")";
  // record_start sends no client_state; Telnyx may still echo the call's last one.
  for (const std::string& cs :
       {std::string(), EncodeClientState({.instructions_id = "xfer", .step = 1})}) {
    INFO(cs);
    std::string extra = cs.empty() ? "" : R"(,"client_state":")" + cs + "\"";
    absl::StatusOr<CarrierEvent> e = NormalizeTelnyx(
        R"({"data":{"event_type":"call.recording.saved","id":"ev-r","payload":{)"
        R"("call_control_id":"v3:A","call_session_id":"sess-1")" + extra + saved + "}}}");
    REQUIRE(e.ok());
    const auto& rec = std::get<RecordingReady>(e->kind);
    CHECK(rec.recording_id == "rec-7");
    CHECK(rec.format == "wav");
    CHECK(rec.duration_s == 60);
    CHECK(e->ids.call_control_id == "v3:A");
  }
}

TEST_CASE("Telnyx messaging, number order and porting events", "[normalize][telnyx]") {
  absl::StatusOr<CarrierEvent> e = NormalizeTelnyx(Envelope(
      "message.received",
      R"({"id":"msg-1","direction":"inbound","from":{"phone_number":"+1555","carrier":"X"},"to":[{"phone_number":"+1666","status":"webhook_delivered"}],"text":"hello","media":[{"url":"https://m/a.jpg","content_type":"image/jpeg"}]})"));
  REQUIRE(e.ok());
  CHECK(e->ids.message_id == "msg-1");
  CHECK(e->from == "+1555");
  CHECK(e->to == "+1666");
  CHECK(std::get<SmsReceived>(e->kind).body == "hello");
  CHECK(std::get<SmsReceived>(e->kind).media_urls == std::vector<std::string>{"https://m/a.jpg"});

  e = NormalizeTelnyx(Envelope(
      "message.finalized",
      R"({"id":"msg-2","direction":"outbound","from":{"phone_number":"+1666"},"to":[{"phone_number":"+1555","status":"delivery_failed"}],"errors":[{"code":"40300","title":"Blocked"}]})"));
  REQUIRE(e.ok());
  CHECK(std::get<SmsStatus>(e->kind).status == SmsDeliveryStatus::kUndelivered);
  CHECK(std::get<SmsStatus>(e->kind).error_code == "40300");
  e = NormalizeTelnyx(Envelope(
      "message.sent", R"({"id":"msg-2","to":[{"phone_number":"+1555","status":"sent"}]})"));
  REQUIRE(e.ok());
  CHECK(std::get<SmsStatus>(e->kind).status == SmsDeliveryStatus::kSent);
  CHECK(NormalizeTelnyx(Envelope("message.sent", R"({"id":"msg-2"})")).status().message() ==
        "data.payload.to: missing");

  e = NormalizeTelnyx(Envelope(
      "number_order.complete",
      R"({"id":"ord-1","status":"success","phone_numbers":[{"phone_number":"+15550001111","status":"success"}]})"));
  REQUIRE(e.ok());
  CHECK(std::get<NumberOrderStatus>(e->kind).status == NumberOrderState::kSuccess);
  CHECK(std::get<NumberOrderStatus>(e->kind).numbers ==
        std::vector<std::string>{"+15550001111"});
  CHECK(e->ids.order_id == "ord-1");

  e = NormalizeTelnyx(Envelope(
      "porting_order.status_changed",
      R"({"id":"po-1","status":{"value":"exception","details":[{"code":"X","description":"LOA mismatch"}]}})"));
  REQUIRE(e.ok());
  CHECK(std::get<PortStatus>(e->kind).status == PortState::kException);
  CHECK(std::get<PortStatus>(e->kind).reason == "LOA mismatch");
  CHECK(e->ids.port_order_id == "po-1");
}

TEST_CASE("Telnyx conference events", "[normalize][telnyx][conference]") {
  absl::StatusOr<CarrierEvent> e = NormalizeTelnyx(Envelope(
      "conference.participant.joined",
      std::string("{") + kCallIds + R"(,"conference_id":"conf-1","client_state":")" +
          crypto::Base64Encode(R"({"i":"set-1","s":2})") + R"("})"));
  REQUIRE(e.ok());
  const auto& joined = std::get<ConferenceUpdate>(e->kind);
  CHECK(joined.kind == ConferenceUpdateKind::kJoined);
  CHECK(joined.leg == "v3:A");
  CHECK(joined.provider_conference_id == "conf-1");
  CHECK(joined.conference.empty());  // the handler fills the name in
  CHECK(e->ids.call_control_id == "v3:A");
  CHECK(e->ids.account_id == "conn-1");
  CHECK(e->dedupe_key == "telnyx:ev-1");
  CHECK_FALSE(IsCallEvent(e->kind));

  e = NormalizeTelnyx(Envelope("conference.participant.left",
                               std::string("{") + kCallIds + R"(,"conference_id":"conf-1"})",
                               "ev-2"));
  REQUIRE(e.ok());
  CHECK(std::get<ConferenceUpdate>(e->kind).kind == ConferenceUpdateKind::kLeft);

  e = NormalizeTelnyx(Envelope("conference.ended",
                               R"({"conference_id":"conf-1","connection_id":"conn-1","reason":"all_left"})",
                               "ev-3"));
  REQUIRE(e.ok());
  CHECK(std::get<ConferenceUpdate>(e->kind).kind == ConferenceUpdateKind::kEnded);
  CHECK(std::get<ConferenceUpdate>(e->kind).leg.empty());
  CHECK(e->provider_status == "all_left");

  CHECK(NormalizeTelnyx(Envelope("conference.created",
                                 std::string("{") + kCallIds + R"(,"conference_id":"conf-1"})"))
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(NormalizeTelnyx(Envelope("conference.participant.joined", std::string("{") + kCallIds + "}"))
            .status()
            .message() == "data.payload.conference_id: missing");
}

TEST_CASE("Telnyx added conference leg marker and hangup reasons", "[normalize][telnyx][conference]") {
  const std::string raw = EncodeConferenceLegState({.conference_id = "conf-1", .conference = "sb-c"});
  std::optional<ConferenceLegState> state = DecodeConferenceLegState(raw);
  REQUIRE(state.has_value());
  CHECK(state->conference_id == "conf-1");
  CHECK(state->conference == "sb-c");
  CHECK_FALSE(DecodeConferenceLegState(R"({"i":"set-1","s":0})").has_value());
  CHECK_FALSE(DecodeConferenceLegState("sbcall:0190").has_value());
  CHECK_FALSE(DecodeConferenceLegState("").has_value());
  CHECK(NotAnsweredReason("timeout") == "no-answer");
  CHECK(NotAnsweredReason("user_busy") == "busy");
  CHECK(NotAnsweredReason("call_rejected") == "failed");
  // Its call events normalise as any call's, the marker kept in client_state.
  absl::StatusOr<CarrierEvent> e = NormalizeTelnyx(Envelope(
      "call.hangup", std::string("{") + kCallIds + R"(,"hangup_cause":"timeout","to":"+1777","client_state":")" +
                         crypto::Base64Encode(raw) + R"("})"));
  REQUIRE(e.ok());
  CHECK(std::holds_alternative<CallCompleted>(e->kind));
  CHECK(DecodeConferenceLegState(e->client_state).has_value());
}

TEST_CASE("Telnyx malformed and unknown webhooks", "[normalize][telnyx]") {
  auto status = [](const std::string& body) { return NormalizeTelnyx(body).status(); };
  CHECK(status("not json").message() == "body: not a JSON object");
  CHECK(status("[1]").message() == "body: not a JSON object");
  CHECK(status("{}").message() == "data: missing");
  CHECK(status(R"({"data":{"id":"x","payload":{}}})").message() == "data.event_type: missing");
  CHECK(status(R"({"data":{"event_type":"call.answered","payload":{}}})").message() ==
        "data.id: missing");
  CHECK(status(R"({"data":{"event_type":"call.answered","id":"x"}})").message() ==
        "data.payload: missing");
  CHECK(status(Envelope("call.answered", "{}")).message() ==
        "data.payload.call_control_id: missing");
  CHECK(status(Envelope("call.gather.ended", std::string("{") + kCallIds + "}")).message() ==
        "data.payload.status: missing");
  CHECK(status(Envelope("call.recording.saved", std::string("{") + kCallIds + "}")).message() ==
        "data.payload.recording_urls: missing");
  CHECK(status(Envelope("call.answered", std::string("{") + kCallIds +
                                            R"(,"client_state":"!!!"})"))
            .message() == "data.payload.client_state: not base64");
  CHECK(status(Envelope("number_order.complete", R"({"id":"o","status":"odd"})")).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(status(Envelope("porting_order.status_changed", R"({"id":"p"})")).message() ==
        "data.payload.status: missing");
  CHECK(status(Envelope("message.received", R"({"id":"m","to":[{"phone_number":"+1"}]})"))
            .message() == "data.payload.from: missing");
  std::string bad_time = Envelope("call.answered", std::string("{") + kCallIds + "}");
  bad_time.replace(bad_time.find("2026-01-02T03:04:05.000000Z"), 27, "yesterday");
  CHECK(status(bad_time).message() == "data.occurred_at: not RFC 3339");
  absl::Status unknown = status(Envelope("call.teleported", std::string("{") + kCallIds + "}"));
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  absl::Status brand_new = status(Envelope("fax.received", "{}"));
  CHECK(brand_new.code() == absl::StatusCode::kNotFound);
  CHECK(brand_new.message() == "unknown event type 'fax.received'");
}

}  // namespace
}  // namespace switchboard::carrier
