#include "tools/carrier-emulator/emulator.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/log.h"
#include "libs/crypto/ed25519.h"
#include "libs/crypto/encoding.h"
#include "tools/carrier-emulator/speech.h"

namespace switchboard::carrier_emulator {

using nlohmann::json;

namespace {

void PutLe(std::string& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

bool IsDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Phoneword letters to keypad digits (Twilio's Contains accepts [0-9a-zA-Z]).
char KeypadDigit(char c) {
  static const char* kKeys = "22233344455566677778889999";
  if (c >= 'a' && c <= 'z') return kKeys[c - 'a'];
  if (c >= 'A' && c <= 'Z') return kKeys[c - 'A'];
  return c;
}

// Twilio Contains: '*' one character, '+' anchors at the start, '$' at the end.
bool MatchesContains(const std::string& national, std::string pattern) {
  if (pattern.empty()) return true;
  bool anchor_start = false, anchor_end = false;
  if (pattern.front() == '+') {
    anchor_start = true;
    pattern.erase(0, 1);
  }
  if (!pattern.empty() && pattern.back() == '$') {
    anchor_end = true;
    pattern.pop_back();
  }
  for (char& c : pattern) c = KeypadDigit(c);
  if (pattern.size() > national.size()) return false;
  for (size_t start = 0; start + pattern.size() <= national.size(); ++start) {
    if (anchor_start && start != 0) break;
    if (anchor_end && start + pattern.size() != national.size()) continue;
    bool ok = true;
    for (size_t i = 0; i < pattern.size() && ok; ++i) {
      ok = pattern[i] == '*' || pattern[i] == national[start + i];
    }
    if (ok) return true;
  }
  return false;
}

using CallerAction = CarrierEmulator::CallerAction;
using Callee = CarrierEmulator::Callee;

// A scenario's `caller` list (also a callee's `actions`); `field` names it in errors.
absl::StatusOr<std::deque<CallerAction>> ParseCallerActions(const std::string& field,
                                                            const json& list) {
  if (!list.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be an array"));
  }
  std::deque<CallerAction> actions;
  for (const json& a : list) {
    CallerAction action;
    if (!a.is_object() || !a.contains("on") || !a["on"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[].on: required (gather|record)"));
    }
    action.on = a["on"].get<std::string>();
    if (action.on != "gather" && action.on != "record") {
      return absl::InvalidArgumentError(absl::StrCat(field, "[].on: must be gather or record"));
    }
    for (const char* f : {"press", "audio", "speak"}) {
      if (a.contains(f) && !a[f].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(field, "[].", f, ": string"));
      }
    }
    if (a.contains("hold") && !a["hold"].is_boolean()) {
      return absl::InvalidArgumentError(absl::StrCat(field, "[].hold: boolean"));
    }
    action.press = a.value("press", "");
    action.audio = a.value("audio", "");
    action.speak = a.value("speak", "");
    action.hold = a.value("hold", false);
    actions.push_back(std::move(action));
  }
  return actions;
}

// One callee: "no-answer" | "busy" | "failed" | {answer_after_s, talk_s, actions}.
absl::StatusOr<Callee> ParseCallee(const std::string& field, const json& spec) {
  Callee callee;
  if (spec.is_string()) {
    callee.outcome = spec.get<std::string>();
    if (callee.outcome != "no-answer" && callee.outcome != "busy" && callee.outcome != "failed") {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": \"no-answer\", \"busy\", \"failed\" or an object"));
    }
    return callee;
  }
  if (!spec.is_object()) return absl::InvalidArgumentError(absl::StrCat(field, ": bad type"));
  callee.outcome = "answered";
  for (const char* f : {"answer_after_s", "talk_s"}) {
    if (spec.contains(f) && !spec[f].is_number()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".", f, ": must be a number"));
    }
  }
  callee.answer_after_s = spec.value("answer_after_s", 0.0);
  callee.talk_s = spec.value("talk_s", 0.0);
  if (callee.answer_after_s < 0 || callee.talk_s < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": times must be >= 0"));
  }
  if (spec.contains("hold") && !spec["hold"].is_boolean()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".hold: must be a boolean"));
  }
  callee.hold = spec.value("hold", false);
  if (callee.hold && callee.talk_s > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".hold: not with talk_s (a held bridge lasts until it is ended)"));
  }
  if (spec.contains("actions")) {
    auto actions = ParseCallerActions(absl::StrCat(field, ".actions"), spec["actions"]);
    if (!actions.ok()) return actions.status();
    callee.actions = std::move(*actions);
  }
  return callee;
}

}  // namespace

std::string EncodeForm(const http::Params& params) {
  std::string form;
  for (const auto& [k, v] : params) {
    absl::StrAppend(&form, form.empty() ? "" : "&", http::PercentEncode(k), "=",
                    http::PercentEncode(v));
  }
  return form;
}

std::string MakeWav(double seconds, bool tone) {
  constexpr uint32_t kRate = 8000;
  const uint32_t samples = static_cast<uint32_t>(std::max(0.0, seconds) * kRate);
  const uint32_t data_bytes = samples * 2;
  std::string out = "RIFF";
  PutLe(out, 36 + data_bytes, 4);
  out += "WAVEfmt ";
  PutLe(out, 16, 4);         // fmt chunk size
  PutLe(out, 1, 2);          // PCM
  PutLe(out, 1, 2);          // mono
  PutLe(out, kRate, 4);      // sample rate
  PutLe(out, kRate * 2, 4);  // byte rate
  PutLe(out, 2, 2);          // block align
  PutLe(out, 16, 2);         // bits per sample
  out += "data";
  PutLe(out, data_bytes, 4);
  out.reserve(out.size() + data_bytes);
  for (uint32_t i = 0; i < samples; ++i) {
    double v = tone ? std::sin(2 * M_PI * 440.0 * i / kRate) * 8000.0 : 0.0;
    PutLe(out, static_cast<uint16_t>(static_cast<int16_t>(v)), 2);
  }
  return out;
}

absl::StatusOr<std::vector<Fault>> ParseFaults(const json& input) {
  std::vector<Fault> faults;
  const json list = input.is_array() ? input : json::array({input});
  for (const json& item : list) {
    if (!item.is_object()) return absl::InvalidArgumentError("fault: must be a JSON object");
    Fault fault;
    if (item.contains("kind")) {
      if (!item["kind"].is_string() ||
          (item["kind"] != "request" && item["kind"] != "webhook")) {
        return absl::InvalidArgumentError("fault.kind: \"request\" or \"webhook\"");
      }
      fault.kind = item["kind"].get<std::string>();
    }
    for (const char* flag : {"duplicate", "reorder", "after"}) {
      if (item.contains(flag) && !item[flag].is_boolean()) {
        return absl::InvalidArgumentError(absl::StrCat("fault.", flag, ": boolean"));
      }
    }
    fault.duplicate = item.value("duplicate", false);
    fault.reorder = item.value("reorder", false);
    fault.after = item.value("after", false);
    if (fault.kind == "request" && (fault.duplicate || fault.reorder)) {
      return absl::InvalidArgumentError(
          "fault.duplicate/reorder: only for kind \"webhook\"");
    }
    if (fault.kind == "webhook" && fault.after) {
      return absl::InvalidArgumentError("fault.after: only for kind \"request\"");
    }
    if (item.contains("method")) {
      if (!item["method"].is_string()) return absl::InvalidArgumentError("fault.method: string");
      fault.method = item["method"].get<std::string>();
    }
    if (!item.contains("path_prefix") || !item["path_prefix"].is_string() ||
        item["path_prefix"].get<std::string>().empty() ||
        item["path_prefix"].get<std::string>()[0] != '/') {
      return absl::InvalidArgumentError("fault.path_prefix: required, a path starting with '/'");
    }
    fault.path_prefix = item["path_prefix"].get<std::string>();
    auto int_field = [&](const char* name, int lo, int hi, int* out) -> absl::Status {
      if (!item.contains(name)) return absl::OkStatus();
      if (!item[name].is_number_integer() || item[name].get<int64_t>() < lo ||
          item[name].get<int64_t>() > hi) {
        return absl::InvalidArgumentError(
            absl::StrCat("fault.", name, ": an integer in ", lo, "..", hi));
      }
      *out = item[name].get<int>();
      return absl::OkStatus();
    };
    if (auto s = int_field("status", 0, 599, &fault.status); !s.ok()) return s;
    if (fault.kind == "webhook") {
      if (item.contains("status")) {
        return absl::InvalidArgumentError("fault.status: not used with kind \"webhook\"");
      }
      fault.status = 0;
    }
    if (fault.status != 0 && fault.status < 400) {
      return absl::InvalidArgumentError("fault.status: 0 (delay only) or 400..599");
    }
    if (auto s = int_field("times", 0, 1000000, &fault.times); !s.ok()) return s;
    if (auto s = int_field("delay_ms", 0, 60000, &fault.delay_ms); !s.ok()) return s;
    faults.push_back(std::move(fault));
  }
  return faults;
}

CarrierEmulator::CarrierEmulator(EmulatorOptions options, std::unique_ptr<http::HttpClient> client)
    : options_(std::move(options)), client_(std::move(client)) {
  worker_ = std::thread([this] { WorkerLoop(); });
}

absl::StatusOr<std::unique_ptr<CarrierEmulator>> CarrierEmulator::Create(
    EmulatorOptions options, std::unique_ptr<http::HttpClient> client) {
  if (client == nullptr) return absl::InvalidArgumentError("client: required");
  if (options.twilio_account_sid.size() != 34 ||
      !absl::StartsWith(options.twilio_account_sid, "AC")) {
    return absl::InvalidArgumentError("twilio_account_sid: must be \"AC\" followed by 32 chars");
  }
  if (options.twilio_auth_token.empty()) {
    return absl::InvalidArgumentError("twilio_auth_token: required");
  }
  if (options.telnyx_api_key.empty()) return absl::InvalidArgumentError("telnyx_api_key: required");
  if (options.telnyx_public_key.empty() && options.telnyx_secret_key.empty()) {
    crypto::Ed25519KeyPair pair = crypto::Ed25519Generate();
    options.telnyx_public_key = pair.public_key;
    options.telnyx_secret_key = pair.secret_key;
  } else if (options.telnyx_public_key.size() != crypto::kEd25519PublicKeyBytes ||
             options.telnyx_secret_key.size() != crypto::kEd25519SecretKeyBytes) {
    return absl::InvalidArgumentError(
        "telnyx key pair: public key must be 32 bytes and secret key 64 bytes, both given");
  }
  if (options.webhook_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("webhook_timeout: must be positive");
  }
  if (options.scenario_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("scenario_timeout: must be positive");
  }
  return std::unique_ptr<CarrierEmulator>(
      new CarrierEmulator(std::move(options), std::move(client)));
}

CarrierEmulator::~CarrierEmulator() { Stop(); }

absl::Status CarrierEmulator::Start(http::ServerOptions options) {
  http::Router router;
  router.SetFallback([this](const http::Request& r) { return Handle(r); });
  const std::string address = options.address;
  auto server = http::Server::Start(std::move(options), std::move(router));
  if (!server.ok()) return server.status();
  server_ = std::move(*server);
  absl::MutexLock lock(&mu_);
  if (public_url_.empty()) {
    const bool v6 = absl::StrContains(address, ':');
    const std::string host = address == "0.0.0.0" ? "127.0.0.1" : address;
    public_url_ = absl::StrCat("http://", v6 ? "[" : "", host, v6 ? "]" : "", ":",
                               server_->port());
  }
  return absl::OkStatus();
}

int CarrierEmulator::port() const { return server_ ? server_->port() : 0; }

void CarrierEmulator::Stop() {
  if (server_) server_->Stop();
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;  // wakes held verbs
  }
  {
    absl::MutexLock lock(&players_mu_);
    players_closed_ = true;
    for (auto& [thread, done] : players_) {
      if (thread.joinable()) thread.join();
    }
    players_.clear();
  }
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_ && !worker_.joinable()) return;
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

void CarrierEmulator::SetPublicUrl(std::string url) {
  absl::MutexLock lock(&mu_);
  public_url_ = std::move(url);
}

std::string CarrierEmulator::PublicUrl() const {
  absl::MutexLock lock(&mu_);
  return public_url_;
}

std::string CarrierEmulator::TelnyxPublicKeyBase64() const {
  return crypto::Base64Encode(options_.telnyx_public_key);
}

void CarrierEmulator::AddFaults(std::vector<Fault> faults) {
  absl::MutexLock lock(&mu_);
  for (auto& f : faults) faults_.push_back(std::move(f));
}

void CarrierEmulator::ClearFaults() {
  absl::MutexLock lock(&mu_);
  faults_.clear();
}

uint64_t CarrierEmulator::RandomIdStart() {
  std::random_device seed;
  const uint64_t r = (static_cast<uint64_t>(seed()) << 32) | seed();
  return 1 + (r % (uint64_t{1} << 39));  // leaves 2^39 ids for the process
}

std::string CarrierEmulator::NewId(absl::string_view prefix) {
  uint64_t n;
  {
    absl::MutexLock lock(&mu_);
    n = next_id_++;
  }
  if (prefix == "uuid") {
    return absl::StrFormat("00000000-0000-4000-8000-%012x", n);
  }
  if (prefix == "num") return absl::StrCat(1293384261075731400ULL + n);
  // Twilio sids: two-letter prefix + 32 hex characters.
  return absl::StrFormat("%s%032x", std::string(prefix), n);
}

bool CarrierEmulator::IsFailingNumber(const std::string& number) const {
  for (const auto& n : options_.failing_numbers) {
    if (n == number) return true;
  }
  return false;
}

void CarrierEmulator::Enqueue(std::function<void()> task) {
  absl::MutexLock lock(&queue_mu_);
  if (stopping_) return;
  queue_.push_back(std::move(task));
}

void CarrierEmulator::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&queue_mu_);
      queue_mu_.Await(absl::Condition(
          +[](CarrierEmulator* self) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_tasks_;
    }
    task();
    bool idle;
    {
      absl::MutexLock lock(&queue_mu_);
      idle = queue_.empty();
    }
    if (idle && !held_.empty()) FlushHeld();
    absl::MutexLock lock(&queue_mu_);
    --running_tasks_;
  }
}

absl::StatusOr<http::HttpResponse> CarrierEmulator::SendWebhook(const std::string& call_id,
                                                                http::HttpRequest request,
                                                                json record) {
  request.timeout = options_.webhook_timeout;
  absl::StatusOr<http::HttpResponse> response = client_->Send(request);
  record["url"] = request.url;
  if (response.ok()) {
    record["status"] = response->status;
  } else {
    record["error"] = std::string(response.status().message());
  }
  // Never log userinfo (user:password@) a configured URL may carry.
  std::string logged_url = request.url;
  if (const size_t scheme = logged_url.find("://"); scheme != std::string::npos) {
    const size_t at = logged_url.find('@', scheme + 3);
    const size_t slash = logged_url.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      logged_url.replace(scheme + 3, at + 1 - (scheme + 3), "***@");
    }
  }
  log::Info("emulator webhook", {{"url", logged_url},
                                 {"status", response.ok() ? std::to_string(response->status)
                                                          : "transport error"}});
  if (!call_id.empty()) {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(call_id);
    if (it != calls_.end()) it->second.webhooks.push_back(std::move(record));
  }
  return response;
}

std::optional<Fault> CarrierEmulator::TakeFault(absl::string_view kind, absl::string_view method,
                                                absl::string_view path) {
  absl::MutexLock lock(&mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->kind != kind || (!it->method.empty() && it->method != method) ||
        !absl::StartsWith(path, it->path_prefix)) {
      continue;
    }
    Fault fault = *it;
    if (it->times > 0 && --it->times == 0) faults_.erase(it);
    return fault;
  }
  return std::nullopt;
}

bool CarrierEmulator::DeliverAsync(const std::string& call_id, http::HttpRequest request,
                                   json record) {
  // The URL's path: after "scheme://host", up to the query.
  absl::string_view url = request.url;
  size_t start = url.find("://");
  start = start == absl::string_view::npos ? 0 : url.find('/', start + 3);
  absl::string_view path = start == absl::string_view::npos ? "/" : url.substr(start);
  path = path.substr(0, path.find('?'));
  std::optional<Fault> fault = TakeFault("webhook", request.method, path);
  if (fault && fault->delay_ms > 0) absl::SleepFor(absl::Milliseconds(fault->delay_ms));
  if (fault && fault->reorder) {
    record["reordered"] = true;
    held_.push_back({call_id, std::move(request), std::move(record)});
    return true;
  }
  if (fault && fault->duplicate) {
    json copy = record;
    copy["duplicate"] = true;
    (void)SendWebhook(call_id, request, std::move(copy));
  }
  const std::string sent_url = request.url;
  auto response = SendWebhook(call_id, std::move(request), std::move(record));
  const bool delivered = response.ok() && response->status / 100 == 2;
  // Held webhooks for this URL go out after the one that overtook them.
  std::vector<Held> keep;
  for (Held& h : held_) {
    if (h.request.url == sent_url) {
      (void)SendWebhook(h.call_id, std::move(h.request), std::move(h.record));
    } else {
      keep.push_back(std::move(h));
    }
  }
  held_ = std::move(keep);
  return delivered;
}

void CarrierEmulator::FlushHeld() {
  std::vector<Held> held = std::move(held_);
  held_.clear();
  for (Held& h : held) (void)SendWebhook(h.call_id, std::move(h.request), std::move(h.record));
}

std::optional<http::Response> CarrierEmulator::ApplyFault(const http::Request& request,
                                                          std::optional<Fault>* after) {
  std::optional<Fault> found = TakeFault("request", request.method, request.path);
  if (!found) return std::nullopt;
  const Fault fault = *found;
  if (fault.delay_ms > 0) absl::SleepFor(absl::Milliseconds(fault.delay_ms));
  if (fault.status == 0) return std::nullopt;
  if (fault.after) {
    *after = fault;  // handled normally first; the answer is replaced afterwards
    return std::nullopt;
  }
  return FaultResponse(request, fault);
}

http::Response CarrierEmulator::FaultResponse(const http::Request& request, const Fault& fault) {
  const std::string message = absl::StrCat("injected fault: HTTP ", fault.status);
  if (absl::StartsWith(request.path, "/v2/")) {
    json body = {{"errors", json::array({{{"code", std::to_string(fault.status * 100)},
                                          {"title", fault.status == 503
                                                        ? "Service Unavailable"
                                                        : "Injected fault"},
                                          {"detail", message}}})}};
    return http::Response::Json(fault.status, body.dump());
  }
  const int code = fault.status == 503 ? 20503 : 20500;
  json body = {{"code", code},
               {"message", message},
               {"more_info", absl::StrCat("https://www.twilio.com/docs/errors/", code)},
               {"status", fault.status}};
  return http::Response::Json(fault.status, body.dump());
}

http::Response CarrierEmulator::Handle(const http::Request& request) {
  // Field type mismatches in JSON bodies ("to": 5) surface as nlohmann exceptions from
  // json::value(); they are the client's error.
  try {
    if (absl::StartsWith(request.path, "/emulator/")) return HandleAdmin(request);
    std::optional<Fault> after;
    if (auto fault = ApplyFault(request, &after)) return *fault;
    std::optional<http::Response> handled;
    if (absl::StartsWith(request.path, "/2010-04-01/") ||
        absl::StartsWith(request.path, "/v1/Porting/")) {
      handled = HandleTwilio(request);
    } else if (absl::StartsWith(request.path, "/v2/")) {
      handled = HandleTelnyx(request);
    }
    if (handled.has_value()) {
      // An "after" fault: the request took effect, the client sees the failure.
      if (after.has_value()) return FaultResponse(request, *after);
      return *handled;
    }
  } catch (const json::exception& e) {
    const std::string detail = absl::StrCat("a field has the wrong type: ", e.what());
    if (absl::StartsWith(request.path, "/v2/")) {
      json body = {{"errors", json::array({{{"code", "10015"},
                                            {"title", "Invalid parameter"},
                                            {"detail", detail}}})}};
      return http::Response::Json(422, body.dump());
    }
    return http::Response::JsonError(400, "invalid_argument", detail);
  }
  return http::Response::JsonError(404, "not_found", absl::StrCat("no route for ", request.path));
}

std::vector<const CarrierEmulator::Number*> CarrierEmulator::AvailableNumbers(
    const std::string& country, bool toll_free, const std::string& area_code,
    const std::string& contains, size_t limit) {
  std::vector<const Number*> out;
  if (country != "US" && country != "CA") return out;
  std::vector<std::string> codes;
  if (!area_code.empty()) {
    codes.push_back(area_code);
  } else if (toll_free) {
    codes = {"800", "888", "877"};
  } else {
    codes = {"212", "415", "646", "917"};
  }
  for (const std::string& code : codes) {
    const std::string key = absl::StrCat(toll_free ? "tollfree:" : "local:", code);
    auto& pool = pools_[key];
    if (pool.empty()) {
      for (int i = 0; i < 100; ++i) {  // NXX-555-01xx, deterministic
        Number n;
        n.phone_number = absl::StrFormat("+1%s55501%02d", code, i);
        n.friendly_name = absl::StrFormat("(%s) 555-01%02d", code, i);
        pool.push_back(std::move(n));
      }
    }
    for (const Number& n : pool) {
      if (out.size() >= limit) return out;
      if (IsOwned(n.phone_number)) continue;
      if (!MatchesContains(n.phone_number.substr(2), contains)) continue;
      out.push_back(&n);
    }
  }
  return out;
}

bool CarrierEmulator::IsOwned(const std::string& phone_number) const {
  for (const auto& [id, n] : numbers_) {
    if (n.phone_number == phone_number) return true;
  }
  return false;
}

std::string CarrierEmulator::RecordingWav(const CallerAction* action, double* seconds,
                                          std::string* source) {
  if (action != nullptr && !action->audio.empty()) {
    std::ifstream in(action->audio, std::ios::binary);
    std::stringstream data;
    data << in.rdbuf();
    std::string bytes = data.str();
    if (in && bytes.size() > 44 && bytes.compare(0, 4, "RIFF") == 0) {
      uint32_t byte_rate = 0;
      std::memcpy(&byte_rate, bytes.data() + 28, 4);  // little-endian hosts only (x86-64)
      *seconds = byte_rate > 0 ? static_cast<double>(bytes.size() - 44) / byte_rate : 0;
      *source = action->audio;
      return bytes;
    }
    *source = absl::StrCat("unreadable ", action->audio, "; tone used");
  }
  if (action != nullptr && !action->speak.empty()) {
    absl::StatusOr<std::string> speech = SpeakWav(action->speak);
    if (speech.ok()) {
      *seconds = static_cast<double>(speech->size() - 44) / (2 * kRecordingSampleRate);
      *source = absl::StrCat("speak: ", action->speak);
      return *std::move(speech);
    }
    *source = absl::StrCat("speak failed (", speech.status().message(), "); tone used");
  }
  *seconds = 3;
  if (source->empty()) *source = "tone";
  return MakeWav(*seconds);
}

absl::StatusOr<CarrierEmulator::Call> CarrierEmulator::ParseScenario(const json& scenario) {
  if (!scenario.is_object()) return absl::InvalidArgumentError("scenario: must be an object");
  Call call;
  auto str = [&](const char* name, std::string* out) -> absl::Status {
    if (!scenario.contains(name) || !scenario[name].is_string() ||
        scenario[name].get<std::string>().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("scenario.", name, ": required string"));
    }
    *out = scenario[name].get<std::string>();
    return absl::OkStatus();
  };
  if (auto s = str("carrier", &call.carrier); !s.ok()) return s;
  if (call.carrier != "twilio" && call.carrier != "telnyx") {
    return absl::InvalidArgumentError("scenario.carrier: must be \"twilio\" or \"telnyx\"");
  }
  if (auto s = str("from", &call.from); !s.ok()) return s;
  if (auto s = str("to", &call.to); !s.ok()) return s;
  if (scenario.contains("caller")) {
    auto actions = ParseCallerActions("scenario.caller", scenario["caller"]);
    if (!actions.ok()) return actions.status();
    call.caller = std::move(*actions);
  }
  if (scenario.contains("callees")) {
    if (!scenario["callees"].is_object()) {
      return absl::InvalidArgumentError("scenario.callees: must be an object");
    }
    for (const auto& [target, spec] : scenario["callees"].items()) {
      auto callee = ParseCallee(absl::StrCat("scenario.callees.", target), spec);
      if (!callee.ok()) return callee.status();
      if (target == "default") {
        call.default_callee = std::move(*callee);
      } else {
        call.callees[target] = std::move(*callee);
      }
    }
  }
  return call;
}

CarrierEmulator::Callee CarrierEmulator::FindCallee(const std::map<std::string, Callee>& callees,
                                                    const Callee& fallback,
                                                    const std::string& target) {
  if (auto it = callees.find(target); it != callees.end()) return it->second;
  // Telnyx dials a softphone identity as sip:<id>@<domain>: the same callee as client:<id>.
  if (absl::StartsWith(target, "sip:")) {
    const std::string user = target.substr(4, target.find('@') - 4);
    if (auto it = callees.find("client:" + user); it != callees.end()) return it->second;
  }
  return fallback;
}

std::string CarrierEmulator::RingCallee(Call& c, const Callee& far_end) {
  if (far_end.outcome == "answered" && far_end.answer_after_s < c.ring_timeout_s) {
    c.sim_time += far_end.answer_after_s;
    c.answered_at_s = c.sim_time;
    c.status = "in-progress";
    if (far_end.talk_s > 0) c.hangup_at_s = c.sim_time + far_end.talk_s;
    return "answered";
  }
  if (far_end.outcome == "busy") {
    c.sim_time += 2;
    return c.status = "busy";
  }
  if (far_end.outcome == "failed") {
    c.sim_time += 1;
    return c.status = "failed";
  }
  c.sim_time += c.ring_timeout_s;
  return c.status = "no-answer";
}

absl::Status CarrierEmulator::SetCallees(const json& config) {
  if (!config.is_object()) return absl::InvalidArgumentError("callees: must be an object");
  std::map<std::string, Callee> parsed;
  for (const auto& [target, spec] : config.items()) {
    if (target != "default" && !absl::StartsWith(target, "client:") &&
        (target.size() < 8 || target[0] != '+' ||
         !IsDigits(absl::string_view(target).substr(1)))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "callees.", target, ": key must be an E.164 number, client:<identity> or default"));
    }
    auto callee = ParseCallee(absl::StrCat("callees.", target), spec);
    if (!callee.ok()) return callee.status();
    parsed[target] = std::move(*callee);
  }
  absl::MutexLock lock(&mu_);
  for (auto& [target, callee] : parsed) {
    if (target == "default") {
      rest_default_callee_ = std::move(callee);
    } else {
      rest_callees_[target] = std::move(callee);
    }
  }
  return absl::OkStatus();
}

void CarrierEmulator::ClearCallees() {
  absl::MutexLock lock(&mu_);
  rest_callees_.clear();
  rest_default_callee_ = Callee{.outcome = "answered"};
}

json CarrierEmulator::CallResultLocked(const Call& c) const {
  json result = {{"call_id", c.id},         {"carrier", c.carrier},   {"from", c.from},
                 {"to", c.to},              {"direction", c.direction}, {"status", c.status},
                 {"duration_s", c.sim_time}, {"steps", c.steps},       {"webhooks", c.webhooks}};
  if (c.carrier == "telnyx") result["call_session_id"] = c.session_id;
  if (!c.parent_call.empty()) result["parent_call"] = c.parent_call;
  if (c.bridge) result["bridged_leg"] = {{"id", c.bridge->leg}, {"to", c.bridge->to}};
  if (!c.conference.empty()) result["conference"] = c.conference;
  result["done"] = c.carrier == "twilio" ? c.finished && c.pending_events == 0
                                         : (c.ended && c.pending_events == 0);
  return result;
}

std::optional<json> CarrierEmulator::CallResult(const std::string& call_id) const {
  absl::MutexLock lock(&mu_);
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return std::nullopt;
  return CallResultLocked(it->second);
}

void CarrierEmulator::StartPlayer(std::function<void()> play) {
  absl::MutexLock lock(&players_mu_);
  if (players_closed_) return;  // stopping: the call is not played
  for (auto it = players_.begin(); it != players_.end();) {
    if (it->second->load()) {
      it->first.join();
      it = players_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  players_.emplace_back(std::thread([play = std::move(play), done] {
                          play();
                          done->store(true);
                        }),
                        done);
}

bool CarrierEmulator::WaitForUpdate(const std::string& call_id) {
  absl::MutexLock lock(&mu_);
  auto updated = [this, &call_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Call& c = calls_[call_id];
    return c.pending.has_value() || c.ended || shutting_down_;
  };
  return mu_.AwaitWithDeadline(absl::Condition(&updated),
                               absl::Now() + options_.scenario_timeout);
}

double CarrierEmulator::LiveSeconds(absl::Time started) {
  return std::max(1.0, std::round(absl::ToDoubleSeconds(absl::Now() - started)));
}

CarrierEmulator::BridgeEnd CarrierEmulator::WaitForBridgeEnd(const std::string& call_id,
                                                             const std::string& leg_id,
                                                             double* talk_s) {
  absl::MutexLock lock(&mu_);
  const absl::Time start = absl::Now();
  absl::Time deadline = start + options_.scenario_timeout;
  bool caller_limit = false;
  double caller_left = 0;
  {
    const Call& c = calls_[call_id];
    if (c.hangup_at_s > 0) {
      // The caller's own hang-up time: the bridge's real seconds count as simulated ones.
      caller_left = std::max(0.0, c.hangup_at_s - c.sim_time);
      const absl::Time at = start + absl::Seconds(caller_left);
      if (at < deadline) {
        deadline = at;
        caller_limit = true;
      }
    }
  }
  auto ended = [this, &call_id, &leg_id]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const Call& c = calls_[call_id];
    auto leg = calls_.find(leg_id);
    return c.pending.has_value() || c.ended || shutting_down_ || !c.bridge ||
           c.bridge->leg != leg_id ||
           (leg != calls_.end() && (leg->second.ended || leg->second.pending.has_value()));
  };
  const bool updated = mu_.AwaitWithDeadline(absl::Condition(&ended), deadline);
  *talk_s = LiveSeconds(start);
  const Call& c = calls_[call_id];
  if (!updated) {
    if (caller_limit) *talk_s = caller_left;
    return caller_limit ? BridgeEnd::kCallerHungUp : BridgeEnd::kTimeout;
  }
  if (c.ended || shutting_down_) return BridgeEnd::kParentEnded;
  if (c.pending.has_value()) return BridgeEnd::kModified;
  auto leg = calls_.find(leg_id);
  if (leg != calls_.end() && !leg->second.ended && leg->second.pending.has_value()) {
    return BridgeEnd::kLegModified;
  }
  return BridgeEnd::kLegEnded;
}

absl::StatusOr<json> CarrierEmulator::RunScenario(const json& scenario) {
  absl::StatusOr<Call> call = absl::InvalidArgumentError("scenario: unparsed");
  try {
    call = ParseScenario(scenario);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("scenario: a field has the wrong type: ",
                                                   e.what()));
  }
  if (!call.ok()) return call.status();
  if (call->carrier == "twilio") return RunTwilioScenario(std::move(*call));
  return RunTelnyxScenario(std::move(*call));
}

http::Response CarrierEmulator::HandleAdmin(const http::Request& request) {
  auto parse_body = [&](json* out) -> std::optional<http::Response> {
    *out = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (out->is_discarded()) {
      return http::Response::JsonError(400, "invalid_argument", "body: malformed JSON");
    }
    return std::nullopt;
  };
  const std::string& path = request.path;
  if (path == "/emulator/info" && request.method == "GET") {
    json info = {{"twilio_account_sid", options_.twilio_account_sid},
                 {"telnyx_public_key", TelnyxPublicKeyBase64()},
                 {"public_url", PublicUrl()},
                 {"webhook_base_url", options_.webhook_base_url}};
    return http::Response::Json(200, info.dump());
  }
  if (path == "/emulator/faults") {
    if (request.method == "DELETE") {
      ClearFaults();
      return http::Response::Json(200, R"({"cleared":true})");
    }
    if (request.method == "POST") {
      json body;
      if (auto error = parse_body(&body)) return *error;
      auto faults = ParseFaults(body);
      if (!faults.ok()) {
        return http::Response::JsonError(400, "invalid_argument", faults.status().message());
      }
      const size_t n = faults->size();
      AddFaults(std::move(*faults));
      return http::Response::Json(201, json{{"added", n}}.dump());
    }
  }
  if (path == "/emulator/numbers" && request.method == "POST") {
    // Provisions an owned number directly: {carrier, phone_number, voice_url, sms_url,
    // status_callback}.
    json body;
    if (auto error = parse_body(&body)) return *error;
    if (!body.is_object()) {
      return http::Response::JsonError(400, "invalid_argument", "body: must be an object");
    }
    Number n;
    n.carrier = body.value("carrier", "");
    n.phone_number = body.value("phone_number", "");
    if (n.carrier != "twilio" && n.carrier != "telnyx") {
      return http::Response::JsonError(400, "invalid_argument",
                                       "carrier: must be \"twilio\" or \"telnyx\"");
    }
    if (n.phone_number.size() < 8 || n.phone_number[0] != '+' ||
        !IsDigits(absl::string_view(n.phone_number).substr(1))) {
      return http::Response::JsonError(400, "invalid_argument", "phone_number: must be E.164");
    }
    n.voice_url = body.value("voice_url", "");
    n.sms_url = body.value("sms_url", "");
    n.status_callback = body.value("status_callback", "");
    n.id = n.carrier == "twilio" ? NewId("PN") : NewId("num");
    absl::MutexLock lock(&mu_);
    if (IsOwned(n.phone_number)) {
      return http::Response::JsonError(409, "already_exists", "phone_number: already owned");
    }
    numbers_[n.id] = n;
    return http::Response::Json(201, json{{"id", n.id}, {"phone_number", n.phone_number}}.dump());
  }
  if (path == "/emulator/number-orders" && request.method == "POST") {
    // {mode: "instant" | "pending", outcome: "success" | "failure", delay_ms}
    json body;
    if (auto error = parse_body(&body)) return *error;
    if (!body.is_object()) {
      return http::Response::JsonError(400, "invalid_argument", "body: must be an object");
    }
    const std::string mode = body.value("mode", "instant");
    const std::string outcome = body.value("outcome", "success");
    const int delay_ms = body.value("delay_ms", 200);
    if (mode != "instant" && mode != "pending") {
      return http::Response::JsonError(400, "invalid_argument",
                                       "mode: must be \"instant\" or \"pending\"");
    }
    if (outcome != "success" && outcome != "failure") {
      return http::Response::JsonError(400, "invalid_argument",
                                       "outcome: must be \"success\" or \"failure\"");
    }
    if (delay_ms < 0 || delay_ms > 60000) {
      return http::Response::JsonError(400, "invalid_argument", "delay_ms: must be 0..60000");
    }
    SetNumberOrderMode(mode == "pending", outcome, absl::Milliseconds(delay_ms));
    return http::Response::Json(200, json{{"mode", mode}, {"outcome", outcome}}.dump());
  }
  if (absl::StartsWith(path, "/emulator/port-orders/") && request.method == "POST") {
    // {status}: the carrier's own status value.
    json body;
    if (auto error = parse_body(&body)) return *error;
    if (!body.is_object() || !body.contains("status") || !body["status"].is_string() ||
        body["status"].get<std::string>().empty()) {
      return http::Response::JsonError(400, "invalid_argument", "status: required string");
    }
    const std::string id = path.substr(std::strlen("/emulator/port-orders/"));
    absl::Status set = SetPortOrderStatus(id, body["status"].get<std::string>());
    if (absl::IsNotFound(set)) return http::Response::JsonError(404, "not_found", set.message());
    return http::Response::Json(200, json{{"id", id}, {"status", body["status"]}}.dump());
  }
  if (path == "/emulator/callees") {
    if (request.method == "DELETE") {
      ClearCallees();
      return http::Response::Json(200, R"({"cleared":true})");
    }
    if (request.method == "POST") {
      json body;
      if (auto error = parse_body(&body)) return *error;
      if (absl::Status set = SetCallees(body); !set.ok()) {
        return http::Response::JsonError(400, "invalid_argument", set.message());
      }
      return http::Response::Json(200, json{{"configured", body.size()}}.dump());
    }
  }
  if (absl::StartsWith(path, "/emulator/calls/") && absl::EndsWith(path, "/hangup") &&
      request.method == "POST") {
    const size_t start = std::strlen("/emulator/calls/");
    return AdminHangup(
        http::PercentDecode(path.substr(start, path.size() - start - std::strlen("/hangup"))));
  }
  if (path == "/emulator/conferences" && request.method == "GET") {
    return http::Response::Json(200, ConferencesJson().dump());
  }
  if (absl::StartsWith(path, "/emulator/calls/") && request.method == "GET") {
    std::optional<json> result =
        CallResult(http::PercentDecode(path.substr(std::strlen("/emulator/calls/"))));
    if (!result) return http::Response::JsonError(404, "not_found", "call not found");
    return http::Response::Json(200, result->dump());
  }
  if (path == "/emulator/calls" && request.method == "POST") {
    json body;
    if (auto error = parse_body(&body)) return *error;
    absl::StatusOr<json> result = RunScenario(body);
    if (!result.ok()) {
      const int status = result.status().code() == absl::StatusCode::kInvalidArgument ? 400
                         : result.status().code() == absl::StatusCode::kNotFound      ? 404
                                                                                      : 504;
      return http::Response::JsonError(status, absl::StatusCodeToString(result.status().code()),
                                       result.status().message());
    }
    return http::Response::Json(200, result->dump());
  }
  if (path == "/emulator/messages/inbound" && request.method == "POST") {
    json body;
    if (auto error = parse_body(&body)) return *error;
    if (!body.is_object() || !body.contains("carrier") || !body["carrier"].is_string() ||
        !body.contains("from") || !body["from"].is_string() || !body.contains("to") ||
        !body["to"].is_string() || !body.contains("body") || !body["body"].is_string()) {
      return http::Response::JsonError(400, "invalid_argument",
                                       "carrier, from, to and body: required strings");
    }
    const std::string carrier = body["carrier"].get<std::string>();
    const std::string from = body["from"].get<std::string>();
    const std::string to = body["to"].get<std::string>();
    const std::string text = body["body"].get<std::string>();
    std::string url;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [id, n] : numbers_) {
        if (n.phone_number == to && n.carrier == carrier) url = n.sms_url;
      }
    }
    if (url.empty() && !options_.webhook_base_url.empty()) {
      url = options_.webhook_base_url +
            (carrier == "twilio" ? "/webhooks/twilio/sms" : "/webhooks/telnyx/messaging");
    }
    if (url.empty()) {
      return http::Response::JsonError(404, "not_found", "to: no messaging webhook for number");
    }
    http::HttpRequest hook;
    hook.method = "POST";
    hook.url = url;
    std::string id;
    if (carrier == "twilio") {
      id = NewId("SM");
      http::Params params = {{"AccountSid", options_.twilio_account_sid},
                             {"ApiVersion", "2010-04-01"},
                             {"Body", text},
                             {"From", from},
                             {"MessageSid", id},
                             {"NumMedia", "0"},
                             {"NumSegments", "1"},
                             {"SmsMessageSid", id},
                             {"SmsSid", id},
                             {"SmsStatus", "received"},
                             {"To", to}};
      std::string form = EncodeForm(params);
      hook.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                      {"X-Twilio-Signature",
                       TwilioSignatureFor(url, params)}};
      hook.body = std::move(form);
    } else if (carrier == "telnyx") {
      id = NewId("uuid");
      json event = {
          {"data",
           {{"record_type", "event"},
            {"event_type", "message.received"},
            {"id", NewId("uuid")},
            {"occurred_at", absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone())},
            {"payload",
             {{"id", id},
              {"record_type", "message"},
              {"direction", "inbound"},
              {"type", "SMS"},
              {"from", {{"phone_number", from}, {"carrier", "Emulator"}, {"line_type", "Wireless"}}},
              {"to", json::array({{{"phone_number", to}, {"status", "webhook_delivered"}}})},
              {"text", text},
              {"media", json::array()},
              {"parts", 1},
              {"encoding", "GSM-7"}}}}},
          {"meta", {{"attempt", 1}, {"delivered_to", url}}}};
      hook = SignedTelnyxRequest(url, event.dump());
    } else {
      return http::Response::JsonError(400, "invalid_argument",
                                       "carrier: must be \"twilio\" or \"telnyx\"");
    }
    auto response = SendWebhook("", std::move(hook), json::object());
    json result = {{"id", id}, {"webhook_url", url}};
    if (response.ok()) {
      result["webhook_status"] = response->status;
    } else {
      result["webhook_error"] = std::string(response.status().message());
    }
    return http::Response::Json(200, result.dump());
  }
  if (absl::StartsWith(path, "/emulator/recordings/") && request.method == "GET") {
    std::string id = path.substr(std::strlen("/emulator/recordings/"));
    if (absl::EndsWith(id, ".wav")) id.resize(id.size() - 4);
    absl::MutexLock lock(&mu_);
    auto it = recordings_.find(id);
    if (it == recordings_.end()) {
      return http::Response::JsonError(404, "not_found", "recording not found");
    }
    http::Response r;
    r.headers = {{"Content-Type", "audio/x-wav"}};
    r.body = it->second.wav;
    return r;
  }
  if (path == "/emulator/state" && request.method == "GET") {
    absl::MutexLock lock(&mu_);
    json state = {{"numbers", json::array()}, {"messages", json::array()},
                  {"calls", json::array()}};
    for (const auto& [id, n] : numbers_) {
      state["numbers"].push_back({{"id", id}, {"carrier", n.carrier},
                                  {"phone_number", n.phone_number}, {"voice_url", n.voice_url},
                                  {"sms_url", n.sms_url}, {"status_callback", n.status_callback},
                                  {"connection_id", n.connection_id},
                                  {"messaging_profile_id", n.messaging_profile_id}});
    }
    for (const auto& [id, m] : messages_) {
      state["messages"].push_back({{"id", id}, {"carrier", m.carrier}, {"from", m.from},
                                   {"to", m.to}, {"status", m.status}});
    }
    for (const auto& [id, c] : calls_) {
      state["calls"].push_back({{"id", id}, {"carrier", c.carrier}, {"from", c.from},
                                {"to", c.to}, {"status", c.status}});
    }
    return http::Response::Json(200, state.dump());
  }
  return http::Response::JsonError(404, "not_found", absl::StrCat("no route for ", path));
}

absl::Status CarrierEmulator::SetPortOrderStatus(const std::string& id,
                                                 const std::string& status) {
  absl::MutexLock lock(&mu_);
  auto it = port_orders_.find(id);
  if (it == port_orders_.end()) return absl::NotFoundError(absl::StrCat("port order ", id));
  it->second.status = status;
  const bool twilio = absl::StartsWith(id, "KW");
  if (status == (twilio ? "completed" : "ported")) {
    // The numbers now belong to the account.
    for (const std::string& number : it->second.numbers) {
      if (IsOwned(number)) continue;
      Number n;
      n.carrier = twilio ? "twilio" : "telnyx";
      n.phone_number = number;
      n.id = twilio ? absl::StrFormat("PN%032x", next_id_++)
                    : absl::StrCat(1293384261075731400ULL + next_id_++);
      n.date_created = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
      numbers_[n.id] = n;
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::carrier_emulator
