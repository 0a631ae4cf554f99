// WebhookHandler: the carriers' inbound webhooks (routes below, on a libs/http Router).
//
//   POST /webhooks/twilio/{voice,status,gather,dial,record,recording,sms,sms-status,
//                          conference,conference-participant}
//        (application/x-www-form-urlencoded)
//   POST /webhooks/telnyx/{call-control,messaging,numbers}   (application/json)
//
// Per request: wrong content type -> 415, invalid UTF-8 or missing/malformed fields -> 400 (the
// body is not read further, one log line); the company is resolved (placed/received call id,
// carrier account id = AccountSid / connection_id, then our numbers) and the signature checked
// with that company's credentials (Twilio X-Twilio-Signature over public_base_url + the request
// target; Telnyx Ed25519 with the account's public key) -> 403 and nothing else when it is
// missing, invalid or no company matches. Unknown/ignored event types -> 200 and
// carrier_webhooks_ignored_total. Otherwise, in ONE transaction, the dedupe key is recorded and
// the carrier.v1 event appended to the outbox; a store failure -> 503 (the carrier retries). A
// duplicate delivery is answered as the first one, without a new event.
// Answers: Twilio voice/gather/dial/record -> TwiML from the InstructionSource (the number's
// static set; `s` in the action URL resumes after verb s); other Twilio routes -> empty
// <Response/> (their call events still reach the InstructionSource: e.g. a dialled child leg's
// answered status callback, with ParentCallSid, is a DialResult of the parent call, resolved
// to the company by ParentCallSid, and its URL's `i` is passed as the running set); Telnyx ->
// 200 {} at once, and the Call Control plan's next commands are queued for CommandDispatcher
// workers (bounded; a full queue drops the command with an error log and
// carrier_telnyx_commands_total{result="dropped"}).
// Telnyx transfers: a target leg's answer (DialResult at_answer) records the A leg's bridged
// leg in the webhook's transaction and starts nothing; that leg's end clears it, as does the A
// leg's own end. Nothing is started (carrier_telnyx_plan_skipped_total{reason}) for: a
// replayed answer whose set differs from the event's client_state set, unless the event is the
// end of the leg A is still bridged to (the set made at its answer runs then); an event of a
// bridged A leg itself; an event without a plan client_state other than a new call's (incoming,
// or a placed call's answer), e.g. an on-demand recording's call.recording.saved.
// Twilio bridges (ConferenceControl MOVE_BRIDGE): the answered child leg's status callback
// records A -> B in bridged_legs (a new delivery only); A's Dial action and A's own end remove it.
// Conferences: ConferenceUpdate events are recorded (outbox) and asked of the InstructionSource
// with no running set (routing learns of them), the answer unused: Twilio answers <Response/>,
// Telnyx starts or advances NO plan. Telnyx conference.* events get the conference name from
// the conferences table (by conference_id, or A's leg while the create is in flight); an unknown
// conference -> 200 ignored; JOINED marks an added leg joined. A leg ConferenceControl ADD
// dialled (client_state a ConferenceLegState) never reaches the source as a call event: its
// call.answered queues POST /conferences/{id}/actions/join {"call_control_id": leg}; its
// call.hangup before it joined becomes ConferenceUpdate NOT_ANSWERED {conference, leg, to,
// reason from hangup_cause}, recorded and asked of the source; its other events are only
// recorded. A plan reaching a conference Dial sends nothing
// (carrier_telnyx_plan_skipped_total{reason="conference_dial"}, warning log).
// Every JSON error body is {"error":{"code","message"}}. Thread-safe (handlers run on io threads).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "libs/common/clock.h"
#include "libs/http/server.h"
#include "libs/metrics/registry.h"
#include "services/carrier/core.h"
#include "services/carrier/normalize.h"
#include "services/carrier/store.h"
#include "services/carrier/telnyx_plan.h"

namespace switchboard::carrier {

struct WebhookOptions {
  int command_workers = 2;
  size_t command_queue_limit = 1000;
};

class WebhookHandler {
 public:
  WebhookHandler(CarrierCore& core, CarrierStore& store, InstructionSource& instructions,
                 const Clock& clock, metrics::Registry& registry, WebhookOptions options);
  ~WebhookHandler();  // Stop()

  // Adds every route above to `router`.
  void Register(http::Router& router);

  http::Response HandleTwilio(TwilioWebhookKind kind, const http::Request& request);
  http::Response HandleTelnyx(const http::Request& request);

  // Finishes queued Call Control commands and joins the workers. Idempotent.
  void Stop();

  // Commands sent (or failed) so far; for tests.
  int64_t CommandsSentForTest() const;

 private:
  struct Job {
    std::string company_id;
    TelnyxCommand command;
  };
  struct Resolved;

  absl::StatusOr<std::string> ResolveCompany(const std::string& call_id,
                                             const std::string& account_id,
                                             const std::vector<std::string>& numbers);
  // Stores the event; false + response on failure.
  absl::StatusOr<bool> Record(const std::string& company_id, CarrierEvent& event,
                              const BridgeChange& bridge);
  // The source's answer for a call event; failures other than kNotFound are logged.
  absl::StatusOr<CallEventAnswer> InstructionsFor(const std::string& company_id,
                                                  const CarrierEvent& event,
                                                  absl::string_view current_id);
  std::string TwimlFor(const std::string& company_id, TwilioWebhookKind kind,
                       const CarrierEvent& event, const FormParams& query);
  // `bridge_ended`: the event is the end of the leg the A leg was bridged to.
  void PlanTelnyx(const std::string& company_id, const CarrierEvent& event, bool bridge_ended);
  // A Telnyx conference.* event or an event of a leg ConferenceControl ADD dialled.
  http::Response HandleTelnyxConference(const std::string& company_id, CarrierEvent& event,
                                        const std::string& route);
  void Enqueue(Job job);
  void Worker();
  http::Response Reject(int status, absl::string_view code, absl::string_view message,
                        absl::string_view route);

  CarrierCore& core_;
  CarrierStore& store_;
  InstructionSource& instructions_;
  const Clock& clock_;
  metrics::Registry& registry_;
  const WebhookOptions options_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::atomic<int64_t> commands_done_{0};
};

// The Ed25519-signed Telnyx and HMAC-signed Twilio webhooks' event type name used in the
// envelope: "carrier.call_incoming", "carrier.sms_status", ...
std::string CarrierEventType(const CarrierEvent& event);

}  // namespace switchboard::carrier
