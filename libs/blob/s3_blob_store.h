// BlobStore on an S3-compatible service (AWS S3, MinIO) over libcurl, signed with AWS
// Signature V4 (sigv4.h).
//
// Writes: an S3BlobWriter buffers in memory. Objects that stay below `multipart_threshold`
// are sent with one PUT at Commit(); larger ones switch to a multipart upload (create, then a
// part every `part_size` bytes, complete at Commit()). Any failure, Abort() or destruction
// without Commit() aborts the multipart upload, so no partial object ever becomes visible (S3
// itself publishes an object only when PUT or CompleteMultipartUpload succeeds).
// Reads: GET with a Range header, streamed to the sink as bytes arrive.
// Errors: the S3 error XML (<Code>, <Message>) becomes the status message, with codes:
//   NoSuchKey / NoSuchBucket / NoSuchUpload / 404            -> kNotFound
//   AccessDenied / SignatureDoesNotMatch / InvalidAccessKeyId
//     / 403                                                  -> kPermissionDenied
//   InvalidRange / 416                                       -> kOutOfRange
//   409 (BucketAlreadyOwnedByYou, ...)                       -> kAlreadyExists
//   5xx, SlowDown, connect/timeout/transport errors          -> kUnavailable
//   anything else                                            -> kInternal
// Credentials never appear in messages or logs.
// Thread-safe: curl handles are pooled (connection reuse) and used by one request at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/blob/blob_store.h"
#include "libs/blob/sigv4.h"
#include "libs/common/clock.h"

namespace switchboard::blob {

struct S3BlobStoreOptions {
  // "http://127.0.0.1:9000" (MinIO) or "https://s3.eu-west-1.amazonaws.com". No path.
  std::string endpoint;
  std::string bucket;
  std::string region = "us-east-1";
  SigV4Credentials credentials;
  // Path-style "<endpoint>/<bucket>/<key>" (MinIO, most S3-compatibles) or virtual-hosted
  // "<scheme>://<bucket>.<endpoint host>/<key>" (AWS default).
  bool path_style = true;
  // Sign the SHA-256 of every body (x-amz-content-sha256 = hash) or send UNSIGNED-PAYLOAD
  // (saves one pass over the data; TLS still protects integrity).
  bool sign_payload = true;
  // Objects of at least this many bytes use a multipart upload. >= part_size.
  uint64_t multipart_threshold = 16ull << 20;
  // Size of each multipart part but the last. S3 requires >= 5 MiB.
  uint64_t part_size = 8ull << 20;
  absl::Duration connect_timeout = absl::Seconds(5);
  // Whole-request limit; large GETs are also bounded by low_speed_time below.
  absl::Duration request_timeout = absl::Minutes(5);
  // Abort a transfer slower than 1 KiB/s for this long.
  absl::Duration low_speed_time = absl::Seconds(30);
  // Max idle curl handles kept for reuse.
  int max_idle_handles = 16;
};

class S3BlobStore final : public BlobStore {
 public:
  // Validates the options (kInvalidArgument naming the field: endpoint, bucket, region,
  // credentials.access_key_id, credentials.secret_access_key, part_size,
  // multipart_threshold). Does not contact the server. `clock` signs requests and must outlive
  // the store.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<S3BlobStore>> Create(
      S3BlobStoreOptions options, const Clock& clock = SystemClock());
  ~S3BlobStore() override;

  absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter(absl::string_view key) override;
  absl::Status Get(absl::string_view key, const std::optional<ByteRange>& range,
                   const ChunkSink& sink) override;
  absl::StatusOr<BlobInfo> Stat(absl::string_view key) override;
  absl::Status Delete(absl::string_view key) override;
  absl::StatusOr<ListPage> List(absl::string_view prefix, absl::string_view page_token,
                                int max_keys) override;

  // Creates the bucket (dev setup and tests). kAlreadyExists if it exists.
  [[nodiscard]] absl::Status CreateBucket();
  // Deletes every object, then the bucket (tests). OK if the bucket does not exist.
  [[nodiscard]] absl::Status DeleteBucketAndContents();
  // Multipart uploads still open in the bucket (tests prove aborts leave none).
  [[nodiscard]] absl::StatusOr<int> CountOpenMultipartUploadsForTest();

  const S3BlobStoreOptions& options() const { return options_; }

  // --- used by the writer; not part of the BlobStore API ---
  struct Response {
    long status = 0;
    std::string body;  // error bodies and small responses (not streamed GET bodies)
    uint64_t body_bytes = 0;  // bytes of a 2xx body streamed to the sink
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
    std::string Header(absl::string_view name) const;
  };
  struct Request {
    std::string method;
    std::string key;  // empty: the bucket itself
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::pair<std::string, std::string>> headers;  // extra, signed
    absl::string_view body;
    const ChunkSink* sink = nullptr;  // stream a 2xx body here instead of Response::body
    bool head = false;
    // For ranged GETs: if the server answers 200 (Range ignored), pass only these bytes on.
    std::optional<ByteRange> slice_if_200;
  };
  // Runs one signed request. Transport failures -> kUnavailable; HTTP errors are NOT mapped
  // here (see ErrorFromResponse).
  absl::StatusOr<Response> Send(const Request& request);
  // Maps a non-2xx response (or a 200 carrying <Error>) to a Status; `what` names the operation.
  static absl::Status ErrorFromResponse(absl::string_view what, const Response& response);

 private:
  S3BlobStore(S3BlobStoreOptions options, const Clock& clock, std::string scheme,
              std::string host);
  void* AcquireHandle();
  void ReleaseHandle(void* handle);
  std::string Describe(absl::string_view op, absl::string_view key) const;

  const S3BlobStoreOptions options_;
  const Clock& clock_;
  const std::string scheme_;  // "http" | "https"
  const std::string host_;    // "127.0.0.1:9000" (authority of the endpoint)
  absl::Mutex mu_;
  std::vector<void*> idle_ ABSL_GUARDED_BY(mu_);  // CURL*
};

// Parses the S3 error XML; {"", ""} when the body is not one.
struct S3Error {
  std::string code;
  std::string message;
};
S3Error ParseS3Error(absl::string_view xml);
// Maps an S3 error code + HTTP status to an absl code (table above).
absl::StatusCode S3ErrorCode(absl::string_view s3_code, long http_status);

}  // namespace switchboard::blob
