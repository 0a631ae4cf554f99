// Value types of the carrier domain: the abstract voice instructions (CallInstructions) and the
// normalised inbound event (CarrierEvent). Plain structs mirroring
// protos/switchboard/carrier/v1/carrier.proto; no protobuf, gRPC or I/O types (proto_convert.h
// converts). Field meanings are documented once, on the proto messages.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::carrier {

enum class Provider { kUnspecified, kTwilio, kTelnyx, kEmulator };

// Repeated form fields are kept in arrival order (same shape as switchboard::http::Params).
using FormParams = std::vector<std::pair<std::string, std::string>>;

// ---- Voice instructions ---------------------------------------------------------------------
// Integer fields use 0 for "provider default" (the attribute is omitted); optionals likewise.

struct Say {
  std::string text;
  std::string voice;     // e.g. "alice", "Polly.Joanna"; empty = provider default
  std::string language;  // e.g. "en-US"; empty = provider default
  int loop = 0;          // 0 = default (once)
};

struct Play {
  std::string url;
  int loop = 0;
};

using Prompt = std::variant<Say, Play>;

struct Gather {
  int num_digits = 0;  // 0 = unlimited (until finish key or timeout)
  int timeout_s = 0;   // 0 = default (5 s)
  std::optional<std::string> finish_on_key;  // nullopt = default "#"; "" = none
  std::vector<Prompt> prompts;
};

struct DialTarget {
  enum class Kind { kNumber, kClient, kSip, kConference };
  Kind kind = Kind::kNumber;
  // E.164 number, softphone identity, "sip:" URI, or the conference name ([A-Za-z0-9_-]{1,64};
  // a Dial with a conference target has no other target).
  std::string value;
  bool end_on_exit = false;  // kConference: the conference ends when this leg leaves
};

struct Dial {
  std::vector<DialTarget> targets;
  int timeout_s = 0;      // 0 = default (30 s)
  std::string caller_id;  // E.164; empty = the call's own number
  bool record = false;    // record from answer
};

struct Record {
  int max_length_s = 0;  // 0 = default (3600 s)
  bool play_beep = true;
  std::optional<std::string> finish_on_key;  // nullopt = default ("1234567890*#")
  int timeout_s = 0;                         // seconds of silence; 0 = default (5 s)
};

struct Redirect {
  std::string url;
};

struct Pause {
  int length_s = 0;  // 0 = default (1 s)
};

struct Hangup {};

using Instruction = std::variant<Say, Play, Gather, Dial, Record, Redirect, Pause, Hangup>;

struct CallInstructions {
  // Identifies this instruction set (carried in Twilio action URLs and Telnyx client_state so a
  // later webhook can resume it). Short, URL- and JSON-safe ([A-Za-z0-9_-]).
  std::string id;
  std::vector<Instruction> instructions;
};

// ---- Normalised inbound events ----------------------------------------------------------------

enum class CallDirection { kUnspecified, kInbound, kOutbound };

// Provider identifiers, kept verbatim. Only those the webhook carries are set.
struct ProviderIds {
  std::string account_id;       // Twilio AccountSid; Telnyx connection_id
  std::string call_sid;         // Twilio CallSid
  std::string parent_call_sid;  // Twilio ParentCallSid / DialCallSid's parent
  std::string call_control_id;  // Telnyx (per leg, used in commands)
  std::string call_session_id;  // Telnyx (shared by the legs)
  std::string call_leg_id;      // Telnyx
  std::string message_id;       // Twilio MessageSid; Telnyx message id
  std::string order_id;         // number order id
  std::string port_order_id;    // porting order id
  std::string event_id;         // Telnyx data.id (per event)
};

struct CallIncoming {
  std::string caller_name;
};

struct CallAnswered {};

enum class CallEndReason { kCompleted, kBusy, kNoAnswer, kFailed, kCanceled };

struct CallCompleted {
  CallEndReason reason = CallEndReason::kCompleted;
  int duration_s = 0;
  std::string provider_cause;  // raw CallStatus / hangup_cause
};

struct DigitsGathered {
  std::string digits;
  bool timed_out = false;  // no input before the timeout
};

enum class DialStatus { kAnswered, kNoAnswer, kBusy, kFailed, kCanceled };

struct DialResult {
  DialStatus status = DialStatus::kFailed;
  std::string dialed;         // dialled target as the provider reports it
  std::string dialed_call_id; // Twilio DialCallSid; Telnyx call_control_id of the dialled leg
  int duration_s = 0;
  // Reported when the dialled leg answered, while it is still up (Twilio: the child leg's
  // answered status callback; Telnyx: the target leg's call.answered / call.bridged). The
  // Dial's end is a later DialResult. Carrier-internal (not in the proto): the Telnyx plan does
  // not advance on it.
  bool at_answer = false;
};

// A conference participant changed (live call control; see the proto and CarrierCore::
// ConferenceControl). The event's ids name the participant's leg (Twilio ids.call_sid, Telnyx
// ids.call_control_id); routing finds the call by `conference` (the name).
enum class ConferenceUpdateKind { kJoined, kLeft, kNotAnswered, kEnded };

struct ConferenceUpdate {
  std::string conference;  // the name (ConferenceTarget.name / ConferenceControl's conference)
  std::string leg;         // the participant's call id; "" for kEnded
  ConferenceUpdateKind kind = ConferenceUpdateKind::kJoined;
  std::string to;      // kNotAnswered: the party dialled
  std::string reason;  // kNotAnswered: "no-answer" | "busy" | "failed"
  // Carrier-internal (not in the proto): the provider's conference id (Twilio ConferenceSid,
  // Telnyx conference_id). Telnyx webhooks carry only it; the handler fills in `conference`.
  std::string provider_conference_id;
};

struct RecordingReady {
  std::string recording_id;
  std::string url;
  int duration_s = 0;
  std::string format;  // "wav" | "mp3"
};

// Telnyx only: a speak/playback command finished (drives the Call Control plan; not published).
struct PromptEnded {
  std::string status;  // Telnyx status: "completed", "call_hangup", ...
};

struct SmsReceived {
  std::string body;
  std::vector<std::string> media_urls;
};

enum class SmsDeliveryStatus { kQueued, kSent, kDelivered, kUndelivered, kFailed };

struct SmsStatus {
  SmsDeliveryStatus status = SmsDeliveryStatus::kQueued;
  std::string error_code;  // provider error code on failure; empty otherwise
};

enum class NumberOrderState { kPending, kSuccess, kFailure };

struct NumberOrderStatus {
  std::string order_id;
  NumberOrderState status = NumberOrderState::kPending;
  std::vector<std::string> numbers;  // E.164
};

enum class PortState {
  kDraft,
  kInProcess,
  kSubmitted,
  kException,
  kFocDateConfirmed,
  kPorted,
  kCancelled,
  kCancelPending
};

struct PortStatus {
  std::string port_order_id;
  PortState status = PortState::kDraft;
  std::string reason;  // exception / cancellation detail when present
};

using CarrierEventKind =
    std::variant<CallIncoming, CallAnswered, CallCompleted, DigitsGathered, DialResult,
                 RecordingReady, PromptEnded, SmsReceived, SmsStatus, NumberOrderStatus,
                 PortStatus, ConferenceUpdate>;

struct CarrierEvent {
  Provider provider = Provider::kUnspecified;
  ProviderIds ids;
  std::string company_id;  // empty at normalisation; resolved later from the number
  std::string from;
  std::string to;
  CallDirection direction = CallDirection::kUnspecified;
  absl::Time occurred_at = absl::InfinitePast();  // InfinitePast = not given by the provider
  // Same for every redelivery of one provider event, distinct across events; the listener
  // de-duplicates on it. Prefixed by provider ("twilio:..." / "telnyx:...").
  std::string dedupe_key;
  // Telnyx: decoded client_state echoed by the webhook; Twilio: the query parameter `cs` of the
  // webhook URL (a placed call's PlaceCallRequest.client_state); "" when absent.
  std::string client_state;
  // Raw provider status of the delivery ("valid", "timeout", "call_hangup", CallStatus ...).
  std::string provider_status;
  CarrierEventKind kind;
};

// True for the kinds that belong to a live call (CallIncoming … PromptEnded): the events the
// InstructionSource is asked about and a Telnyx plan may run on. ConferenceUpdate is not one:
// it is asked of the source too (routing learns of it) but never renders or runs a plan.
bool IsCallEvent(const CarrierEventKind& kind);

// Lower-case wire names used in logs, protos and docs ("completed", "no-answer", ...).
const char* ProviderName(Provider p);
const char* CallEndReasonName(CallEndReason r);
const char* DialStatusName(DialStatus s);
const char* SmsDeliveryStatusName(SmsDeliveryStatus s);
const char* NumberOrderStateName(NumberOrderState s);
const char* PortStateName(PortState s);
const char* ConferenceUpdateKindName(ConferenceUpdateKind k);  // "joined", "left", ...

// kInvalidArgument "<field>: ..." unless `name` is [A-Za-z0-9_-]{1,64}.
absl::Status ValidateConferenceName(absl::string_view field, absl::string_view name);

}  // namespace switchboard::carrier
