#include "libs/blob/s3_blob_store.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include <pugixml.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"

namespace switchboard::blob {
namespace {

constexpr size_t kMaxBufferedBody = 4 << 20;  // error bodies and XML listings

void GlobalInitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool Is2xx(long status) { return status >= 200 && status < 300; }

struct TransferContext {
  CURL* curl = nullptr;
  const std::optional<ByteRange>* slice_if_200 = nullptr;
  S3BlobStore::Response* response = nullptr;
  const ChunkSink* sink = nullptr;
  absl::Status sink_status;
  bool body_overflow = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(ctx->curl, CURLINFO_RESPONSE_CODE, &status);
  if (ctx->sink != nullptr && Is2xx(status)) {
    absl::string_view piece(data, n);
    uint64_t piece_begin = ctx->response->body_bytes;
    ctx->response->body_bytes += n;
    if (status == 200 && ctx->slice_if_200 != nullptr && ctx->slice_if_200->has_value()) {
      // The server ignored Range and sent the whole object: keep only the requested bytes.
      const ByteRange& r = **ctx->slice_if_200;
      uint64_t begin = r.offset;
      uint64_t end = r.length.has_value() && r.offset + *r.length >= r.offset
                         ? r.offset + *r.length
                         : UINT64_MAX;
      uint64_t from = std::max(piece_begin, begin);
      uint64_t to = std::min<uint64_t>(piece_begin + n, end);
      if (from >= to) return n;
      piece = piece.substr(static_cast<size_t>(from - piece_begin),
                           static_cast<size_t>(to - from));
    }
    absl::Status s = (*ctx->sink)(piece);
    if (!s.ok()) {
      ctx->sink_status = s;
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return n;
  }
  if (ctx->response->body.size() + n > kMaxBufferedBody) {
    ctx->body_overflow = true;
    return 0;
  }
  ctx->response->body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  size_t n = size * nmemb;
  absl::string_view line(data, n);
  if (absl::StartsWith(line, "HTTP/")) {
    ctx->response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return n;
  ctx->response->headers.emplace_back(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return n;
}

std::string PayloadHash(bool sign_payload, absl::string_view body) {
  if (!sign_payload) return std::string(kUnsignedPayload);
  if (body.empty()) return std::string(kEmptyPayloadSha256);
  return crypto::HexEncode(crypto::Sha256(body));
}

absl::Time ParseIsoTime(absl::string_view s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%E*SZ", std::string(s), &t, &err)) return t;
  return absl::InfinitePast();
}

absl::Time ParseHttpDate(absl::string_view s) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(s), &t, &err)) return t;
  return absl::InfinitePast();
}

std::string XmlEscape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

class S3BlobWriter final : public BlobWriter {
 public:
  S3BlobWriter(S3BlobStore& store, std::string key) : store_(store), key_(std::move(key)) {}
  ~S3BlobWriter() override { Abort(); }

  absl::Status Append(absl::string_view data) override {
    if (!error_.ok()) return error_;
    if (done_) return absl::FailedPreconditionError("blob writer already committed or aborted");
    buffer_.append(data.data(), data.size());
    size_ += data.size();
    if (upload_id_.empty() && buffer_.size() >= store_.options().multipart_threshold) {
      if (absl::Status s = StartMultipart(); !s.ok()) return Fail(s);
    }
    while (!upload_id_.empty() && buffer_.size() >= store_.options().part_size) {
      if (absl::Status s = UploadPart(store_.options().part_size); !s.ok()) return Fail(s);
    }
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (!error_.ok()) return error_;
    if (done_) return absl::FailedPreconditionError("blob writer already committed or aborted");
    if (upload_id_.empty()) {
      S3BlobStore::Request req{.method = "PUT", .key = key_, .body = buffer_};
      absl::StatusOr<S3BlobStore::Response> resp = store_.Send(req);
      if (!resp.ok()) return Fail(resp.status());
      if (!Is2xx(resp->status)) {
        return Fail(S3BlobStore::ErrorFromResponse(absl::StrCat("PUT ", key_), *resp));
      }
    } else {
      if (!buffer_.empty() || etags_.empty()) {
        if (absl::Status s = UploadPart(buffer_.size()); !s.ok()) return Fail(s);
      }
      std::string xml = "<CompleteMultipartUpload>";
      for (size_t i = 0; i < etags_.size(); ++i) {
        absl::StrAppend(&xml, "<Part><PartNumber>", i + 1, "</PartNumber><ETag>",
                        XmlEscape(etags_[i]), "</ETag></Part>");
      }
      xml += "</CompleteMultipartUpload>";
      S3BlobStore::Request req{.method = "POST", .key = key_, .query = {{"uploadId", upload_id_}},
                               .headers = {{"content-type", "application/xml"}},
                               .body = xml};
      absl::StatusOr<S3BlobStore::Response> resp = store_.Send(req);
      if (!resp.ok()) return Fail(resp.status());
      // CompleteMultipartUpload can fail with HTTP 200 and an <Error> body.
      absl::Status s = S3BlobStore::ErrorFromResponse(
          absl::StrCat("complete multipart upload ", key_), *resp);
      if (!s.ok()) return Fail(s);
    }
    done_ = true;
    committed_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return absl::OkStatus();
  }

  void Abort() override {
    if (committed_) return;
    done_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    if (upload_id_.empty()) return;
    S3BlobStore::Request req{.method = "DELETE", .key = key_,
                             .query = {{"uploadId", upload_id_}}};
    absl::StatusOr<S3BlobStore::Response> resp = store_.Send(req);
    if (!resp.ok() || (!Is2xx(resp->status) && resp->status != 404)) {
      log::Warn("s3 abort multipart upload failed; the bucket lifecycle rule must clean it",
                {{"key", key_},
                 {"error", resp.ok() ? absl::StrCat("HTTP ", resp->status)
                                     : resp.status().ToString()}});
    }
    upload_id_.clear();
  }

  uint64_t size() const override { return size_; }

 private:
  absl::Status Fail(absl::Status s) {
    error_ = s;
    Abort();
    return s;
  }

  absl::Status StartMultipart() {
    S3BlobStore::Request req{.method = "POST", .key = key_, .query = {{"uploads", ""}}};
    ASSIGN_OR_RETURN(S3BlobStore::Response resp, store_.Send(req));
    absl::Status s = S3BlobStore::ErrorFromResponse(
        absl::StrCat("create multipart upload ", key_), resp);
    if (!s.ok()) return s;
    pugi::xml_document doc;
    if (!doc.load_buffer(resp.body.data(), resp.body.size())) {
      return absl::InternalError("s3 create multipart upload: unparsable response");
    }
    upload_id_ = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
    if (upload_id_.empty()) return absl::InternalError("s3 create multipart upload: no UploadId");
    return absl::OkStatus();
  }

  absl::Status UploadPart(size_t bytes) {
    int part_number = static_cast<int>(etags_.size()) + 1;
    S3BlobStore::Request req{
        .method = "PUT",
        .key = key_,
        .query = {{"partNumber", absl::StrCat(part_number)}, {"uploadId", upload_id_}},
        .body = absl::string_view(buffer_.data(), bytes)};
    ASSIGN_OR_RETURN(S3BlobStore::Response resp, store_.Send(req));
    if (!Is2xx(resp.status)) {
      return S3BlobStore::ErrorFromResponse(absl::StrCat("upload part ", part_number, " of ", key_),
                                            resp);
    }
    std::string etag = resp.Header("etag");
    if (etag.empty()) return absl::InternalError("s3 upload part: response without ETag");
    etags_.push_back(std::move(etag));
    buffer_.erase(0, bytes);
    return absl::OkStatus();
  }

  S3BlobStore& store_;
  const std::string key_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  uint64_t size_ = 0;
  bool done_ = false;
  bool committed_ = false;
  absl::Status error_;
};

}  // namespace

std::string S3BlobStore::Response::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

S3Error ParseS3Error(absl::string_view xml) {
  pugi::xml_document doc;
  if (xml.empty() || !doc.load_buffer(xml.data(), xml.size())) return {};
  pugi::xml_node error = doc.child("Error");
  if (!error) return {};
  return S3Error{error.child_value("Code"), error.child_value("Message")};
}

absl::StatusCode S3ErrorCode(absl::string_view code, long http_status) {
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload") {
    return absl::StatusCode::kNotFound;
  }
  if (code == "AccessDenied" || code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
      code == "ExpiredToken" || code == "InvalidToken") {
    return absl::StatusCode::kPermissionDenied;
  }
  if (code == "InvalidRange") return absl::StatusCode::kOutOfRange;
  if (code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
      code == "RequestTimeout" || code == "XMinioServerNotInitialized") {
    return absl::StatusCode::kUnavailable;
  }
  if (http_status == 404) return absl::StatusCode::kNotFound;
  if (http_status == 401 || http_status == 403) return absl::StatusCode::kPermissionDenied;
  if (http_status == 416) return absl::StatusCode::kOutOfRange;
  if (http_status == 409) return absl::StatusCode::kAlreadyExists;
  if (http_status == 408 || http_status == 429 || http_status >= 500) {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

absl::Status S3BlobStore::ErrorFromResponse(absl::string_view what, const Response& response) {
  S3Error err = ParseS3Error(response.body);
  if (Is2xx(response.status) && err.code.empty()) return absl::OkStatus();
  std::string msg = absl::StrCat("s3 ", what, ": ");
  if (!err.code.empty()) {
    absl::StrAppend(&msg, err.code, ": ", err.message, " (HTTP ", response.status, ")");
  } else {
    absl::StrAppend(&msg, "HTTP ", response.status);
  }
  return absl::Status(S3ErrorCode(err.code, response.status), msg);
}

absl::StatusOr<std::unique_ptr<S3BlobStore>> S3BlobStore::Create(S3BlobStoreOptions options,
                                                                 const Clock& clock) {
  std::string scheme, host;
  absl::string_view ep = options.endpoint;
  if (absl::ConsumePrefix(&ep, "https://")) {
    scheme = "https";
  } else if (absl::ConsumePrefix(&ep, "http://")) {
    scheme = "http";
  } else {
    return absl::InvalidArgumentError("endpoint: must start with http:// or https://");
  }
  absl::ConsumeSuffix(&ep, "/");
  if (ep.empty() || ep.find('/') != absl::string_view::npos || ep.find('@') != ep.npos) {
    return absl::InvalidArgumentError("endpoint: must be scheme://host[:port] without a path");
  }
  host = std::string(ep);
  const std::string& b = options.bucket;
  if (b.size() < 3 || b.size() > 63) {
    return absl::InvalidArgumentError("bucket: must be 3..63 characters");
  }
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      return absl::InvalidArgumentError("bucket: only a-z, 0-9, '-' and '.' are allowed");
    }
  }
  if (options.region.empty()) return absl::InvalidArgumentError("region: must not be empty");
  if (options.credentials.access_key_id.empty()) {
    return absl::InvalidArgumentError("credentials.access_key_id: must not be empty");
  }
  if (options.credentials.secret_access_key.empty()) {
    return absl::InvalidArgumentError("credentials.secret_access_key: must not be empty");
  }
  if (options.part_size < (5ull << 20) || options.part_size > (5ull << 30)) {
    return absl::InvalidArgumentError("part_size: must be within 5 MiB..5 GiB");
  }
  if (options.multipart_threshold < options.part_size) {
    return absl::InvalidArgumentError("multipart_threshold: must be >= part_size");
  }
  GlobalInitCurl();
  return std::unique_ptr<S3BlobStore>(
      new S3BlobStore(std::move(options), clock, std::move(scheme), std::move(host)));
}

S3BlobStore::S3BlobStore(S3BlobStoreOptions options, const Clock& clock, std::string scheme,
                         std::string host)
    : options_(std::move(options)),
      clock_(clock),
      scheme_(std::move(scheme)),
      host_(std::move(host)) {}

S3BlobStore::~S3BlobStore() {
  absl::MutexLock lock(&mu_);
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* S3BlobStore::AcquireHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void S3BlobStore::ReleaseHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(idle_.size()) < options_.max_idle_handles) {
    idle_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

std::string S3BlobStore::Describe(absl::string_view op, absl::string_view key) const {
  return absl::StrCat(op, " ", options_.bucket, "/", key);
}

absl::StatusOr<S3BlobStore::Response> S3BlobStore::Send(const Request& request) {
  std::string host = options_.path_style ? host_ : absl::StrCat(options_.bucket, ".", host_);
  std::string path;
  if (options_.path_style) {
    path = absl::StrCat("/", options_.bucket, "/", UriEncode(request.key, false));
  } else {
    path = absl::StrCat("/", UriEncode(request.key, false));
  }
  SigV4Request sig{.method = request.method, .canonical_uri = path, .query = request.query,
                   .headers = request.headers,
                   .payload_hash = PayloadHash(options_.sign_payload, request.body)};
  sig.headers.emplace_back("host", host);
  sig.headers.emplace_back("x-amz-content-sha256", sig.payload_hash);
  std::string authorization = SignV4(sig, options_.credentials, options_.region, "s3",
                                     clock_.Now());
  std::string url = absl::StrCat(scheme_, "://", host, path);
  std::string query = CanonicalQueryString(request.query);
  if (!query.empty()) absl::StrAppend(&url, "?", query);

  auto* curl = static_cast<CURL*>(AcquireHandle());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_easy_reset(curl);
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : sig.headers) {
    headers = curl_slist_append(headers, absl::StrCat(k, ": ", v).c_str());
  }
  headers = curl_slist_append(headers, absl::StrCat("authorization: ", authorization).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!request.body.empty() || request.method == "PUT" || request.method == "POST") {
    bool has_type = false;
    for (const auto& [k, v] : request.headers) has_type |= absl::EqualsIgnoreCase(k, "content-type");
    if (!has_type) headers = curl_slist_append(headers, "content-type: application/octet-stream");
  }

  Response response;
  TransferContext ctx{.curl = curl, .slice_if_200 = &request.slice_if_200, .response = &response,
                      .sink = request.sink};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.request_timeout)));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(absl::ToInt64Seconds(options_.low_speed_time)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ctx);
  if (request.head) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(headers);
  bool reusable = rc == CURLE_OK;
  if (reusable) {
    ReleaseHandle(curl);
  } else {
    curl_easy_cleanup(curl);
  }
  if (!ctx.sink_status.ok()) return ctx.sink_status;
  if (ctx.body_overflow) {
    return absl::InternalError(absl::StrCat("s3 ", request.method, ": response body too large"));
  }
  if (rc != CURLE_OK) {
    // Never include the URL's query or headers: only the operation, target and curl's reason.
    return absl::UnavailableError(absl::StrCat("s3 ", Describe(request.method, request.key),
                                               ": ", curl_easy_strerror(rc)));
  }
  return response;
}

absl::StatusOr<std::unique_ptr<BlobWriter>> S3BlobStore::NewWriter(absl::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  return std::unique_ptr<BlobWriter>(new S3BlobWriter(*this, std::string(key)));
}

absl::Status S3BlobStore::Get(absl::string_view key, const std::optional<ByteRange>& range,
                              const ChunkSink& sink) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (range.has_value() && range->length.has_value() && *range->length == 0) {
    return absl::InvalidArgumentError("range: length must be > 0");
  }
  Request req{.method = "GET", .key = std::string(key), .sink = &sink};
  if (range.has_value()) {
    std::string value = absl::StrCat("bytes=", range->offset, "-");
    if (range->length.has_value()) {
      uint64_t last = range->offset + *range->length - 1;
      if (last >= range->offset) absl::StrAppend(&value, last);  // else overflow: to the end
    }
    req.headers.emplace_back("range", value);
    req.slice_if_200 = range;
  }
  ASSIGN_OR_RETURN(Response resp, Send(req));
  if (!Is2xx(resp.status)) return ErrorFromResponse(Describe("GET", key), resp);
  if (range.has_value() && resp.status == 200 && resp.body_bytes <= range->offset) {
    return absl::OutOfRangeError(absl::StrCat("range: offset ", range->offset,
                                              " is at or beyond the end (", resp.body_bytes, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<BlobInfo> S3BlobStore::Stat(absl::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  ASSIGN_OR_RETURN(Response resp, Send(Request{.method = "HEAD", .key = std::string(key),
                                               .head = true}));
  if (!Is2xx(resp.status)) return ErrorFromResponse(Describe("HEAD", key), resp);
  BlobInfo info{.key = std::string(key)};
  if (!absl::SimpleAtoi(resp.Header("content-length"), &info.size)) {
    return absl::InternalError(absl::StrCat("s3 ", Describe("HEAD", key),
                                            ": missing Content-Length"));
  }
  info.modified = ParseHttpDate(resp.Header("last-modified"));
  return info;
}

absl::Status S3BlobStore::Delete(absl::string_view key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  ASSIGN_OR_RETURN(Response resp, Send(Request{.method = "DELETE", .key = std::string(key)}));
  if (Is2xx(resp.status)) return absl::OkStatus();
  absl::Status s = ErrorFromResponse(Describe("DELETE", key), resp);
  // S3 answers 204 for a missing key; some compatibles answer NoSuchKey. Both mean "gone".
  if (s.code() == absl::StatusCode::kNotFound && ParseS3Error(resp.body).code == "NoSuchKey") {
    return absl::OkStatus();
  }
  return s;
}

absl::StatusOr<ListPage> S3BlobStore::List(absl::string_view prefix, absl::string_view page_token,
                                           int max_keys) {
  if (max_keys < 1 || max_keys > 1000) {
    return absl::InvalidArgumentError("max_keys: must be within 1..1000");
  }
  Request req{.method = "GET",
              .query = {{"list-type", "2"}, {"max-keys", absl::StrCat(max_keys)}}};
  if (!prefix.empty()) req.query.emplace_back("prefix", std::string(prefix));
  if (!page_token.empty()) req.query.emplace_back("continuation-token", std::string(page_token));
  ASSIGN_OR_RETURN(Response resp, Send(req));
  if (absl::Status s = ErrorFromResponse(Describe("LIST", prefix), resp); !s.ok()) return s;
  pugi::xml_document doc;
  if (!doc.load_buffer(resp.body.data(), resp.body.size())) {
    return absl::InternalError("s3 list: unparsable response");
  }
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return absl::InternalError("s3 list: no ListBucketResult");
  ListPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    BlobInfo info{.key = c.child_value("Key")};
    if (!absl::SimpleAtoi(c.child_value("Size"), &info.size)) {
      return absl::InternalError("s3 list: bad Size");
    }
    info.modified = ParseIsoTime(c.child_value("LastModified"));
    page.blobs.push_back(std::move(info));
  }
  if (std::string(root.child_value("IsTruncated")) == "true") {
    page.next_page_token = root.child_value("NextContinuationToken");
    if (page.next_page_token.empty()) {
      return absl::InternalError("s3 list: truncated without NextContinuationToken");
    }
  }
  return page;
}

absl::Status S3BlobStore::CreateBucket() {
  std::string body;
  if (options_.region != "us-east-1") {
    body = absl::StrCat(
        "<CreateBucketConfiguration><LocationConstraint>", XmlEscape(options_.region),
        "</LocationConstraint></CreateBucketConfiguration>");
  }
  ASSIGN_OR_RETURN(Response resp, Send(Request{.method = "PUT", .body = body}));
  return ErrorFromResponse(absl::StrCat("create bucket ", options_.bucket), resp);
}

absl::StatusOr<int> S3BlobStore::CountOpenMultipartUploadsForTest() {
  ASSIGN_OR_RETURN(Response resp, Send(Request{.method = "GET", .query = {{"uploads", ""}}}));
  if (absl::Status s = ErrorFromResponse("list multipart uploads", resp); !s.ok()) return s;
  pugi::xml_document doc;
  if (!doc.load_buffer(resp.body.data(), resp.body.size())) {
    return absl::InternalError("s3 list multipart uploads: unparsable response");
  }
  int n = 0;
  for (pugi::xml_node u : doc.child("ListMultipartUploadsResult").children("Upload")) {
    (void)u;
    ++n;
  }
  return n;
}

absl::Status S3BlobStore::DeleteBucketAndContents() {
  for (;;) {
    absl::StatusOr<ListPage> page = List("", "", 1000);
    if (!page.ok()) {
      if (page.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
      return page.status();
    }
    for (const BlobInfo& b : page->blobs) RETURN_IF_ERROR(Delete(b.key));
    if (page->blobs.empty()) break;  // otherwise re-list: the deleted ones are gone
  }
  ASSIGN_OR_RETURN(Response uploads, Send(Request{.method = "GET", .query = {{"uploads", ""}}}));
  if (Is2xx(uploads.status)) {
    pugi::xml_document doc;
    if (doc.load_buffer(uploads.body.data(), uploads.body.size())) {
      for (pugi::xml_node u : doc.child("ListMultipartUploadsResult").children("Upload")) {
        Request abort{.method = "DELETE", .key = u.child_value("Key"),
                      .query = {{"uploadId", u.child_value("UploadId")}}};
        (void)Send(abort);  // best effort: the bucket delete below reports what remains
      }
    }
  }
  ASSIGN_OR_RETURN(Response resp, Send(Request{.method = "DELETE"}));
  if (Is2xx(resp.status)) return absl::OkStatus();
  absl::Status s = ErrorFromResponse(absl::StrCat("delete bucket ", options_.bucket), resp);
  if (s.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return s;
}

}  // namespace switchboard::blob
