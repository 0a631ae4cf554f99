#include "services/carrier/twilio_provider.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/http/url.h"
#include "services/carrier/provider_http.h"

namespace switchboard::carrier {
namespace {

using internal::Fields;
using internal::Str;
using nlohmann::json;

constexpr char kName[] = "twilio";

bool IsHttpUrl(absl::string_view url) {
  return absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://");
}

bool IsAccountSid(absl::string_view sid) { return sid.size() >= 3 && absl::StartsWith(sid, "AC"); }

SmsDeliveryStatus MessageStatus(absl::string_view status) {
  if (status == "sent") return SmsDeliveryStatus::kSent;
  if (status == "delivered" || status == "read") return SmsDeliveryStatus::kDelivered;
  if (status == "undelivered") return SmsDeliveryStatus::kUndelivered;
  if (status == "failed" || status == "canceled") return SmsDeliveryStatus::kFailed;
  return SmsDeliveryStatus::kQueued;  // queued, accepted, scheduled, sending
}

// Twilio Port In request statuses (Numbers v1; twilio-python documents them as "In progress",
// "Completed", "Expired", "In review", "Waiting for Signature", "Action Required", "Canceled").
// Compared case-insensitively with spaces and underscores read as '-'.
PortState PortStatus(absl::string_view raw) {
  std::string status = absl::AsciiStrToLower(raw);
  for (char& c : status) {
    if (c == ' ' || c == '_') c = '-';
  }
  if (status == "in-progress" || status == "waiting-for-signature") return PortState::kInProcess;
  if (status == "action-required") return PortState::kException;
  if (status == "completed") return PortState::kPorted;
  if (status == "canceled" || status == "expired") return PortState::kCancelled;
  return PortState::kSubmitted;  // pending, in-review, submitted, unknown new values
}

void AddWebhookFields(const NumberWebhooks& webhooks, Fields& form) {
  if (!webhooks.voice_url.empty()) {
    form.emplace_back("VoiceUrl", webhooks.voice_url);
    form.emplace_back("VoiceMethod", "POST");
  }
  if (!webhooks.messaging_url.empty()) {
    form.emplace_back("SmsUrl", webhooks.messaging_url);
    form.emplace_back("SmsMethod", "POST");
  }
  if (!webhooks.status_callback_url.empty()) {
    form.emplace_back("StatusCallback", webhooks.status_callback_url);
    form.emplace_back("StatusCallbackMethod", "POST");
  }
}

absl::Status ValidateWebhooks(const NumberWebhooks& webhooks) {
  for (const auto& [field, url] :
       {std::pair<const char*, const std::string*>{"webhooks.voice_url", &webhooks.voice_url},
        {"webhooks.messaging_url", &webhooks.messaging_url},
        {"webhooks.status_callback_url", &webhooks.status_callback_url}}) {
    if (!url->empty() && !IsHttpUrl(*url)) {
      return absl::InvalidArgumentError(absl::StrCat(field, " must be an http(s) URL"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TwilioProvider>> TwilioProvider::Create(
    TwilioCredentials credentials, TwilioOptions options, http::HttpClient& client) {
  if (!IsAccountSid(credentials.account_sid)) {
    return absl::InvalidArgumentError("twilio.account_sid must start with AC");
  }
  if (!credentials.subaccount_sid.empty() && !IsAccountSid(credentials.subaccount_sid)) {
    return absl::InvalidArgumentError("twilio.subaccount_sid must start with AC");
  }
  for (absl::string_view sid : {absl::string_view(credentials.account_sid),
                                absl::string_view(credentials.subaccount_sid)}) {
    if (!sid.empty()) RETURN_IF_ERROR(ValidateProviderId("twilio.account_sid", sid));
  }
  if (credentials.auth_token.empty()) {
    return absl::InvalidArgumentError("twilio.auth_token is required");
  }
  if (!IsHttpUrl(options.api_base_url)) {
    return absl::InvalidArgumentError("twilio.api_base_url must be an http(s) URL");
  }
  if (!IsHttpUrl(options.numbers_base_url)) {
    return absl::InvalidArgumentError("twilio.numbers_base_url must be an http(s) URL");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("twilio.timeout must be positive");
  }
  while (absl::EndsWith(options.api_base_url, "/")) options.api_base_url.pop_back();
  while (absl::EndsWith(options.numbers_base_url, "/")) options.numbers_base_url.pop_back();
  return std::unique_ptr<TwilioProvider>(
      new TwilioProvider(std::move(credentials), std::move(options), client));
}

TwilioProvider::TwilioProvider(TwilioCredentials credentials, TwilioOptions options,
                               http::HttpClient& client)
    : credentials_(std::move(credentials)), options_(std::move(options)), client_(client) {}

std::string TwilioProvider::AccountUrl(absl::string_view suffix) const {
  const std::string& account =
      credentials_.subaccount_sid.empty() ? credentials_.account_sid : credentials_.subaccount_sid;
  return absl::StrCat(options_.api_base_url, "/2010-04-01/Accounts/", account, suffix);
}

absl::Status TwilioProvider::ErrorFromResponse(const http::HttpResponse& response) {
  absl::StatusCode code = internal::CodeForHttpStatus(response.status);
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object() || !body.contains("code")) {
    return absl::Status(code, absl::StrCat("twilio HTTP ", response.status, ": ",
                                           internal::Excerpt(response.body)));
  }
  std::string twilio_code = Str(body, "code");
  std::string message = Str(body, "message");
  if (message.empty()) message = Str(body, "detail");  // RFC 9457 shape
  if (message.empty()) message = Str(body, "title");
  if (twilio_code == "21422" || twilio_code == "21610" || twilio_code == "21220") {
    code = absl::StatusCode::kFailedPrecondition;
  }
  return absl::Status(code, absl::StrCat("twilio error ", twilio_code, ": ", message, " (HTTP ",
                                         response.status, ")"));
}

absl::StatusOr<http::HttpResponse> TwilioProvider::Call(const std::string& method,
                                                        const std::string& url, Body kind,
                                                        std::string body, bool idempotent,
                                                        bool auth) {
  http::HttpRequest request{.method = method, .url = url, .timeout = options_.timeout};
  if (auth) {
    request.headers.push_back(
        http::BasicAuthHeader(credentials_.account_sid, credentials_.auth_token));
  }
  request.headers.emplace_back("Accept", "application/json");
  if (kind == Body::kForm) {
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  } else if (kind == Body::kJson) {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  request.body = std::move(body);
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   internal::Send(kName, client_, request, idempotent, options_.retry,
                                  options_.sleep));
  if (response.status < 200 || response.status > 299) return ErrorFromResponse(response);
  return response;
}

absl::StatusOr<std::vector<AvailableNumber>> TwilioProvider::SearchNumbers(
    const NumberSearch& search) {
  RETURN_IF_ERROR(ValidateSearch(search));
  if (!search.contains.empty() && !search.starts_with.empty()) {
    return absl::InvalidArgumentError(
        "search.contains and search.starts_with cannot both be set for twilio (one Contains "
        "pattern)");
  }
  Fields query;
  if (!search.area_code.empty()) query.emplace_back("AreaCode", search.area_code);
  if (!search.contains.empty()) query.emplace_back("Contains", search.contains);
  if (!search.starts_with.empty()) query.emplace_back("Contains", "+" + search.starts_with);
  query.emplace_back("PageSize", std::to_string(search.limit));
  std::string url = AccountUrl(absl::StrCat(
      "/AvailablePhoneNumbers/", search.country,
      search.type == NumberType::kTollFree ? "/TollFree.json" : "/Local.json", "?",
      internal::FormEncode(query)));
  ASSIGN_OR_RETURN(http::HttpResponse response, Call("GET", url, Body::kNone, "", true));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  std::vector<AvailableNumber> numbers;
  auto list = body.find("available_phone_numbers");
  if (list == body.end() || !list->is_array()) {
    return absl::InternalError("twilio: search answer has no available_phone_numbers array");
  }
  for (const json& item : *list) {
    AvailableNumber n{.e164 = Str(item, "phone_number"),
                      .locality = Str(item, "locality"),
                      .region = Str(item, "region")};
    if (n.e164.empty()) continue;
    if (auto caps = item.find("capabilities"); caps != item.end() && caps->is_object()) {
      auto flag = [&](std::initializer_list<const char*> keys) {
        for (const char* k : keys) {
          auto it = caps->find(k);
          if (it != caps->end() && it->is_boolean() && it->get<bool>()) return true;
        }
        return false;
      };
      n.capabilities = {.voice = flag({"voice", "Voice"}),
                        .sms = flag({"SMS", "sms"}),
                        .mms = flag({"MMS", "mms"}),
                        .fax = flag({"fax", "Fax"})};
    }
    numbers.push_back(std::move(n));
  }
  return numbers;
}

absl::StatusOr<OrderedNumber> TwilioProvider::OrderNumber(absl::string_view e164,
                                                          const NumberWebhooks& webhooks) {
  RETURN_IF_ERROR(ValidateE164("number", e164));
  RETURN_IF_ERROR(ValidateWebhooks(webhooks));
  Fields form{{"PhoneNumber", std::string(e164)}};
  AddWebhookFields(webhooks, form);
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", AccountUrl("/IncomingPhoneNumbers.json"), Body::kForm,
                        internal::FormEncode(form), false));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  OrderedNumber ordered{.provider_number_id = Str(body, "sid"),
                        .e164 = Str(body, "phone_number"),
                        .status = NumberState::kActive};
  if (ordered.provider_number_id.empty()) {
    return absl::InternalError("twilio: number purchase answer has no sid");
  }
  if (ordered.e164.empty()) ordered.e164 = std::string(e164);
  return ordered;
}

absl::Status TwilioProvider::UpdateNumberWebhooks(absl::string_view provider_number_id,
                                                  const NumberWebhooks& webhooks) {
  RETURN_IF_ERROR(ValidateProviderId("provider_number_id", provider_number_id));
  RETURN_IF_ERROR(ValidateWebhooks(webhooks));
  Fields form;
  AddWebhookFields(webhooks, form);
  if (form.empty()) return absl::InvalidArgumentError("webhooks: no URL to update");
  return Call("POST", AccountUrl(absl::StrCat("/IncomingPhoneNumbers/", provider_number_id,
                                              ".json")),
              Body::kForm, internal::FormEncode(form), true)
      .status();
}

absl::Status TwilioProvider::ReleaseNumber(absl::string_view provider_number_id) {
  std::string sid(provider_number_id);
  if (absl::StartsWith(provider_number_id, "+")) {
    // An E.164 number (a purchase whose answer was lost): look its PN sid up first.
    RETURN_IF_ERROR(ValidateE164("provider_number_id", provider_number_id));
    ASSIGN_OR_RETURN(http::HttpResponse response,
                     Call("GET",
                          AccountUrl(absl::StrCat("/IncomingPhoneNumbers.json?",
                                                  internal::FormEncode(
                                                      {{"PhoneNumber",
                                                        std::string(provider_number_id)}}))),
                          Body::kNone, "", true));
    ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
    auto list = body.find("incoming_phone_numbers");
    if (list == body.end() || !list->is_array() || list->empty()) {
      return absl::NotFoundError(
          absl::StrCat("twilio: number ", provider_number_id, " is not on this account"));
    }
    sid = Str((*list)[0], "sid");
  }
  RETURN_IF_ERROR(ValidateProviderId("provider_number_id", sid));
  return Call("DELETE", AccountUrl(absl::StrCat("/IncomingPhoneNumbers/", sid, ".json")),
              Body::kNone, "", true)
      .status();
}

namespace {

absl::StatusOr<PortOrder> PortOrderFromJson(const json& body) {
  PortOrder order{.id = Str(body, "port_in_request_sid"),
                  .provider_status = Str(body, "port_in_request_status")};
  if (order.id.empty()) return absl::InternalError("twilio: port-in answer has no sid");
  order.status = PortStatus(order.provider_status);
  if (auto list = body.find("phone_numbers"); list != body.end() && list->is_array()) {
    for (const json& n : *list) {
      std::string number = n.is_string() ? n.get<std::string>() : Str(n, "phone_number");
      if (!number.empty()) order.numbers.push_back(std::move(number));
    }
  }
  return order;
}

}  // namespace

absl::StatusOr<PortOrder> TwilioProvider::CreatePortOrder(const PortOrderRequest& request) {
  RETURN_IF_ERROR(ValidatePortOrder(request));
  const ServiceAddress& a = request.service_address;
  json numbers = json::array();
  for (const std::string& n : request.numbers) {
    json entry{{"phone_number", n}};
    if (!request.pin.empty()) entry["pin"] = request.pin;
    numbers.push_back(std::move(entry));
  }
  json body{
      {"account_sid", credentials_.subaccount_sid.empty() ? credentials_.account_sid
                                                          : credentials_.subaccount_sid},
      {"losing_carrier_information",
       {{"customer_type", "Business"},
        {"customer_name", request.authorized_name},
        {"account_number", request.account_number},
        {"account_telephone_number", request.numbers.front()},
        {"authorized_representative", request.authorized_name},
        {"address",
         {{"street", a.street},
          {"street_2", a.extended},
          {"city", a.locality},
          {"state", a.region},
          {"zip", a.postal_code},
          {"country", a.country}}}}},
      {"phone_numbers", std::move(numbers)}};
  if (!request.desired_foc_date.empty()) body["target_port_in_date"] = request.desired_foc_date;
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", options_.numbers_base_url + "/v1/Porting/PortIn", Body::kJson,
                        body.dump(), false));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  return PortOrderFromJson(answer);
}

absl::StatusOr<PortOrder> TwilioProvider::GetPortOrder(absl::string_view port_order_id) {
  RETURN_IF_ERROR(ValidateProviderId("port_order_id", port_order_id));
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("GET",
                        absl::StrCat(options_.numbers_base_url, "/v1/Porting/PortIn/",
                                     port_order_id),
                        Body::kNone, "", true));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  return PortOrderFromJson(answer);
}

absl::StatusOr<PlacedCall> TwilioProvider::PlaceCall(const PlaceCallRequest& request) {
  RETURN_IF_ERROR(ValidatePlaceCall(request));
  // The client state rides on our own URLs (Twilio has no such field); it is URL-safe.
  auto tagged = [&request](const std::string& url) {
    if (request.client_state.empty()) return url;
    return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?", "cs=",
                        request.client_state);
  };
  Fields form{{"To", request.to},
              {"From", request.from},
              {"Url", tagged(request.instructions_url)},
              {"Method", "POST"}};
  if (!request.status_callback_url.empty()) {
    form.emplace_back("StatusCallback", tagged(request.status_callback_url));
    form.emplace_back("StatusCallbackMethod", "POST");
    for (const char* event : {"initiated", "ringing", "answered", "completed"}) {
      form.emplace_back("StatusCallbackEvent", event);
    }
  }
  if (request.timeout_s > 0) form.emplace_back("Timeout", std::to_string(request.timeout_s));
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", AccountUrl("/Calls.json"), Body::kForm,
                        internal::FormEncode(form), false));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  PlacedCall call{.call_id = Str(body, "sid"), .provider = kName};
  if (call.call_id.empty()) return absl::InternalError("twilio: call answer has no sid");
  return call;
}

absl::Status TwilioProvider::ModifyCall(absl::string_view call_id,
                                        const CallModification& modification) {
  RETURN_IF_ERROR(ValidateProviderId("call_id", call_id));
  RETURN_IF_ERROR(ValidateModification(modification));
  Fields form;
  if (modification.action == CallModification::Action::kHangup) {
    form.emplace_back("Status", "completed");
  } else if (modification.action == CallModification::Action::kInstruct) {
    form.emplace_back("Twiml", modification.twiml);
  } else {
    form.emplace_back("Url", modification.redirect_url);
    form.emplace_back("Method", "POST");
  }
  return Call("POST", AccountUrl(absl::StrCat("/Calls/", call_id, ".json")), Body::kForm,
              internal::FormEncode(form), false)
      .status();
}

absl::StatusOr<ConferenceResult> TwilioProvider::ConferenceControl(
    const ConferenceRequest& request) {
  using A = ConferenceRequest::Action;
  RETURN_IF_ERROR(ValidateConferenceRequest(request));
  if (request.action == A::kMoveBridge) {
    RETURN_IF_ERROR(ValidateProviderId("bridged_leg", request.bridged_leg));
    if (request.twiml.empty()) return absl::InvalidArgumentError("twiml: required");
    RETURN_IF_ERROR(Call("POST",
                         AccountUrl(absl::StrCat("/Calls/", request.bridged_leg, ".json")),
                         Body::kForm, internal::FormEncode({{"Twiml", request.twiml}}), false)
                        .status());
    return ConferenceResult{.leg = request.bridged_leg};
  }
  // Twilio puts legs into a conference asynchronously: right after MOVE_BRIDGE the conference
  // (created when B joins) or the caller's participant (A joins once its Dial action answered)
  // may not exist yet. Operations that need them retry for a bounded time (kJoinWait).
  const absl::Time deadline = absl::Now() + kJoinWait;
  auto joining = [&](const absl::Status& s) {
    return absl::IsNotFound(s) && absl::Now() + kJoinRetry < deadline;
  };
  // The conference in progress with that name (names are per call: "sb-<call id>").
  std::string conference_sid;
  while (true) {
    ASSIGN_OR_RETURN(
        http::HttpResponse listed,
        Call("GET",
             AccountUrl(absl::StrCat("/Conferences.json?",
                                     internal::FormEncode({{"FriendlyName", request.conference},
                                                           {"Status", "in-progress"}}))),
             Body::kNone, "", true));
    ASSIGN_OR_RETURN(json list, internal::ParseJson(kName, listed));
    if (auto it = list.find("conferences"); it != list.end() && it->is_array() && !it->empty()) {
      conference_sid = Str(it->front(), "sid");
    }
    if (!conference_sid.empty() || request.action == A::kRemove ||
        !joining(absl::NotFoundError(""))) {
      break;
    }
    absl::SleepFor(kJoinRetry);
  }
  if (conference_sid.empty()) {
    // REMOVE: the conference has ended, so has the leg's part in it.
    if (request.action == A::kRemove) return ConferenceResult{.leg = request.leg};
    return absl::FailedPreconditionError(
        absl::StrCat("conference: no conference '", request.conference, "' in progress"));
  }
  RETURN_IF_ERROR(ValidateProviderId("conference sid", conference_sid));
  const std::string participants =
      absl::StrCat("/Conferences/", conference_sid, "/Participants");
  switch (request.action) {
    case A::kHold:
    case A::kUnhold: {
      Fields form{{"Hold", request.action == A::kHold ? "true" : "false"}};
      if (request.action == A::kHold && !request.hold_audio_url.empty()) {
        form.emplace_back("HoldUrl", request.hold_audio_url);  // fetched with GET (default)
      }
      while (true) {
        absl::Status updated =
            Call("POST", AccountUrl(absl::StrCat(participants, "/", request.leg, ".json")),
                 Body::kForm, internal::FormEncode(form), false)
                .status();
        if (!joining(updated)) {
          RETURN_IF_ERROR(updated);
          break;
        }
        absl::SleepFor(kJoinRetry);  // the participant is still joining
      }
      return ConferenceResult{.leg = request.leg};
    }
    case A::kAdd: {
      Fields form{{"From", request.from},
                  {"To", request.to},
                  {"Timeout", std::to_string(request.timeout_s > 0 ? request.timeout_s : 30)},
                  {"EndConferenceOnExit", "false"}};
      if (!request.status_callback_url.empty()) {
        RETURN_IF_ERROR(ValidateUrl("status_callback_url", request.status_callback_url, false));
        form.emplace_back("StatusCallback", request.status_callback_url);
        form.emplace_back("StatusCallbackMethod", "POST");
        form.emplace_back("StatusCallbackEvent", "completed");
      }
      ASSIGN_OR_RETURN(http::HttpResponse response,
                       Call("POST", AccountUrl(absl::StrCat(participants, ".json")), Body::kForm,
                            internal::FormEncode(form), false));
      ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
      ConferenceResult out{.leg = Str(body, "call_sid")};
      if (out.leg.empty()) return absl::InternalError("twilio: participant answer has no call_sid");
      return out;
    }
    case A::kRemove: {
      absl::Status removed =
          Call("DELETE", AccountUrl(absl::StrCat(participants, "/", request.leg, ".json")),
               Body::kNone, "", true)
              .status();
      // 404: not (or no longer) a participant; 21220: the call has ended. Gone either way.
      if (!removed.ok() && !absl::IsNotFound(removed) && !absl::IsFailedPrecondition(removed)) {
        return removed;
      }
      return ConferenceResult{.leg = request.leg};
    }
    case A::kMoveBridge: break;
  }
  return absl::InvalidArgumentError("action: unknown");
}

absl::StatusOr<std::string> TwilioProvider::StartRecording(
    absl::string_view call_id, absl::string_view status_callback_url) {
  RETURN_IF_ERROR(ValidateProviderId("call_id", call_id));
  Fields form;
  if (!status_callback_url.empty()) {
    RETURN_IF_ERROR(ValidateUrl("status_callback_url", status_callback_url, false));
    form.emplace_back("RecordingStatusCallback", std::string(status_callback_url));
    form.emplace_back("RecordingStatusCallbackMethod", "POST");
    form.emplace_back("RecordingStatusCallbackEvent", "completed");
  }
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", AccountUrl(absl::StrCat("/Calls/", call_id, "/Recordings.json")),
                        Body::kForm, internal::FormEncode(form), false));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  std::string sid = Str(body, "sid");
  if (sid.empty()) return absl::InternalError("twilio: recording answer has no sid");
  return sid;
}

absl::Status TwilioProvider::StopRecording(absl::string_view call_id,
                                           absl::string_view recording_id) {
  RETURN_IF_ERROR(ValidateProviderId("call_id", call_id));
  if (!recording_id.empty()) RETURN_IF_ERROR(ValidateProviderId("recording_id", recording_id));
  absl::string_view which = recording_id.empty() ? "Twilio.CURRENT" : recording_id;
  return Call("POST",
              AccountUrl(absl::StrCat("/Calls/", call_id, "/Recordings/", which, ".json")),
              Body::kForm, internal::FormEncode({{"Status", "stopped"}}), false)
      .status();
}

absl::StatusOr<SentMessage> TwilioProvider::SendMessage(const SendMessageRequest& request) {
  RETURN_IF_ERROR(ValidateSendMessage(request));
  Fields form{{"To", request.to}, {"From", request.from}};
  if (!request.body.empty()) form.emplace_back("Body", request.body);
  for (const std::string& url : request.media_urls) form.emplace_back("MediaUrl", url);
  if (!request.status_callback_url.empty()) {
    form.emplace_back("StatusCallback", request.status_callback_url);
  }
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", AccountUrl("/Messages.json"), Body::kForm,
                        internal::FormEncode(form), false));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  SentMessage sent{.message_id = Str(body, "sid"),
                   .provider_status = Str(body, "status"),
                   .provider = kName};
  if (sent.message_id.empty()) return absl::InternalError("twilio: message answer has no sid");
  sent.status = MessageStatus(sent.provider_status);
  return sent;
}

absl::StatusOr<RecordingMedia> TwilioProvider::FetchRecording(absl::string_view recording) {
  std::string url;
  if (IsHttpUrl(recording)) {
    url = std::string(recording);
  } else {
    RETURN_IF_ERROR(ValidateProviderId("recording", recording));
    url = AccountUrl(absl::StrCat("/Recordings/", recording, ".wav"));
  }
  // Credentials go only to Twilio's API host, never to a URL from elsewhere.
  bool auth = absl::StartsWith(url, options_.api_base_url + "/");
  http::HttpRequest request{.method = "GET", .url = url, .timeout = options_.timeout};
  if (auth) {
    request.headers.push_back(
        http::BasicAuthHeader(credentials_.account_sid, credentials_.auth_token));
  }
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   internal::Send(kName, client_, request, true, options_.retry, options_.sleep));
  if (response.status == 301 || response.status == 302 || response.status == 303 ||
      response.status == 307 || response.status == 308) {
    std::optional<std::string> location = response.Header("Location");
    if (!location || !IsHttpUrl(*location)) {
      return absl::InternalError("twilio: recording redirect without an absolute Location");
    }
    http::HttpRequest hop{.method = "GET", .url = *location, .timeout = options_.timeout};
    ASSIGN_OR_RETURN(response,
                     internal::Send(kName, client_, hop, true, options_.retry, options_.sleep));
  }
  if (response.status < 200 || response.status > 299) return ErrorFromResponse(response);
  return RecordingMedia{.bytes = std::move(response.body),
                        .content_type = response.Header("Content-Type").value_or("audio/x-wav")};
}

}  // namespace switchboard::carrier
