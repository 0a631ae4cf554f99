// TwilioProvider: CarrierProvider over the Twilio REST API 2010-04-01 (numbers, calls,
// recordings, messages; form-encoded bodies, JSON answers via the ".json" suffix, HTTP Basic
// auth with AccountSid:AuthToken) and the Numbers v1 Port In API (JSON body).
//
// Requests (paths under {api_base_url}/2010-04-01/Accounts/{account}, where {account} is the
// subaccount SID when one is set, else the account SID; auth is always the parent's
// AccountSid:AuthToken, which Twilio accepts for its subaccounts):
//   SearchNumbers        GET  /AvailablePhoneNumbers/{CC}/{Local|TollFree}.json
//                             AreaCode, Contains (starts_with -> Contains="+<digits>"), PageSize
//   OrderNumber          POST /IncomingPhoneNumbers.json  PhoneNumber, VoiceUrl, VoiceMethod,
//                             SmsUrl, SmsMethod, StatusCallback, StatusCallbackMethod  (201)
//   UpdateNumberWebhooks POST /IncomingPhoneNumbers/{PN}.json  (same URL fields)
//   ReleaseNumber        DELETE /IncomingPhoneNumbers/{PN}.json  (204)
//   PlaceCall            POST /Calls.json  To, From, Url, Method, StatusCallback,
//                             StatusCallbackMethod, StatusCallbackEvent x4, Timeout  (201)
//   ModifyCall           POST /Calls/{CA}.json  Status=completed | Url+Method
//   StartRecording       POST /Calls/{CA}/Recordings.json  RecordingStatusCallback,
//                             RecordingStatusCallbackMethod=POST,
//                             RecordingStatusCallbackEvent=completed (when a URL is given;
//                             201, sid RE...)
//   StopRecording        POST /Calls/{CA}/Recordings/{RE|Twilio.CURRENT}.json  Status=stopped
//   SendMessage          POST /Messages.json  To, From, Body, MediaUrl xN, StatusCallback (201)
//   FetchRecording       GET  /Recordings/{RE}.wav, or the announced URL (Basic auth only
//                             when it is on api_base_url; one redirect followed, without auth)
//   CreatePortOrder      POST {numbers_base_url}/v1/Porting/PortIn  (JSON)
//   GetPortOrder         GET  {numbers_base_url}/v1/Porting/PortIn/{KW}
//
// Errors: provider.h table; the message is "twilio error <code>: <message> (HTTP <status>)"
// from the legacy {code,message,more_info,status} body or the RFC 9457
// {type,title,status,code,detail} body. Codes refined to kFailedPrecondition: 21422 (number not
// available), 21610 (recipient unsubscribed), 21220 (call not in a state that allows it).
//
// Retries (http::RetryPolicy from the options): GETs, DELETE and the number-webhook update
// (setting the same URLs twice is harmless). Never a POST that creates something or acts on a
// call: Twilio's REST API has no request idempotency key (I-Twilio-Idempotency-Token is a
// header Twilio sends on its webhooks, not one it honours on requests), so
// PlaceCallRequest/SendMessageRequest.idempotency_key is not sent to Twilio.
//
// Thread-safe; the HttpClient must outlive the provider.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "libs/http/client.h"
#include "services/carrier/provider.h"

namespace switchboard::carrier {

struct TwilioCredentials {
  std::string account_sid;     // "AC..." (Basic auth user)
  std::string auth_token;      // Basic auth password; never logged
  std::string subaccount_sid;  // "AC..." of a subaccount to act on; "" = the account itself
};

struct TwilioOptions {
  std::string api_base_url = "https://api.twilio.com";          // no trailing slash
  std::string numbers_base_url = "https://numbers.twilio.com";  // Port In API
  absl::Duration timeout = absl::Seconds(10);                   // per HTTP request
  http::RetryPolicy retry;                                      // idempotent requests only
  std::function<void(absl::Duration)> sleep;  // backoff sleeper; null = absl::SleepFor
};

class TwilioProvider final : public CarrierProvider {
 public:
  // How long a conference operation waits for the conference or the participant to appear
  // (Twilio joins legs asynchronously), and the interval between its looks.
  static constexpr absl::Duration kJoinWait = absl::Seconds(5);
  static constexpr absl::Duration kJoinRetry = absl::Milliseconds(100);

  // kInvalidArgument naming the field: account_sid / subaccount_sid not "AC...", empty
  // auth_token, base URLs not http(s), non-positive timeout.
  static absl::StatusOr<std::unique_ptr<TwilioProvider>> Create(TwilioCredentials credentials,
                                                                TwilioOptions options,
                                                                http::HttpClient& client);

  std::string name() const override { return "twilio"; }
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
  // kMoveBridge: POST /Calls/{B}.json Twiml=<request.twiml>. kHold/kUnhold/kAdd/kRemove first
  // find the conference: GET /Conferences.json?FriendlyName=<name>&Status=in-progress (the
  // first result; none -> kFailedPrecondition "conference: ... not in progress", except for
  // kRemove, where it means the leg is gone: OK). kHold: POST /Conferences/{CF}/Participants/
  // {leg}.json Hold=true (+HoldUrl); kUnhold: Hold=false; kAdd: POST
  // /Conferences/{CF}/Participants.json From, To (client:<id> as is), Timeout (30 when 0),
  // EndConferenceOnExit=false, StatusCallback=<request.status_callback_url>,
  // StatusCallbackMethod=POST, StatusCallbackEvent=completed -> call_sid; kRemove: DELETE
  // /Conferences/{CF}/Participants/{leg}.json (404 = gone already: OK). Twilio joins legs
  // asynchronously: a missing conference (but for kRemove) and a missing participant (404 on
  // kHold/kUnhold) are looked for again every kJoinRetry, for at most kJoinWait.
  absl::StatusOr<ConferenceResult> ConferenceControl(const ConferenceRequest& request) override;
  absl::StatusOr<SentMessage> SendMessage(const SendMessageRequest& request) override;
  absl::StatusOr<RecordingMedia> FetchRecording(absl::string_view recording) override;

  // The absl::Status for a non-2xx Twilio answer (exposed for tests and the emulator).
  static absl::Status ErrorFromResponse(const http::HttpResponse& response);

 private:
  TwilioProvider(TwilioCredentials credentials, TwilioOptions options, http::HttpClient& client);

  enum class Body { kNone, kForm, kJson };
  absl::StatusOr<http::HttpResponse> Call(const std::string& method, const std::string& url,
                                          Body kind, std::string body, bool idempotent,
                                          bool auth = true);
  std::string AccountUrl(absl::string_view suffix) const;

  const TwilioCredentials credentials_;
  const TwilioOptions options_;
  http::HttpClient& client_;
};

}  // namespace switchboard::carrier
