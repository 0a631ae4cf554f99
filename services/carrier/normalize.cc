#include "services/carrier/normalize.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "libs/crypto/encoding.h"
#include "nlohmann/json.hpp"
#include "services/carrier/telnyx_plan.h"

namespace switchboard::carrier {
namespace {

using nlohmann::json;

// ---- Twilio -----------------------------------------------------------------------------------

const std::string* Find(const FormParams& params, absl::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string Get(const FormParams& params, absl::string_view name) {
  const std::string* value = Find(params, name);
  return value == nullptr ? std::string() : *value;
}

absl::StatusOr<std::string> Require(const FormParams& params, absl::string_view name) {
  const std::string* value = Find(params, name);
  if (value == nullptr || value->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": missing"));
  }
  return *value;
}

absl::StatusOr<int> OptionalInt(const FormParams& params, absl::string_view name) {
  const std::string* value = Find(params, name);
  if (value == nullptr || value->empty()) return 0;
  int out = 0;
  if (!absl::SimpleAtoi(*value, &out) || out < 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not a non-negative integer"));
  }
  return out;
}

CallDirection TwilioDirection(absl::string_view direction) {
  if (direction == "inbound") return CallDirection::kInbound;
  if (absl::StartsWith(direction, "outbound")) return CallDirection::kOutbound;
  return CallDirection::kUnspecified;
}

// Twilio's Timestamp is RFC 2822 ("Mon, 16 Aug 2010 03:45:01 +0000").
absl::Time TwilioTime(const FormParams& params, absl::Time fallback) {
  const std::string* ts = Find(params, "Timestamp");
  absl::Time t;
  std::string err;
  if (ts != nullptr && absl::ParseTime("%a, %d %b %Y %H:%M:%S %z", *ts, &t, &err)) return t;
  return fallback;
}

#define SB_ASSIGN(lhs, expr)                  \
  auto SB_STATUS_TMP_##lhs = (expr);          \
  if (!SB_STATUS_TMP_##lhs.ok()) return SB_STATUS_TMP_##lhs.status(); \
  lhs = *std::move(SB_STATUS_TMP_##lhs)

absl::StatusOr<CarrierEvent> TwilioCall(const TwilioWebhook& w) {
  const FormParams& p = w.params;
  CarrierEvent e;
  e.provider = Provider::kTwilio;
  std::string call_sid;
  SB_ASSIGN(call_sid, Require(p, "CallSid"));
  e.ids.call_sid = call_sid;
  e.ids.account_id = Get(p, "AccountSid");
  e.ids.parent_call_sid = Get(p, "ParentCallSid");
  e.from = Get(p, "From");
  e.to = Get(p, "To");
  e.direction = TwilioDirection(Get(p, "Direction"));
  e.occurred_at = TwilioTime(p, w.received_at);
  e.provider_status = Get(p, "CallStatus");
  // A placed call's client state rides on its voice/status URLs (PlaceCallRequest.client_state).
  e.client_state = Get(w.query, "cs");
  return e;
}

absl::StatusOr<CarrierEvent> NormalizeTwilioCall(const TwilioWebhook& w) {
  const FormParams& p = w.params;
  absl::StatusOr<CarrierEvent> base = TwilioCall(w);
  if (!base.ok()) return base.status();
  CarrierEvent e = *std::move(base);
  const std::string& sid = e.ids.call_sid;
  std::string step_key = absl::StrCat(Get(w.query, "i"), ":", Get(w.query, "s"));
  switch (w.kind) {
    case TwilioWebhookKind::kVoice: {
      if (e.from.empty()) return absl::InvalidArgumentError("From: missing");
      if (e.to.empty()) return absl::InvalidArgumentError("To: missing");
      e.dedupe_key = absl::StrCat("twilio:voice:", sid);
      if (e.direction == CallDirection::kOutbound) {
        e.kind = CallAnswered{};
      } else {
        e.kind = CallIncoming{.caller_name = Get(p, "CallerName")};
      }
      return e;
    }
    case TwilioWebhookKind::kCallStatus: {
      std::string status;
      SB_ASSIGN(status, Require(p, "CallStatus"));
      int duration = 0;
      SB_ASSIGN(duration, OptionalInt(p, "CallDuration"));
      if (!e.ids.parent_call_sid.empty()) {
        // A dialled child leg's own callback (a Dial noun's statusCallback): its answer names
        // who answered the parent's Dial; its other statuses are not events of the parent call
        // (a child leg completing is not the call completing).
        if (status != "in-progress" && status != "answered") {
          return absl::NotFoundError(absl::StrCat(
              "CallStatus '", status, "' of a dialled leg is not an event of the call"));
        }
        if (e.to.empty()) return absl::InvalidArgumentError("To: missing");
        e.kind = DialResult{.status = DialStatus::kAnswered, .dialed = e.to,
                            .dialed_call_id = sid, .at_answer = true};
        e.dedupe_key = absl::StrCat("twilio:dial-answered:", e.ids.parent_call_sid, ":", sid);
        e.ids.call_sid = e.ids.parent_call_sid;  // `sid` refers to it: set last
        return e;
      }
      e.dedupe_key = absl::StrCat("twilio:status:", sid, ":", status);
      if (const std::string* seq = Find(p, "SequenceNumber"); seq != nullptr && !seq->empty()) {
        absl::StrAppend(&e.dedupe_key, ":", *seq);
      }
      if (status == "in-progress") {
        e.kind = CallAnswered{};
        return e;
      }
      CallCompleted done{.duration_s = duration, .provider_cause = status};
      if (status == "completed") {
        done.reason = CallEndReason::kCompleted;
      } else if (status == "busy") {
        done.reason = CallEndReason::kBusy;
      } else if (status == "no-answer") {
        done.reason = CallEndReason::kNoAnswer;
      } else if (status == "failed") {
        done.reason = CallEndReason::kFailed;
      } else if (status == "canceled") {
        done.reason = CallEndReason::kCanceled;
      } else {
        return absl::NotFoundError(absl::StrCat("CallStatus '", status, "' is not an event"));
      }
      e.kind = done;
      return e;
    }
    case TwilioWebhookKind::kGatherAction: {
      std::string digits = Get(p, "Digits");
      e.dedupe_key = absl::StrCat("twilio:gather:", sid, ":", step_key);
      e.kind = DigitsGathered{.digits = digits, .timed_out = digits.empty()};
      return e;
    }
    case TwilioWebhookKind::kDialAction: {
      std::string status;
      SB_ASSIGN(status, Require(p, "DialCallStatus"));
      int duration = 0;
      SB_ASSIGN(duration, OptionalInt(p, "DialCallDuration"));
      DialResult result{.dialed_call_id = Get(p, "DialCallSid"), .duration_s = duration};
      if (status == "completed" || status == "answered") {
        result.status = DialStatus::kAnswered;
      } else if (status == "no-answer") {
        result.status = DialStatus::kNoAnswer;
      } else if (status == "busy") {
        result.status = DialStatus::kBusy;
      } else if (status == "failed") {
        result.status = DialStatus::kFailed;
      } else if (status == "canceled") {
        result.status = DialStatus::kCanceled;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("DialCallStatus: unknown value '", status, "'"));
      }
      result.dialed = Get(p, "DialCallTo");
      e.provider_status = status;
      e.dedupe_key =
          absl::StrCat("twilio:dial:", sid, ":", step_key, ":", result.dialed_call_id);
      e.kind = result;
      return e;
    }
    case TwilioWebhookKind::kRecordAction:
    case TwilioWebhookKind::kRecordingStatus: {
      std::string url;
      SB_ASSIGN(url, Require(p, "RecordingUrl"));
      int duration = 0;
      SB_ASSIGN(duration, OptionalInt(p, "RecordingDuration"));
      std::string recording_sid = Get(p, "RecordingSid");
      if (recording_sid.empty()) {
        // The SID is the last path segment of RecordingUrl (…/Recordings/RE…).
        recording_sid = std::string(url.substr(url.rfind('/') + 1));
      }
      if (w.kind == TwilioWebhookKind::kRecordingStatus) {
        std::string status;
        SB_ASSIGN(status, Require(p, "RecordingStatus"));
        e.provider_status = status;
        e.dedupe_key = absl::StrCat("twilio:recording:", recording_sid, ":", status);
        if (status != "completed") {
          return absl::NotFoundError(
              absl::StrCat("RecordingStatus '", status, "' is not an event"));
        }
      } else {
        e.dedupe_key = absl::StrCat("twilio:record:", sid, ":", recording_sid);
      }
      e.kind = RecordingReady{
          .recording_id = recording_sid, .url = url, .duration_s = duration, .format = "wav"};
      return e;
    }
    default:
      break;
  }
  return absl::InternalError("unreachable");
}

absl::StatusOr<CarrierEvent> NormalizeTwilioConference(const TwilioWebhook& w) {
  const FormParams& p = w.params;
  CarrierEvent e;
  e.provider = Provider::kTwilio;
  e.ids.account_id = Get(p, "AccountSid");
  e.occurred_at = TwilioTime(p, w.received_at);
  if (w.kind == TwilioWebhookKind::kConferenceParticipant) {
    std::string sid;
    SB_ASSIGN(sid, Require(p, "CallSid"));
    std::string status;
    SB_ASSIGN(status, Require(p, "CallStatus"));
    const std::string name = Get(w.query, "conference");
    if (name.empty()) return absl::InvalidArgumentError("conference: missing (URL query)");
    e.ids.call_sid = sid;
    e.from = Get(p, "From");
    e.to = Get(p, "To");
    e.direction = TwilioDirection(Get(p, "Direction"));
    e.provider_status = status;
    std::string reason;
    if (status == "no-answer" || status == "canceled") {
      reason = "no-answer";
    } else if (status == "busy" || status == "failed") {
      reason = status;
    } else {
      return absl::NotFoundError(absl::StrCat(
          "CallStatus '", status, "' of an added participant is not an event"));
    }
    e.dedupe_key = absl::StrCat("twilio:conference-participant:", sid, ":", status);
    e.kind = ConferenceUpdate{.conference = name, .leg = sid,
                              .kind = ConferenceUpdateKind::kNotAnswered, .to = e.to,
                              .reason = reason};
    return e;
  }
  std::string event;
  SB_ASSIGN(event, Require(p, "StatusCallbackEvent"));
  ConferenceUpdate update;
  if (event == "participant-join") {
    update.kind = ConferenceUpdateKind::kJoined;
  } else if (event == "participant-leave") {
    update.kind = ConferenceUpdateKind::kLeft;
  } else if (event == "conference-end") {
    update.kind = ConferenceUpdateKind::kEnded;
  } else {
    return absl::NotFoundError(absl::StrCat("StatusCallbackEvent '", event, "' is not an event"));
  }
  std::string conference_sid;
  SB_ASSIGN(conference_sid, Require(p, "ConferenceSid"));
  std::string name;
  SB_ASSIGN(name, Require(p, "FriendlyName"));
  update.conference = name;
  update.provider_conference_id = conference_sid;
  if (update.kind != ConferenceUpdateKind::kEnded) {
    std::string leg;
    SB_ASSIGN(leg, Require(p, "CallSid"));
    update.leg = leg;
  }
  e.ids.call_sid = update.leg;
  e.provider_status = event;
  e.dedupe_key = absl::StrCat("twilio:conference:", conference_sid, ":", update.leg, ":", event,
                              ":", Get(p, "SequenceNumber"));
  e.kind = std::move(update);
  return e;
}

absl::StatusOr<CarrierEvent> NormalizeTwilioMessage(const TwilioWebhook& w) {
  const FormParams& p = w.params;
  CarrierEvent e;
  e.provider = Provider::kTwilio;
  std::string sid;
  SB_ASSIGN(sid, Require(p, "MessageSid"));
  e.ids.message_id = sid;
  e.ids.account_id = Get(p, "AccountSid");
  e.from = Get(p, "From");
  e.to = Get(p, "To");
  e.occurred_at = w.received_at;
  if (w.kind == TwilioWebhookKind::kMessagingInbound) {
    if (e.from.empty()) return absl::InvalidArgumentError("From: missing");
    if (e.to.empty()) return absl::InvalidArgumentError("To: missing");
    int num_media = 0;
    SB_ASSIGN(num_media, OptionalInt(p, "NumMedia"));
    if (num_media > 10) return absl::InvalidArgumentError("NumMedia: more than 10");
    SmsReceived sms{.body = Get(p, "Body")};
    for (int i = 0; i < num_media; ++i) {
      std::string name = absl::StrCat("MediaUrl", i);
      std::string url;
      SB_ASSIGN(url, Require(p, name));
      sms.media_urls.push_back(url);
    }
    e.direction = CallDirection::kInbound;
    e.dedupe_key = absl::StrCat("twilio:sms:", sid);
    e.kind = std::move(sms);
    return e;
  }
  std::string status;
  SB_ASSIGN(status, Require(p, "MessageStatus"));
  e.direction = CallDirection::kOutbound;
  e.provider_status = status;
  SmsStatus out{.error_code = Get(p, "ErrorCode")};
  if (status == "queued" || status == "accepted" || status == "scheduled") {
    out.status = SmsDeliveryStatus::kQueued;
  } else if (status == "sending" || status == "sent") {
    out.status = SmsDeliveryStatus::kSent;
  } else if (status == "delivered" || status == "read") {
    out.status = SmsDeliveryStatus::kDelivered;
  } else if (status == "undelivered" || status == "partially_delivered") {
    out.status = SmsDeliveryStatus::kUndelivered;
  } else if (status == "failed" || status == "canceled") {
    out.status = SmsDeliveryStatus::kFailed;
  } else {
    return absl::NotFoundError(absl::StrCat("MessageStatus '", status, "' is not an event"));
  }
  e.dedupe_key = absl::StrCat("twilio:sms-status:", sid, ":", status);
  e.kind = out;
  return e;
}

// ---- Telnyx -----------------------------------------------------------------------------------

std::string Str(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

absl::StatusOr<std::string> RequireStr(const json& obj, const char* key, absl::string_view path) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string() || it->get<std::string>().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".", key, ": missing"));
  }
  return it->get<std::string>();
}

std::optional<absl::Time> ParseIso(const std::string& text) {
  absl::Time t;
  std::string err;
  if (!text.empty() && absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  return std::nullopt;
}

// Phone number of a Telnyx party: either a string or {"phone_number": ...}.
std::string Party(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) return Str(value, "phone_number");
  if (value.is_array() && !value.empty()) return Party(value.front());
  return "";
}

int SecondsBetween(const json& payload, const char* start_key, absl::Time end) {
  std::optional<absl::Time> start = ParseIso(Str(payload, start_key));
  if (!start.has_value() || end == absl::InfinitePast() || end < *start) return 0;
  return static_cast<int>(absl::ToInt64Seconds(end - *start));
}

CallEndReason HangupReason(absl::string_view cause) {
  if (cause == "normal_clearing" || cause == "time_limit") return CallEndReason::kCompleted;
  if (cause == "user_busy") return CallEndReason::kBusy;
  if (cause == "timeout" || cause == "no_answer") return CallEndReason::kNoAnswer;
  if (cause == "originator_cancel") return CallEndReason::kCanceled;
  return CallEndReason::kFailed;
}

DialStatus DialStatusFromCause(absl::string_view cause) {
  if (cause == "normal_clearing" || cause == "time_limit") return DialStatus::kAnswered;
  if (cause == "user_busy") return DialStatus::kBusy;
  if (cause == "timeout" || cause == "no_answer") return DialStatus::kNoAnswer;
  if (cause == "originator_cancel") return DialStatus::kCanceled;
  return DialStatus::kFailed;
}

absl::StatusOr<CarrierEvent> TelnyxCallEvent(const std::string& type, const json& payload,
                                             CarrierEvent e) {
  std::string ccid;
  SB_ASSIGN(ccid, RequireStr(payload, "call_control_id", "data.payload"));
  e.ids.call_control_id = ccid;
  e.ids.call_session_id = Str(payload, "call_session_id");
  e.ids.call_leg_id = Str(payload, "call_leg_id");
  e.ids.account_id = Str(payload, "connection_id");
  if (auto it = payload.find("from"); it != payload.end()) e.from = Party(*it);
  if (auto it = payload.find("to"); it != payload.end()) e.to = Party(*it);
  std::string direction = Str(payload, "direction");
  e.direction = direction == "incoming"   ? CallDirection::kInbound
                : direction == "outgoing" ? CallDirection::kOutbound
                                          : CallDirection::kUnspecified;
  std::optional<TelnyxPlanState> state;
  std::string client_state = Str(payload, "client_state");
  if (!client_state.empty()) {
    absl::StatusOr<std::string> decoded = crypto::Base64Decode(client_state);
    if (!decoded.ok()) return absl::InvalidArgumentError("data.payload.client_state: not base64");
    e.client_state = *decoded;
    // Only our own client_state carries a plan; anything else is kept verbatim.
    absl::StatusOr<TelnyxPlanState> decoded_state = DecodeClientState(client_state);
    if (decoded_state.ok()) state = *decoded_state;
  }
  if (type == "call.initiated") {
    if (e.direction != CallDirection::kInbound) {
      return absl::NotFoundError("call.initiated (outgoing) is not an event");
    }
    e.kind = CallIncoming{.caller_name = Str(payload, "caller_id_name")};
  } else if ((type == "call.answered" || type == "call.bridged") && state.has_value() &&
             state->dial_leg) {
    // A transfer's target leg answered (its webhooks carry the target_leg_client_state): who
    // answered the A leg's Dial, reported now. call.answered and call.bridged of that leg are
    // one event (one dedupe key); the leg's call.hangup later ends the Dial.
    e.ids.parent_call_sid = state->a_leg_call_control_id;
    e.provider_status = type == "call.answered" ? "answered" : "bridged";
    e.dedupe_key = absl::StrCat("telnyx:dial-answered:", state->a_leg_call_control_id, ":", ccid);
    e.kind = DialResult{.status = DialStatus::kAnswered,
                        .dialed = e.to,
                        .dialed_call_id = ccid,
                        .at_answer = true};
  } else if (type == "call.answered") {
    e.kind = CallAnswered{};
  } else if (type == "call.hangup") {
    std::string cause = Str(payload, "hangup_cause");
    e.provider_status = cause;
    int duration = SecondsBetween(payload, "start_time", e.occurred_at);
    if (state.has_value() && state->dial_leg) {
      e.ids.parent_call_sid = state->a_leg_call_control_id;
      e.kind = DialResult{.status = DialStatusFromCause(cause),
                          .dialed = e.to,
                          .dialed_call_id = ccid,
                          .duration_s = duration};
    } else {
      e.kind = CallCompleted{
          .reason = HangupReason(cause), .duration_s = duration, .provider_cause = cause};
    }
  } else if (type == "call.gather.ended") {
    std::string status;
    SB_ASSIGN(status, RequireStr(payload, "status", "data.payload"));
    e.provider_status = status;
    e.kind = DigitsGathered{.digits = Str(payload, "digits"), .timed_out = status == "timeout"};
  } else if (type == "call.speak.ended" || type == "call.playback.ended") {
    std::string status;
    SB_ASSIGN(status, RequireStr(payload, "status", "data.payload"));
    e.provider_status = status;
    e.kind = PromptEnded{.status = status};
  } else if (type == "call.recording.saved") {
    RecordingReady rec;
    rec.recording_id = Str(payload, "recording_id");
    if (rec.recording_id.empty()) rec.recording_id = e.ids.event_id;
    auto urls = payload.find("recording_urls");
    if (urls == payload.end() || !urls->is_object()) {
      return absl::InvalidArgumentError("data.payload.recording_urls: missing");
    }
    if (std::string mp3 = Str(*urls, "mp3"); !mp3.empty()) {
      rec.url = mp3;
      rec.format = "mp3";
    } else if (std::string wav = Str(*urls, "wav"); !wav.empty()) {
      rec.url = wav;
      rec.format = "wav";
    } else {
      return absl::InvalidArgumentError("data.payload.recording_urls: no mp3 or wav");
    }
    std::optional<absl::Time> ended = ParseIso(Str(payload, "recording_ended_at"));
    rec.duration_s =
        ended.has_value() ? SecondsBetween(payload, "recording_started_at", *ended) : 0;
    e.kind = rec;
  } else {
    return absl::NotFoundError(absl::StrCat("event type '", type, "' is not an event"));
  }
  return e;
}

absl::StatusOr<CarrierEvent> TelnyxConferenceEvent(const std::string& type, const json& payload,
                                                   CarrierEvent e) {
  ConferenceUpdate update;
  if (type == "conference.participant.joined") {
    update.kind = ConferenceUpdateKind::kJoined;
  } else if (type == "conference.participant.left") {
    update.kind = ConferenceUpdateKind::kLeft;
  } else if (type == "conference.ended") {
    update.kind = ConferenceUpdateKind::kEnded;
  } else {
    return absl::NotFoundError(absl::StrCat("event type '", type, "' is not an event"));
  }
  std::string conference_id;
  SB_ASSIGN(conference_id, RequireStr(payload, "conference_id", "data.payload"));
  update.provider_conference_id = conference_id;
  if (update.kind != ConferenceUpdateKind::kEnded) {
    std::string leg;
    SB_ASSIGN(leg, RequireStr(payload, "call_control_id", "data.payload"));
    update.leg = leg;
  }
  e.ids.call_control_id = update.leg;
  e.ids.call_session_id = Str(payload, "call_session_id");
  e.ids.call_leg_id = Str(payload, "call_leg_id");
  e.ids.account_id = Str(payload, "connection_id");
  // Kept verbatim when it decodes; a conference event never carries a plan step.
  if (std::string cs = Str(payload, "client_state"); !cs.empty()) {
    absl::StatusOr<std::string> decoded = crypto::Base64Decode(cs);
    if (decoded.ok()) e.client_state = *decoded;
  }
  e.provider_status = type == "conference.ended" ? Str(payload, "reason") : "";
  e.kind = std::move(update);
  return e;
}

SmsDeliveryStatus TelnyxSmsStatus(absl::string_view status, bool* known) {
  *known = true;
  if (status == "queued" || status == "sending") return SmsDeliveryStatus::kQueued;
  if (status == "sent" || status == "delivery_unconfirmed") return SmsDeliveryStatus::kSent;
  if (status == "delivered") return SmsDeliveryStatus::kDelivered;
  if (status == "delivery_failed" || status == "expired") return SmsDeliveryStatus::kUndelivered;
  if (status == "sending_failed") return SmsDeliveryStatus::kFailed;
  *known = false;
  return SmsDeliveryStatus::kFailed;
}

absl::StatusOr<CarrierEvent> TelnyxMessageEvent(const std::string& type, const json& payload,
                                                CarrierEvent e) {
  std::string id;
  SB_ASSIGN(id, RequireStr(payload, "id", "data.payload"));
  e.ids.message_id = id;
  auto from = payload.find("from");
  auto to = payload.find("to");
  if (from != payload.end()) e.from = Party(*from);
  if (to != payload.end()) e.to = Party(*to);
  if (type == "message.received") {
    if (e.from.empty()) return absl::InvalidArgumentError("data.payload.from: missing");
    if (e.to.empty()) return absl::InvalidArgumentError("data.payload.to: missing");
    SmsReceived sms{.body = Str(payload, "text")};
    if (auto media = payload.find("media"); media != payload.end() && media->is_array()) {
      for (const json& item : *media) {
        std::string url = item.is_object() ? Str(item, "url") : "";
        if (url.empty()) return absl::InvalidArgumentError("data.payload.media[].url: missing");
        sms.media_urls.push_back(url);
      }
    }
    e.direction = CallDirection::kInbound;
    e.kind = std::move(sms);
    return e;
  }
  // message.sent / message.finalized: the first recipient's status.
  if (to == payload.end() || !to->is_array() || to->empty() || !to->front().is_object()) {
    return absl::InvalidArgumentError("data.payload.to: missing");
  }
  std::string status;
  SB_ASSIGN(status, RequireStr(to->front(), "status", "data.payload.to[0]"));
  bool known = false;
  SmsStatus out{.status = TelnyxSmsStatus(status, &known)};
  if (!known) return absl::NotFoundError(absl::StrCat("message status '", status, "' unknown"));
  if (auto errors = payload.find("errors");
      errors != payload.end() && errors->is_array() && !errors->empty() &&
      errors->front().is_object()) {
    const json& code = (*errors)[0].value("code", json());
    out.error_code = code.is_string() ? code.get<std::string>()
                     : code.is_number() ? code.dump()
                                        : "";
  }
  e.direction = CallDirection::kOutbound;
  e.provider_status = status;
  e.kind = out;
  return e;
}

absl::StatusOr<CarrierEvent> TelnyxNumberOrder(const json& payload, CarrierEvent e) {
  std::string id;
  SB_ASSIGN(id, RequireStr(payload, "id", "data.payload"));
  std::string status;
  SB_ASSIGN(status, RequireStr(payload, "status", "data.payload"));
  NumberOrderStatus out{.order_id = id};
  if (status == "pending") {
    out.status = NumberOrderState::kPending;
  } else if (status == "success") {
    out.status = NumberOrderState::kSuccess;
  } else if (status == "failure") {
    out.status = NumberOrderState::kFailure;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("data.payload.status: unknown value '", status, "'"));
  }
  if (auto numbers = payload.find("phone_numbers");
      numbers != payload.end() && numbers->is_array()) {
    for (const json& n : *numbers) {
      std::string number = Party(n);
      if (!number.empty()) out.numbers.push_back(number);
    }
  }
  e.ids.order_id = id;
  e.provider_status = status;
  e.kind = out;
  return e;
}

absl::StatusOr<CarrierEvent> TelnyxPortStatus(const json& payload, CarrierEvent e) {
  std::string id;
  SB_ASSIGN(id, RequireStr(payload, "id", "data.payload"));
  auto status_it = payload.find("status");
  std::string value;
  std::string reason;
  if (status_it != payload.end() && status_it->is_object()) {
    value = Str(*status_it, "value");
    if (auto details = status_it->find("details");
        details != status_it->end() && details->is_array()) {
      for (const json& d : *details) {
        std::string text = d.is_object() ? Str(d, "description") : "";
        if (!text.empty()) reason = reason.empty() ? text : absl::StrCat(reason, "; ", text);
      }
    }
  } else if (status_it != payload.end() && status_it->is_string()) {
    value = status_it->get<std::string>();
  }
  if (value.empty()) return absl::InvalidArgumentError("data.payload.status: missing");
  static const std::pair<const char*, PortState> kStates[] = {
      {"draft", PortState::kDraft},
      {"in-process", PortState::kInProcess},
      {"submitted", PortState::kSubmitted},
      {"exception", PortState::kException},
      {"foc-date-confirmed", PortState::kFocDateConfirmed},
      {"ported", PortState::kPorted},
      {"cancelled", PortState::kCancelled},
      {"cancel-pending", PortState::kCancelPending}};
  PortStatus out{.port_order_id = id, .reason = reason};
  bool known = false;
  for (const auto& [name, state] : kStates) {
    if (value == name) {
      out.status = state;
      known = true;
    }
  }
  if (!known) {
    return absl::InvalidArgumentError(
        absl::StrCat("data.payload.status.value: unknown value '", value, "'"));
  }
  e.ids.port_order_id = id;
  e.provider_status = value;
  e.kind = out;
  return e;
}

}  // namespace

absl::StatusOr<CarrierEvent> NormalizeTwilio(const TwilioWebhook& webhook) {
  switch (webhook.kind) {
    case TwilioWebhookKind::kMessagingInbound:
    case TwilioWebhookKind::kMessagingStatus:
      return NormalizeTwilioMessage(webhook);
    case TwilioWebhookKind::kConferenceStatus:
    case TwilioWebhookKind::kConferenceParticipant:
      return NormalizeTwilioConference(webhook);
    default:
      return NormalizeTwilioCall(webhook);
  }
}

absl::StatusOr<CarrierEvent> NormalizeTelnyx(absl::string_view raw_body) {
  json root = json::parse(raw_body.begin(), raw_body.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return absl::InvalidArgumentError("body: not a JSON object");
  }
  auto data = root.find("data");
  if (data == root.end() || !data->is_object()) {
    return absl::InvalidArgumentError("data: missing");
  }
  std::string type;
  SB_ASSIGN(type, RequireStr(*data, "event_type", "data"));
  std::string id;
  SB_ASSIGN(id, RequireStr(*data, "id", "data"));
  auto payload = data->find("payload");
  if (payload == data->end() || !payload->is_object()) {
    return absl::InvalidArgumentError("data.payload: missing");
  }
  CarrierEvent e;
  e.provider = Provider::kTelnyx;
  e.ids.event_id = id;
  e.dedupe_key = absl::StrCat("telnyx:", id);
  std::string occurred = Str(*data, "occurred_at");
  if (!occurred.empty()) {
    std::optional<absl::Time> t = ParseIso(occurred);
    if (!t.has_value()) return absl::InvalidArgumentError("data.occurred_at: not RFC 3339");
    e.occurred_at = *t;
  }
  if (absl::StartsWith(type, "call.")) return TelnyxCallEvent(type, *payload, std::move(e));
  if (type == "message.received" || type == "message.sent" || type == "message.finalized") {
    return TelnyxMessageEvent(type, *payload, std::move(e));
  }
  if (absl::StartsWith(type, "conference.")) {
    return TelnyxConferenceEvent(type, *payload, std::move(e));
  }
  if (type == "number_order.complete") return TelnyxNumberOrder(*payload, std::move(e));
  if (type == "porting_order.status_changed") return TelnyxPortStatus(*payload, std::move(e));
  return absl::NotFoundError(absl::StrCat("unknown event type '", type, "'"));
}

std::string EncodeConferenceLegState(const ConferenceLegState& state) {
  return json{{"cf", state.conference_id}, {"cn", state.conference}}.dump();
}

std::optional<ConferenceLegState> DecodeConferenceLegState(absl::string_view raw_client_state) {
  if (raw_client_state.empty() || raw_client_state.front() != '{') return std::nullopt;
  json j = json::parse(raw_client_state.begin(), raw_client_state.end(), nullptr, false);
  if (!j.is_object()) return std::nullopt;
  ConferenceLegState state{.conference_id = Str(j, "cf"), .conference = Str(j, "cn")};
  if (state.conference_id.empty() || state.conference.empty()) return std::nullopt;
  return state;
}

std::string NotAnsweredReason(absl::string_view hangup_cause) {
  if (hangup_cause == "timeout" || hangup_cause == "no_answer") return "no-answer";
  if (hangup_cause == "user_busy") return "busy";
  return "failed";
}

}  // namespace switchboard::carrier
