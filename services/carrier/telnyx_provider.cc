#include "services/carrier/telnyx_provider.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/http/url.h"
#include "services/carrier/provider_http.h"

namespace switchboard::carrier {
namespace {

using internal::Fields;
using internal::Str;
using nlohmann::json;

constexpr char kName[] = "telnyx";

bool IsHttpUrl(absl::string_view url) {
  return absl::StartsWith(url, "http://") || absl::StartsWith(url, "https://");
}

// Telnyx key format: ^[A-Za-z0-9_:-]{1,255}$.
absl::Status ValidateIdempotencyKey(absl::string_view key) {
  if (key.size() > 255) {
    return absl::InvalidArgumentError("idempotency_key must be at most 255 characters");
  }
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':' && c != '-') {
      return absl::InvalidArgumentError(
          "idempotency_key may hold only letters, digits, '_', ':' and '-'");
    }
  }
  return absl::OkStatus();
}

SmsDeliveryStatus MessageStatus(absl::string_view status) {
  if (status == "sent") return SmsDeliveryStatus::kSent;
  if (status == "delivered") return SmsDeliveryStatus::kDelivered;
  if (status == "sending_failed" || status == "delivery_failed") return SmsDeliveryStatus::kFailed;
  if (status == "delivery_unconfirmed" || status == "expired") {
    return SmsDeliveryStatus::kUndelivered;
  }
  return SmsDeliveryStatus::kQueued;  // queued, sending
}

PortState PortStatus(absl::string_view status) {
  if (status == "in-process") return PortState::kInProcess;
  if (status == "submitted") return PortState::kSubmitted;
  if (status == "exception") return PortState::kException;
  if (status == "foc-date-confirmed") return PortState::kFocDateConfirmed;
  if (status == "ported") return PortState::kPorted;
  if (status == "cancelled") return PortState::kCancelled;
  if (status == "cancel-pending") return PortState::kCancelPending;
  return PortState::kDraft;
}

const json& DataOf(const json& body) {
  static const json kEmpty = json::object();
  auto it = body.find("data");
  return it == body.end() ? kEmpty : *it;
}

absl::StatusOr<PortOrder> PortOrderFromData(const json& data_in) {
  // Creation answers with an array (Telnyx may split an order); reads with an object.
  const json& data = data_in.is_array() && !data_in.empty() ? data_in[0] : data_in;
  PortOrder order{.id = Str(data, "id")};
  if (order.id.empty()) return absl::InternalError("telnyx: porting order answer has no id");
  if (auto status = data.find("status"); status != data.end()) {
    order.provider_status = status->is_object() ? Str(*status, "value")
                            : status->is_string() ? status->get<std::string>()
                                                  : "";
  }
  order.status = PortStatus(order.provider_status);
  if (auto list = data.find("phone_numbers"); list != data.end() && list->is_array()) {
    for (const json& n : *list) {
      std::string number = n.is_string() ? n.get<std::string>() : Str(n, "phone_number");
      if (!number.empty()) order.numbers.push_back(std::move(number));
    }
  }
  return order;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TelnyxProvider>> TelnyxProvider::Create(
    TelnyxCredentials credentials, TelnyxOptions options, http::HttpClient& client) {
  if (credentials.api_key.empty()) {
    return absl::InvalidArgumentError("telnyx.api_key is required");
  }
  for (char c : credentials.api_key) {
    if (static_cast<unsigned char>(c) <= ' ') {
      return absl::InvalidArgumentError("telnyx.api_key contains whitespace or controls");
    }
  }
  if (credentials.connection_id.empty()) {
    return absl::InvalidArgumentError("telnyx.connection_id is required");
  }
  if (!IsHttpUrl(options.base_url)) {
    return absl::InvalidArgumentError("telnyx.base_url must be an http(s) URL");
  }
  if (options.softphone_sip_domain.empty()) {
    return absl::InvalidArgumentError("telnyx.softphone_sip_domain is required");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("telnyx.timeout must be positive");
  }
  while (absl::EndsWith(options.base_url, "/")) options.base_url.pop_back();
  return std::unique_ptr<TelnyxProvider>(
      new TelnyxProvider(std::move(credentials), std::move(options), client));
}

TelnyxProvider::TelnyxProvider(TelnyxCredentials credentials, TelnyxOptions options,
                               http::HttpClient& client)
    : credentials_(std::move(credentials)), options_(std::move(options)), client_(client) {}

absl::Status TelnyxProvider::ErrorFromResponse(const http::HttpResponse& response) {
  absl::StatusCode code = internal::CodeForHttpStatus(response.status);
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const json* first = nullptr;
  if (!body.is_discarded() && body.is_object()) {
    auto errors = body.find("errors");
    if (errors != body.end() && errors->is_array() && !errors->empty() &&
        (*errors)[0].is_object()) {
      first = &(*errors)[0];
    }
  }
  if (first == nullptr) {
    return absl::Status(code, absl::StrCat("telnyx HTTP ", response.status, ": ",
                                           internal::Excerpt(response.body)));
  }
  std::string telnyx_code = Str(*first, "code");
  std::string title = Str(*first, "title");
  std::string detail = Str(*first, "detail");
  if (telnyx_code == "40300" || telnyx_code == "90018" || telnyx_code == "85001" ||
      telnyx_code == "10015") {
    code = absl::StatusCode::kFailedPrecondition;
  }
  std::string text = title;
  if (!detail.empty() && detail != title) text = title.empty() ? detail : title + ": " + detail;
  return absl::Status(code, absl::StrCat("telnyx error ", telnyx_code, ": ", text, " (HTTP ",
                                         response.status, ")"));
}

absl::StatusOr<http::HttpResponse> TelnyxProvider::Call(const std::string& method,
                                                        const std::string& path,
                                                        const std::string* json_body,
                                                        bool idempotent,
                                                        absl::string_view idempotency_key) {
  http::HttpRequest request{.method = method,
                            .url = absl::StrCat(options_.base_url, "/v2", path),
                            .timeout = options_.timeout};
  request.headers.push_back(http::BearerAuthHeader(credentials_.api_key));
  request.headers.emplace_back("Accept", "application/json");
  if (json_body != nullptr) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = *json_body;
  }
  if (!idempotency_key.empty()) {
    request.headers.emplace_back("Idempotency-Key", std::string(idempotency_key));
  }
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   internal::Send(kName, client_, request, idempotent, options_.retry,
                                  options_.sleep));
  if (response.status < 200 || response.status > 299) return ErrorFromResponse(response);
  return response;
}

absl::StatusOr<std::vector<AvailableNumber>> TelnyxProvider::SearchNumbers(
    const NumberSearch& search) {
  RETURN_IF_ERROR(ValidateSearch(search));
  if (search.contains.find('*') != std::string::npos) {
    return absl::InvalidArgumentError("search.contains: telnyx does not take '*' wildcards");
  }
  Fields query{{"filter[country_code]", search.country},
               {"filter[phone_number_type]",
                search.type == NumberType::kTollFree ? "toll_free" : "local"}};
  if (!search.area_code.empty()) {
    query.emplace_back("filter[national_destination_code]", search.area_code);
  }
  if (!search.contains.empty()) {
    query.emplace_back("filter[phone_number][contains]", search.contains);
  }
  if (!search.starts_with.empty()) {
    query.emplace_back("filter[phone_number][starts_with]", search.starts_with);
  }
  query.emplace_back("filter[limit]", std::to_string(search.limit));
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("GET", "/available_phone_numbers?" + internal::FormEncode(query), nullptr,
                        true));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  auto data = body.find("data");
  if (data == body.end() || !data->is_array()) {
    return absl::InternalError("telnyx: search answer has no data array");
  }
  std::vector<AvailableNumber> numbers;
  for (const json& item : *data) {
    AvailableNumber n{.e164 = Str(item, "phone_number")};
    if (n.e164.empty()) continue;
    if (auto cost = item.find("cost_information"); cost != item.end()) {
      n.monthly_cost = Str(*cost, "monthly_cost");
      n.currency = Str(*cost, "currency");
    }
    if (auto regions = item.find("region_information");
        regions != item.end() && regions->is_array()) {
      for (const json& r : *regions) {
        std::string type = Str(r, "region_type");
        if (type == "rate_center" || (type == "location" && n.locality.empty())) {
          n.locality = Str(r, "region_name");
        } else if (type == "state") {
          n.region = Str(r, "region_name");
        }
      }
    }
    if (auto features = item.find("features"); features != item.end() && features->is_array()) {
      for (const json& f : *features) {
        std::string feature = f.is_string() ? f.get<std::string>() : Str(f, "name");
        if (feature == "voice") n.capabilities.voice = true;
        if (feature == "sms") n.capabilities.sms = true;
        if (feature == "mms") n.capabilities.mms = true;
        if (feature == "fax") n.capabilities.fax = true;
      }
    }
    numbers.push_back(std::move(n));
  }
  return numbers;
}

absl::StatusOr<OrderedNumber> TelnyxProvider::OrderNumber(absl::string_view e164,
                                                          const NumberWebhooks& webhooks) {
  RETURN_IF_ERROR(ValidateE164("number", e164));
  for (const std::string* url :
       {&webhooks.voice_url, &webhooks.messaging_url, &webhooks.status_callback_url}) {
    if (!url->empty() && !IsHttpUrl(*url)) {
      return absl::InvalidArgumentError("webhooks URLs must be http(s) URLs");
    }
  }
  json body{{"phone_numbers", json::array({json{{"phone_number", std::string(e164)}}})},
            {"connection_id", credentials_.connection_id}};
  if (!credentials_.messaging_profile_id.empty()) {
    body["messaging_profile_id"] = credentials_.messaging_profile_id;
  }
  std::string text = body.dump();
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", "/number_orders", &text, false));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  const json& data = DataOf(answer);
  OrderedNumber ordered{.provider_number_id = std::string(e164),
                        .e164 = std::string(e164),
                        .order_id = Str(data, "id")};
  if (ordered.order_id.empty()) return absl::InternalError("telnyx: number order has no id");
  ordered.status = Str(data, "status") == "success" ? NumberState::kActive : NumberState::kPending;
  return ordered;
}

absl::StatusOr<std::string> TelnyxProvider::ResolveNumberId(absl::string_view provider_number_id) {
  if (!absl::StartsWith(provider_number_id, "+")) {
    RETURN_IF_ERROR(ValidateProviderId("provider_number_id", provider_number_id));
    return std::string(provider_number_id);
  }
  RETURN_IF_ERROR(ValidateE164("provider_number_id", provider_number_id));
  ASSIGN_OR_RETURN(
      http::HttpResponse response,
      Call("GET",
           "/phone_numbers?" +
               internal::FormEncode({{"filter[phone_number]", std::string(provider_number_id)}}),
           nullptr, true));
  ASSIGN_OR_RETURN(json body, internal::ParseJson(kName, response));
  auto data = body.find("data");
  if (data == body.end() || !data->is_array() || data->empty()) {
    return absl::NotFoundError(
        absl::StrCat("telnyx: number ", provider_number_id, " is not on this account"));
  }
  std::string id = Str((*data)[0], "id");
  if (id.empty()) return absl::InternalError("telnyx: phone number answer has no id");
  RETURN_IF_ERROR(ValidateProviderId("telnyx phone number id", id));
  return id;
}

absl::Status TelnyxProvider::UpdateNumberWebhooks(absl::string_view provider_number_id,
                                                  const NumberWebhooks& webhooks) {
  for (const std::string* url :
       {&webhooks.voice_url, &webhooks.messaging_url, &webhooks.status_callback_url}) {
    if (!url->empty() && !IsHttpUrl(*url)) {
      return absl::InvalidArgumentError("webhooks URLs must be http(s) URLs");
    }
  }
  ASSIGN_OR_RETURN(std::string id, ResolveNumberId(provider_number_id));
  std::string voice = json{{"connection_id", credentials_.connection_id}}.dump();
  RETURN_IF_ERROR(Call("PATCH", "/phone_numbers/" + id, &voice, true).status());
  if (!credentials_.messaging_profile_id.empty()) {
    std::string messaging =
        json{{"messaging_profile_id", credentials_.messaging_profile_id}}.dump();
    RETURN_IF_ERROR(
        Call("PATCH", "/phone_numbers/" + id + "/messaging", &messaging, true).status());
  }
  return absl::OkStatus();
}

absl::Status TelnyxProvider::ReleaseNumber(absl::string_view provider_number_id) {
  ASSIGN_OR_RETURN(std::string id, ResolveNumberId(provider_number_id));
  return Call("DELETE", "/phone_numbers/" + id, nullptr, true).status();
}

absl::StatusOr<PortOrder> TelnyxProvider::CreatePortOrder(const PortOrderRequest& request) {
  RETURN_IF_ERROR(ValidatePortOrder(request));
  std::string create = json{{"phone_numbers", request.numbers}}.dump();
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", "/porting_orders", &create, false));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  ASSIGN_OR_RETURN(PortOrder order, PortOrderFromData(DataOf(answer)));
  RETURN_IF_ERROR(ValidateProviderId("telnyx porting order id", order.id));

  const ServiceAddress& a = request.service_address;
  json admin{{"entity_name", request.authorized_name},
             {"auth_person_name", request.authorized_name},
             {"account_number", request.account_number}};
  if (!request.pin.empty()) admin["pin_passcode"] = request.pin;
  json update{{"end_user",
               {{"admin", std::move(admin)},
                {"location",
                 {{"street_address", a.street},
                  {"extended_address", a.extended},
                  {"locality", a.locality},
                  {"administrative_area", a.region},
                  {"postal_code", a.postal_code},
                  {"country_code", a.country}}}}}};
  if (!request.desired_foc_date.empty()) {
    update["activation_settings"] = {
        {"foc_datetime_requested", request.desired_foc_date + "T00:00:00Z"}};
  }
  std::string text = update.dump();
  ASSIGN_OR_RETURN(http::HttpResponse patched,
                   Call("PATCH", "/porting_orders/" + order.id, &text, true));
  ASSIGN_OR_RETURN(json patched_body, internal::ParseJson(kName, patched));
  ASSIGN_OR_RETURN(PortOrder updated, PortOrderFromData(DataOf(patched_body)));
  if (updated.numbers.empty()) updated.numbers = order.numbers.empty() ? request.numbers
                                                                       : order.numbers;
  return updated;
}

absl::StatusOr<PortOrder> TelnyxProvider::GetPortOrder(absl::string_view port_order_id) {
  RETURN_IF_ERROR(ValidateProviderId("port_order_id", port_order_id));
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("GET", absl::StrCat("/porting_orders/", port_order_id), nullptr, true));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  return PortOrderFromData(DataOf(answer));
}

absl::StatusOr<PlacedCall> TelnyxProvider::PlaceCall(const PlaceCallRequest& request) {
  RETURN_IF_ERROR(ValidatePlaceCall(request));
  RETURN_IF_ERROR(ValidateIdempotencyKey(request.idempotency_key));
  std::string to = request.to;
  if (absl::StartsWith(to, "client:")) {
    to = absl::StrCat("sip:", to.substr(7), "@", options_.softphone_sip_domain);
  }
  json body{{"connection_id", credentials_.connection_id},
            {"from", request.from},
            {"to", to},
            {"webhook_url", request.instructions_url},
            {"webhook_url_method", "POST"}};
  if (request.timeout_s > 0) body["timeout_secs"] = request.timeout_s;
  if (!request.client_state.empty()) {
    body["client_state"] = crypto::Base64Encode(request.client_state);
  }
  std::string text = body.dump();
  bool retry = options_.retry_keyed_posts && !request.idempotency_key.empty();
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", "/calls", &text, retry, request.idempotency_key));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  const json& data = DataOf(answer);
  PlacedCall call{.call_id = Str(data, "call_control_id"),
                  .session_id = Str(data, "call_session_id"),
                  .provider = kName};
  if (call.call_id.empty()) return absl::InternalError("telnyx: dial answer has no call_control_id");
  return call;
}

absl::Status TelnyxProvider::Action(absl::string_view call_id, absl::string_view action,
                                    json body, json* data_out) {
  RETURN_IF_ERROR(ValidateProviderId("call_id", call_id));
  if (!body.contains("command_id")) body["command_id"] = NewUuidV7();
  std::string text = body.dump();
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", absl::StrCat("/calls/", call_id, "/actions/", action), &text,
                        true));
  if (data_out != nullptr) {
    ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
    *data_out = DataOf(answer);
  }
  return absl::OkStatus();
}

absl::Status TelnyxProvider::ExecuteCallCommand(absl::string_view call_control_id,
                                                absl::string_view action, json body) {
  if (action.empty() || action.size() > 64 ||
      action.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != absl::string_view::npos) {
    return absl::InvalidArgumentError("action: must be 1-64 of [a-z_]");
  }
  if (!body.is_object()) return absl::InvalidArgumentError("body: must be a JSON object");
  return Action(call_control_id, action, std::move(body), nullptr);
}

absl::Status TelnyxProvider::ExecuteConferenceCommand(absl::string_view conference_id,
                                                      absl::string_view action, json body) {
  RETURN_IF_ERROR(ValidateProviderId("conference_id", conference_id));
  if (action.empty() || action.size() > 64 ||
      action.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != absl::string_view::npos) {
    return absl::InvalidArgumentError("action: must be 1-64 of [a-z_]");
  }
  if (!body.is_object()) return absl::InvalidArgumentError("body: must be a JSON object");
  std::string text = body.dump();
  return Call("POST", absl::StrCat("/conferences/", conference_id, "/actions/", action), &text,
              true)
      .status();
}

absl::StatusOr<ConferenceResult> TelnyxProvider::ConferenceControl(
    const ConferenceRequest& request) {
  using A = ConferenceRequest::Action;
  RETURN_IF_ERROR(ValidateConferenceRequest(request));
  switch (request.action) {
    case A::kMoveBridge: {
      RETURN_IF_ERROR(ValidateProviderId("bridged_leg", request.bridged_leg));
      const std::string text = json{{"call_control_id", request.call_id},
                                    {"name", request.conference},
                                    {"beep_enabled", "never"}}
                                   .dump();
      ASSIGN_OR_RETURN(http::HttpResponse response, Call("POST", "/conferences", &text, false));
      ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
      ConferenceResult out{.leg = request.bridged_leg,
                           .conference_id = Str(DataOf(answer), "id")};
      if (out.conference_id.empty()) {
        return absl::InternalError("telnyx: conference answer has no id");
      }
      if (request.on_created) RETURN_IF_ERROR(request.on_created(out.conference_id));
      RETURN_IF_ERROR(ExecuteConferenceCommand(out.conference_id, "join",
                                               json{{"call_control_id", request.bridged_leg}}));
      return out;
    }
    case A::kHold:
    case A::kUnhold: {
      json body{{"call_control_ids", json::array({request.leg})}};
      if (request.action == A::kHold && !request.hold_audio_url.empty()) {
        body["audio_url"] = request.hold_audio_url;
      }
      RETURN_IF_ERROR(ExecuteConferenceCommand(request.conference_id,
                                               request.action == A::kHold ? "hold" : "unhold",
                                               std::move(body)));
      return ConferenceResult{.leg = request.leg};
    }
    case A::kAdd: {
      RETURN_IF_ERROR(ValidateProviderId("conference_id", request.conference_id));
      RETURN_IF_ERROR(ValidateUrl("status_callback_url", request.status_callback_url, true));
      RETURN_IF_ERROR(ValidateIdempotencyKey(request.idempotency_key));
      std::string to = request.to;
      if (absl::StartsWith(to, "client:")) {
        to = absl::StrCat("sip:", to.substr(7), "@", options_.softphone_sip_domain);
      }
      json body{{"connection_id", credentials_.connection_id},
                {"from", request.from},
                {"to", to},
                {"webhook_url", request.status_callback_url},
                {"webhook_url_method", "POST"},
                {"timeout_secs", request.timeout_s > 0 ? request.timeout_s : 30}};
      if (!request.client_state.empty()) {
        body["client_state"] = crypto::Base64Encode(request.client_state);
      }
      const std::string text = body.dump();
      const bool retry = options_.retry_keyed_posts && !request.idempotency_key.empty();
      ASSIGN_OR_RETURN(http::HttpResponse response,
                       Call("POST", "/calls", &text, retry, request.idempotency_key));
      ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
      ConferenceResult out{.leg = Str(DataOf(answer), "call_control_id")};
      if (out.leg.empty()) return absl::InternalError("telnyx: dial answer has no call_control_id");
      return out;
    }
    case A::kRemove: {
      RETURN_IF_ERROR(ValidateIdempotencyKey(request.idempotency_key));
      json body = json::object();
      if (!request.idempotency_key.empty()) body["command_id"] = request.idempotency_key;
      absl::Status hung_up = Action(request.leg, "hangup", std::move(body), nullptr);
      // 90018 (call ended) / 404: the leg is gone already, as wanted.
      if (!hung_up.ok() && !absl::IsFailedPrecondition(hung_up) && !absl::IsNotFound(hung_up)) {
        return hung_up;
      }
      return ConferenceResult{.leg = request.leg};
    }
  }
  return absl::InvalidArgumentError("action: unknown");
}

absl::Status TelnyxProvider::ModifyCall(absl::string_view call_id,
                                        const CallModification& modification) {
  RETURN_IF_ERROR(ValidateModification(modification));
  if (modification.action == CallModification::Action::kRedirect) {
    return absl::UnimplementedError(
        "telnyx: Call Control cannot redirect a call to new instructions; use ModifyCall "
        "INSTRUCT with the instructions");
  }
  if (modification.action == CallModification::Action::kInstruct) {
    return absl::UnimplementedError(
        "telnyx: TwiML does not apply; CarrierCore::InstructCall sends a Call Control plan");
  }
  RETURN_IF_ERROR(ValidateIdempotencyKey(modification.idempotency_key));
  json body = json::object();
  if (!modification.idempotency_key.empty()) body["command_id"] = modification.idempotency_key;
  return Action(call_id, "hangup", std::move(body), nullptr);
}

absl::StatusOr<std::string> TelnyxProvider::StartRecording(
    absl::string_view call_id, absl::string_view /*status_callback_url*/) {
  json data;
  RETURN_IF_ERROR(
      Action(call_id, "record_start", json{{"channels", "single"}, {"format", "wav"}}, &data));
  return Str(data, "recording_id");
}

absl::Status TelnyxProvider::StopRecording(absl::string_view call_id,
                                           absl::string_view recording_id) {
  json body = json::object();
  if (!recording_id.empty()) {
    RETURN_IF_ERROR(ValidateProviderId("recording_id", recording_id));
    body["recording_id"] = std::string(recording_id);
  }
  return Action(call_id, "record_stop", std::move(body), nullptr);
}

absl::StatusOr<SentMessage> TelnyxProvider::SendMessage(const SendMessageRequest& request) {
  RETURN_IF_ERROR(ValidateSendMessage(request));
  RETURN_IF_ERROR(ValidateIdempotencyKey(request.idempotency_key));
  json body{{"from", request.from}, {"to", request.to}};
  if (!request.body.empty()) body["text"] = request.body;
  if (!request.media_urls.empty()) body["media_urls"] = request.media_urls;
  if (!request.status_callback_url.empty()) body["webhook_url"] = request.status_callback_url;
  if (!credentials_.messaging_profile_id.empty()) {
    body["messaging_profile_id"] = credentials_.messaging_profile_id;
  }
  std::string text = body.dump();
  bool retry = options_.retry_keyed_posts && !request.idempotency_key.empty();
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   Call("POST", "/messages", &text, retry, request.idempotency_key));
  ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
  const json& data = DataOf(answer);
  SentMessage sent{.message_id = Str(data, "id"), .provider = kName};
  if (sent.message_id.empty()) return absl::InternalError("telnyx: message answer has no id");
  if (auto to = data.find("to"); to != data.end() && to->is_array() && !to->empty()) {
    sent.provider_status = Str((*to)[0], "status");
  }
  sent.status = MessageStatus(sent.provider_status);
  return sent;
}

absl::StatusOr<RecordingMedia> TelnyxProvider::FetchRecording(absl::string_view recording) {
  std::string url;
  if (IsHttpUrl(recording)) {
    url = std::string(recording);
  } else {
    RETURN_IF_ERROR(ValidateProviderId("recording", recording));
    ASSIGN_OR_RETURN(http::HttpResponse response,
                     Call("GET", absl::StrCat("/recordings/", recording), nullptr, true));
    ASSIGN_OR_RETURN(json answer, internal::ParseJson(kName, response));
    const json& data = DataOf(answer);
    auto urls = data.find("download_urls");
    if (urls != data.end()) {
      url = Str(*urls, "wav");
      if (url.empty()) url = Str(*urls, "mp3");
    }
    if (!IsHttpUrl(url)) {
      return absl::InternalError("telnyx: recording answer has no download URL");
    }
  }
  // Pre-signed storage URL: no Authorization header (the API key never leaves api.telnyx.com).
  http::HttpRequest request{.method = "GET", .url = url, .timeout = options_.timeout};
  if (absl::StartsWith(url, options_.base_url + "/")) {
    request.headers.push_back(http::BearerAuthHeader(credentials_.api_key));
  }
  ASSIGN_OR_RETURN(http::HttpResponse response,
                   internal::Send(kName, client_, request, true, options_.retry, options_.sleep));
  if (response.status < 200 || response.status > 299) return ErrorFromResponse(response);
  std::string type = response.Header("Content-Type")
                         .value_or(absl::EndsWith(url, ".mp3") ? "audio/mpeg" : "audio/x-wav");
  return RecordingMedia{.bytes = std::move(response.body), .content_type = std::move(type)};
}

}  // namespace switchboard::carrier
