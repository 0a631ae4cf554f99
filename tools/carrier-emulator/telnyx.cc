// Telnyx: API v2 subset (numbers, porting, messaging, recordings) and Call Control.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/common/log.h"
#include "libs/crypto/hash.h"
#include "libs/http/url.h"
#include "tools/carrier-emulator/emulator.h"
#include "tools/carrier-emulator/wire.h"
#include "tools/carrier-emulator/signing.h"

namespace switchboard::carrier_emulator {

using nlohmann::json;

using namespace wire;  // NOLINT: the shared wire helpers

namespace {

std::string Query(const http::Params& params, absl::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

double WordsSeconds(const std::string& text) {
  int words = 1;
  for (char c : text) words += c == ' ';
  return 0.4 * words;
}

}  // namespace

http::HttpRequest CarrierEmulator::SignedTelnyxRequest(const std::string& url,
                                                       std::string body) const {
  const std::string timestamp = absl::StrCat(absl::ToUnixSeconds(absl::Now()));
  http::HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = {{"Content-Type", "application/json"},
                     {"telnyx-signature-ed25519",
                      TelnyxWebhookSignature(options_.telnyx_secret_key, timestamp, body)},
                     {"telnyx-timestamp", timestamp}};
  request.body = std::move(body);
  return request;
}

void CarrierEmulator::QueueTelnyxEvent(const std::string& call_id, const std::string& event_type,
                                       json payload_extra, const std::string& client_state) {
  absl::MutexLock lock(&mu_);
  QueueTelnyxEventLocked(call_id, event_type, std::move(payload_extra), client_state);
}

void CarrierEmulator::QueueTelnyxEventLocked(const std::string& call_id,
                                             const std::string& event_type, json payload_extra,
                                             const std::string& client_state, bool call_fields) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  Call& c = it->second;
  const std::string url = c.webhook_url;
  json payload = json::object();
  if (call_fields) {
    payload = {{"call_control_id", c.id},
               {"call_leg_id", c.leg_id},
               {"call_session_id", c.session_id},
               {"connection_id", "1494404757140276705"},
               {"from", c.from},
               {"to", c.to},
               {"direction", c.direction}};
  }
  if (!client_state.empty()) payload["client_state"] = client_state;
  for (auto& [k, v] : payload_extra.items()) payload[k] = v;
  if (url.empty()) return;
  ++c.pending_events;
  json event = {{"data",
                 {{"record_type", "event"},
                  {"event_type", event_type},
                  {"id", absl::StrFormat("00000000-0000-4000-8000-%012x", next_id_++)},
                  {"occurred_at", Iso(absl::Now())},
                  {"payload", payload}}},
                {"meta", {{"attempt", 1}, {"delivered_to", url}}}};
  std::string body = event.dump();
  Enqueue([this, call_id, url, body = std::move(body), event_type] {
    const bool delivered =
        DeliverAsync(call_id, SignedTelnyxRequest(url, body), json{{"event_type", event_type}});
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    --c.pending_events;
    if (!delivered && event_type == "call.initiated" && c.direction == "incoming") {
      // Nobody takes the call: Telnyx hangs it up.
      c.status = "failed";
      c.ended = true;
      c.end_reason = "webhook failed";
      c.steps.push_back({{"verb", "Webhook"}, {"details", {{"url", url}}}, {"outcome", "failed"},
                         {"at_s", c.sim_time}});
    }
  });
}

// ------------------------------------------------------------------------------------------
// REST
// ------------------------------------------------------------------------------------------

http::Response CarrierEmulator::HandleTelnyx(const http::Request& request) {
  const std::optional<std::string> auth = request.Header("Authorization");
  if (!auth || !absl::StartsWith(*auth, "Bearer ") ||
      !crypto::ConstantTimeEquals(auth->substr(7), options_.telnyx_api_key)) {
    return TelnyxError(401, "10009", "Authentication failed",
                       "Could not understand the provided credentials.");
  }
  const std::vector<std::string> parts = absl::StrSplit(request.path.substr(4), '/');
  json body = json::object();
  if (request.method == "POST" || request.method == "PATCH") {
    if (!request.body.empty()) {
      body = json::parse(request.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return TelnyxError(400, "10015", "Bad Request", "The request body is not a JSON object.");
      }
    }
  }
  const std::string base = PublicUrl();

  auto number_json = [&](const Number& n) {
    return json{{"id", n.id},
                {"record_type", "phone_number"},
                {"phone_number", n.phone_number},
                {"status", "active"},
                {"connection_id", n.connection_id},
                {"messaging_profile_id", n.messaging_profile_id},
                {"tags", json::array()},
                {"created_at", n.date_created},
                {"updated_at", Iso(absl::Now())}};
  };

  // GET /v2/available_phone_numbers?filter[...]
  if (parts.size() == 1 && parts[0] == "available_phone_numbers" && request.method == "GET") {
    const http::Params q = http::ParseQuery(request.query);
    const std::string country = Query(q, "filter[country_code]").empty()
                                    ? "US"
                                    : Query(q, "filter[country_code]");
    const std::string type = Query(q, "filter[phone_number_type]");
    if (!type.empty() && type != "local" && type != "toll_free") {
      return TelnyxError(400, "10015", "Bad Request",
                         "filter[phone_number_type]: the emulator has local and toll_free",
                         "/filter/phone_number_type");
    }
    const std::string area = Query(q, "filter[national_destination_code]");
    if (!area.empty() && (area.size() != 3 || !std::all_of(area.begin(), area.end(), ::isdigit))) {
      return TelnyxError(400, "10015", "Bad Request",
                         "filter[national_destination_code]: must be 3 digits",
                         "/filter/national_destination_code");
    }
    std::string contains = Query(q, "filter[phone_number][contains]");
    if (contains.empty() && !Query(q, "filter[phone_number][starts_with]").empty()) {
      contains = "+" + Query(q, "filter[phone_number][starts_with]");
    }
    if (contains.empty() && !Query(q, "filter[phone_number][ends_with]").empty()) {
      contains = Query(q, "filter[phone_number][ends_with]") + "$";
    }
    int limit = 50;
    if (!Query(q, "filter[limit]").empty() &&
        (!absl::SimpleAtoi(Query(q, "filter[limit]"), &limit) || limit < 1 || limit > 1000)) {
      return TelnyxError(400, "10015", "Bad Request", "filter[limit]: must be 1..1000",
                         "/filter/limit");
    }
    const bool toll_free = type == "toll_free";
    json data = json::array();
    absl::MutexLock lock(&mu_);
    for (const Number* n :
         AvailableNumbers(country, toll_free, area, contains, static_cast<size_t>(limit))) {
      data.push_back(
          {{"record_type", "available_phone_number"},
           {"phone_number", n->phone_number},
           {"vanity_format", ""},
           {"best_effort", false},
           {"quickship", true},
           {"reservable", true},
           {"features", json::array({{{"name", "sms"}}, {{"name", "voice"}}})},
           {"cost_information",
            {{"currency", "USD"}, {"monthly_cost", toll_free ? "2.15" : "1.15"},
             {"upfront_cost", "1.00"}}},
           {"region_information",
            json::array({{{"region_type", "country_code"}, {"region_name", country}},
                         {{"region_type", "rate_center"}, {"region_name", "EMULATED"}}})}});
    }
    const size_t total = data.size();
    return http::Response::Json(
        200, json{{"data", data}, {"meta", {{"total_results", total},
                                            {"best_effort_results", 0}}}}.dump());
  }

  // POST /v2/number_orders
  if (parts.size() == 1 && parts[0] == "number_orders" && request.method == "POST") {
    if (!body.contains("phone_numbers") || !body["phone_numbers"].is_array() ||
        body["phone_numbers"].empty()) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "phone_numbers: at least one phone number is required",
                         "/phone_numbers");
    }
    std::vector<std::string> wanted;
    for (const json& item : body["phone_numbers"]) {
      if (!item.is_object() || !item.contains("phone_number") ||
          !item["phone_number"].is_string() || !IsE164(item["phone_number"].get<std::string>())) {
        return TelnyxError(422, "10015", "Invalid parameter",
                           "phone_numbers[].phone_number: must be an E.164 number",
                           "/phone_numbers");
      }
      wanted.push_back(item["phone_number"].get<std::string>());
    }
    absl::MutexLock lock(&mu_);
    for (const std::string& number : wanted) {
      const std::string national = number.substr(2);
      auto available = AvailableNumbers("US", absl::StartsWith(national, "8"),
                                        national.substr(0, 3), "", 1000);
      bool found = false;
      for (const Number* n : available) found = found || n->phone_number == number;
      if (!found) {
        return TelnyxError(422, "85001", "Number not available",
                           absl::StrCat(number, " is not available for purchase"),
                           "/phone_numbers");
      }
    }
    const std::string order_id = absl::StrFormat("00000000-0000-4000-9000-%012x", next_id_++);
    const bool pending = pending_number_orders_;
    const std::string order_status = pending ? "pending" : "success";
    json ordered = json::array();
    for (const std::string& number : wanted) {
      Number n;
      n.id = absl::StrCat(1293384261075731400ULL + next_id_++);
      n.carrier = "telnyx";
      n.phone_number = number;
      n.connection_id = body.value("connection_id", "");
      n.messaging_profile_id = body.value("messaging_profile_id", "");
      n.date_created = Iso(absl::Now());
      numbers_[n.id] = n;
      ordered.push_back({{"id", n.id},
                         {"record_type", "number_order_phone_number"},
                         {"phone_number", number},
                         {"status", order_status},
                         {"regulatory_requirements", json::array()},
                         {"requirements_met", true}});
    }
    json order = {{"id", order_id},
                  {"record_type", "number_order"},
                  {"phone_numbers", ordered},
                  {"phone_numbers_count", ordered.size()},
                  {"connection_id", body.value("connection_id", "")},
                  {"messaging_profile_id", body.value("messaging_profile_id", "")},
                  {"customer_reference", body.value("customer_reference", "")},
                  {"status", order_status},
                  {"requirements_met", true},
                  {"created_at", Iso(absl::Now())},
                  {"updated_at", Iso(absl::Now())}};
    number_orders_[order_id] = order.dump();
    if (pending) {
      Enqueue([this, order_id, wanted, outcome = number_order_outcome_,
               connection_id = body.value("connection_id", ""),
               delay = number_order_delay_]() mutable {
        SendTelnyxNumberOrderWebhook(order_id, std::move(wanted), std::move(outcome),
                                     std::move(connection_id), delay);
      });
    }
    return http::Response::Json(200, json{{"data", order}}.dump());
  }

  // GET /v2/phone_numbers?filter[phone_number]=... (the account's numbers)
  if (parts.size() == 1 && parts[0] == "phone_numbers" && request.method == "GET") {
    const std::string wanted = Query(http::ParseQuery(request.query), "filter[phone_number]");
    json data = json::array();
    absl::MutexLock lock(&mu_);
    for (const auto& [id, n] : numbers_) {
      if (n.carrier == "telnyx" && (wanted.empty() || n.phone_number == wanted)) {
        data.push_back(number_json(n));
      }
    }
    const size_t total = data.size();
    return http::Response::Json(
        200, json{{"data", data},
                  {"meta", {{"total_results", total}, {"page_number", 1}, {"total_pages", 1}}}}
                 .dump());
  }

  // PATCH /v2/phone_numbers/{id}/messaging {messaging_profile_id}
  if (parts.size() == 3 && parts[0] == "phone_numbers" && parts[2] == "messaging" &&
      request.method == "PATCH") {
    if (body.contains("messaging_profile_id") && !body["messaging_profile_id"].is_string()) {
      return TelnyxError(422, "10015", "Invalid parameter", "messaging_profile_id: string",
                         "/messaging_profile_id");
    }
    absl::MutexLock lock(&mu_);
    auto it = numbers_.find(parts[1]);
    if (it == numbers_.end() || it->second.carrier != "telnyx") {
      return TelnyxError(404, "10005", "Resource not found",
                         "The requested resource or URL could not be found.");
    }
    if (body.contains("messaging_profile_id")) {
      it->second.messaging_profile_id = body["messaging_profile_id"];
    }
    json data = {{"id", it->second.id},
                 {"record_type", "messaging_settings"},
                 {"phone_number", it->second.phone_number},
                 {"messaging_profile_id", it->second.messaging_profile_id}};
    return http::Response::Json(200, json{{"data", data}}.dump());
  }

  // PATCH|DELETE|GET /v2/phone_numbers/{id}
  if (parts.size() == 2 && parts[0] == "phone_numbers") {
    absl::MutexLock lock(&mu_);
    auto it = numbers_.find(parts[1]);
    if (it == numbers_.end() || it->second.carrier != "telnyx") {
      return TelnyxError(404, "10005", "Resource not found",
                         "The requested resource or URL could not be found.");
    }
    if (request.method == "DELETE") {
      json out = number_json(it->second);
      out["status"] = "deleted";
      numbers_.erase(it);
      return http::Response::Json(200, json{{"data", out}}.dump());
    }
    if (request.method == "PATCH") {
      for (const char* f : {"connection_id", "messaging_profile_id", "webhook_url",
                            "messaging_webhook_url"}) {
        if (body.contains(f) && !body[f].is_string()) {
          return TelnyxError(422, "10015", "Invalid parameter", absl::StrCat(f, ": string"),
                             absl::StrCat("/", f));
        }
      }
      if (body.contains("connection_id")) it->second.connection_id = body["connection_id"];
      if (body.contains("messaging_profile_id")) {
        it->second.messaging_profile_id = body["messaging_profile_id"];
      }
      // Emulator extension: per-number webhook URLs (on Telnyx they live on the connection and
      // the messaging profile).
      if (body.contains("webhook_url")) it->second.voice_url = body["webhook_url"];
      if (body.contains("messaging_webhook_url")) {
        it->second.sms_url = body["messaging_webhook_url"];
      }
      return http::Response::Json(200, json{{"data", number_json(it->second)}}.dump());
    }
    if (request.method == "GET") {
      return http::Response::Json(200, json{{"data", number_json(it->second)}}.dump());
    }
  }

  // POST /v2/porting_orders, GET /v2/porting_orders/{id}
  if (parts[0] == "porting_orders") {
    auto order_json = [&](const PortOrder& p) {
      json numbers = json::array();
      for (const auto& n : p.numbers) {
        numbers.push_back({{"phone_number", n}, {"record_type", "porting_phone_number"}});
      }
      return json{{"id", p.id},
                  {"record_type", "porting_order"},
                  {"status", {{"value", p.status}, {"details", json::array()}}},
                  {"phone_numbers", numbers},
                  {"customer_reference", p.customer_reference},
                  {"created_at", Iso(absl::Now())},
                  {"updated_at", Iso(absl::Now())}};
    };
    if (parts.size() == 1 && request.method == "POST") {
      if (!body.contains("phone_numbers") || !body["phone_numbers"].is_array() ||
          body["phone_numbers"].empty()) {
        return TelnyxError(422, "10005", "Missing required parameter",
                           "phone_numbers: at least one phone number is required",
                           "/phone_numbers");
      }
      PortOrder p;
      for (const json& n : body["phone_numbers"]) {
        if (!n.is_string() || !IsE164(n.get<std::string>())) {
          return TelnyxError(422, "10015", "Invalid parameter",
                             "phone_numbers[]: must be E.164 numbers", "/phone_numbers");
        }
        p.numbers.push_back(n.get<std::string>());
      }
      p.customer_reference = body.value("customer_reference", "");
      absl::MutexLock lock(&mu_);
      p.id = absl::StrFormat("00000000-0000-4000-a000-%012x", next_id_++);
      port_orders_[p.id] = p;
      return http::Response::Json(201, json{{"data", json::array({order_json(p)})}}.dump());
    }
    if (parts.size() == 2 && request.method == "PATCH") {
      // End user, documents, FOC date: accepted (objects) and not interpreted.
      for (const char* f : {"end_user", "activation_settings", "documents"}) {
        if (body.contains(f) && !body[f].is_object()) {
          return TelnyxError(422, "10015", "Invalid parameter", absl::StrCat(f, ": object"),
                             absl::StrCat("/", f));
        }
      }
      absl::MutexLock lock(&mu_);
      auto it = port_orders_.find(parts[1]);
      if (it == port_orders_.end()) {
        return TelnyxError(404, "10005", "Resource not found",
                           "The requested resource or URL could not be found.");
      }
      return http::Response::Json(200, json{{"data", order_json(it->second)}}.dump());
    }
    if (parts.size() == 2 && request.method == "GET") {
      absl::MutexLock lock(&mu_);
      auto it = port_orders_.find(parts[1]);
      if (it == port_orders_.end()) {
        return TelnyxError(404, "10005", "Resource not found",
                           "The requested resource or URL could not be found.");
      }
      return http::Response::Json(200, json{{"data", order_json(it->second)}}.dump());
    }
  }

  // GET /v2/recordings/{id}
  if (parts.size() == 2 && parts[0] == "recordings" && request.method == "GET") {
    absl::MutexLock lock(&mu_);
    auto it = recordings_.find(parts[1]);
    if (it == recordings_.end() || it->second.carrier != "telnyx") {
      return TelnyxError(404, "10005", "Resource not found",
                         "The requested resource or URL could not be found.");
    }
    const Recording& r = it->second;
    std::string session;
    if (auto c = calls_.find(r.call_id); c != calls_.end()) session = c->second.session_id;
    json data = {{"id", r.id},
                 {"record_type", "recording"},
                 {"call_control_id", r.call_id},
                 {"call_session_id", session},
                 {"channels", "single"},
                 {"duration_millis", static_cast<int64_t>(r.duration_s * 1000)},
                 {"status", r.status},
                 {"source", r.source},
                 {"download_urls",
                  {{"wav", absl::StrCat(base, "/emulator/recordings/", r.id, ".wav")},
                   {"mp3", nullptr}}},
                 {"created_at", Iso(absl::Now())}};
    return http::Response::Json(200, json{{"data", data}}.dump());
  }

  // POST /v2/messages
  if (parts.size() == 1 && parts[0] == "messages" && request.method == "POST") {
    const std::string to = body.value("to", "");
    const std::string from = body.value("from", "");
    const std::string text = body.value("text", "");
    if (to.empty()) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "The 'to' parameter is required.", "/to");
    }
    if (!IsE164(to)) {
      return TelnyxError(422, "40310", "Invalid 'to' address",
                         absl::StrCat("The 'to' address ", to, " is not a valid phone number."),
                         "/to");
    }
    if (from.empty() || !IsE164(from)) {
      return TelnyxError(422, "40305", "Invalid 'from' address",
                         "The 'from' address must be an E.164 number the account owns.", "/from");
    }
    if (text.empty() && !body.contains("media_urls")) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "The 'text' or 'media_urls' parameter is required.", "/text");
    }
    Message m;
    m.carrier = "telnyx";
    m.from = from;
    m.to = to;
    m.body = text;
    m.status = "queued";
    m.status_callback = body.value("webhook_url", "");
    {
      absl::MutexLock lock(&mu_);
      m.id = absl::StrFormat("40000000-0000-4000-8000-%012x", next_id_++);
      if (m.status_callback.empty()) {
        for (const auto& [id, n] : numbers_) {
          if (n.phone_number == from && n.carrier == "telnyx") m.status_callback = n.sms_url;
        }
      }
      messages_[m.id] = m;
    }
    if (m.status_callback.empty() && !options_.webhook_base_url.empty()) {
      m.status_callback = options_.webhook_base_url + "/webhooks/telnyx/messaging";
      absl::MutexLock lock(&mu_);
      messages_[m.id].status_callback = m.status_callback;
    }
    json data = {{"id", m.id},
                 {"record_type", "message"},
                 {"direction", "outbound"},
                 {"type", "SMS"},
                 {"from", {{"phone_number", from}, {"carrier", "Emulator"}, {"line_type", "VoIP"}}},
                 {"to", json::array({{{"phone_number", to}, {"status", "queued"},
                                      {"carrier", "Emulator"}, {"line_type", "Wireless"}}})},
                 {"text", text},
                 {"parts", 1},
                 {"encoding", "GSM-7"},
                 {"webhook_url", m.status_callback},
                 {"errors", json::array()}};
    const std::string id = m.id;
    Enqueue([this, id] { SendTelnyxMessageCallbacks(id); });
    return http::Response::Json(200, json{{"data", data}}.dump());
  }

  // POST /v2/calls (dial)
  if (parts.size() == 1 && parts[0] == "calls" && request.method == "POST") {
    const std::string to = body.value("to", "");
    const std::string from = body.value("from", "");
    if (body.value("connection_id", "").empty()) {
      return TelnyxError(422, "10005", "Missing required parameter",
                         "The 'connection_id' parameter is required.", "/connection_id");
    }
    if (!IsE164(to) && !absl::StartsWith(to, "sip:")) {
      return TelnyxError(422, "90015", "Invalid 'to'",
                         "The 'to' parameter must be an E.164 number or a SIP URI.", "/to");
    }
    if (!IsE164(from)) {
      return TelnyxError(422, "90015", "Invalid 'from'",
                         "The 'from' parameter must be an E.164 number.", "/from");
    }
    for (const char* f : {"webhook_url", "client_state"}) {
      if (body.contains(f) && !body[f].is_string()) {
        return TelnyxError(422, "10015", "Invalid parameter",
                           absl::StrCat(f, ": must be a string"), absl::StrCat("/", f));
      }
    }
    if (body.contains("timeout_secs") &&
        (!body["timeout_secs"].is_number_integer() || body["timeout_secs"].get<int64_t>() < 1 ||
         body["timeout_secs"].get<int64_t>() > 600)) {
      return TelnyxError(422, "10015", "Invalid parameter",
                         "timeout_secs: must be an integer 1..600", "/timeout_secs");
    }
    Call c;
    c.carrier = "telnyx";
    c.from = from;
    c.to = to;
    c.direction = "outgoing";
    c.status = "ringing";
    c.ring_timeout_s = body.value("timeout_secs", 30);
    c.webhook_url = body.value("webhook_url", "");
    c.client_state = body.value("client_state", "");
    if (c.webhook_url.empty() && !options_.webhook_base_url.empty()) {
      c.webhook_url = options_.webhook_base_url + "/webhooks/telnyx/call-control";
    }
    // The far end, as configured by /emulator/callees: answers (then obeys nothing itself but
    // acts on gathers/recordings with its actions), or ends the call unanswered.
    std::string hangup_cause;
    {
      absl::MutexLock lock(&mu_);
      c.id = absl::StrFormat("v3:emulator-%012x", next_id_++);
      c.leg_id = absl::StrFormat("10000000-0000-4000-8000-%012x", next_id_++);
      c.session_id = absl::StrFormat("20000000-0000-4000-8000-%012x", next_id_++);
      c.callees = rest_callees_;
      c.default_callee = rest_default_callee_;
      // Softphone identities are dialled as sip:<id>@sip.telnyx.com (= client:<id>).
      const Callee far_end = FindCallee(c.callees, c.default_callee, to);
      std::string outcome;
      if (far_end.outcome == "answered" && far_end.answer_after_s < c.ring_timeout_s) {
        c.sim_time = far_end.answer_after_s;
        c.answered_at_s = c.sim_time;
        if (far_end.talk_s > 0) c.hangup_at_s = c.sim_time + far_end.talk_s;
        c.caller = far_end.actions;
        outcome = "answered";
      } else if (far_end.outcome == "busy") {
        c.sim_time = 2;
        outcome = "busy";
        hangup_cause = "user_busy";
      } else if (far_end.outcome == "failed") {
        c.sim_time = 1;
        outcome = "failed";
        hangup_cause = "call_rejected";
      } else {
        c.sim_time = c.ring_timeout_s;
        outcome = "no-answer";
        hangup_cause = "timeout";
      }
      c.steps.push_back({{"verb", "dial"},
                         {"details", {{"to", to}, {"from", from},
                                      {"timeout_secs", c.ring_timeout_s}}},
                         {"outcome", outcome},
                         {"at_s", c.sim_time}});
      if (hangup_cause.empty()) {
        c.status = "in-progress";
      } else {
        c.status = outcome;
        c.ended = true;
        c.end_reason = hangup_cause;
      }
      c.pending_events = 2;  // reserved until both events are queued below
      calls_[c.id] = c;
    }
    const std::string client_state = body.value("client_state", "");
    QueueTelnyxEvent(c.id, "call.initiated", {{"state", "bridging"}}, client_state);
    if (hangup_cause.empty()) {
      QueueTelnyxEvent(c.id, "call.answered", {{"state", "answered"}}, client_state);
    } else {
      QueueTelnyxEvent(c.id, "call.hangup",
                       {{"hangup_cause", hangup_cause}, {"hangup_source", "callee"},
                        {"state", "hangup"}},
                       client_state);
    }
    {
      absl::MutexLock lock(&mu_);
      calls_[c.id].pending_events -= 2;
    }
    return http::Response::Json(200, json{{"data",
                                           {{"call_control_id", c.id},
                                            {"call_leg_id", c.leg_id},
                                            {"call_session_id", c.session_id},
                                            {"is_alive", true},
                                            {"record_type", "call"}}}}.dump());
  }

  if (!parts.empty() && parts[0] == "conferences") {
    return HandleTelnyxConferences(request, parts, body);
  }

  // POST /v2/calls/{id}/actions/{action}
  if (parts.size() == 4 && parts[0] == "calls" && parts[2] == "actions" &&
      request.method == "POST") {
    return HandleTelnyxAction(http::PercentDecode(parts[1]), parts[3], body);
  }

  return TelnyxError(404, "10005", "Resource not found",
                     "The requested resource or URL could not be found.");
}

void CarrierEmulator::SendTelnyxMessageCallbacks(std::string message_id) {
  Message m;
  {
    absl::MutexLock lock(&mu_);
    auto it = messages_.find(message_id);
    if (it == messages_.end()) return;
    m = it->second;
  }
  const bool fail = IsFailingNumber(m.to);
  const std::vector<std::pair<std::string, std::string>> events = {
      {"message.sent", "sent"},
      {"message.finalized", fail ? "delivery_failed" : "delivered"}};
  for (const auto& [event_type, status] : events) {
    {
      absl::MutexLock lock(&mu_);
      messages_[message_id].status = status;
    }
    if (m.status_callback.empty()) continue;
    json payload = {{"id", m.id},
                    {"record_type", "message"},
                    {"direction", "outbound"},
                    {"type", "SMS"},
                    {"from", {{"phone_number", m.from}}},
                    {"to", json::array({{{"phone_number", m.to}, {"status", status}}})},
                    {"text", m.body},
                    {"parts", 1},
                    {"errors", json::array()}};
    if (event_type == "message.finalized") payload["completed_at"] = Iso(absl::Now());
    if (status == "delivery_failed") {
      payload["errors"] = json::array({{{"code", "40002"}, {"title", "Message failed"},
                                        {"detail", "The destination carrier rejected it."}}});
    }
    json event = {{"data",
                   {{"record_type", "event"},
                    {"event_type", event_type},
                    {"id", NewId("uuid")},
                    {"occurred_at", Iso(absl::Now())},
                    {"payload", payload}}},
                  {"meta", {{"attempt", 1}, {"delivered_to", m.status_callback}}}};
    DeliverAsync("", SignedTelnyxRequest(m.status_callback, event.dump()), json::object());
  }
}

// ------------------------------------------------------------------------------------------
// Call Control
// ------------------------------------------------------------------------------------------

http::Response CarrierEmulator::HandleTelnyxAction(const std::string& call_id,
                                                   const std::string& action, const json& body,
                                                   bool replay) {
  static const std::set<std::string> kActions = {
      "answer", "speak", "playback_start", "gather_using_speak", "gather", "gather_stop",
      "transfer", "record_start", "record_stop", "hangup"};
  if (kActions.count(action) == 0) {
    return TelnyxError(404, "10005", "Resource not found",
                       absl::StrCat("Unknown Call Control command '", action, "'."));
  }
  const std::string client_state = body.value("client_state", "");
  const std::string command_id = body.value("command_id", "");
  auto string_field = [&](const char* name) { return body.value(name, ""); };
  for (const char* f : {"client_state", "target_leg_client_state", "command_id", "payload",
                        "voice", "to", "audio_url"}) {
    if (body.contains(f) && !body[f].is_string()) {
      return TelnyxError(422, "10015", "Invalid parameter", absl::StrCat(f, ": must be a string"),
                         absl::StrCat("/", f));
    }
  }
  if ((action == "speak" || action == "gather_using_speak") &&
      (string_field("payload").empty() || string_field("voice").empty())) {
    return TelnyxError(422, "10005", "Missing required parameter",
                       "'payload' and 'voice' are required.", "/payload");
  }
  if (action == "transfer" && string_field("to").empty()) {
    return TelnyxError(422, "10005", "Missing required parameter", "'to' is required.", "/to");
  }

  struct Pending {
    std::string event;
    json extra;
    bool target_leg = false;  // an event of a transfer's new leg: target_leg_client_state
    std::optional<std::string> client_state;  // overrides the command's (an earlier command's)
  };
  std::vector<Pending> events;
  json result = {{"result", "ok"}};
  std::string event_call = call_id;  // the call whose webhook URL and fields the events use
  QueuedCommands replay_after;       // commands queued during a bridge that just ended
  std::string watch_leg;             // a held bridge began: its watcher starts
  auto add_events = [&events](std::vector<TelnyxEvent> more) {
    for (TelnyxEvent& e : more) {
      events.push_back({std::move(e.type), std::move(e.extra), false, std::move(e.client_state)});
    }
  };
  {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(call_id);
    if (it == calls_.end() || it->second.carrier != "telnyx") {
      return TelnyxError(404, "10005", "Resource not found", "Call not found.");
    }
    Call& c = it->second;
    if (c.ended) {
      return TelnyxError(422, "90018", "Call has already ended",
                         "This call is no longer active and can't receive commands.");
    }
    auto parent = c.parent_call.empty() ? calls_.end() : calls_.find(c.parent_call);
    const bool bridged_leg = parent != calls_.end() && parent->second.bridge &&
                             parent->second.bridge->leg == c.id;
    if (bridged_leg) {
      // A held bridge's target leg: hanging it up ends the bridge (README "Held bridges"). Once
      // unbridged (a conference took the parent) the leg is a call of its own.
      if (action != "hangup") {
        return TelnyxError(422, "10015", "Invalid parameter",
                           "emulator: only hangup is emulated on a transfer's target leg");
      }
      if (!command_id.empty()) {
        if (c.seen_command_ids.count(command_id)) {
          return http::Response::Json(200, json{{"data", result}}.dump());
        }
        c.seen_command_ids[command_id] = action;
      }
      std::vector<TelnyxEvent> more;
      EndTelnyxBridgeLocked(parent->second, "caller", false, &more, &replay_after);
      add_events(std::move(more));
      event_call = parent->second.id;
      parent->second.pending_events += static_cast<int>(events.size());
    } else if (c.bridge && !replay && action != "hangup" && action != "record_start" &&
               action != "record_stop" && action != "answer") {
      // Bridged: the command runs, in order, once the bridge ends.
      if (!command_id.empty()) {
        if (c.seen_command_ids.count(command_id)) {
          return http::Response::Json(200, json{{"data", result}}.dump());
        }
        c.seen_command_ids[command_id] = action;
      }
      c.bridge->queued.emplace_back(action, body);
      return http::Response::Json(200, json{{"data", result}}.dump());
    }
  }
  if (event_call != call_id) {
    // The target leg hung up: its call.hangup (and the call's own, without park) go out, then
    // the commands sent to the call meanwhile run.
    const int reserved = static_cast<int>(events.size());
    for (auto& e : events) QueueTelnyxEvent(event_call, e.event, std::move(e.extra), *e.client_state);
    {
      absl::MutexLock lock(&mu_);
      calls_[event_call].pending_events -= reserved;
    }
    for (auto& [queued_action, queued_body] : replay_after) {
      (void)HandleTelnyxAction(event_call, queued_action, queued_body, /*replay=*/true);
    }
    return http::Response::Json(200, json{{"data", result}}.dump());
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return TelnyxError(404, "10005", "Resource not found", "Call not found.");
    Call& c = it->second;
    if (c.ended) {
      return TelnyxError(422, "90018", "Call has already ended",
                         "This call is no longer active and can't receive commands.");
    }
    if (!command_id.empty() && !replay) {
      // Telnyx ignores a repeated command_id on the same call.
      if (c.seen_command_ids.count(command_id)) return http::Response::Json(200, json{{"data", result}}.dump());
      c.seen_command_ids[command_id] = action;
    }
    auto step = [&](const std::string& verb, json details, const std::string& outcome) {
      c.steps.push_back({{"verb", verb}, {"details", std::move(details)}, {"outcome", outcome},
                         {"at_s", c.sim_time}});
    };
    // A gather the caller holds open ends when the next command arrives (Telnyx stops a
    // running gather for a new media command): call.gather.ended with the gather's client_state.
    if (c.held_gather_step >= 0 && action != "answer") {
      const std::string status = action == "hangup" ? "call_hangup" : "cancelled";
      c.steps[static_cast<size_t>(c.held_gather_step)]["outcome"] = "interrupted";
      c.held_gather_step = -1;
      events.push_back({"call.gather.ended", {{"digits", ""}, {"status", status}}, false,
                        c.held_gather_client_state});
      c.held_gather_client_state.clear();
    }
    if (action == "answer") {
      if (c.status == "in-progress") {
        return TelnyxError(422, "90019", "Call already answered",
                           "The call has already been answered.");
      }
      c.status = "in-progress";
      step("answer", json::object(), "answered");
      events.push_back({"call.answered", {{"state", "answered"}}});
    } else if (c.status != "in-progress") {
      return TelnyxError(422, "90020", "Call not answered",
                         "The call must be answered before this command.");
    } else if (action == "speak") {
      step("speak", {{"payload", string_field("payload")}, {"voice", string_field("voice")}},
           "spoken");
      c.sim_time += WordsSeconds(string_field("payload"));
      events.push_back({"call.speak.started", json::object()});
      events.push_back({"call.speak.ended", {{"status", "completed"}}});
    } else if (action == "playback_start") {
      step("playback_start", {{"audio_url", string_field("audio_url")}}, "played");
      c.sim_time += 3;
      events.push_back({"call.playback.started", {{"media_url", string_field("audio_url")}}});
      events.push_back({"call.playback.ended",
                        {{"media_url", string_field("audio_url")}, {"status", "completed"}}});
    } else if (action == "gather_using_speak" || action == "gather") {
      int max_digits = body.value("maximum_digits", 128);
      int timeout_ms = body.value("timeout_millis", action == "gather" ? 5000 : 60000);
      const std::string terminating = body.value("terminating_digit", "#");
      if (action == "gather_using_speak") c.sim_time += WordsSeconds(string_field("payload"));
      std::string digits;
      bool hold = false;
      if (!c.caller.empty() && c.caller.front().on == "gather") {
        digits = c.caller.front().press;
        hold = c.caller.front().hold;
        c.caller.pop_front();
      }
      if (!terminating.empty()) {
        const size_t pos = digits.find(terminating);
        if (pos != std::string::npos) digits.resize(pos);
      }
      if (max_digits > 0 && digits.size() > static_cast<size_t>(max_digits)) {
        digits.resize(static_cast<size_t>(max_digits));
      }
      json details = {{"payload", string_field("payload")}, {"maximum_digits", max_digits},
                      {"timeout_millis", timeout_ms}};
      if (hold) {
        // The caller stays silent and the gather stays open until the next command.
        step(action, details, "waiting");
        c.held_gather_step = static_cast<int>(c.steps.size()) - 1;
        c.held_gather_client_state = client_state;
      } else if (digits.empty()) {
        c.sim_time += timeout_ms / 1000.0;
        step(action, details, "timeout");
        events.push_back({"call.gather.ended", {{"digits", ""}, {"status", "timeout"}}});
      } else {
        c.sim_time += 0.5 * digits.size();
        details["digits"] = digits;
        step(action, details, absl::StrCat("digits:", digits));
        events.push_back({"call.gather.ended", {{"digits", digits}, {"status", "valid"}}});
      }
    } else if (action == "transfer") {
      const std::string target = string_field("to");
      const int timeout = body.value("timeout_secs", 30);
      const Callee callee = FindCallee(c.callees, c.default_callee, target);
      const std::string target_leg = absl::StrFormat("v3:emulator-leg-%012x", next_id_++);
      json details = {{"to", target}, {"timeout_secs", timeout}, {"target_leg", target_leg}};
      // The caller ID the target sees, when the command names one.
      if (const std::string from = string_field("from"); !from.empty()) details["from"] = from;
      // The target leg answers: its own call.answered and call.bridged (carrying the
      // transfer's target_leg_client_state, as every webhook of the new leg), then A's
      // call.bridged.
      auto target_answered = [&events](const std::string& leg, const std::string& to) {
        for (const char* type : {"call.answered", "call.bridged"}) {
          events.push_back({type,
                            {{"call_control_id", leg},
                             {"call_leg_id", leg},
                             {"to", to},
                             {"direction", "outgoing"},
                             {"state", type == std::string("call.answered") ? "answered"
                                                                            : "bridged"}},
                            true});
        }
      };
      if (callee.outcome == "answered" && callee.answer_after_s < timeout && callee.hold) {
        // A held bridge: the target leg is a call of its own (hangup ends the bridge) and the
        // transfer step waits until something ends it (README "Held bridges").
        c.sim_time += callee.answer_after_s;
        details["answered"] = target;
        step("transfer", details, "waiting");
        c.bridge = Call::Bridge{
            .leg = target_leg,
            .to = target,
            .step = c.steps.size() - 1,
            .started = absl::Now(),
            .client_state = client_state,
            .target_leg_client_state = body.value("target_leg_client_state", ""),
            .park = body.value("park_after_unbridge", "") == "self"};
        Call leg;
        leg.id = target_leg;
        leg.leg_id = target_leg;
        leg.session_id = c.session_id;
        leg.carrier = "telnyx";
        leg.from = details.value("from", c.to);
        leg.to = target;
        leg.direction = "outgoing";
        leg.status = "in-progress";
        leg.parent_call = c.id;
        // The new leg's webhooks carry the transfer's target_leg_client_state until a command
        // sets another (also once a conference took it over).
        leg.client_state = body.value("target_leg_client_state", "");
        leg.webhook_url = c.webhook_url;  // its own events once unbridged (conferences)
        leg.steps.push_back({{"verb", "bridge"}, {"details", {{"parent_call", c.id}}},
                             {"outcome", "answered"}, {"at_s", 0.0}});
        calls_[target_leg] = std::move(leg);
        target_answered(target_leg, target);
        events.push_back({"call.bridged", {{"to", target}}});
        watch_leg = target_leg;
      } else if (callee.outcome == "answered" && callee.answer_after_s < timeout) {
        c.sim_time += callee.answer_after_s + callee.talk_s;
        step("transfer", details, "completed");
        target_answered(target_leg, target);
        events.push_back({"call.bridged", {{"to", target}}});
        if (body.value("park_after_unbridge", "") == "self") {
          // The callee hangs up after talking; the original call stays up, parked, for the
          // next command (as Telnyx does with park_after_unbridge: "self"). The target leg's
          // hangup carries the transfer's target_leg_client_state.
          events.push_back({"call.hangup",
                            {{"call_control_id", target_leg},
                             {"call_leg_id", target_leg},
                             {"to", target},
                             {"direction", "outgoing"},
                             {"hangup_cause", "normal_clearing"},
                             {"hangup_source", "callee"},
                             {"state", "hangup"}},
                            true});
        } else {
          c.status = "completed";
          c.ended = true;
          c.end_reason = "normal_clearing";
          events.push_back({"call.hangup",
                            {{"hangup_cause", "normal_clearing"}, {"hangup_source", "callee"},
                             {"state", "hangup"}}});
        }
      } else {
        std::string cause = "timeout", outcome = "no-answer";
        if (callee.outcome == "busy") {
          cause = "user_busy";
          outcome = "busy";
          c.sim_time += 2;
        } else if (callee.outcome == "failed") {
          cause = "call_rejected";
          outcome = "failed";
          c.sim_time += 1;
        } else {
          c.sim_time += timeout;
        }
        step("transfer", details, outcome);
        // The target leg's hangup; the original call stays up. Like every webhook of the new
        // leg it carries the transfer's target_leg_client_state, not the A leg's client_state.
        events.push_back({"call.hangup",
                          {{"call_control_id", target_leg},
                           {"call_leg_id", target_leg},
                           {"to", target},
                           {"direction", "outgoing"},
                           {"hangup_cause", cause},
                           {"hangup_source", "callee"},
                           {"state", "hangup"}},
                          true});
      }
    } else if (action == "record_start") {
      const std::string format = body.value("format", "");
      const std::string channels = body.value("channels", "");
      if ((format != "wav" && format != "mp3") || (channels != "single" && channels != "dual")) {
        return TelnyxError(422, "10015", "Invalid parameter",
                           "'format' (wav|mp3) and 'channels' (single|dual) are required.",
                           "/format");
      }
      Recording rec;
      rec.id = absl::StrFormat("30000000-0000-4000-8000-%012x", next_id_++);
      rec.carrier = "telnyx";
      rec.call_id = c.id;
      rec.status = "in-progress";
      rec.source = "record_start";
      rec.channels = channels;
      if (c.bridge) {
        // A call recording of the bridged conversation (not a voicemail): it runs until
        // record_stop or the call's end, and the call stays up.
        if (!c.active_recording.empty()) {
          return TelnyxError(422, "90031", "Recording already in progress",
                             "There is already an active recording on this call.");
        }
        rec.live = true;
        rec.started = absl::Now();
        rec.source = "record_start (bridged)";
        c.active_recording = rec.id;
        recordings_[rec.id] = rec;
        result["recording_id"] = rec.id;
        step("record_start", {{"recording_id", rec.id}, {"format", format}, {"audio", "bridge"}},
             "recording");
      }
      if (!c.bridge) {
        CallerAction caller;
        bool has_caller = false;
        if (!c.caller.empty() && c.caller.front().on == "record") {
          caller = c.caller.front();
          has_caller = true;
          c.caller.pop_front();
        }
        std::string source;
        double seconds = 0;
        rec.wav = RecordingWav(has_caller ? &caller : nullptr, &seconds, &source);
        rec.duration_s = has_caller ? seconds : 0;
        if (!has_caller) rec.wav = MakeWav(0, false);
        c.active_recording = rec.id;
        recordings_[rec.id] = rec;
        result["recording_id"] = rec.id;
        step("record_start", {{"recording_id", rec.id}, {"format", format}, {"audio", source}},
             has_caller ? "recording" : "silence");
        c.sim_time += rec.duration_s;
        const int silence_timeout = body.value("timeout_secs", 0);
        if (has_caller && silence_timeout == 0) {
          // The caller leaves the message and hangs up; the recording is saved.
          recordings_[rec.id].status = "completed";
          c.active_recording.clear();
          events.push_back({"call.recording.saved",
                            {{"recording_id", rec.id},
                             {"channels", channels},
                             {"recording_urls",
                              {{"wav", absl::StrCat(PublicUrlLocked(), "/emulator/recordings/",
                                                    rec.id, ".wav")}}},
                             {"public_recording_urls",
                              {{"wav", absl::StrCat(PublicUrlLocked(), "/emulator/recordings/",
                                                    rec.id, ".wav")}}},
                             {"recording_started_at", Iso(absl::Now())},
                             {"recording_ended_at", Iso(absl::Now())}}});
          c.status = "completed";
          c.ended = true;
          c.end_reason = "normal_clearing";
          step("hangup", {{"source", "caller"}}, "caller hung up");
          events.push_back({"call.hangup", {{"hangup_cause", "normal_clearing"},
                                            {"hangup_source", "caller"},
                                            {"state", "hangup"}}});
        } else if (has_caller) {
          c.sim_time += silence_timeout;
          recordings_[rec.id].status = "completed";
          c.active_recording.clear();
          events.push_back({"call.recording.saved",
                            {{"recording_id", rec.id},
                             {"channels", channels},
                             {"recording_urls",
                              {{"wav", absl::StrCat(PublicUrlLocked(), "/emulator/recordings/",
                                                    rec.id, ".wav")}}},
                             {"recording_started_at", Iso(absl::Now())},
                             {"recording_ended_at", Iso(absl::Now())}}});
        }
      }
    } else if (action == "record_stop") {
      if (c.active_recording.empty()) {
        return TelnyxError(422, "90032", "No recording in progress",
                           "There is no active recording on this call.");
      }
      const std::string rec_id = c.active_recording;
      step("record_stop", {{"recording_id", rec_id}}, "stopped");
      if (recordings_[rec_id].live) {
        std::vector<TelnyxEvent> saved;
        SaveTelnyxLiveRecordingLocked(c, &saved);
        for (TelnyxEvent& e : saved) events.push_back({e.type, e.extra});
      } else {
        c.active_recording.clear();
        recordings_[rec_id].status = "completed";
        events.push_back({"call.recording.saved",
                          {{"recording_id", rec_id},
                           {"channels", "single"},
                           {"recording_urls",
                            {{"wav", absl::StrCat(PublicUrlLocked(), "/emulator/recordings/", rec_id,
                                                  ".wav")}}},
                           {"recording_started_at", Iso(absl::Now())},
                           {"recording_ended_at", Iso(absl::Now())}}});
      }
    } else if (action == "gather_stop") {
      // Ends a held gather (above); otherwise there is no gather to stop.
      if (events.empty()) {
        return TelnyxError(422, "90035", "No gather in progress",
                           "There is no active gather on this call.");
      }
      step("gather_stop", json::object(), "stopped");
    } else if (action == "hangup") {
      if (c.bridge) {
        // Both legs end: the target leg's call.hangup first.
        std::vector<TelnyxEvent> more;
        QueuedCommands dropped;  // the call ends: commands queued meanwhile never run
        EndTelnyxBridgeLocked(c, "caller", true, &more, &dropped);
        add_events(std::move(more));
      }
      if (!c.active_recording.empty() && recordings_[c.active_recording].live) {
        std::vector<TelnyxEvent> saved;
        SaveTelnyxLiveRecordingLocked(c, &saved);
        for (TelnyxEvent& e : saved) events.push_back({e.type, e.extra});
      }
      step("hangup", json::object(), "hung up");
      c.status = "completed";
      c.ended = true;
      c.end_reason = "normal_clearing";
      events.push_back({"call.hangup", {{"hangup_cause", "normal_clearing"},
                                        {"hangup_source", "caller"},
                                        {"state", "hangup"}}});
    }
    if (!c.ended && c.hangup_at_s > 0 && c.sim_time >= c.hangup_at_s) {
      // A REST call's far end hangs up once its talk time is over.
      c.status = "completed";
      c.ended = true;
      c.end_reason = "normal_clearing";
      step("hangup", {{"source", "callee"}}, "callee hung up");
      events.push_back({"call.hangup", {{"hangup_cause", "normal_clearing"},
                                        {"hangup_source", "callee"},
                                        {"state", "hangup"}}});
    }
    // Reserved until queued below, so the call is never seen done with events still to come.
    c.pending_events += static_cast<int>(events.size());
  }
  if (!watch_leg.empty()) {
    const std::string leg = watch_leg;
    StartPlayer([this, call_id, leg] { WatchTelnyxBridge(call_id, leg); });
  }
  const std::string target_leg_client_state = body.value("target_leg_client_state", "");
  for (auto& e : events) {
    QueueTelnyxEvent(call_id, e.event, std::move(e.extra),
                     e.client_state  ? *e.client_state
                     : e.target_leg ? target_leg_client_state
                                    : client_state);
  }
  {
    absl::MutexLock lock(&mu_);
    calls_[call_id].pending_events -= static_cast<int>(events.size());
    SettleTelnyxConferenceLocked(call_id);  // a call that ended leaves its conference
  }
  return http::Response::Json(200, json{{"data", result}}.dump());
}

void CarrierEmulator::SaveTelnyxLiveRecordingLocked(Call& c, std::vector<TelnyxEvent>* events) {
  if (c.active_recording.empty()) return;
  auto it = recordings_.find(c.active_recording);
  c.active_recording.clear();
  if (it == recordings_.end()) return;
  Recording& rec = it->second;
  rec.status = "completed";
  rec.duration_s = LiveSeconds(rec.started);
  rec.wav = MakeWav(rec.duration_s);
  const std::string url =
      absl::StrCat(PublicUrlLocked(), "/emulator/recordings/", rec.id, ".wav");
  events->push_back({"call.recording.saved",
                     {{"recording_id", rec.id},
                      {"channels", rec.channels},
                      {"recording_urls", {{"wav", url}}},
                      {"public_recording_urls", {{"wav", url}}},
                      {"recording_started_at", Iso(rec.started)},
                      {"recording_ended_at", Iso(absl::Now())}},
                     ""});
}

void CarrierEmulator::EndTelnyxBridgeLocked(Call& c, const std::string& source,
                                            bool parent_hangs_up,
                                            std::vector<TelnyxEvent>* events,
                                            QueuedCommands* queued) {
  if (!c.bridge) return;
  Call::Bridge bridge = std::move(*c.bridge);
  c.bridge.reset();
  const double talk = LiveSeconds(bridge.started);
  c.sim_time += talk;
  json& step = c.steps[bridge.step];
  step["outcome"] = parent_hangs_up ? "interrupted" : "completed";
  step["details"]["duration_s"] = talk;
  Call& leg = calls_[bridge.leg];
  leg.status = "completed";
  leg.ended = true;
  leg.end_reason = source;
  leg.sim_time = talk;
  leg.steps.push_back({{"verb", "hangup"}, {"details", {{"source", source}}},
                       {"outcome", "hung up"}, {"at_s", talk}});
  // Like every webhook of the new leg, its hangup carries the target_leg_client_state.
  events->push_back({"call.hangup",
                     {{"call_control_id", bridge.leg},
                      {"call_leg_id", bridge.leg},
                      {"to", bridge.to},
                      {"direction", "outgoing"},
                      {"hangup_cause", "normal_clearing"},
                      {"hangup_source", source},
                      {"state", "hangup"}},
                     bridge.target_leg_client_state});
  *queued = std::move(bridge.queued);
  if (parent_hangs_up || bridge.park) return;  // parked: the call waits for commands
  // Without park_after_unbridge "self" the call hangs up with its bridge.
  SaveTelnyxLiveRecordingLocked(c, events);
  c.status = "completed";
  c.ended = true;
  c.end_reason = "normal_clearing";
  c.steps.push_back({{"verb", "hangup"}, {"details", {{"source", "callee"}}},
                     {"outcome", "callee hung up"}, {"at_s", c.sim_time}});
  events->push_back({"call.hangup",
                     {{"hangup_cause", "normal_clearing"}, {"hangup_source", "callee"},
                      {"state", "hangup"}},
                     bridge.client_state});
}

void CarrierEmulator::EndTelnyxBridge(const std::string& call_id, const std::string& leg_id,
                                      bool caller_hung_up) {
  std::vector<TelnyxEvent> events;
  QueuedCommands queued;
  {
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    if (c.ended || !c.bridge || c.bridge->leg != leg_id) return;  // ended meanwhile
    if (caller_hung_up) {
      // The caller hangs up: both legs end, the commands queued meanwhile never run.
      const std::string client_state = c.bridge->client_state;
      EndTelnyxBridgeLocked(c, "caller", true, &events, &queued);
      queued.clear();
      SaveTelnyxLiveRecordingLocked(c, &events);
      c.status = "completed";
      c.ended = true;
      c.end_reason = "normal_clearing";
      c.steps.push_back({{"verb", "hangup"}, {"details", {{"source", "callee"}}},
                         {"outcome", "callee hung up"}, {"at_s", c.sim_time}});
      events.push_back({"call.hangup",
                        {{"hangup_cause", "normal_clearing"}, {"hangup_source", "callee"},
                         {"state", "hangup"}},
                        client_state});
    } else {
      EndTelnyxBridgeLocked(c, "callee", false, &events, &queued);
    }
    c.pending_events += static_cast<int>(events.size());
  }
  for (TelnyxEvent& e : events) {
    QueueTelnyxEvent(call_id, e.type, std::move(e.extra), e.client_state);
  }
  {
    absl::MutexLock lock(&mu_);
    calls_[call_id].pending_events -= static_cast<int>(events.size());
  }
  for (auto& [action, body] : queued) (void)HandleTelnyxAction(call_id, action, body, true);
}

void CarrierEmulator::WatchTelnyxBridge(const std::string& call_id, const std::string& leg_id) {
  double talk = 0;
  const BridgeEnd end = WaitForBridgeEnd(call_id, leg_id, &talk);
  if (end == BridgeEnd::kTimeout || end == BridgeEnd::kCallerHungUp) {
    EndTelnyxBridge(call_id, leg_id, end == BridgeEnd::kCallerHungUp);
    return;
  }
  // The call ended another way (scenario timeout, Stop): the leg is gone with it.
  absl::MutexLock lock(&mu_);
  Call& c = calls_[call_id];
  if (c.ended && c.bridge && c.bridge->leg == leg_id) {
    c.bridge.reset();
    Call& leg = calls_[leg_id];
    leg.status = "completed";
    leg.ended = true;
    leg.end_reason = c.end_reason;
  }
}

absl::StatusOr<json> CarrierEmulator::RunTelnyxScenario(Call call) {
  std::string url;
  {
    absl::MutexLock lock(&mu_);
    bool found = false;
    for (const auto& [id, n] : numbers_) {
      if (n.phone_number == call.to && n.carrier == "telnyx") {
        url = n.voice_url;
        found = true;
      }
    }
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("scenario.to: ", call.to, " is not a Telnyx number of the emulator"));
    }
    call.id = absl::StrFormat("v3:emulator-%012x", next_id_++);
    call.leg_id = absl::StrFormat("10000000-0000-4000-8000-%012x", next_id_++);
    call.session_id = absl::StrFormat("20000000-0000-4000-8000-%012x", next_id_++);
  }
  if (url.empty() && !options_.webhook_base_url.empty()) {
    url = options_.webhook_base_url + "/webhooks/telnyx/call-control";
  }
  if (url.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "scenario.to: ", call.to, " has no Call Control webhook and no webhook base URL is set"));
  }
  call.webhook_url = url;
  call.direction = "incoming";
  call.status = "ringing";
  const std::string id = call.id;
  {
    absl::MutexLock lock(&mu_);
    calls_[id] = call;
  }
  QueueTelnyxEvent(id, "call.initiated",
                   {{"state", "parked"}, {"start_time", Iso(absl::Now())},
                    {"caller_id_name", call.from}},
                   "");
  // Wait (real time, bounded) for the service to hang up or the scenario to end the call, then
  // for the queued webhooks to drain.
  const absl::Time deadline = absl::Now() + options_.scenario_timeout;
  bool ended = false;
  {
    absl::MutexLock lock(&mu_);
    auto done = [this, &id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_[id].ended; };
    ended = mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  }
  if (ended) {
    absl::MutexLock lock(&queue_mu_);
    auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) { return queue_.empty() && running_tasks_ == 0;
    };
    queue_mu_.AwaitWithDeadline(absl::Condition(&drained), deadline);
  }
  absl::MutexLock lock(&mu_);
  Call& c = calls_[id];
  if (!ended) {
    c.ended = true;
    c.status = "failed";
    c.end_reason = "scenario timeout";
  }
  json result = {{"call_id", id},          {"call_session_id", c.session_id},
                 {"carrier", "telnyx"},    {"from", c.from},
                 {"to", c.to},             {"status", c.status},
                 {"duration_s", c.sim_time}, {"steps", c.steps},
                 {"webhooks", c.webhooks}};
  if (!ended) {
    return absl::DeadlineExceededError(absl::StrCat(
        "telnyx call ", id, " did not end within the scenario timeout; steps: ",
        c.steps.dump()));
  }
  return result;
}

void CarrierEmulator::SetNumberOrderMode(bool pending, std::string outcome,
                                         absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  pending_number_orders_ = pending;
  number_order_outcome_ = std::move(outcome);
  number_order_delay_ = delay;
}

void CarrierEmulator::SendTelnyxNumberOrderWebhook(std::string order_id,
                                                   std::vector<std::string> numbers,
                                                   std::string outcome,
                                                   std::string connection_id,
                                                   absl::Duration delay) {
  absl::SleepFor(delay);
  std::string event_id;
  {
    absl::MutexLock lock(&mu_);
    event_id = absl::StrFormat("00000000-0000-4000-b000-%012x", next_id_++);
    // The order is decided: update it, and free the numbers of a failed order.
    auto it = number_orders_.find(order_id);
    if (it != number_orders_.end()) {
      json order = json::parse(it->second, nullptr, false);
      if (order.is_object()) {
        order["status"] = outcome;
        for (json& n : order["phone_numbers"]) n["status"] = outcome;
        it->second = order.dump();
      }
    }
    if (outcome != "success") {
      for (auto n = numbers_.begin(); n != numbers_.end();) {
        const bool ours = n->second.carrier == "telnyx" &&
                          std::find(numbers.begin(), numbers.end(), n->second.phone_number) !=
                              numbers.end();
        n = ours ? numbers_.erase(n) : std::next(n);
      }
    }
  }
  if (options_.webhook_base_url.empty()) return;
  const std::string url = options_.webhook_base_url + "/webhooks/telnyx/numbers";
  json phone_numbers = json::array();
  for (const std::string& n : numbers) {
    phone_numbers.push_back({{"phone_number", n}, {"status", outcome}});
  }
  json event = {{"data",
                 {{"record_type", "event"},
                  {"event_type", "number_order.complete"},
                  {"id", event_id},
                  {"occurred_at", Iso(absl::Now())},
                  {"payload",
                   {{"id", order_id},
                    {"record_type", "number_order"},
                    {"status", outcome},
                    {"connection_id", connection_id},
                    {"phone_numbers", phone_numbers},
                    {"phone_numbers_count", numbers.size()}}}}},
                {"meta", {{"attempt", 1}, {"delivered_to", url}}}};
  // Telnyx retries undelivered webhooks; so does the emulator for this one (same event id).
  for (int attempt = 1; attempt <= 10; ++attempt) {
    event["meta"]["attempt"] = attempt;
    if (DeliverAsync("", SignedTelnyxRequest(url, event.dump()),
                     json{{"event_type", "number_order.complete"}})) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

}  // namespace switchboard::carrier_emulator
