#include "services/carrier/provider_http.h"

#include "absl/strings/str_cat.h"
#include "libs/http/url.h"

namespace switchboard::carrier::internal {

std::string FormEncode(const Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    absl::StrAppend(&out, http::PercentEncode(name), "=", http::PercentEncode(value));
  }
  return out;
}

absl::StatusCode CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kFailedPrecondition;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      break;
  }
  if (status >= 500 && status <= 599) return absl::StatusCode::kUnavailable;
  if (status >= 400 && status <= 499) return absl::StatusCode::kInvalidArgument;
  return absl::StatusCode::kUnknown;
}

std::string Excerpt(absl::string_view body) {
  std::string out(body.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (body.size() > 200) out += "...";
  return out;
}

absl::StatusOr<nlohmann::json> ParseJson(absl::string_view provider,
                                         const http::HttpResponse& response) {
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InternalError(absl::StrCat(provider, ": unexpected response (HTTP ",
                                            response.status, ", not a JSON object): ",
                                            Excerpt(response.body)));
  }
  return json;
}

std::string Str(const nlohmann::json& json, const char* key) {
  if (!json.is_object()) return "";
  auto it = json.find(key);
  if (it == json.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) return it->dump();
  return "";
}

absl::StatusOr<http::HttpResponse> Send(absl::string_view provider, http::HttpClient& client,
                                        const http::HttpRequest& request, bool idempotent,
                                        const http::RetryPolicy& policy,
                                        const std::function<void(absl::Duration)>& sleep) {
  absl::StatusOr<http::HttpResponse> result =
      idempotent ? http::SendWithRetry(client, request, policy, sleep) : client.Send(request);
  if (!result.ok()) {
    return absl::Status(result.status().code(),
                        absl::StrCat(provider, ": ", result.status().message()));
  }
  return result;
}

}  // namespace switchboard::carrier::internal
