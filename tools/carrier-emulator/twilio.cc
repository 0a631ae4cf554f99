// Twilio: REST API 2010-04-01 subset and the TwiML call interpreter.
#include <algorithm>
#include <cstring>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "libs/common/log.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/http/url.h"
#include "pugixml.hpp"
#include "tools/carrier-emulator/emulator.h"
#include "tools/carrier-emulator/wire.h"
#include "tools/carrier-emulator/signing.h"

namespace switchboard::carrier_emulator {

using nlohmann::json;

using namespace wire;  // NOLINT: the shared wire helpers

namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

double WordsSeconds(const std::string& text) {
  int words = 1;
  for (char c : text) words += c == ' ';
  return 0.4 * words;
}

std::string FormatSeconds(double s) { return absl::StrCat(static_cast<int64_t>(std::llround(s))); }

}  // namespace

std::string CarrierEmulator::TwilioSignatureFor(const std::string& url,
                                                const http::Params& params) const {
  return TwilioWebhookSignature(options_.twilio_auth_token, url, params);
}

// ------------------------------------------------------------------------------------------
// REST
// ------------------------------------------------------------------------------------------

http::Response CarrierEmulator::HandleTwilio(const http::Request& request) {
  // Basic auth: AccountSid:AuthToken.
  const std::optional<std::string> auth = request.Header("Authorization");
  bool authorized = false;
  if (auth && absl::StartsWith(*auth, "Basic ")) {
    auto decoded = crypto::Base64Decode(auth->substr(6));
    if (decoded.ok()) {
      const std::string expected =
          absl::StrCat(options_.twilio_account_sid, ":", options_.twilio_auth_token);
      authorized = crypto::ConstantTimeEquals(*decoded, expected);
    }
  }
  const std::string prefix = absl::StrCat("/2010-04-01/Accounts/", options_.twilio_account_sid);
  if (authorized && absl::StartsWith(request.path, "/v1/Porting/PortIn")) {
    return HandleTwilioPortIn(request);
  }
  if (!authorized || !absl::StartsWith(request.path, prefix + "/")) {
    http::Response r = TwilioError(401, 20003, "Authenticate");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"Twilio API\"");
    return r;
  }
  const std::string rest = request.path.substr(prefix.size());  // "/Calls.json", ...
  const std::vector<std::string> parts = absl::StrSplit(rest.substr(1), '/');
  const http::Params form = request.method == "GET" || request.method == "DELETE"
                                ? http::ParseQuery(request.query)
                                : http::ParseForm(request.body);
  const std::string& sid = options_.twilio_account_sid;
  const std::string base = PublicUrl();
  const std::string now = Rfc2822(absl::Now());

  auto number_json = [&](const Number& n) {
    return json{{"sid", n.id},
                {"account_sid", sid},
                {"phone_number", n.phone_number},
                {"friendly_name", n.friendly_name},
                {"voice_url", n.voice_url},
                {"voice_method", "POST"},
                {"sms_url", n.sms_url},
                {"sms_method", "POST"},
                {"status_callback", n.status_callback},
                {"status_callback_method", "POST"},
                {"capabilities", {{"voice", true}, {"sms", true}, {"mms", true}, {"fax", false}}},
                {"status", "in-use"},
                {"date_created", n.date_created},
                {"date_updated", now},
                {"api_version", "2010-04-01"},
                {"uri", absl::StrCat(prefix, "/IncomingPhoneNumbers/", n.id, ".json")}};
  };
  auto call_json = [&](const Call& c) {
    return json{{"sid", c.id},
                {"account_sid", sid},
                {"to", c.to},
                {"from", c.from},
                {"status", c.status},
                {"direction", c.direction},
                {"api_version", "2010-04-01"},
                {"date_created", now},
                {"date_updated", now},
                {"duration", c.ended ? FormatSeconds(c.sim_time) : ""},
                {"uri", absl::StrCat(prefix, "/Calls/", c.id, ".json")}};
  };
  auto recording_json = [&](const Recording& r) {
    return json{{"sid", r.id},
                {"account_sid", sid},
                {"call_sid", r.call_id},
                {"status", r.status},
                {"duration", FormatSeconds(r.duration_s)},
                {"channels", 1},
                {"source", r.source},
                {"api_version", "2010-04-01"},
                {"date_created", now},
                {"media_url", absl::StrCat(base, prefix, "/Recordings/", r.id)},
                {"uri", absl::StrCat(prefix, "/Recordings/", r.id, ".json")}};
  };

  // AvailablePhoneNumbers/{Country}/Local.json | TollFree.json
  if (parts.size() == 3 && parts[0] == "AvailablePhoneNumbers" && request.method == "GET") {
    const bool toll_free = parts[2] == "TollFree.json";
    if (!toll_free && parts[2] != "Local.json") {
      return TwilioError(404, 20404, "The requested resource was not found");
    }
    const std::string area = First(form, "AreaCode");
    if (!area.empty() && (area.size() != 3 || area[0] < '2' || area[0] > '9' ||
                          !std::all_of(area.begin(), area.end(), ::isdigit))) {
      return TwilioError(400, 21452, "AreaCode: must be a 3-digit area code");
    }
    const std::string contains = First(form, "Contains");
    if (!contains.empty() && (contains.size() < 2 || contains.size() > 16)) {
      return TwilioError(400, 21453, "Contains: must be 2-16 characters");
    }
    int page_size = 50;
    if (Has(form, "PageSize") &&
        (!absl::SimpleAtoi(First(form, "PageSize"), &page_size) || page_size < 1 ||
         page_size > 1000)) {
      return TwilioError(400, 20001, "PageSize: must be 1..1000");
    }
    json list = json::array();
    absl::MutexLock lock(&mu_);
    for (const Number* n : AvailableNumbers(parts[1], toll_free, area, contains,
                                            static_cast<size_t>(page_size))) {
      list.push_back({{"friendly_name", n->friendly_name},
                      {"phone_number", n->phone_number},
                      {"lata", "132"},
                      {"locality", "Emulated City"},
                      {"rate_center", "EMULATED"},
                      {"latitude", "40.7"},
                      {"longitude", "-74.0"},
                      {"region", "NY"},
                      {"postal_code", "10001"},
                      {"iso_country", parts[1]},
                      {"address_requirements", "none"},
                      {"beta", false},
                      {"capabilities", {{"voice", true}, {"SMS", true}, {"MMS", true}}}});
    }
    return http::Response::Json(
        200, json{{"available_phone_numbers", list},
                  {"uri", request.target}}.dump());
  }

  // IncomingPhoneNumbers.json?PhoneNumber= (GET: the account's numbers, optionally filtered)
  if (parts.size() == 1 && parts[0] == "IncomingPhoneNumbers.json" && request.method == "GET") {
    const std::string wanted = First(form, "PhoneNumber");
    json list = json::array();
    absl::MutexLock lock(&mu_);
    for (const auto& [id, n] : numbers_) {
      if (n.carrier == "twilio" && (wanted.empty() || n.phone_number == wanted)) {
        list.push_back(number_json(n));
      }
    }
    return http::Response::Json(
        200, json{{"incoming_phone_numbers", list}, {"page", 0}, {"page_size", 50},
                  {"uri", request.target}}.dump());
  }

  // IncomingPhoneNumbers.json (POST: buy)
  if (parts.size() == 1 && parts[0] == "IncomingPhoneNumbers.json" && request.method == "POST") {
    std::string number = First(form, "PhoneNumber");
    const std::string area = First(form, "AreaCode");
    if (number.empty() && area.empty()) {
      return TwilioError(400, 21421, "PhoneNumber or AreaCode is required");
    }
    for (const char* f : {"VoiceUrl", "SmsUrl", "StatusCallback"}) {
      const std::string v = First(form, f);
      if (!v.empty() && !IsHttpUrl(v)) {
        return TwilioError(400, 21502, absl::StrCat(f, " is not a valid URL: ", v));
      }
    }
    absl::MutexLock lock(&mu_);
    if (number.empty()) {
      auto available = AvailableNumbers("US", false, area, "", 1);
      if (available.empty()) {
        return TwilioError(400, 21422, "No phone numbers available in that area code");
      }
      number = available[0]->phone_number;
    } else {
      if (!IsE164(number)) {
        return TwilioError(400, 21421, absl::StrCat("PhoneNumber is invalid: ", number));
      }
      const std::string national = number.substr(2);
      const bool toll_free = absl::StartsWith(national, "8");
      auto available = AvailableNumbers("US", toll_free, national.substr(0, 3), "", 1000);
      bool found = false;
      for (const Number* n : available) found = found || n->phone_number == number;
      if (!found) {
        return TwilioError(400, 21422, absl::StrCat("PhoneNumber ", number, " is not available"));
      }
    }
    Number n;
    {
      // NewId takes mu_; build the id from the counter directly.
      n.id = absl::StrFormat("PN%032x", next_id_++);
    }
    n.carrier = "twilio";
    n.phone_number = number;
    n.friendly_name = First(form, "FriendlyName").empty() ? number : First(form, "FriendlyName");
    n.voice_url = First(form, "VoiceUrl");
    n.sms_url = First(form, "SmsUrl");
    n.status_callback = First(form, "StatusCallback");
    n.date_created = now;
    numbers_[n.id] = n;
    return http::Response::Json(201, number_json(n).dump());
  }

  // IncomingPhoneNumbers/{Sid}.json (POST update, DELETE release, GET)
  if (parts.size() == 2 && parts[0] == "IncomingPhoneNumbers" &&
      absl::EndsWith(parts[1], ".json")) {
    const std::string id = parts[1].substr(0, parts[1].size() - 5);
    absl::MutexLock lock(&mu_);
    auto it = numbers_.find(id);
    if (it == numbers_.end() || it->second.carrier != "twilio") {
      return TwilioError(404, 20404,
                         absl::StrCat("The requested resource ", request.path, " was not found"));
    }
    if (request.method == "DELETE") {
      numbers_.erase(it);
      return http::Response{.status = 204};
    }
    if (request.method == "POST") {
      for (const char* f : {"VoiceUrl", "SmsUrl", "StatusCallback"}) {
        const std::string v = First(form, f);
        if (!v.empty() && !IsHttpUrl(v)) {
          return TwilioError(400, 21502, absl::StrCat(f, " is not a valid URL: ", v));
        }
      }
      if (Has(form, "VoiceUrl")) it->second.voice_url = First(form, "VoiceUrl");
      if (Has(form, "SmsUrl")) it->second.sms_url = First(form, "SmsUrl");
      if (Has(form, "StatusCallback")) it->second.status_callback = First(form, "StatusCallback");
      if (Has(form, "FriendlyName")) it->second.friendly_name = First(form, "FriendlyName");
      return http::Response::Json(200, number_json(it->second).dump());
    }
    if (request.method == "GET") return http::Response::Json(200, number_json(it->second).dump());
  }

  if (!parts.empty() && (parts[0] == "Conferences" || parts[0] == "Conferences.json")) {
    return HandleTwilioConferences(request, parts, form);
  }

  // Calls.json (POST create)
  if (parts.size() == 1 && parts[0] == "Calls.json" && request.method == "POST") {
    const std::string to = First(form, "To");
    const std::string from = First(form, "From");
    if (to.empty()) return TwilioError(400, 21201, "No 'To' number is specified");
    if (!IsE164(to) && !absl::StartsWith(to, "client:")) {
      return TwilioError(400, 21211,
                         absl::StrCat("The 'To' number ", to, " is not a valid phone number."));
    }
    if (from.empty()) return TwilioError(400, 21213, "No 'From' number is specified");
    if (!IsE164(from)) {
      return TwilioError(400, 21212, absl::StrCat("The 'From' number ", from,
                                                  " is not a valid phone number."));
    }
    const std::string url = First(form, "Url");
    if (url.empty() && First(form, "Twiml").empty() && First(form, "ApplicationSid").empty()) {
      return TwilioError(400, 21205, "Url, Twiml or ApplicationSid is required");
    }
    if (!url.empty() && !IsHttpUrl(url)) {
      return TwilioError(400, 21205, absl::StrCat("Url is not a valid URL: ", url));
    }
    const std::string status_callback = First(form, "StatusCallback");
    if (!status_callback.empty() && !IsHttpUrl(status_callback)) {
      return TwilioError(400, 21609,
                         absl::StrCat("StatusCallback is not a valid URL: ", status_callback));
    }
    int ring_timeout = 60;
    if (Has(form, "Timeout") && (!absl::SimpleAtoi(First(form, "Timeout"), &ring_timeout) ||
                                 ring_timeout < 1 || ring_timeout > 600)) {
      return TwilioError(400, 20001, "Timeout: must be an integer 1..600");
    }
    Call c;
    {
      absl::MutexLock lock(&mu_);
      c.id = absl::StrFormat("CA%032x", next_id_++);
      c.carrier = "twilio";
      c.from = from;
      c.to = to;
      c.direction = "outbound-api";
      c.status = "queued";
      c.webhook_url = url;
      c.twiml = First(form, "Twiml");
      c.status_callback = status_callback;
      c.ring_timeout_s = ring_timeout;
      // The far end (and the targets its TwiML dials) behave as configured by /emulator/callees.
      c.callees = rest_callees_;
      c.default_callee = rest_default_callee_;
      calls_[c.id] = c;
    }
    const std::string call_id = c.id;
    StartPlayer([this, call_id] { PlayTwilioRestCall(call_id); });
    return http::Response::Json(201, call_json(c).dump());
  }

  // Calls/{Sid}.json (POST modify, GET)
  if (parts.size() == 2 && parts[0] == "Calls" && absl::EndsWith(parts[1], ".json")) {
    const std::string id = parts[1].substr(0, parts[1].size() - 5);
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second.carrier != "twilio") {
      return TwilioError(404, 20404,
                         absl::StrCat("The requested resource ", request.path, " was not found"));
    }
    Call& c = it->second;
    if (request.method == "GET") return http::Response::Json(200, call_json(c).dump());
    if (request.method != "POST") return TwilioError(405, 20004, "Method not allowed");
    const std::string status = First(form, "Status");
    if (!status.empty()) {
      if (status != "completed" && status != "canceled") {
        return TwilioError(400, 21218, absl::StrCat("Invalid Status: ", status));
      }
      if (c.ended) {
        return TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.");
      }
      c.status = status;
      c.ended = true;
      c.end_reason = "api";
      c.steps.push_back({{"verb", "Modify"}, {"details", {{"Status", status}}},
                         {"outcome", status}});
      return http::Response::Json(200, call_json(c).dump());
    }
    const std::string url = First(form, "Url");
    const std::string twiml = First(form, "Twiml");
    if (url.empty() && twiml.empty()) {
      return TwilioError(400, 20001, "One of Url, Twiml or Status is required");
    }
    if (!url.empty() && !IsHttpUrl(url)) {
      return TwilioError(400, 21205, absl::StrCat("Url is not a valid URL: ", url));
    }
    const std::string method = First(form, "Method").empty() ? "POST" : First(form, "Method");
    if (method != "POST" && method != "GET") {
      return TwilioError(400, 20001, "Method: must be GET or POST");
    }
    if (c.ended) return TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.");
    // The call's player interrupts the current verb and continues with the new document.
    c.pending = Modification{.url = url, .method = method, .twiml = twiml};
    c.steps.push_back({{"verb", "Modify"},
                       {"details", url.empty() ? json{{"Twiml", twiml}} : json{{"Url", url}}},
                       {"outcome", "redirected"},
                       {"at_s", c.sim_time}});
    return http::Response::Json(200, call_json(c).dump());
  }

  // Calls/{Sid}/Recordings.json (POST start)
  if (parts.size() == 3 && parts[0] == "Calls" && parts[2] == "Recordings.json" &&
      request.method == "POST") {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(parts[1]);
    if (it == calls_.end() || it->second.carrier != "twilio") {
      return TwilioError(404, 20404, "The requested resource was not found");
    }
    if (it->second.ended) {
      return TwilioError(400, 21220, "Requested resource is not eligible for recording");
    }
    Recording r;
    r.status_callback = First(form, "RecordingStatusCallback");
    if (!r.status_callback.empty() && !IsHttpUrl(r.status_callback)) {
      return TwilioError(400, 21609, absl::StrCat("RecordingStatusCallback is not a valid URL: ",
                                                  r.status_callback));
    }
    if (Has(form, "RecordingStatusCallbackMethod")) {
      r.status_callback_method = First(form, "RecordingStatusCallbackMethod");
      if (r.status_callback_method != "POST" && r.status_callback_method != "GET") {
        return TwilioError(400, 20001, "RecordingStatusCallbackMethod: must be GET or POST");
      }
    }
    // Space-separated, or the field repeated; default "completed".
    for (const auto& [k, v] : form) {
      if (k != "RecordingStatusCallbackEvent") continue;
      for (absl::string_view e : absl::StrSplit(v, ' ', absl::SkipEmpty())) {
        if (e != "in-progress" && e != "completed" && e != "absent") {
          return TwilioError(400, 20001,
                             absl::StrCat("RecordingStatusCallbackEvent: '", e,
                                          "' is not one of in-progress, completed, absent"));
        }
        r.status_callback_events.emplace_back(e);
      }
    }
    if (r.status_callback_events.empty()) r.status_callback_events = {"completed"};
    if (!it->second.active_recording.empty()) {
      // One API recording at a time (the emulator's limit): the earlier one completes.
      auto earlier = recordings_.find(it->second.active_recording);
      if (earlier != recordings_.end()) CompleteTwilioRecordingLocked(earlier->second);
    }
    r.id = absl::StrFormat("RE%032x", next_id_++);
    r.carrier = "twilio";
    r.call_id = parts[1];
    r.status = "in-progress";
    r.source = "StartCallRecordingAPI";
    r.live = true;
    r.started = absl::Now();
    it->second.active_recording = r.id;
    recordings_[r.id] = r;
    if (std::count(r.status_callback_events.begin(), r.status_callback_events.end(),
                   "in-progress")) {
      QueueTwilioRecordingCallbackLocked(r, "in-progress");
    }
    return http::Response::Json(201, recording_json(r).dump());
  }

  // Calls/{Sid}/Recordings/{Sid}.json (POST Status=stopped|paused|in-progress)
  if (parts.size() == 4 && parts[0] == "Calls" && parts[2] == "Recordings" &&
      absl::EndsWith(parts[3], ".json") && request.method == "POST") {
    const std::string id = parts[3].substr(0, parts[3].size() - 5);
    const std::string status = First(form, "Status");
    if (status != "stopped" && status != "paused" && status != "in-progress") {
      return TwilioError(400, 21218, "Status: must be stopped, paused or in-progress");
    }
    absl::MutexLock lock(&mu_);
    // "Twilio.CURRENT" addresses the call's active recording (Twilio's alias).
    auto call = calls_.find(parts[1]);
    const std::string resolved =
        id == "Twilio.CURRENT" && call != calls_.end() ? call->second.active_recording : id;
    auto it = recordings_.find(resolved);
    if (it == recordings_.end() || it->second.call_id != parts[1]) {
      return TwilioError(404, 20404, "The requested resource was not found");
    }
    Recording& r = it->second;
    if (status == "stopped") {
      if (r.status == "completed") {
        return TwilioError(400, 21220, "The recording has already been stopped");
      }
      if (call != calls_.end() && call->second.active_recording == r.id) {
        call->second.active_recording.clear();
      }
      CompleteTwilioRecordingLocked(r);
      json stopped = recording_json(r);
      stopped["status"] = "stopped";  // the answer to the stop; the resource is then completed
      return http::Response::Json(200, stopped.dump());
    }
    if (r.status == "completed") {
      return TwilioError(400, 21220, "The recording has already been stopped");
    }
    r.status = status;
    return http::Response::Json(200, recording_json(r).dump());
  }

  // Recordings/{Sid}.json | .wav | (no extension = wav)
  if (parts.size() == 2 && parts[0] == "Recordings" && request.method == "GET") {
    std::string id = parts[1];
    std::string ext;
    if (const size_t dot = id.find('.'); dot != std::string::npos) {
      ext = id.substr(dot + 1);
      id.resize(dot);
    }
    absl::MutexLock lock(&mu_);
    auto it = recordings_.find(id);
    if (it == recordings_.end() || it->second.carrier != "twilio") {
      return TwilioError(404, 20404, "The requested resource was not found");
    }
    if (ext == "json") return http::Response::Json(200, recording_json(it->second).dump());
    if (!ext.empty() && ext != "wav") {
      return TwilioError(404, 20404, "Only .wav media is available in the emulator");
    }
    if (it->second.wav.empty()) {
      return TwilioError(404, 20404, "The recording has no media yet");
    }
    http::Response r;
    r.headers = {{"Content-Type", "audio/x-wav"}};
    r.body = it->second.wav;
    return r;
  }

  // Messages.json (POST send)
  if (parts.size() == 1 && parts[0] == "Messages.json" && request.method == "POST") {
    const std::string to = First(form, "To");
    const std::string from = First(form, "From");
    const std::string body = First(form, "Body");
    if (to.empty()) return TwilioError(400, 21604, "A 'To' phone number is required.");
    if (!IsE164(to)) {
      return TwilioError(400, 21211, absl::StrCat("Invalid 'To' Phone Number: ", to));
    }
    if (from.empty() && First(form, "MessagingServiceSid").empty()) {
      return TwilioError(400, 21603, "A 'From' phone number is required.");
    }
    if (!from.empty() && !IsE164(from)) {
      return TwilioError(400, 21212, absl::StrCat("Invalid From Number: ", from));
    }
    if (body.empty() && !Has(form, "MediaUrl")) {
      return TwilioError(400, 21602, "Message body is required.");
    }
    if (body.size() > 1600) {
      return TwilioError(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    }
    Message m;
    {
      absl::MutexLock lock(&mu_);
      m.id = absl::StrFormat("SM%032x", next_id_++);
      m.carrier = "twilio";
      m.from = from;
      m.to = to;
      m.body = body;
      m.status = "queued";
      m.status_callback = First(form, "StatusCallback");
      messages_[m.id] = m;
    }
    json out = {{"sid", m.id},
                {"account_sid", sid},
                {"to", m.to},
                {"from", m.from},
                {"body", m.body},
                {"status", "queued"},
                {"direction", "outbound-api"},
                {"num_segments", "1"},
                {"num_media", "0"},
                {"api_version", "2010-04-01"},
                {"date_created", now},
                {"date_updated", now},
                {"date_sent", nullptr},
                {"error_code", nullptr},
                {"error_message", nullptr},
                {"price", nullptr},
                {"uri", absl::StrCat(prefix, "/Messages/", m.id, ".json")}};
    const std::string id = m.id;
    Enqueue([this, id] { SendTwilioMessageCallbacks(id); });
    return http::Response::Json(201, out.dump());
  }

  return TwilioError(404, 20404,
                     absl::StrCat("The requested resource ", request.path, " was not found"));
}

// Numbers v1 Port In API (numbers.twilio.com): POST /v1/Porting/PortIn (JSON, 201) and
// GET /v1/Porting/PortIn/{KW...}. Orders stay "in-review".
http::Response CarrierEmulator::HandleTwilioPortIn(const http::Request& request) {
  const std::string base = PublicUrl();  // before mu_ is taken below
  auto order_json = [&](const PortOrder& p) {
    json numbers = json::array();
    for (const std::string& n : p.numbers) {
      numbers.push_back({{"phone_number", n}, {"port_in_phone_number_status", p.status}});
    }
    return json{{"port_in_request_sid", p.id},
                {"account_sid", options_.twilio_account_sid},
                {"port_in_request_status", p.status},
                {"phone_numbers", numbers},
                {"url", absl::StrCat(base, "/v1/Porting/PortIn/", p.id)}};
  };
  if (request.path == "/v1/Porting/PortIn" && request.method == "POST") {
    const json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) {
      return TwilioError(400, 20001, "The request body is not a JSON object.");
    }
    auto list = body.find("phone_numbers");
    if (list == body.end() || !list->is_array() || list->empty()) {
      return TwilioError(400, 20001, "phone_numbers: at least one phone number is required");
    }
    PortOrder p;
    for (const json& n : *list) {
      const std::string number =
          n.is_object() && n.contains("phone_number") && n["phone_number"].is_string()
              ? n["phone_number"].get<std::string>()
              : "";
      if (!IsE164(number)) {
        return TwilioError(400, 21421, "phone_numbers[].phone_number: must be an E.164 number");
      }
      p.numbers.push_back(number);
    }
    p.status = "in-review";
    absl::MutexLock lock(&mu_);
    p.id = absl::StrFormat("KW%032x", next_id_++);
    port_orders_[p.id] = p;
    return http::Response::Json(201, order_json(p).dump());
  }
  const std::string id_prefix = "/v1/Porting/PortIn/";
  if (absl::StartsWith(request.path, id_prefix) && request.method == "GET") {
    absl::MutexLock lock(&mu_);
    auto it = port_orders_.find(request.path.substr(id_prefix.size()));
    if (it == port_orders_.end() || !absl::StartsWith(it->first, "KW")) {
      return TwilioError(404, 20404,
                         absl::StrCat("The requested resource ", request.path, " was not found"));
    }
    return http::Response::Json(200, order_json(it->second).dump());
  }
  return TwilioError(404, 20404,
                     absl::StrCat("The requested resource ", request.path, " was not found"));
}

void CarrierEmulator::SendTwilioMessageCallbacks(std::string message_id) {
  Message m;
  {
    absl::MutexLock lock(&mu_);
    auto it = messages_.find(message_id);
    if (it == messages_.end()) return;
    m = it->second;
  }
  const bool fail = IsFailingNumber(m.to);
  const std::vector<std::string> statuses =
      fail ? std::vector<std::string>{"sent", "failed"} : std::vector<std::string>{"sent", "delivered"};
  for (const std::string& status : statuses) {
    {
      absl::MutexLock lock(&mu_);
      messages_[message_id].status = status;
    }
    if (m.status_callback.empty()) continue;
    http::Params params = {{"AccountSid", options_.twilio_account_sid},
                           {"ApiVersion", "2010-04-01"},
                           {"From", m.from},
                           {"MessageSid", m.id},
                           {"MessageStatus", status},
                           {"SmsSid", m.id},
                           {"SmsStatus", status},
                           {"To", m.to}};
    if (status == "failed") params.emplace_back("ErrorCode", "30003");
    http::HttpRequest hook;
    hook.method = "POST";
    hook.url = m.status_callback;
    hook.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                    {"X-Twilio-Signature", TwilioSignatureFor(m.status_callback, params)}};
    hook.body = EncodeForm(params);
    DeliverAsync("", std::move(hook), json::object());
  }
}

// ------------------------------------------------------------------------------------------
// TwiML interpreter
// ------------------------------------------------------------------------------------------

http::Params CarrierEmulator::TwilioCallParams(const std::string& call_id) {
  absl::MutexLock lock(&mu_);
  const Call& c = calls_[call_id];
  return http::Params{{"AccountSid", options_.twilio_account_sid},
                      {"ApiVersion", "2010-04-01"},
                      {"CallSid", call_id},
                      {"CallStatus", c.status},
                      {"Called", c.to},
                      {"Caller", c.from},
                      {"Direction", c.direction},
                      {"From", c.from},
                      {"To", c.to}};
}

std::optional<std::string> CarrierEmulator::FetchTwiml(const std::string& call_id,
                                                       const std::string& url,
                                                       const std::string& method,
                                                       const http::Params& params,
                                                       const std::string& kind) {
  if (!IsHttpUrl(url)) return std::nullopt;
  http::HttpRequest hook;
  std::string signed_url = url;
  http::Params signed_params = params;
  if (method == "GET") {
    signed_url = absl::StrCat(url, absl::StrContains(url, '?') ? "&" : "?", EncodeForm(params));
    signed_params.clear();
    hook.method = "GET";
  } else {
    hook.method = "POST";
    hook.body = EncodeForm(params);
    hook.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  }
  hook.url = signed_url;
  hook.headers.emplace_back("X-Twilio-Signature", TwilioSignatureFor(signed_url, signed_params));
  json record = {{"kind", kind}, {"method", hook.method}, {"params", json::object()}};
  for (const auto& [k, v] : params) record["params"][k] = v;
  auto response = SendWebhook(call_id, std::move(hook), std::move(record));
  if (!response.ok() || response->status / 100 != 2) return std::nullopt;
  return response->body;
}

absl::StatusOr<json> CarrierEmulator::RunTwilioScenario(Call call) {
  std::string voice_url, status_callback;
  {
    absl::MutexLock lock(&mu_);
    bool found = false;
    for (const auto& [id, n] : numbers_) {
      if (n.phone_number == call.to && n.carrier == "twilio") {
        voice_url = n.voice_url;
        status_callback = n.status_callback;
        found = true;
      }
    }
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("scenario.to: ", call.to, " is not a Twilio number of the emulator"));
    }
    call.id = absl::StrFormat("CA%032x", next_id_++);
  }
  if (voice_url.empty() && !options_.webhook_base_url.empty()) {
    voice_url = options_.webhook_base_url + "/webhooks/twilio/voice";
  }
  if (voice_url.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("scenario.to: ", call.to, " has no VoiceUrl and no webhook base URL is set"));
  }
  call.direction = "inbound";
  call.status = "ringing";
  call.status_callback = status_callback;
  const std::string call_id = call.id;
  {
    absl::MutexLock lock(&mu_);
    calls_[call_id] = call;
  }
  std::optional<std::string> twiml =
      FetchTwiml(call_id, voice_url, "POST", TwilioCallParams(call_id), "voice");
  {
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    if (!twiml) {
      c.steps.push_back({{"verb", "Webhook"}, {"details", {{"url", voice_url}}},
                         {"outcome", "failed"}, {"at_s", c.sim_time}});
      c.status = "failed";
      c.ended = true;
      c.end_reason = "webhook failed";
    } else if (!c.ended) {
      c.status = "in-progress";
    }
  }
  InterpretTwiml(call_id, voice_url, std::move(twiml));
  FinishTwilioCall(call_id);
  absl::MutexLock lock(&mu_);
  json result = CallResultLocked(calls_[call_id]);
  result.erase("done");
  result.erase("direction");
  return result;
}

void CarrierEmulator::PlayTwilioRestCall(const std::string& call_id) {
  Callee far_end;
  std::string url, twiml, method = "POST";
  bool answered = false;
  {
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    if (!c.ended) {
      c.status = "ringing";
      far_end = FindCallee(c.callees, c.default_callee, c.to);
      json details = {{"to", c.to}, {"from", c.from}, {"timeout", c.ring_timeout_s}};
      const std::string outcome = RingCallee(c, far_end);
      answered = outcome == "answered";
      if (answered) c.caller = far_end.actions;  // the callee acts on the call's instructions
      c.steps.push_back({{"verb", "Call"}, {"details", details}, {"outcome", outcome},
                         {"at_s", c.sim_time}});
      if (!answered) {
        c.ended = true;
        c.end_reason = outcome;
      }
      // A modification made while the call was queued or ringing replaces its instructions.
      if (answered && c.pending) {
        url = c.pending->twiml.empty() ? c.pending->url : "";
        method = c.pending->method;
        twiml = c.pending->twiml;
        c.pending.reset();
      } else {
        url = c.webhook_url;
        twiml = c.twiml;
      }
    }
  }
  if (answered) {
    std::optional<std::string> document;
    if (!twiml.empty()) {
      document = twiml;
    } else {
      document = FetchTwiml(call_id, url, method, TwilioCallParams(call_id), "voice");
      if (!document) {
        absl::MutexLock lock(&mu_);
        Call& c = calls_[call_id];
        c.steps.push_back({{"verb", "Webhook"}, {"details", {{"url", url}}},
                           {"outcome", "failed"}, {"at_s", c.sim_time}});
        c.status = "failed";
        c.ended = true;
        c.end_reason = "webhook failed";
      }
    }
    InterpretTwiml(call_id, url, std::move(document));
  }
  FinishTwilioCall(call_id);
}

void CarrierEmulator::InterpretTwiml(const std::string& call_id, std::string doc_url,
                                     std::optional<std::string> twiml) {
  auto with_call = [&](auto&& fn) {
    absl::MutexLock lock(&mu_);
    fn(calls_[call_id]);
  };
  auto add_step = [&](const std::string& verb, json details, const std::string& outcome) {
    with_call([&](Call& c) {
      c.steps.push_back({{"verb", verb}, {"details", std::move(details)}, {"outcome", outcome},
                         {"at_s", c.sim_time}});
    });
  };
  auto advance = [&](double seconds) { with_call([&](Call& c) { c.sim_time += seconds; }); };
  auto base_params = [&]() { return TwilioCallParams(call_id); };
  // A pending live modification: the new document (inline, or fetched from its Url).
  auto take_modification = [&](std::string* next_url) -> std::optional<std::string> {
    std::optional<Modification> m;
    with_call([&](Call& c) {
      m = std::move(c.pending);
      c.pending.reset();
    });
    if (!m) return std::nullopt;
    if (!m->twiml.empty()) {
      *next_url = doc_url;
      return m->twiml;
    }
    *next_url = m->url;
    std::optional<std::string> fetched =
        FetchTwiml(call_id, m->url, m->method, base_params(), "modify");
    if (!fetched) add_step("Webhook", {{"url", m->url}}, "failed");  // the call hangs up
    return fetched;
  };
  // The caller's (or REST callee's) next action if it is for `verb`.
  auto next_action = [&](const std::string& verb, CallerAction* out) {
    bool found = false;
    with_call([&](Call& c) {
      if (!c.caller.empty() && c.caller.front().on == verb) {
        *out = c.caller.front();
        c.caller.pop_front();
        found = true;
      }
    });
    return found;
  };

  // The party holds the verb open: a "waiting" step until the call is modified or hung up
  // ("interrupted", true) or scenario_timeout passes (the step is removed, false).
  auto hold_verb = [&](const std::string& verb, const json& details) {
    size_t index = 0;
    with_call([&](Call& c) {
      c.steps.push_back({{"verb", verb}, {"details", details}, {"outcome", "waiting"},
                         {"at_s", c.sim_time}});
      index = c.steps.size() - 1;
    });
    const bool updated = WaitForUpdate(call_id);
    with_call([&](Call& c) {
      if (updated) {
        c.steps[index]["outcome"] = "interrupted";
      } else {
        c.steps.erase(index);
      }
    });
    return updated;
  };

  int documents = 0;
  while (twiml && documents++ < options_.max_twiml_documents) {
    pugi::xml_document doc;
    if (!doc.load_string(twiml->c_str()) || !doc.child("Response")) {
      add_step("Response", {{"url", doc_url}}, "invalid TwiML");
      with_call([&](Call& c) {
        c.status = "failed";
        c.ended = true;
        c.end_reason = "invalid TwiML";
      });
      break;
    }
    std::optional<std::string> next;  // the next TwiML document, if a verb fetched one
    std::string next_url;
    bool hangup = false;
    for (pugi::xml_node verb : doc.child("Response").children()) {
      if (verb.type() != pugi::node_element) continue;
      bool ended = false, callee_hangs_up = false, modified = false;
      with_call([&](Call& c) {
        ended = c.ended || shutting_down_;  // hung up through the REST API, or Stop()
        callee_hangs_up = c.hangup_at_s > 0 && c.sim_time >= c.hangup_at_s;
        modified = c.pending.has_value();
      });
      if (ended) {
        hangup = true;
        break;
      }
      if (callee_hangs_up) {
        add_step("Hangup", {{"source", "callee"}}, "callee hung up");
        hangup = true;
        break;
      }
      if (modified) {
        next = take_modification(&next_url);
        break;
      }
      const std::string name = verb.name();
      const std::string text = Trim(verb.text().get());
      auto attr = [&](const char* a, const char* fallback) {
        pugi::xml_attribute at = verb.attribute(a);
        return at ? std::string(at.value()) : std::string(fallback);
      };
      if (name == "Say") {
        add_step("Say", {{"text", text}, {"voice", attr("voice", "")},
                         {"language", attr("language", "")}}, "spoken");
        advance(WordsSeconds(text));
      } else if (name == "Play") {
        add_step("Play", {{"url", text}, {"digits", attr("digits", "")}}, "played");
        advance(3);
      } else if (name == "Pause") {
        double length = 1;
        (void)absl::SimpleAtod(attr("length", "1"), &length);
        add_step("Pause", {{"length", length}}, "paused");
        advance(length);
      } else if (name == "Gather") {
        json prompts = json::array();
        for (pugi::xml_node child : verb.children()) {
          if (child.type() != pugi::node_element) continue;
          prompts.push_back({{"verb", child.name()}, {"text", Trim(child.text().get())}});
          advance(WordsSeconds(child.text().get()));
        }
        CallerAction action;
        const bool has_action = next_action("gather", &action);
        std::string digits = has_action ? action.press : "";
        const bool pressed = !digits.empty();
        const std::string finish = attr("finishOnKey", "#");
        int num_digits = 0;
        (void)absl::SimpleAtoi(attr("numDigits", "0"), &num_digits);
        if (!finish.empty()) {
          const size_t pos = digits.find(finish);
          if (pos != std::string::npos) digits.resize(pos);
        }
        if (num_digits > 0 && digits.size() > static_cast<size_t>(num_digits)) {
          digits.resize(static_cast<size_t>(num_digits));
        }
        double timeout = 5;
        (void)absl::SimpleAtod(attr("timeout", "5"), &timeout);
        json details = {{"prompts", prompts}, {"numDigits", num_digits},
                        {"timeout", timeout}, {"action", attr("action", "")}};
        if (has_action && action.hold && hold_verb("Gather", details)) {
          continue;  // the next iteration applies the modification or ends the call
        }
        if (!pressed || digits.empty()) {
          advance(timeout);
          add_step("Gather", details, "timeout");
          if (attr("actionOnEmptyResult", "false") != "true") continue;
        } else {
          advance(0.5 * digits.size());
          details["digits"] = digits;
          add_step("Gather", details, absl::StrCat("digits:", digits));
        }
        next_url = Resolve(doc_url, attr("action", ""));
        http::Params params = base_params();
        params.emplace_back("Digits", digits);
        params.emplace_back("FinishedOnKey", pressed ? finish : "");
        next = FetchTwiml(call_id, next_url, attr("method", "POST"), params, "gather");
        if (!next) hangup = true;
        break;
      } else if (name == "Dial" && verb.child("Conference")) {
        // <Dial><Conference>: the call joins the conference until it leaves it (README
        // "Conferences"); then its TwiML continues after the Dial (the action, if any).
        pugi::xml_node noun = verb.child("Conference");
        std::map<std::string, std::string> attrs;
        for (pugi::xml_attribute a : noun.attributes()) attrs[a.name()] = a.value();
        double talk = 0;
        const ConferenceExit exit =
            RunTwilioConference(call_id, Trim(noun.text().get()), attrs, doc_url, &talk);
        if (exit == ConferenceExit::kModified) continue;  // the next iteration applies it
        if (exit == ConferenceExit::kCallEnded) {
          hangup = true;
          break;
        }
        if (exit == ConferenceExit::kTalkOver || exit == ConferenceExit::kTimeout) {
          add_step("Hangup", {{"source", exit == ConferenceExit::kTimeout ? "timeout" : "callee"}},
                   "callee hung up");
          hangup = true;
          break;
        }
        // Removed, or the conference ended: the Dial is over.
        const std::string action = attr("action", "");
        if (action.empty()) continue;
        next_url = Resolve(doc_url, action);
        http::Params params = base_params();
        params.emplace_back("DialCallStatus", "completed");
        params.emplace_back("DialCallDuration", FormatSeconds(talk));
        next = FetchTwiml(call_id, next_url, attr("method", "POST"), params, "dial");
        if (!next) hangup = true;
        break;
      } else if (name == "Dial") {
        double timeout = 30;
        (void)absl::SimpleAtod(attr("timeout", "30"), &timeout);
        // One child leg per noun; all ring at once (Twilio), or in turn with sequential="true".
        struct Leg {
          std::string to;  // the dialled party as Twilio names it: E.164, client:<id>, sip:...
          std::string call_sid, status_callback, status_method;
          std::set<std::string> events;  // statusCallbackEvent
          Callee callee;
          std::string outcome;  // answered | canceled | busy | failed | no-answer
          int sequence = 0;
        };
        std::vector<Leg> legs;
        for (pugi::xml_node child : verb.children()) {
          if (child.type() != pugi::node_element) continue;
          Leg leg;
          const std::string value = Trim(child.text().get());
          leg.to = std::string(child.name()) == "Client" && !absl::StartsWith(value, "client:")
                       ? absl::StrCat("client:", value)
                       : value;
          const std::string cb = child.attribute("statusCallback").value();
          if (!cb.empty()) leg.status_callback = Resolve(doc_url, cb);
          leg.status_method = child.attribute("statusCallbackMethod")
                                  ? child.attribute("statusCallbackMethod").value()
                                  : "POST";
          for (absl::string_view e : absl::StrSplit(child.attribute("statusCallbackEvent").value(),
                                                    ' ', absl::SkipEmpty())) {
            leg.events.insert(std::string(e));
          }
          if (leg.events.empty()) leg.events.insert("completed");  // Twilio's default
          legs.push_back(std::move(leg));
        }
        if (legs.empty() && !text.empty()) legs.push_back(Leg{.to = text});
        std::string parent_from, caller_id = attr("callerId", "");
        with_call([&](Call& c) {
          parent_from = c.from;
          for (Leg& leg : legs) leg.callee = FindCallee(c.callees, c.default_callee, leg.to);
        });
        for (Leg& leg : legs) leg.call_sid = NewId("CA");
        // The child leg's status callback for `event` (when the noun asked for it), signed.
        auto leg_callback = [&](Leg& leg, const std::string& event, const std::string& status,
                                double duration) {
          if (leg.status_callback.empty() || !leg.events.count(event)) return;
          http::Params params = {{"AccountSid", options_.twilio_account_sid},
                                 {"ApiVersion", "2010-04-01"},
                                 {"CallSid", leg.call_sid},
                                 {"CallStatus", status},
                                 {"CallbackSource", "call-progress-events"},
                                 {"Called", leg.to},
                                 {"Caller", caller_id.empty() ? parent_from : caller_id},
                                 {"Direction", "outbound-dial"},
                                 {"From", caller_id.empty() ? parent_from : caller_id},
                                 {"ParentCallSid", call_id},
                                 {"SequenceNumber", absl::StrCat(leg.sequence++)},
                                 {"Timestamp", Rfc2822(absl::Now())},
                                 {"To", leg.to}};
          if (event == "completed") params.emplace_back("CallDuration", FormatSeconds(duration));
          (void)FetchTwiml(call_id, leg.status_callback, leg.status_method, params,
                           "dial-status");
        };
        auto answers = [&](const Leg& leg) {
          return leg.callee.outcome == "answered" && leg.callee.answer_after_s < timeout;
        };
        const bool sequential = attr("sequential", "false") == "true";
        Leg* winner = nullptr;
        std::string dial_status = "failed";
        double duration = 0;
        if (sequential) {
          // In turn: each leg rings until it answers, is busy, fails or times out.
          for (Leg& leg : legs) {
            leg_callback(leg, "initiated", "initiated", 0);
            leg_callback(leg, "ringing", "ringing", 0);
            if (answers(leg)) {
              advance(leg.callee.answer_after_s);
              winner = &leg;
              break;
            }
            leg.outcome = leg.callee.outcome == "busy" || leg.callee.outcome == "failed"
                              ? leg.callee.outcome
                              : "no-answer";
            advance(leg.outcome == "busy" ? 2 : leg.outcome == "failed" ? 1 : timeout);
            dial_status = leg.outcome;
            leg_callback(leg, "completed", leg.outcome, 0);
          }
        } else {
          // Simultaneous: the earliest answer wins (the first listed on a tie).
          for (Leg& leg : legs) {
            leg_callback(leg, "initiated", "initiated", 0);
            leg_callback(leg, "ringing", "ringing", 0);
            if (answers(leg) &&
                (winner == nullptr || leg.callee.answer_after_s < winner->callee.answer_after_s)) {
              winner = &leg;
            }
          }
          if (winner != nullptr) {
            advance(winner->callee.answer_after_s);
          } else if (!legs.empty()) {
            bool all_busy = true, all_failed = true;
            double rang = 0;
            for (Leg& leg : legs) {
              leg.outcome = leg.callee.outcome == "busy" || leg.callee.outcome == "failed"
                                ? leg.callee.outcome
                                : "no-answer";
              all_busy = all_busy && leg.outcome == "busy";
              all_failed = all_failed && leg.outcome == "failed";
              rang = std::max(rang, leg.outcome == "busy"     ? 2.0
                                    : leg.outcome == "failed" ? 1.0
                                                              : timeout);
            }
            advance(rang);
            dial_status = all_busy ? "busy" : all_failed ? "failed" : "no-answer";
            for (Leg& leg : legs) leg_callback(leg, "completed", leg.outcome, 0);
          }
        }
        if (winner != nullptr) {
          winner->outcome = "answered";
          leg_callback(*winner, "answered", "in-progress", 0);
          // The other legs still ringing are cancelled (sequential: the rest never rang).
          for (Leg& leg : legs) {
            if (!leg.outcome.empty()) continue;
            if (sequential) {
              leg.outcome = "not-dialed";  // after the answered leg: never rung
              continue;
            }
            leg.outcome = "canceled";
            leg_callback(leg, "completed", "canceled", 0);
          }
          if (!winner->callee.hold) {
            advance(winner->callee.talk_s);
            dial_status = "completed";
            duration = winner->callee.talk_s;
            leg_callback(*winner, "completed", "completed", duration);
          }
        }
        const std::string dial_sid = winner != nullptr ? winner->call_sid
                                     : legs.empty()    ? NewId("CA")
                                                       : legs.back().call_sid;
        auto dial_details = [&]() {
          json targets = json::array(), leg_details = json::array();
          for (const Leg& leg : legs) {
            targets.push_back(leg.to);
            leg_details.push_back(
                {{"to", leg.to}, {"call_sid", leg.call_sid}, {"outcome", leg.outcome}});
          }
          return json{{"targets", targets}, {"timeout", timeout},
                      {"callerId", caller_id},
                      {"ring", sequential ? "sequential" : "simultaneous"},
                      {"legs", leg_details},
                      {"answered", winner != nullptr ? winner->to : ""},
                      {"dial_call_sid", dial_sid},
                      {"duration", duration}};
        };
        const bool held = winner != nullptr && winner->callee.hold;
        if (held) {
          // A held bridge: the answered child leg becomes a call of its own (so it can be
          // hung up, POST /Calls/{child}.json Status=completed) and the Dial waits in real
          // time until the parent is modified or hung up, the child hangs up, the caller's
          // own hang-up time comes or scenario_timeout passes (the callee hangs up).
          const std::string leg_sid = winner->call_sid;
          with_call([&](Call& c) {
            Call leg;
            leg.id = leg_sid;
            leg.carrier = "twilio";
            leg.from = caller_id.empty() ? parent_from : caller_id;
            leg.to = winner->to;
            leg.direction = "outbound-dial";
            leg.status = "in-progress";
            leg.parent_call = call_id;
            leg.steps.push_back({{"verb", "Bridge"}, {"details", {{"parent_call", call_id}}},
                                 {"outcome", "answered"}, {"at_s", 0.0}});
            c.steps.push_back({{"verb", "Dial"}, {"details", dial_details()},
                               {"outcome", "waiting"}, {"at_s", c.sim_time}});
            c.bridge = Call::Bridge{.leg = leg_sid, .to = winner->to,
                                    .step = c.steps.size() - 1, .started = absl::Now()};
            calls_[leg_sid] = std::move(leg);
          });
          const BridgeEnd end = WaitForBridgeEnd(call_id, leg_sid, &duration);
          advance(duration);
          // The child leg got new TwiML (POST /Calls/{child}.json Url|Twiml): it leaves the
          // bridge alive and runs it on a player of its own; the Dial completes as if the leg
          // had hung up (its action is requested), the leg's noun callback waits for its end.
          const bool leg_moved = end == BridgeEnd::kLegModified;
          const bool from_parent = end == BridgeEnd::kModified ||
                                   end == BridgeEnd::kParentEnded ||
                                   end == BridgeEnd::kCallerHungUp;
          dial_status = "completed";
          with_call([&](Call& c) {
            json& step = c.steps[c.bridge->step];
            step["outcome"] = from_parent ? "interrupted" : "completed";
            step["details"]["duration"] = duration;
            c.bridge.reset();
            Call& leg = calls_[leg_sid];
            if (leg_moved) {
              leg.sim_time = duration;
              leg.callees = c.callees;
              leg.default_callee = c.default_callee;
              if (winner->events.count("completed")) {
                leg.status_callback = winner->status_callback;
                leg.status_callback_method = winner->status_method;
              }
              leg.steps.push_back({{"verb", "Bridge"}, {"details", {{"parent_call", call_id}}},
                                   {"outcome", "left"}, {"at_s", duration}});
              return;
            }
            // api: POST /Calls/{child}.json Status=completed; parent: the parent left the
            // bridge; callee: the far end hung up at scenario_timeout.
            const std::string source = leg.ended && leg.end_reason != "callee" ? "api"
                                       : from_parent                          ? "parent"
                                                                              : "callee";
            leg.status = "completed";
            leg.ended = true;
            if (leg.end_reason.empty()) leg.end_reason = source;
            leg.sim_time = duration;
            leg.steps.push_back({{"verb", "Hangup"}, {"details", {{"source", source}}},
                                 {"outcome", "hung up"}, {"at_s", duration}});
            if (!leg.active_recording.empty()) {
              auto rec = recordings_.find(leg.active_recording);
              leg.active_recording.clear();
              if (rec != recordings_.end()) CompleteTwilioRecordingLocked(rec->second);
            }
            leg.finished = true;
          });
          if (leg_moved) {
            StartPlayer([this, leg_sid] {
              InterpretTwiml(leg_sid, "", std::string("<Response/>"));  // takes the new TwiML
              FinishTwilioCall(leg_sid);
            });
          } else {
            leg_callback(*winner, "completed", "completed", duration);
          }
          if (end == BridgeEnd::kCallerHungUp) {
            // The caller hung up during the bridge: the call is over, no Dial action.
            add_step("Hangup", {{"source", "callee"}}, "callee hung up");
            hangup = true;
            break;
          }
          // Redirected out of the Dial (no action: Twilio does not request it) or hung up: the
          // next iteration applies the modification or ends the call.
          if (from_parent) continue;
        } else {
          add_step("Dial", dial_details(), dial_status);
        }
        const std::string action = attr("action", "");
        if (action.empty()) {
          if (held) continue;  // Twilio continues the document after the Dial
          if (dial_status == "completed") {
            hangup = true;  // the bridged parties talked, then the callee hung up
            break;
          }
          continue;
        }
        next_url = Resolve(doc_url, action);
        http::Params params = base_params();
        params.emplace_back("DialCallStatus", dial_status);
        params.emplace_back("DialCallSid", dial_sid);
        params.emplace_back("DialCallDuration", FormatSeconds(duration));
        params.emplace_back("DialBridged", dial_status == "completed" ? "true" : "false");
        next = FetchTwiml(call_id, next_url, attr("method", "POST"), params, "dial");
        if (!next) hangup = true;
        break;
      } else if (name == "Record") {
        CallerAction action;
        const bool has_action = next_action("record", &action);
        double max_length = 3600, silence = 5;
        (void)absl::SimpleAtod(attr("maxLength", "3600"), &max_length);
        (void)absl::SimpleAtod(attr("timeout", "5"), &silence);
        json details = {{"maxLength", max_length}, {"playBeep", attr("playBeep", "true")},
                        {"action", attr("action", "")}};
        if (has_action && action.hold && hold_verb("Record", details)) continue;
        if (!has_action || action.hold) {
          advance(silence);
          add_step("Record", details, "empty");
          continue;  // Twilio does not call action for an empty recording
        }
        double seconds = 0;
        std::string source;
        Recording rec;
        rec.wav = RecordingWav(&action, &seconds, &source);
        seconds = std::min(seconds, max_length);
        rec.id = NewId("RE");
        rec.carrier = "twilio";
        rec.call_id = call_id;
        rec.duration_s = seconds;
        rec.source = "RecordVerb";
        {
          absl::MutexLock lock(&mu_);
          recordings_[rec.id] = rec;
        }
        advance(seconds + silence);
        const std::string recording_url = absl::StrCat(
            PublicUrl(), "/2010-04-01/Accounts/", options_.twilio_account_sid, "/Recordings/",
            rec.id);
        details["recording_sid"] = rec.id;
        details["recording_url"] = recording_url;
        details["duration"] = FormatSeconds(seconds);
        details["audio"] = source;
        add_step("Record", details, "recorded");
        const std::string status_cb = attr("recordingStatusCallback", "");
        if (!status_cb.empty()) {
          http::Params params = {{"AccountSid", options_.twilio_account_sid},
                                 {"CallSid", call_id},
                                 {"RecordingChannels", "1"},
                                 {"RecordingDuration", FormatSeconds(seconds)},
                                 {"RecordingSid", rec.id},
                                 {"RecordingSource", "RecordVerb"},
                                 {"RecordingStartTime", Rfc2822(absl::Now())},
                                 {"RecordingStatus", "completed"},
                                 {"RecordingUrl", recording_url}};
          (void)FetchTwiml(call_id, Resolve(doc_url, status_cb),
                           attr("recordingStatusCallbackMethod", "POST"), params,
                           "recording-status");
        }
        next_url = Resolve(doc_url, attr("action", ""));
        http::Params params = base_params();
        params.emplace_back("RecordingUrl", recording_url);
        params.emplace_back("RecordingDuration", FormatSeconds(seconds));
        params.emplace_back("RecordingSid", rec.id);
        params.emplace_back("Digits", "");
        next = FetchTwiml(call_id, next_url, attr("method", "POST"), params, "record");
        if (!next) hangup = true;
        break;
      } else if (name == "Redirect") {
        next_url = Resolve(doc_url, text);
        add_step("Redirect", {{"url", next_url}}, "redirected");
        next = FetchTwiml(call_id, next_url, attr("method", "POST"), base_params(), "redirect");
        if (!next) hangup = true;
        break;
      } else if (name == "Hangup") {
        add_step("Hangup", json::object(), "hung up");
        hangup = true;
        break;
      } else if (name == "Reject") {
        const std::string reason = attr("reason", "rejected");
        add_step("Reject", {{"reason", reason}}, reason);
        with_call([&](Call& c) { c.status = reason == "busy" ? "busy" : "no-answer"; });
        hangup = true;
        break;
      } else {
        add_step(name, {{"text", text}}, "unsupported");
      }
    }
    // The document ran out of verbs while a modification was pending: it continues the call.
    if (!hangup && !next) {
      bool ended = false;
      with_call([&](Call& c) { ended = c.ended; });
      if (!ended) next = take_modification(&next_url);
    }
    if (hangup || !next) break;
    twiml = std::move(next);
    doc_url = next_url;
  }
}

void CarrierEmulator::FinishTwilioCall(const std::string& call_id) {
  // The call ends: completed unless it already failed, was rejected or never answered.
  std::string status_callback, method = "POST", parent;
  double duration = 0;
  {
    absl::MutexLock lock(&mu_);
    Call& c = calls_[call_id];
    method = c.status_callback_method;
    parent = c.parent_call;
    // A REST call canceled before its far end answered stays canceled.
    bool answered = c.direction != "outbound-api";
    for (const json& step : c.steps) {
      answered = answered || (step["verb"] == "Call" && step["outcome"] == "answered");
    }
    if (c.status == "in-progress" || c.status == "ringing" || c.status == "queued" ||
        (c.status == "canceled" && answered)) {
      c.status = "completed";
    }
    c.ended = true;
    duration = c.status == "completed" ? c.sim_time - c.answered_at_s : 0;
    status_callback = c.status_callback;
    // A recording still running ends with the call (its RecordingStatusCallback is queued).
    if (!c.active_recording.empty()) {
      auto rec = recordings_.find(c.active_recording);
      c.active_recording.clear();
      if (rec != recordings_.end() && rec->second.live) CompleteTwilioRecordingLocked(rec->second);
    }
  }
  if (!status_callback.empty()) {
    http::Params params = TwilioCallParams(call_id);
    params.emplace_back("CallDuration", FormatSeconds(duration));
    params.emplace_back("CallbackSource", "call-progress-events");
    if (!parent.empty()) params.emplace_back("ParentCallSid", parent);
    params.emplace_back("SequenceNumber", "0");
    params.emplace_back("Timestamp", Rfc2822(absl::Now()));
    (void)FetchTwiml(call_id, status_callback, method, params,
                     parent.empty() ? "status" : "dial-status");
  }
  absl::MutexLock lock(&mu_);
  calls_[call_id].finished = true;
}

void CarrierEmulator::CompleteTwilioRecordingLocked(Recording& r) {
  if (r.status == "completed") return;
  r.status = "completed";
  r.duration_s = LiveSeconds(r.started);
  r.wav = MakeWav(r.duration_s);
  if (std::count(r.status_callback_events.begin(), r.status_callback_events.end(), "completed")) {
    QueueTwilioRecordingCallbackLocked(r, "completed");
  }
}

void CarrierEmulator::QueueTwilioRecordingCallbackLocked(const Recording& r,
                                                         const std::string& status) {
  if (r.status_callback.empty()) return;
  http::Params params = {{"AccountSid", options_.twilio_account_sid},
                         {"CallSid", r.call_id},
                         {"RecordingChannels", "1"}};
  if (status == "completed") params.emplace_back("RecordingDuration", FormatSeconds(r.duration_s));
  params.emplace_back("RecordingSid", r.id);
  params.emplace_back("RecordingSource", r.source);
  params.emplace_back("RecordingStartTime", Rfc2822(r.started));
  params.emplace_back("RecordingStatus", status);
  params.emplace_back("RecordingUrl",
                      absl::StrCat(PublicUrlLocked(), "/2010-04-01/Accounts/",
                                   options_.twilio_account_sid, "/Recordings/", r.id));
  const std::string call_id = r.call_id, url = r.status_callback,
                    method = r.status_callback_method;
  ++calls_[call_id].pending_events;  // the call is not done before its callback went out
  Enqueue([this, call_id, url, method, params = std::move(params)] {
    (void)FetchTwiml(call_id, url, method, params, "recording-status");
    absl::MutexLock lock(&mu_);
    --calls_[call_id].pending_events;
  });
}

}  // namespace switchboard::carrier_emulator
