// TelnyxProvider: CarrierProvider over the Telnyx API v2 (Bearer API key, JSON bodies, errors
// {"errors":[{code,title,detail}]}).
//
// Requests (under {base_url}/v2):
//   SearchNumbers        GET  /available_phone_numbers?filter[country_code]=..&
//                             filter[phone_number_type]=local|toll_free&
//                             filter[national_destination_code]=..&
//                             filter[phone_number][contains|starts_with]=..&filter[limit]=..
//   OrderNumber          POST /number_orders {"phone_numbers":[{"phone_number":..}],
//                             "connection_id","messaging_profile_id"}. provider_number_id is
//                             the E.164 number (the phone-number resource exists only once the
//                             order completes); status success -> kActive, else kPending.
//   UpdateNumberWebhooks PATCH /phone_numbers/{id} {"connection_id"} and
//                        PATCH /phone_numbers/{id}/messaging {"messaging_profile_id"}
//   ReleaseNumber        DELETE /phone_numbers/{id}
//     (an E.164 provider_number_id is first resolved with
//      GET /phone_numbers?filter[phone_number]=<e164> -> data[0].id)
//     Telnyx has no per-number webhook URL: inbound calls go to the Call Control application's
//     (connection_id) webhook URL and messages to the messaging profile's, both configured on
//     the Telnyx side; NumberWebhooks URLs are checked but not sent.
//   CreatePortOrder      POST /porting_orders {"phone_numbers":[..],"customer_reference"}, then
//                        PATCH /porting_orders/{id} (end_user.admin + location, FOC date);
//                        current_carrier is not sent (Telnyx finds the losing carrier itself)
//   GetPortOrder         GET  /porting_orders/{id}   (status.value)
//   PlaceCall            POST /calls {"connection_id","from","to","webhook_url",
//                             "webhook_url_method":"POST","timeout_secs"}; "client:<id>" is
//                             dialled as "sip:<id>@<softphone_sip_domain>"
//   ModifyCall           hangup: POST /calls/{id}/actions/hangup {"command_id"}.
//                        redirect: kUnimplemented (Call Control has no fetch-new-instructions
//                        command; the service renders the new CallInstructions as commands).
//   StartRecording       POST /calls/{id}/actions/record_start {"channels":"single",
//                             "format":"wav","command_id"} -> data.recording_id (may be "");
//                             no client_state (a running plan's stays on the call), so its
//                             call.recording.saved advances no plan (webhooks.h)
//   StopRecording        POST /calls/{id}/actions/record_stop {"recording_id"?,"command_id"}
//   SendMessage          POST /messages {"from","to","text","media_urls","webhook_url",
//                             "messaging_profile_id"?}
//   FetchRecording       GET /recordings/{id} -> data.download_urls.wav|mp3, then GET that URL
//                        (no Authorization: it is a pre-signed URL); a URL is fetched directly.
//
// Errors: provider.h table; message "telnyx error <code>: <title>: <detail> (HTTP <status>)"
// from errors[0]. Codes refined to kFailedPrecondition: 40300 (recipient blocked/STOP),
// 90018 (call has already ended), 85001 / 10015 (number no longer available).
//
// Retries (http::RetryPolicy): GET, DELETE, PATCH, and Call Control actions (they carry a
// command_id, which Telnyx de-duplicates for 60 s; derived from the caller's idempotency key,
// or generated per request). POST /calls and POST /messages carry "Idempotency-Key" when the
// request has one, and are retried only if `retry_keyed_posts` is set (Telnyx honours the header
// only on endpoints whose reference declares it).
//
// Thread-safe; the HttpClient must outlive the provider.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "libs/http/client.h"
#include "services/carrier/provider.h"

namespace switchboard::carrier {

struct TelnyxCredentials {
  std::string api_key;               // Bearer token; never logged
  std::string public_key;            // base64 Ed25519 key for webhook verification (not used here)
  std::string connection_id;         // Call Control application id (required for calls/numbers)
  std::string messaging_profile_id;  // "" = send from the number's own profile
};

struct TelnyxOptions {
  std::string base_url = "https://api.telnyx.com";  // "/v2/..." is appended; no trailing slash
  std::string softphone_sip_domain = "sip.telnyx.com";
  absl::Duration timeout = absl::Seconds(10);
  http::RetryPolicy retry;
  bool retry_keyed_posts = false;  // see file comment
  std::function<void(absl::Duration)> sleep;  // backoff sleeper; null = absl::SleepFor
};

class TelnyxProvider final : public CarrierProvider {
 public:
  // kInvalidArgument naming the field: empty api_key or connection_id, bad base_url/timeout.
  static absl::StatusOr<std::unique_ptr<TelnyxProvider>> Create(TelnyxCredentials credentials,
                                                                TelnyxOptions options,
                                                                http::HttpClient& client);

  std::string name() const override { return "telnyx"; }
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(const NumberSearch& search) override;
  absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view e164,
                                            const NumberWebhooks& webhooks) override;
  absl::Status UpdateNumberWebhooks(absl::string_view provider_number_id,
                                    const NumberWebhooks& webhooks) override;
  absl::Status ReleaseNumber(absl::string_view provider_number_id) override;
  absl::StatusOr<PortOrder> CreatePortOrder(const PortOrderRequest& request) override;
  absl::StatusOr<PortOrder> GetPortOrder(absl::string_view port_order_id) override;
  absl::StatusOr<PlacedCall> PlaceCall(const PlaceCallRequest& request) override;
  absl::Status ModifyCall(absl::string_view call_id,
                          const CallModification& modification) override;
  absl::StatusOr<std::string> StartRecording(absl::string_view call_id,
                                             absl::string_view status_callback_url) override;
  absl::Status StopRecording(absl::string_view call_id, absl::string_view recording_id) override;
  // kMoveBridge: POST /v2/conferences {"call_control_id": A, "name", "beep_enabled": "never"}
  // -> data.id; request.on_created(id); POST /v2/conferences/{id}/actions/join
  // {"call_control_id": B}. kHold: POST /v2/conferences/{id}/actions/hold {"call_control_ids":
  // [leg], "audio_url"?}; kUnhold: actions/unhold {"call_control_ids": [leg]}; kAdd: POST
  // /v2/calls {connection_id, from, to (client:<id> -> sip:<id>@softphone_sip_domain),
  // webhook_url, webhook_url_method, timeout_secs (30 when 0), client_state (base64)} with
  // Idempotency-Key when the request has one -> call_control_id; kRemove: POST
  // /v2/calls/{leg}/actions/hangup (90018 ended / 404: OK).
  absl::StatusOr<ConferenceResult> ConferenceControl(const ConferenceRequest& request) override;
  absl::StatusOr<SentMessage> SendMessage(const SendMessageRequest& request) override;
  absl::StatusOr<RecordingMedia> FetchRecording(absl::string_view recording) override;

  // The absl::Status for a non-2xx Telnyx answer (exposed for tests and the emulator).
  static absl::Status ErrorFromResponse(const http::HttpResponse& response);

  // Sends one Call Control command: POST /calls/{call_control_id}/actions/{action} with `body`
  // (telnyx_plan.h TelnyxCommand; a missing command_id gets a fresh one). Retried like every
  // Call Control action (the command_id makes repeats harmless). kInvalidArgument for a bad id
  // or an action outside [a-z_]; provider.h error table otherwise.
  absl::Status ExecuteCallCommand(absl::string_view call_control_id, absl::string_view action,
                                  nlohmann::json body);
  // POST /conferences/{conference_id}/actions/{action} with `body` (e.g. "join" with
  // {"call_control_id"}). Retried like Call Control actions. kInvalidArgument for a bad id or
  // action.
  absl::Status ExecuteConferenceCommand(absl::string_view conference_id,
                                        absl::string_view action, nlohmann::json body);

 private:
  TelnyxProvider(TelnyxCredentials credentials, TelnyxOptions options, http::HttpClient& client);

  absl::StatusOr<http::HttpResponse> Call(const std::string& method, const std::string& path,
                                          const std::string* json_body, bool idempotent,
                                          absl::string_view idempotency_key = "");
  absl::StatusOr<std::string> ResolveNumberId(absl::string_view provider_number_id);
  absl::Status Action(absl::string_view call_id, absl::string_view action,
                      nlohmann::json body, nlohmann::json* data_out);

  const TelnyxCredentials credentials_;
  const TelnyxOptions options_;
  http::HttpClient& client_;
};

}  // namespace switchboard::carrier
