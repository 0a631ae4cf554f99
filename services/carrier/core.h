// CarrierCore: the carrier service's domain logic behind the gRPC adapter and the webhook
// listener. Per company it keeps the carrier account (credentials sealed with AES-256-GCM under
// the key-encryption key, aad = company id; never returned, logged or put in a Status), builds
// that company's providers (Twilio / Telnyx REST adapters; "emulator" = one of them pointed at
// --emulator_url) wrapped in a FailoverProvider when a secondary exists, and runs the
// CarrierProvider operations for the calling company, recording what later webhooks and calls
// need (numbers -> company, placed calls -> provider).
//
// Every method takes the caller's company id (from the principal). Objects of other companies
// are kNotFound. Errors: kInvalidArgument naming the field; kFailedPrecondition "no carrier
// account" when the company has none; the provider's errors as provider.h documents; store
// errors (kUnavailable when Postgres is down).
//
// Thread-safe. The store, HTTP client, clock and registry must outlive the core.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/http/client.h"
#include "libs/metrics/registry.h"
#include "services/carrier/failover.h"
#include "services/carrier/model.h"
#include "services/carrier/provider.h"
#include "services/carrier/store.h"
#include "services/carrier/telnyx_plan.h"
#include "services/carrier/telnyx_provider.h"
#include "services/carrier/twiml.h"
#include "services/carrier/twilio_provider.h"

namespace switchboard::carrier {

// The carrier wire format a configured provider speaks.
enum class Wire { kTwilio, kTelnyx };

// One configured carrier. provider kEmulator speaks `wire` against CoreOptions.emulator_url.
struct ProviderConfig {
  Provider provider = Provider::kUnspecified;
  Wire wire = Wire::kTwilio;
  TwilioCredentials twilio;  // wire kTwilio
  TelnyxCredentials telnyx;  // wire kTelnyx
  // Twilio: the subaccount SID when set, else the account SID (the AccountSid of its webhooks);
  // Telnyx: connection_id.
  std::string AccountId() const;
};

struct AccountSettings {
  ProviderConfig primary;
  std::optional<ProviderConfig> secondary;
};

// The account without secrets (GetCarrierAccount).
struct AccountSummary {
  std::string company_id;
  Provider primary_provider = Provider::kUnspecified;
  std::string primary_account_id;
  Provider secondary_provider = Provider::kUnspecified;
  std::string secondary_account_id;
};

// Where a call's instructions come from. The webhook handler asks on every normalised call
// event (incoming, answered, digits, dial result, recording, prompt ended, completed) and renders
// the answer for the call's provider.
//
// Contract: the answer is the call's CURRENT instruction set. `current_instructions_id` is the
// id of the set the call is running (Twilio action URL `i`, Telnyx client_state), "" when none.
// When the answer has that same id, the call continues the running set after the verb that
// reported (the step); a different id starts the new set from its first verb. So a source that
// has nothing new to say answers the running set again, and a duplicated delivery gets the same
// answer. kNotFound = no instructions for this call (Twilio gets an empty <Response/>, a Telnyx
// call that was never answered is hung up); other errors are logged and treated the same way.
//
// `replayed` (routing's HandleCallEventResponse.replayed): the event changed nothing (a
// duplicate, or a stale result of a set that was replaced, e.g. the hang-up of a leg a transfer
// dropped) and the answer is the current set, replayed. Twilio renders it as any answer (it
// pulls: a stale action's TwiML just restates the current set). Telnyx starts NOTHING for a
// replayed set whose id differs from the event's client_state set (whoever made the current
// set started it) — except when the event is the end of the leg the A leg is bridged to: the
// set made when that leg answered was held back (nothing runs on A during a bridge), so it
// runs now. Implementations must be thread-safe (called from the HTTP listener's threads).
struct CallEventAnswer {
  CallInstructions instructions;
  bool replayed = false;
};

class InstructionSource {
 public:
  virtual ~InstructionSource() = default;
  virtual absl::StatusOr<CallEventAnswer> ForCallEvent(
      absl::string_view company_id, const CarrierEvent& event,
      absl::string_view current_instructions_id) = 0;
};

// The per-number static sets (SetStaticInstructions): a call's first event (incoming, or the
// answer of an outbound call) gets the set of its business number (To inbound, From outbound);
// later events get the running set again by id. Never `replayed`.
class StaticInstructionSource final : public InstructionSource {
 public:
  explicit StaticInstructionSource(CarrierStore& store) : store_(store) {}
  absl::StatusOr<CallEventAnswer> ForCallEvent(absl::string_view company_id,
                                                const CarrierEvent& event,
                                                absl::string_view current_instructions_id) override;

 private:
  CarrierStore& store_;
};

struct CoreOptions {
  std::string key_encryption_key;  // raw 32 bytes; secret
  std::string public_base_url;     // our webhook listener as the carriers reach it, no '/' end
  std::string twilio_api_base_url = "https://api.twilio.com";
  std::string twilio_numbers_base_url = "https://numbers.twilio.com";
  std::string telnyx_base_url = "https://api.telnyx.com";
  std::string emulator_url;  // "" = kEmulator accounts are refused
  TelnyxPlanOptions telnyx_plan;  // rendering of instructions as Call Control commands
  absl::Duration http_timeout = absl::Seconds(10);
  http::RetryPolicy retry;
  FailoverOptions failover;
  std::string topic = "carrier.v1";
  std::string source = "carrier";
  absl::Duration account_cache_ttl = absl::Seconds(30);
};

// A company's built providers. `telnyx` points at the Telnyx-wire provider (for Call Control
// commands), `twilio_auth_tokens`/`telnyx_public_keys` are what webhook signatures are checked
// with. Immutable once built; shared with in-flight requests.
struct CompanyCarrier {
  std::string company_id;
  AccountSettings settings;
  std::unique_ptr<CarrierProvider> primary;
  std::unique_ptr<CarrierProvider> secondary;
  std::unique_ptr<FailoverProvider> failover;
  TelnyxProvider* telnyx = nullptr;
  absl::Time loaded_at;

  CarrierProvider& ForName(absl::string_view provider_name) const;
};

class CarrierCore {
 public:
  // kInvalidArgument when key_encryption_key is not 32 bytes or public_base_url is not http(s).
  static absl::StatusOr<std::unique_ptr<CarrierCore>> Create(CarrierStore& store,
                                                             http::HttpClient& client,
                                                             const Clock& clock,
                                                             metrics::Registry& registry,
                                                             CoreOptions options);

  absl::StatusOr<AccountSummary> SetCarrierAccount(absl::string_view company_id,
                                                   const AccountSettings& settings);
  absl::StatusOr<AccountSummary> GetCarrierAccount(absl::string_view company_id);
  // The instructions are validated (kInvalidArgument "instructions.…"); e164 must not belong
  // to another company (kNotFound).
  absl::Status SetStaticInstructions(absl::string_view company_id, absl::string_view e164,
                                     const CallInstructions& instructions);

  // Searches the primary and, when the company has one, the secondary provider; the lists are
  // merged alternately (so both carriers' offers show within `limit`), de-duplicated by E.164
  // (the primary's offer wins), each tagged with the provider offering it (`provider`, to pass to
  // OrderNumber). A failing secondary is logged and skipped; when the primary fails, the
  // secondary's results are returned, and the primary's error only when both fail.
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(absl::string_view company_id,
                                                             const NumberSearch& search);
  // Orders on `provider` ("" = the primary; else the name a search tagged the number with:
  // kInvalidArgument "provider: ..." when the company has no such provider). Empty webhook URLs
  // default to this service's listener in that provider's wire format. Returns the order and
  // the name of the provider that holds the number.
  absl::StatusOr<std::pair<OrderedNumber, std::string>> OrderNumber(
      absl::string_view company_id, absl::string_view e164, NumberWebhooks webhooks,
      absl::string_view provider = "");
  absl::Status UpdateNumberWebhooks(absl::string_view company_id, absl::string_view e164,
                                    NumberWebhooks webhooks);
  absl::Status ReleaseNumber(absl::string_view company_id, absl::string_view e164);
  absl::StatusOr<PortOrder> CreatePortOrder(absl::string_view company_id,
                                            const PortOrderRequest& request);
  absl::StatusOr<PortOrder> GetPortOrder(absl::string_view company_id,
                                         absl::string_view port_order_id);
  // `from` owned by another company -> kNotFound. Empty URLs default to our listener; an empty
  // idempotency key gets a fresh one (so a failover never sends twice).
  absl::StatusOr<PlacedCall> PlaceCall(absl::string_view company_id, PlaceCallRequest request);
  // The call must be known (placed here or received by our webhooks) for the company; it goes
  // to the provider that placed it.
  // kRedirect (Twilio fetches the URL; UNIMPLEMENTED on Telnyx) or kHangup.
  absl::Status ModifyCall(absl::string_view company_id, absl::string_view call_id,
                          const CallModification& modification);
  // Replaces a live call's instructions: TwiML on the call for Twilio (updating the parent
  // call ends a running <Dial>, bridged or ringing), a new Call Control plan (no answer step) on
  // the leg for Telnyx. On Telnyx a leg bridged to the call (a transfer's answered target, as
  // recorded from its webhooks) is hung up first (POST /calls/{B}/actions/hangup, command_id
  // derived from B and the instructions id, so a retry repeats it exactly; a leg already gone
  // is fine), and its bookkeeping removed, so the dropped leg's hangup starts nothing; then the
  // plan's first command. kInvalidArgument naming "instructions: ..." for invalid
  // instructions; kNotFound for a call the company does not know; the hangup's error (bridge
  // kept) when the bridged leg could not be hung up.
  absl::Status InstructCall(absl::string_view company_id, absl::string_view call_id,
                            const CallInstructions& instructions);
  // On-demand recording of the call. Twilio: RecordingStatusCallback = our recording route
  // (completed -> RecordingReady of the call, RecordingSource=StartCallRecordingAPI); Telnyx:
  // record_start, whose call.recording.saved -> RecordingReady (no plan advances on it).
  absl::StatusOr<std::string> StartRecording(absl::string_view company_id,
                                             absl::string_view call_id);
  absl::Status StopRecording(absl::string_view company_id, absl::string_view call_id,
                             absl::string_view recording_id);
  // Live conference control of call A (request.call_id; kNotFound "call_id: unknown call"
  // unless the company knows it); returns the leg (ConferenceControlResponse.leg).
  // kInvalidArgument naming the field for bad input (ValidateConferenceRequest).
  //  - kMoveBridge: A must be bridged (bridged_legs: Telnyx from the target leg's answer,
  //    Twilio from the answered child leg's status callback), else kFailedPrecondition
  //    "call_id: the call is not connected". The bookkeeping is removed first (the bridge is now
  //    a conference: B's later end is not "the bridge's own end") and restored if the carrier
  //    fails. Twilio: B gets TwiML <Dial><Conference startConferenceOnEnter="true"
  //    endConferenceOnExit="false" statusCallback=<conference route>
  //    statusCallbackEvent="join leave end">name</Conference></Dial> (A's Dial ends and its
  //    action asks routing, which answers with the conference Dial). Telnyx: the name is
  //    recorded with A (conferences table, id '' until created), the conference created with
  //    A, its id recorded, B joined. Returns B.
  //  - kHold / kUnhold / kAdd / kRemove on Telnyx need the conference MOVE_BRIDGE created for
  //    this call (kFailedPrecondition "conference: ..." otherwise; kRemove only hangs the leg
  //    up and needs none). kAdd dials with our call-control webhook and a ConferenceLegState
  //    client_state and records the leg (conference_legs); its answer is joined by the webhook
  //    handler. Twilio kAdd's StatusCallback is our conference-participant route with
  //    ?conference=<name>. kRemove of a leg that has ended is OK.
  absl::StatusOr<std::string> ConferenceControl(absl::string_view company_id,
                                                ConferenceRequest request);
  absl::StatusOr<SentMessage> SendMessage(absl::string_view company_id,
                                          SendMessageRequest request);
  absl::StatusOr<RecordingMedia> FetchRecording(absl::string_view company_id,
                                                absl::string_view recording);

  // The company's providers (cached for account_cache_ttl; rebuilt after SetCarrierAccount).
  // kFailedPrecondition when the company has no account.
  absl::StatusOr<std::shared_ptr<const CompanyCarrier>> CarrierFor(absl::string_view company_id);

  const CoreOptions& options() const { return options_; }
  // "<public_base_url>/webhooks/<twilio|telnyx>/<kind>".
  std::string WebhookUrl(Wire wire, absl::string_view kind) const;
  // Action/callback URLs of rendered TwiML: this listener's gather/dial/record/recording routes,
  // and its status route for the Dial nouns' answered callbacks.
  TwimlOptions TwilioTwimlOptions() const;

 private:
  CarrierCore(CarrierStore& store, http::HttpClient& client, const Clock& clock,
              metrics::Registry& registry, CoreOptions options);

  absl::StatusOr<std::unique_ptr<CarrierProvider>> BuildProvider(const ProviderConfig& config,
                                                                 absl::string_view field);
  absl::StatusOr<std::shared_ptr<const CompanyCarrier>> Build(absl::string_view company_id,
                                                              AccountSettings settings);
  void OnFailover(const std::string& company_id, const FailoverEvent& event);
  absl::StatusOr<CallRow> KnownCall(absl::string_view company_id, absl::string_view call_id);
  absl::Status CheckFromNumber(absl::string_view company_id, absl::string_view e164);

  CarrierStore& store_;
  http::HttpClient& client_;
  const Clock& clock_;
  metrics::Registry& registry_;
  const CoreOptions options_;

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const CompanyCarrier>, std::less<>> cache_
      ABSL_GUARDED_BY(mu_);
};

// Sealing of the credentials document (exposed for tests).
// kInvalidArgument "instructions...: ..." unless every instruction renders for both carriers and
// the id is [A-Za-z0-9_-].
absl::Status ValidateInstructions(const CallInstructions& instructions);

absl::StatusOr<std::string> SealSettings(absl::string_view key32, absl::string_view company_id,
                                         const AccountSettings& settings);
absl::StatusOr<AccountSettings> OpenSettings(absl::string_view key32,
                                             absl::string_view company_id,
                                             const AccountRow& row);

}  // namespace switchboard::carrier
