#include "libs/blob/blob_store.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"

#include "libs/blob/s3_blob_store.h"

namespace switchboard::blob {
namespace {

TEST_CASE("ValidateKey accepts relative keys and rejects traversal", "[blob]") {
  CHECK(ValidateKey("company/recordings/2026/abc.sbe").ok());
  CHECK(ValidateKey("a").ok());
  CHECK(ValidateKey("a..b/c.d").ok());
  for (const char* bad : {"", "/etc/passwd", "../x", "a/..", "a/./b", "a//b", "a/", "a\\b"}) {
    INFO(bad);
    absl::Status s = ValidateKey(bad);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(s.message(), "key"));
  }
  CHECK(ValidateKey(std::string("a\0b", 3)).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateKey(std::string(1025, 'k')).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateKey(std::string(1024, 'k')).ok());
}

TEST_CASE("ResolveRange clips, and rejects empty and out-of-range requests", "[blob]") {
  CHECK(ResolveRange(std::nullopt, 10)->length == 10);
  CHECK(ResolveRange(std::nullopt, 0)->length == 0);
  auto r = ResolveRange(ByteRange{4, 100}, 10);
  REQUIRE(r.ok());
  CHECK(r->offset == 4);
  CHECK(r->length == 6);
  CHECK(ResolveRange(ByteRange{9, std::nullopt}, 10)->length == 1);
  CHECK(ResolveRange(ByteRange{10, 1}, 10).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(ResolveRange(ByteRange{0, 1}, 0).status().code() == absl::StatusCode::kOutOfRange);
  CHECK(ResolveRange(ByteRange{0, 0}, 10).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("S3 error XML maps to status codes", "[blob][s3]") {
  S3Error e = ParseS3Error(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
      "<Message>The specified key does not exist.</Message><Key>x</Key></Error>");
  CHECK(e.code == "NoSuchKey");
  CHECK(e.message == "The specified key does not exist.");
  CHECK(ParseS3Error("not xml").code.empty());
  CHECK(ParseS3Error("").code.empty());

  CHECK(S3ErrorCode("NoSuchKey", 404) == absl::StatusCode::kNotFound);
  CHECK(S3ErrorCode("NoSuchBucket", 404) == absl::StatusCode::kNotFound);
  CHECK(S3ErrorCode("AccessDenied", 403) == absl::StatusCode::kPermissionDenied);
  CHECK(S3ErrorCode("SignatureDoesNotMatch", 403) == absl::StatusCode::kPermissionDenied);
  CHECK(S3ErrorCode("InvalidAccessKeyId", 403) == absl::StatusCode::kPermissionDenied);
  CHECK(S3ErrorCode("", 403) == absl::StatusCode::kPermissionDenied);  // HEAD: no body
  CHECK(S3ErrorCode("", 404) == absl::StatusCode::kNotFound);
  CHECK(S3ErrorCode("InvalidRange", 416) == absl::StatusCode::kOutOfRange);
  CHECK(S3ErrorCode("SlowDown", 503) == absl::StatusCode::kUnavailable);
  CHECK(S3ErrorCode("InternalError", 500) == absl::StatusCode::kUnavailable);
  CHECK(S3ErrorCode("", 502) == absl::StatusCode::kUnavailable);
  CHECK(S3ErrorCode("BucketAlreadyOwnedByYou", 409) == absl::StatusCode::kAlreadyExists);
  CHECK(S3ErrorCode("EntityTooSmall", 400) == absl::StatusCode::kInternal);

  S3BlobStore::Response resp{.status = 200,
                             .body = "<Error><Code>InternalError</Code><Message>m</Message></Error>"};
  absl::Status s = S3BlobStore::ErrorFromResponse("complete k", resp);
  CHECK(s.code() == absl::StatusCode::kUnavailable);  // 200 with an <Error> body is an error
  CHECK(s.message() == "s3 complete k: InternalError: m (HTTP 200)");
  CHECK(S3BlobStore::ErrorFromResponse("x", S3BlobStore::Response{.status = 204}).ok());
}

TEST_CASE("S3BlobStore::Create validates its options without contacting the server",
          "[blob][s3]") {
  auto valid = [] {
    S3BlobStoreOptions o;
    o.endpoint = "http://127.0.0.1:1";
    o.bucket = "media-bucket";
    o.credentials = {"AKID", "secret-secret", ""};
    return o;
  };
  CHECK(S3BlobStore::Create(valid()).ok());
  struct Case {
    const char* field;
    std::function<void(S3BlobStoreOptions&)> mutate;
  };
  std::vector<Case> cases = {
      {"endpoint", [](S3BlobStoreOptions& o) { o.endpoint = "127.0.0.1:9000"; }},
      {"endpoint", [](S3BlobStoreOptions& o) { o.endpoint = "http://h/path"; }},
      {"bucket", [](S3BlobStoreOptions& o) { o.bucket = "Upper"; }},
      {"bucket", [](S3BlobStoreOptions& o) { o.bucket = "ab"; }},
      {"region", [](S3BlobStoreOptions& o) { o.region = ""; }},
      {"credentials.access_key_id", [](S3BlobStoreOptions& o) { o.credentials.access_key_id = ""; }},
      {"credentials.secret_access_key",
       [](S3BlobStoreOptions& o) { o.credentials.secret_access_key = ""; }},
      {"part_size", [](S3BlobStoreOptions& o) { o.part_size = 1 << 20; }},
      {"multipart_threshold",
       [](S3BlobStoreOptions& o) { o.multipart_threshold = o.part_size - 1; }},
  };
  for (const Case& c : cases) {
    S3BlobStoreOptions o = valid();
    c.mutate(o);
    absl::StatusOr<std::unique_ptr<S3BlobStore>> store = S3BlobStore::Create(o);
    INFO(c.field);
    REQUIRE_FALSE(store.ok());
    CHECK(store.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(store.status().message(), c.field));
  }
}

TEST_CASE("S3BlobStore reports an unreachable server as kUnavailable without secrets",
          "[blob][s3]") {
  S3BlobStoreOptions o;
  o.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  o.bucket = "media-bucket";
  o.credentials = {"AKIDVISIBLE", "very-secret-value", ""};
  o.connect_timeout = absl::Seconds(2);
  auto store = S3BlobStore::Create(o);
  REQUIRE(store.ok());
  absl::Status s = (*store)->Put("k", "v");
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK_FALSE(absl::StrContains(s.message(), "very-secret-value"));
  CHECK((*store)->Stat("k").status().code() == absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace switchboard::blob
