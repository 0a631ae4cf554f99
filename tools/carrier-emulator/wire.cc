#include "tools/carrier-emulator/wire.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace switchboard::carrier_emulator::wire {

using nlohmann::json;

http::Response TwilioError(int status, int code, absl::string_view message) {
  json body = {{"code", code},
               {"message", std::string(message)},
               {"more_info", absl::StrCat("https://www.twilio.com/docs/errors/", code)},
               {"status", status}};
  return http::Response::Json(status, body.dump());
}

http::Response TelnyxError(int status, absl::string_view code, absl::string_view title,
                           absl::string_view detail, absl::string_view pointer) {
  json error = {{"code", std::string(code)},
                {"title", std::string(title)},
                {"detail", std::string(detail)}};
  if (!pointer.empty()) error["source"] = {{"pointer", std::string(pointer)}};
  return http::Response::Json(status, json{{"errors", json::array({error})}}.dump());
}

std::string First(const http::Params& params, absl::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

bool Has(const http::Params& params, absl::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return true;
  }
  return false;
}

bool IsE164(absl::string_view s) {
  if (s.size() < 8 || s.size() > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9') return false;
  for (char c : s.substr(1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsHttpUrl(absl::string_view s) {
  return absl::StartsWith(s, "http://") || absl::StartsWith(s, "https://");
}

std::string Rfc2822(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", t, absl::UTCTimeZone());
}

std::string Iso(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

std::string Resolve(const std::string& base, const std::string& ref) {
  if (ref.empty()) return base;
  if (IsHttpUrl(ref)) return ref;
  const size_t scheme = base.find("://");
  const size_t path_start = scheme == std::string::npos ? 0 : base.find('/', scheme + 3);
  const std::string origin = path_start == std::string::npos ? base : base.substr(0, path_start);
  if (ref[0] == '/') return origin + ref;
  std::string dir = base.substr(0, base.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  return dir + ref;
}

}  // namespace switchboard::carrier_emulator::wire
