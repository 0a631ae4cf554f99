#include "libs/http/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"

namespace switchboard::http {
namespace {

constexpr char kBase64Chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64(absl::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += kBase64Chars[(n >> 18) & 63];
    out += kBase64Chars[(n >> 12) & 63];
    out += kBase64Chars[(n >> 6) & 63];
    out += kBase64Chars[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out += kBase64Chars[(n >> 18) & 63];
    out += kBase64Chars[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kBase64Chars[(n >> 18) & 63];
    out += kBase64Chars[(n >> 12) & 63];
    out += kBase64Chars[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

bool HasCrLf(absl::string_view s) {
  return s.find('\r') != absl::string_view::npos || s.find('\n') != absl::string_view::npos;
}

// The URL without query or fragment, for error messages (never credentials: userinfo is cut).
std::string UrlForErrors(absl::string_view url) {
  absl::string_view u = url.substr(0, url.find_first_of("?#"));
  size_t scheme_end = u.find("://");
  if (scheme_end != absl::string_view::npos) {
    size_t authority_start = scheme_end + 3;
    size_t path_start = u.find('/', authority_start);
    absl::string_view authority = u.substr(authority_start, path_start == absl::string_view::npos
                                                                ? absl::string_view::npos
                                                                : path_start - authority_start);
    size_t at = authority.rfind('@');
    if (at != absl::string_view::npos) {
      return absl::StrCat(u.substr(0, authority_start), u.substr(authority_start + at + 1));
    }
  }
  return std::string(u);
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse response;
  int64_t max_bytes = 0;
  bool too_large = false;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (static_cast<int64_t>(t->response.body.size() + n) > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  absl::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (absl::StartsWith(line, "HTTP/")) {
    t->response.headers.clear();  // a new response (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  t->response.headers.emplace_back(
      std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

std::pair<std::string, std::string> BasicAuthHeader(absl::string_view user,
                                                    absl::string_view password) {
  return {"Authorization", absl::StrCat("Basic ", Base64(absl::StrCat(user, ":", password)))};
}

std::pair<std::string, std::string> BearerAuthHeader(absl::string_view token) {
  return {"Authorization", absl::StrCat("Bearer ", token)};
}

class CurlHttpClient::Impl {
 public:
  explicit Impl(CurlHttpClientOptions options) : options_(std::move(options)) {}

  ~Impl() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
    if (share_ != nullptr) curl_share_cleanup(share_);
  }

  absl::Status Init() {
    share_ = curl_share_init();
    if (share_ == nullptr) return absl::InternalError("curl_share_init failed");
    if (curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Impl::Lock) != CURLSHE_OK ||
        curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Impl::Unlock) != CURLSHE_OK ||
        curl_share_setopt(share_, CURLSHOPT_USERDATA, this) != CURLSHE_OK ||
        curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
        curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
        curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
      return absl::InternalError("curl_share_setopt failed");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<HttpResponse> Send(const HttpRequest& request) {
    if (request.method.empty() || HasCrLf(request.method) ||
        request.method.find(' ') != std::string::npos) {
      return absl::InvalidArgumentError("HttpRequest.method is empty or malformed");
    }
    if (!absl::StartsWithIgnoreCase(request.url, "http://") &&
        !absl::StartsWithIgnoreCase(request.url, "https://")) {
      return absl::InvalidArgumentError("HttpRequest.url must start with http:// or https://");
    }
    if (HasCrLf(request.url)) return absl::InvalidArgumentError("HttpRequest.url contains CR/LF");
    if (request.timeout <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError("HttpRequest.timeout must be positive");
    }
    bool has_content_type = false;
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : request.headers) {
      if (name.empty() || HasCrLf(name) || name.find(':') != std::string::npos ||
          HasCrLf(value)) {
        curl_slist_free_all(headers);
        return absl::InvalidArgumentError(
            absl::StrCat("HttpRequest.headers: header '", HasCrLf(name) ? "?" : name,
                         "' has an invalid name or a CR/LF in its value"));
      }
      if (absl::EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
      // "Name;" sends an empty header; "Name:" would remove a curl default instead.
      std::string line = value.empty() ? absl::StrCat(name, ";") : absl::StrCat(name, ": ", value);
      headers = curl_slist_append(headers, line.c_str());
    }
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!has_content_type) headers = curl_slist_append(headers, "Content-Type:");

    CURL* h = Borrow();
    if (h == nullptr) {
      curl_slist_free_all(headers);
      return absl::InternalError("curl_easy_init failed");
    }
    Transfer transfer;
    transfer.max_bytes = options_.max_response_bytes;
    std::array<char, CURL_ERROR_SIZE> error{};

    int64_t total_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(request.timeout));
    int64_t connect_ms =
        std::min<int64_t>(total_ms, absl::ToInt64Milliseconds(options_.connect_timeout));
    curl_easy_setopt(h, CURLOPT_SHARE, share_);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total_ms));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, connect_ms)));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate, decoded transparently
    if (options_.follow_redirects) {
      curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(options_.max_redirects));
      curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    }
    if (!options_.verify_tls) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const std::string& m = request.method;
    if (m == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (m == "GET" && request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.body.empty() && m != "POST" && m != "PUT" && m != "PATCH") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      if (m != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m.c_str());
    }

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    Return(h, rc == CURLE_OK);

    if (rc == CURLE_OK) {
      transfer.response.status = static_cast<int>(status);
      return std::move(transfer.response);
    }
    std::string where = absl::StrCat(m, " ", UrlForErrors(request.url));
    std::string detail = error[0] != '\0' ? std::string(error.data()) : curl_easy_strerror(rc);
    if (transfer.too_large) {
      return absl::ResourceExhaustedError(absl::StrCat(
          where, ": response body larger than ", options_.max_response_bytes, " bytes"));
    }
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return absl::DeadlineExceededError(absl::StrCat(where, ": timed out: ", detail));
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return absl::InvalidArgumentError(absl::StrCat(where, ": bad URL: ", detail));
      case CURLE_COULDNT_CONNECT:
        return absl::UnavailableError(absl::StrCat(where, ": connection refused: ", detail));
      default:
        return absl::UnavailableError(absl::StrCat(where, ": transport error: ", detail));
    }
  }

 private:
  CURL* Borrow() {
    {
      absl::MutexLock lock(&pool_mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void Return(CURL* h, bool healthy) {
    curl_easy_reset(h);  // clears options, keeps nothing that refers to this request
    if (healthy) {
      absl::MutexLock lock(&pool_mu_);
      if (static_cast<int>(idle_.size()) < options_.max_idle_handles) {
        idle_.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    auto* self = static_cast<Impl*>(user);
    self->share_mu_[static_cast<size_t>(data) % self->share_mu_.size()].Lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    auto* self = static_cast<Impl*>(user);
    self->share_mu_[static_cast<size_t>(data) % self->share_mu_.size()].Unlock();
  }

  const CurlHttpClientOptions options_;
  CURLSH* share_ = nullptr;
  std::array<absl::Mutex, CURL_LOCK_DATA_LAST> share_mu_;
  absl::Mutex pool_mu_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(pool_mu_);
};

absl::StatusOr<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(
    CurlHttpClientOptions options) {
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CurlHttpClientOptions.connect_timeout must be positive");
  }
  if (options.max_idle_handles < 0) {
    return absl::InvalidArgumentError("CurlHttpClientOptions.max_idle_handles must be >= 0");
  }
  if (options.max_response_bytes <= 0) {
    return absl::InvalidArgumentError("CurlHttpClientOptions.max_response_bytes must be positive");
  }
  if (options.max_redirects < 0) {
    return absl::InvalidArgumentError("CurlHttpClientOptions.max_redirects must be >= 0");
  }
  GlobalInit();
  auto impl = std::make_unique<Impl>(std::move(options));
  absl::Status status = impl->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(impl)));
}

CurlHttpClient::CurlHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CurlHttpClient::~CurlHttpClient() = default;

absl::StatusOr<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  return impl_->Send(request);
}

bool RetryPolicy::IsRetryable(const absl::StatusOr<HttpResponse>& result) {
  if (!result.ok()) {
    return result.status().code() == absl::StatusCode::kUnavailable ||
           result.status().code() == absl::StatusCode::kDeadlineExceeded;
  }
  int s = result->status;
  return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

absl::StatusOr<HttpResponse> SendWithRetry(HttpClient& client, const HttpRequest& request,
                                           const RetryPolicy& policy,
                                           const std::function<void(absl::Duration)>& sleep) {
  absl::Duration backoff = policy.initial_backoff;
  int attempts = std::max(1, policy.max_attempts);
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<HttpResponse> result = client.Send(request);
    if (attempt >= attempts || !RetryPolicy::IsRetryable(result)) return result;
    if (sleep) {
      sleep(backoff);
    } else {
      absl::SleepFor(backoff);
    }
    backoff = std::min(policy.max_backoff, backoff * policy.multiplier);
  }
}

}  // namespace switchboard::http
