// CarrierProvider: the outbound operations Switchboard needs from a phone carrier, as plain
// domain structs (no protobuf, no HTTP types). Implementations: TwilioProvider
// (twilio_provider.h), TelnyxProvider (telnyx_provider.h), FailoverProvider (failover.h) which
// wraps a primary and a secondary.
//
// Error contract (every method; the provider's own code and message are kept in the Status
// message, e.g. "twilio error 21211: The 'To' number +1555 is not a valid phone number
// (HTTP 400)" or "telnyx error 10002: Invalid phone number: detail (HTTP 422)"):
//
//   | carrier answer                                  | absl::StatusCode      |
//   |-------------------------------------------------|-----------------------|
//   | our own bad input (checked before any request)  | kInvalidArgument (names the field) |
//   | 400 / 422 (validation)                          | kInvalidArgument      |
//   | 400 / 422 whose code means "state", not syntax: | kFailedPrecondition   |
//   |   number not available, recipient opted out,    |                       |
//   |   call not in progress / already ended          |                       |
//   | 401 / 403 (credentials or account permissions)  | kPermissionDenied *   |
//   | 404                                             | kNotFound             |
//   | 409                                             | kFailedPrecondition   |
//   | 429                                             | kResourceExhausted    |
//   | 5xx, connection refused / reset                 | kUnavailable          |
//   | HTTP timeout                                    | kDeadlineExceeded     |
//   | 2xx with a body we cannot read                  | kInternal             |
//   | operation the carrier has no equivalent for     | kUnimplemented        |
//   * kPermissionDenied rather than kUnauthenticated: the gRPC caller is authenticated; it is
//     the company's stored carrier credentials that are wrong, which retrying cannot fix.
//
// Only kUnavailable and kDeadlineExceeded are "retryable" (IsRetryableCarrierError), and
// FailoverProvider fails over only on those. Credentials never appear in any Status.
//
// Thread-safety: implementations are thread-safe (they hold no per-request state).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/carrier/model.h"

namespace switchboard::carrier {

enum class NumberType { kLocal, kTollFree };

struct NumberSearch {
  std::string country = "US";  // ISO 3166-1 alpha-2, upper case
  NumberType type = NumberType::kLocal;
  std::string area_code;    // digits (NANP area code / national destination code); "" = any
  std::string contains;     // digits (Twilio also takes its '*' wildcard); "" = any
  std::string starts_with;  // digits of the national number the result starts with; "" = any
  int limit = 20;           // 1..1000
};

struct NumberCapabilities {
  bool voice = false;
  bool sms = false;
  bool mms = false;
  bool fax = false;
};

struct AvailableNumber {
  std::string e164;
  std::string locality;      // city / rate centre, "" if unknown
  std::string region;        // state / province, "" if unknown
  std::string monthly_cost;  // decimal string ("1.00"); "" if the carrier does not say (Twilio)
  std::string currency;      // ISO 4217; "" when monthly_cost is ""
  NumberCapabilities capabilities;
  std::string provider;  // set by CarrierCore::SearchNumbers: "twilio" | "telnyx"
};

// Our webhook URLs for a number. Twilio stores them per number; Telnyx routes by the Call
// Control application (connection) and messaging profile from TelnyxCredentials, so on Telnyx
// these URLs are informational and the number is attached to that connection and profile.
struct NumberWebhooks {
  std::string voice_url;            // incoming call instructions
  std::string messaging_url;        // inbound SMS/MMS
  std::string status_callback_url;  // call status callbacks ("" = none)
};

enum class NumberState { kActive, kPending };

struct OrderedNumber {
  std::string provider_number_id;  // Twilio PN sid; Telnyx phone number id
  std::string e164;
  NumberState status = NumberState::kPending;
  std::string order_id;  // Telnyx number order id; "" on Twilio (purchase is immediate)
};

struct ServiceAddress {
  std::string street;
  std::string extended;  // apartment, suite; may be ""
  std::string locality;
  std::string region;       // state / province code
  std::string postal_code;
  std::string country = "US";  // ISO 3166-1 alpha-2
};

struct PortOrderRequest {
  std::vector<std::string> numbers;  // E.164, at least one
  std::string current_carrier;       // losing carrier's name
  std::string account_number;        // account number at the losing carrier
  std::string pin;                   // port-out PIN (never logged)
  std::string authorized_name;       // name of the account holder's authorised person
  ServiceAddress service_address;
  std::string desired_foc_date;      // "YYYY-MM-DD"
};

struct PortOrder {
  std::string id;
  PortState status = PortState::kDraft;
  std::string provider_status;  // raw status string from the carrier
  std::vector<std::string> numbers;
};

struct PlaceCallRequest {
  std::string from;  // E.164 business number
  std::string to;    // E.164, or a softphone identity "client:<id>"
  std::string instructions_url;     // webhook that returns/drives the call's instructions
  std::string status_callback_url;  // "" = none (Telnyx sends every event to instructions_url)
  // Identifies this request end to end; FailoverProvider dedupes on it, Telnyx gets it as
  // Idempotency-Key. "" = none (then never retried).
  std::string idempotency_key;
  int timeout_s = 0;  // ring timeout; 0 = carrier default
  // Echoed on the call's first webhooks (Twilio: query parameter `cs` of the voice and status
  // URLs; Telnyx: the dial's client_state); [A-Za-z0-9_:-]{0,64}.
  std::string client_state;
};

struct PlacedCall {
  std::string call_id;     // Twilio CallSid; Telnyx call_control_id (used for commands)
  std::string session_id;  // Telnyx call_session_id; "" on Twilio
  std::string provider;    // name() of the provider that placed it
};

struct CallModification {
  // kInstruct reaches a provider only on Twilio, already rendered to `twiml` (CarrierCore
  // renders CallInstructions; Telnyx gets a Call Control plan instead).
  enum class Action { kRedirect, kHangup, kInstruct };
  Action action = Action::kHangup;
  std::string redirect_url;  // kRedirect only: new instructions webhook
  std::string twiml;         // kInstruct only: the TwiML document
  std::string idempotency_key;  // Telnyx command_id; "" = none
};

// Live conference control of a call (CarrierCore::ConferenceControl validates the request,
// resolves the bridged leg / Telnyx conference id and fills in the URLs; see its comment for
// what each action does on each carrier).
struct ConferenceRequest {
  enum class Action { kMoveBridge, kHold, kUnhold, kAdd, kRemove };
  Action action = Action::kHold;
  std::string call_id;        // the caller's leg A (selects the carrier that has the call)
  std::string conference;     // the name ([A-Za-z0-9_-]{1,64})
  std::string conference_id;  // Telnyx: the conference's id (all but kMoveBridge, which creates it)
  std::string bridged_leg;    // kMoveBridge: the leg B that A is bridged to
  std::string leg;            // kHold / kUnhold / kRemove: the participant's call id
  std::string to;             // kAdd: E.164 or "client:<identity>"
  std::string from;           // kAdd: E.164 business number
  int timeout_s = 0;          // kAdd: ring time; 0 = 30
  std::string hold_audio_url;  // kHold: "" = the carrier's hold audio
  std::string idempotency_key;  // Telnyx kAdd: Idempotency-Key; kRemove: command_id
  // Twilio kMoveBridge: the TwiML B is updated with (a <Dial><Conference> of the name).
  std::string twiml;
  // kAdd: Twilio participant StatusCallback (our conference-participant route, with the name);
  // Telnyx webhook_url of the new leg.
  std::string status_callback_url;
  // Telnyx kAdd: the new leg's client_state, raw (base64-encoded on the wire).
  std::string client_state;
  // Telnyx kMoveBridge: called with the new conference's id after it is created and before B
  // joins (the service records id -> name then); an error stops the action.
  std::function<absl::Status(absl::string_view conference_id)> on_created;
};

struct ConferenceResult {
  std::string leg;            // kMoveBridge: B; kAdd: the new leg; else the request's leg
  std::string conference_id;  // Telnyx kMoveBridge: the created conference's id
};

struct SendMessageRequest {
  std::string from;  // E.164 business number
  std::string to;    // E.164
  std::string body;  // <= 1600 chars; may be "" when media_urls is not empty
  std::vector<std::string> media_urls;  // <= 10 (MMS)
  std::string status_callback_url;      // "" = none
  std::string idempotency_key;          // see PlaceCallRequest
};

struct SentMessage {
  std::string message_id;  // Twilio MessageSid; Telnyx message id
  SmsDeliveryStatus status = SmsDeliveryStatus::kQueued;
  std::string provider_status;  // raw status string
  std::string provider;         // name() of the provider that sent it
};

struct RecordingMedia {
  std::string bytes;
  std::string content_type;  // e.g. "audio/x-wav", "audio/mpeg"
};

class CarrierProvider {
 public:
  virtual ~CarrierProvider() = default;

  // "twilio", "telnyx", "emulator", or "failover(<primary>,<secondary>)".
  virtual std::string name() const = 0;

  virtual absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(
      const NumberSearch& search) = 0;
  virtual absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view e164,
                                                    const NumberWebhooks& webhooks) = 0;
  virtual absl::Status UpdateNumberWebhooks(absl::string_view provider_number_id,
                                            const NumberWebhooks& webhooks) = 0;
  virtual absl::Status ReleaseNumber(absl::string_view provider_number_id) = 0;

  virtual absl::StatusOr<PortOrder> CreatePortOrder(const PortOrderRequest& request) = 0;
  virtual absl::StatusOr<PortOrder> GetPortOrder(absl::string_view port_order_id) = 0;

  virtual absl::StatusOr<PlacedCall> PlaceCall(const PlaceCallRequest& request) = 0;
  virtual absl::Status ModifyCall(absl::string_view call_id,
                                  const CallModification& modification) = 0;
  // Returns the recording id ("" when the carrier only reports it later in a webhook).
  // `status_callback_url`: where the carrier reports the finished recording when it takes a
  // per-recording URL (Twilio RecordingStatusCallback; "" = none); Telnyx reports to the
  // call's webhook and ignores it.
  virtual absl::StatusOr<std::string> StartRecording(absl::string_view call_id,
                                                     absl::string_view status_callback_url) = 0;
  // `recording_id` "" stops every recording on the call.
  virtual absl::Status StopRecording(absl::string_view call_id,
                                     absl::string_view recording_id) = 0;

  // Live conference control (ConferenceRequest). kRemove of a leg that has ended already (or
  // a conference that has) is OK.
  virtual absl::StatusOr<ConferenceResult> ConferenceControl(const ConferenceRequest& request) = 0;

  virtual absl::StatusOr<SentMessage> SendMessage(const SendMessageRequest& request) = 0;

  // `recording` is a recording id or a URL the carrier announced in a webhook.
  virtual absl::StatusOr<RecordingMedia> FetchRecording(absl::string_view recording) = 0;
};

// kUnavailable or kDeadlineExceeded: the carrier may be down; another carrier may succeed.
bool IsRetryableCarrierError(const absl::Status& status);

// Shared validation used by every provider (InvalidArgument naming the field).
absl::Status ValidateE164(absl::string_view field, absl::string_view number);
absl::Status ValidateSearch(const NumberSearch& search);
absl::Status ValidatePlaceCall(const PlaceCallRequest& request);
absl::Status ValidateSendMessage(const SendMessageRequest& request);
absl::Status ValidatePortOrder(const PortOrderRequest& request);
absl::Status ValidateModification(const CallModification& modification);
// The fields the action needs (kInvalidArgument naming them; URLs and Twilio TwiML are the
// service's, so only their presence is checked where the action needs them).
absl::Status ValidateConferenceRequest(const ConferenceRequest& request);
// An http(s) URL without whitespace or controls; "" is fine unless `required`.
absl::Status ValidateUrl(absl::string_view field, absl::string_view url, bool required);
// A carrier id used in a URL path: 1-256 of [A-Za-z0-9 _ - . : + =].
absl::Status ValidateProviderId(absl::string_view field, absl::string_view id);

}  // namespace switchboard::carrier
