// AWS Signature Version 4 for S3 requests (header-based auth), as documented in
// "Authenticating Requests: Using the Authorization Header (AWS Signature Version 4)".
// Pure functions; thread-safe. The secret key is only fed to HMAC: it never appears in any
// returned string.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::blob {

struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (STS); sent as x-amz-security-token
};

// SHA-256 of the empty string, and the marker for an unsigned body.
inline constexpr absl::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr absl::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SigV4Request {
  std::string method;         // "GET"
  std::string canonical_uri;  // the request path exactly as sent, already URI-encoded
  // Query parameters, raw (not encoded); a parameter without value has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // Headers to sign (and send). Must include "host" and "x-amz-content-sha256" (S3); names in
  // any case. Sign() adds x-amz-date (and x-amz-security-token when a session token is set).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // lowercase hex SHA-256 of the body, or kUnsignedPayload
};

// RFC 3986 percent-encoding as S3 wants it: unreserved A-Z a-z 0-9 - _ . ~ kept, everything
// else as %XX (upper-case hex); '/' kept unless `encode_slash`.
std::string UriEncode(absl::string_view s, bool encode_slash);

// The sorted, encoded query string ("a=1&b=&c=x%2Fy").
std::string CanonicalQueryString(const std::vector<std::pair<std::string, std::string>>& query);

// "20130524T000000Z".
std::string AmzDate(absl::Time t);

// The canonical request (method, URI, query, headers, signed headers, payload hash joined by
// '\n'): header names lower-cased, values trimmed with inner runs of spaces collapsed, sorted by
// name, duplicates joined with ','.
std::string CanonicalRequest(const SigV4Request& request);

// Adds x-amz-date (and x-amz-security-token) to `request.headers`, then returns the value of
// the Authorization header:
//   AWS4-HMAC-SHA256 Credential=<id>/<yyyymmdd>/<region>/<service>/aws4_request,
//   SignedHeaders=<h1;h2>,Signature=<hex>
std::string SignV4(SigV4Request& request, const SigV4Credentials& credentials,
                   absl::string_view region, absl::string_view service, absl::Time now);

}  // namespace switchboard::blob
