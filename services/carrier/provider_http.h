// Internal helpers shared by the HTTP-backed providers (twilio_provider.cc, telnyx_provider.cc).
// Not part of the carrier service's public surface. Pure functions; thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/http/client.h"

namespace switchboard::carrier::internal {

using Fields = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded: every name and value percent-encoded (RFC 3986
// unreserved characters kept), pairs joined with '&', order and duplicates kept.
std::string FormEncode(const Fields& fields);

// The status code for a non-2xx HTTP status, before provider-specific refinements (provider.h
// table): 400/422 -> kInvalidArgument, 401/403 -> kPermissionDenied, 404 -> kNotFound,
// 409 -> kFailedPrecondition, 429 -> kResourceExhausted, 5xx -> kUnavailable, other 4xx ->
// kInvalidArgument, anything else -> kUnknown.
absl::StatusCode CodeForHttpStatus(int status);

// At most 200 bytes of `body` with control characters replaced, for error messages about
// bodies we could not parse.
std::string Excerpt(absl::string_view body);

// Parses a 2xx JSON body; kInternal "<provider>: unexpected response ..." when it is not JSON.
absl::StatusOr<nlohmann::json> ParseJson(absl::string_view provider,
                                         const http::HttpResponse& response);

// json[key] as a string ("" when missing or not a string / number).
std::string Str(const nlohmann::json& json, const char* key);

// Sends with `policy` when `idempotent`, once otherwise. Transport errors keep their code and
// are prefixed with "<provider>: ".
absl::StatusOr<http::HttpResponse> Send(absl::string_view provider, http::HttpClient& client,
                                        const http::HttpRequest& request, bool idempotent,
                                        const http::RetryPolicy& policy,
                                        const std::function<void(absl::Duration)>& sleep);

}  // namespace switchboard::carrier::internal
