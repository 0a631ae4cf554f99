// HTTP/1.1 client: an interface (`HttpClient`, like Redpanda's abstract_client) and a libcurl
// implementation (`CurlHttpClient`) with connection reuse.
//
// Contract of `HttpClient::Send`:
//   - Any HTTP status (2xx..5xx) is a successful transport exchange and is returned as an
//     `HttpResponse`; callers map statuses to their own errors.
//   - kInvalidArgument: the request itself is unusable (empty/unsupported URL scheme, empty
//     method, header name or value with CR/LF, non-positive timeout).
//   - kUnavailable: transport failure (DNS failure, connection refused, reset, TLS failure,
//     connection closed mid-response). The message names the host and the transport error.
//   - kDeadlineExceeded: connect timeout or the whole exchange exceeded `HttpRequest::timeout`.
//   Error messages never contain request headers or bodies (they carry credentials).
//
// Thread-safety: implementations must be safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // "GET", "POST", "DELETE", "PATCH", "PUT", ...
  std::string url;             // absolute http:// or https:// URL, already percent-encoded
  HeaderList headers;          // sent in order; Host/Content-Length are set by the client
  std::string body;            // sent as is (set Content-Type yourself)
  absl::Duration timeout = absl::Seconds(10);  // whole exchange, connect included
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // in arrival order, names as sent (final response only, no 100/3xx hops)
  std::string body;

  // The first header named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string> Header(absl::string_view name) const;
};

// Abstract client. See the file comment for the error contract.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual absl::StatusOr<HttpResponse> Send(const HttpRequest& request) = 0;
};

// "Authorization: Basic base64(user:password)".
std::pair<std::string, std::string> BasicAuthHeader(absl::string_view user,
                                                    absl::string_view password);
// "Authorization: Bearer <token>".
std::pair<std::string, std::string> BearerAuthHeader(absl::string_view token);

struct CurlHttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(3);  // capped by the request timeout
  int max_idle_handles = 16;     // easy handles (each with its live connection) kept for reuse
  int64_t max_response_bytes = 64 << 20;  // larger bodies -> kResourceExhausted
  bool follow_redirects = false;  // carriers' APIs never need it; recording fetches may
  int max_redirects = 5;
  std::string user_agent = "switchboard/1";
  bool verify_tls = true;         // only false in tests against self-signed servers
};

// libcurl implementation. Thread-safe: each Send borrows an easy handle from a pool (its
// connection cache keeps connections alive across requests), and all handles share DNS and
// connection caches through a CURLSH guarded by mutexes. Send blocks the calling thread.
class CurlHttpClient : public HttpClient {
 public:
  // kInvalidArgument naming the bad option; kInternal if libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> Create(
      CurlHttpClientOptions options = {});
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) override;

  class Impl;

 private:
  explicit CurlHttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Retry policy for IDEMPOTENT requests only (GET, DELETE, or a POST carrying an idempotency key
// the server honours). Callers decide idempotency; `SendWithRetry` does not look at the method.
struct RetryPolicy {
  int max_attempts = 3;                              // 1 = no retry
  absl::Duration initial_backoff = absl::Milliseconds(100);
  double multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(2);

  // True for kUnavailable, kDeadlineExceeded, and HTTP 500, 502, 503, 504 (and 429).
  static bool IsRetryable(const absl::StatusOr<HttpResponse>& result);
};

// Sends `request` up to `policy.max_attempts` times while the result IsRetryable, sleeping the
// backoff (doubling, capped) between attempts via `sleep` (absl::SleepFor when null; tests pass
// a recorder). Returns the last result (an HTTP 5xx is returned as a response, not an error).
absl::StatusOr<HttpResponse> SendWithRetry(HttpClient& client, const HttpRequest& request,
                                           const RetryPolicy& policy,
                                           const std::function<void(absl::Duration)>& sleep = nullptr);

}  // namespace switchboard::http
