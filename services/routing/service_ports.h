// Ports of the routing SERVICE (beyond the core's interfaces.h): what it asks of the identity,
// numbers and media services. Live implementations: clients.h (gRPC, role "service"); tests use fakes.
// Implementations must be thread-safe. Errors: UNAVAILABLE / DEADLINE_EXCEEDED when the other
// service cannot answer; NOT_FOUND for an unknown number or company.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/routing/interfaces.h"
#include "switchboard/carrier/v1/carrier.pb.h"
#include "switchboard/carrier/v1/carrier_service.pb.h"

namespace switchboard::routing {

// A company number as the numbers service resolves it (ResolveNumber).
struct ResolvedLine {
  std::string company_id;
  std::string line_id;
  std::string flow_id;           // "" = no flow: a direct line rings assigned_user_id
  std::string assigned_user_id;  // direct lines
  std::string department;
};

// A business number a company may show as caller ID.
struct CallerIdLine {
  std::string e164;
  std::string line_id;
};

class NumberResolver {
 public:
  virtual ~NumberResolver() = default;
  // NOT_FOUND when `e164` is not an active line of any company.
  virtual absl::StatusOr<ResolvedLine> Resolve(absl::string_view e164) = 0;
  // The company's active main line (`direct` false) or the user's active direct line (`direct`
  // true), for click-to-call. FAILED_PRECONDITION "caller_id: ..." when there is none.
  // The default answers UNIMPLEMENTED (resolvers that only route inbound calls).
  virtual absl::StatusOr<CallerIdLine> CallerId(absl::string_view company_id,
                                                absl::string_view user_id, bool direct) {
    (void)company_id;
    (void)user_id;
    (void)direct;
    return absl::UnimplementedError("caller_id: this number resolver has no outbound lines");
  }
};

// A call the carrier placed (carrier PlaceCall).
struct PlacedLeg {
  std::string call_id;     // Twilio CallSid, Telnyx call_control_id
  std::string session_id;  // Telnyx call_session_id ("" on Twilio)
  std::string provider;
};

// The carrier's live-call operations (carrier.v1 Carrier), for the company given. Errors: the
// carrier's (INVALID_ARGUMENT, NOT_FOUND for a call it does not know, FAILED_PRECONDITION
// without a carrier account, UNAVAILABLE / DEADLINE_EXCEEDED when it cannot answer).
class CallControl {
 public:
  virtual ~CallControl() = default;
  // Rings `to` from `from`; `client_state` comes back on the call's first webhooks
  // (CarrierEvent.client_state), `idempotency_key` makes a retry place one call.
  virtual absl::StatusOr<PlacedLeg> PlaceCall(absl::string_view company_id,
                                              absl::string_view from, absl::string_view to,
                                              absl::string_view client_state,
                                              absl::string_view idempotency_key) = 0;
  // Replaces the live call's instructions (carrier ModifyCall INSTRUCT on the caller's leg
  // `call_id`): the carrier drops whoever the call is bridged to and runs `instructions`.
  virtual absl::Status InstructCall(absl::string_view company_id, absl::string_view call_id,
                                    const carrier::v1::CallInstructions& instructions) = 0;
  // On-demand recording of the call (carrier StartRecording / StopRecording of every recording
  // on the call). Start answers the carrier's recording id ("" when it names none yet).
  virtual absl::StatusOr<std::string> StartRecording(absl::string_view company_id,
                                                     absl::string_view call_id) = 0;
  virtual absl::Status StopRecording(absl::string_view company_id, absl::string_view call_id) = 0;
  // Conference control (carrier ConferenceControl): the request names the caller's leg, the
  // conference and the action; answers the leg the carrier names (MOVE_BRIDGE: the connected
  // party's, ADD: the new participant's; "" otherwise).
  virtual absl::StatusOr<std::string> ConferenceControl(
      absl::string_view company_id, const carrier::v1::ConferenceControlRequest& request) = 0;
  // Ends the call (carrier ModifyCall HANGUP of the caller's leg `call_id`).
  virtual absl::Status HangupCall(absl::string_view company_id, absl::string_view call_id) = 0;
};

// The company's users with their devices and presence, as routing needs them
// (DirectoryUser.voicemail_box_id is left empty: boxes are routing's own).
class DirectorySource {
 public:
  virtual ~DirectorySource() = default;
  virtual absl::StatusOr<std::vector<DirectoryUser>> LoadUsers(absl::string_view company_id) = 0;
};

// What routing needs of the company record (identity Company).
struct CompanyInfo {
  std::string time_zone;  // IANA, e.g. "America/New_York"
  std::string state;      // address state, e.g. "CT"; may be empty
};

class CompanyInfoSource {
 public:
  virtual ~CompanyInfoSource() = default;
  virtual absl::StatusOr<CompanyInfo> Company(absl::string_view company_id) = 0;
};

// A greeting's playable URL from the media service (GetGreetingUrl by greeting id).
struct GreetingUrl {
  std::string url;
  absl::Time expires_at = absl::InfiniteFuture();
};

class GreetingSource {
 public:
  virtual ~GreetingSource() = default;
  // NOT_FOUND for a greeting the company does not have.
  virtual absl::StatusOr<GreetingUrl> Fetch(absl::string_view company_id,
                                            absl::string_view greeting_id) = 0;
};

}  // namespace switchboard::routing
