// S3BlobStore against a real S3-compatible server (MinIO from ./tools/dev testenv up).
#include "libs/blob/s3_blob_store.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/blob/tests/blob_conformance.h"
#include "libs/blob/tests/s3_test_bucket.h"

namespace switchboard::blob {
namespace {

using testing::PatternBytes;
using testing::S3TestBucket;

TEST_CASE("S3BlobStore satisfies the BlobStore contract (signed payloads)",
          "[integration][s3]") {
  auto bucket = S3TestBucket::CreateOrFail();
  testing::RunBlobStoreConformance(bucket->store());
}

TEST_CASE("S3BlobStore satisfies the BlobStore contract (UNSIGNED-PAYLOAD)",
          "[integration][s3]") {
  auto bucket = S3TestBucket::CreateOrFail([](S3BlobStoreOptions& o) { o.sign_payload = false; });
  testing::RunBlobStoreConformance(bucket->store());
}

TEST_CASE("S3BlobStore works with virtual-hosted-style addressing", "[integration][s3]") {
  // The local MinIO runs with MINIO_DOMAIN=localhost; libcurl resolves <bucket>.localhost.
  auto bucket = S3TestBucket::CreateOrFail([](S3BlobStoreOptions& o) {
    const std::string loopback = "://127.0.0.1:";
    if (size_t at = o.endpoint.find(loopback); at != std::string::npos) {
      o.endpoint.replace(at, loopback.size(), "://localhost:");
    }
    o.path_style = false;
  });
  S3BlobStore& store = bucket->store();
  REQUIRE(store.Put("vhost/a b.txt", "virtual").ok());
  CHECK(*store.ReadAll("vhost/a b.txt") == "virtual");
  CHECK(*store.ReadAll("vhost/a b.txt", ByteRange{1, 3}) == "irt");
  CHECK(store.Stat("vhost/a b.txt")->size == 7);
  absl::StatusOr<ListPage> page = store.List("vhost/", "", 10);
  REQUIRE(page.ok());
  REQUIRE(page->blobs.size() == 1);
  CHECK(page->blobs[0].key == "vhost/a b.txt");
  REQUIRE(store.Delete("vhost/a b.txt").ok());
  CHECK(store.Stat("vhost/a b.txt").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("S3BlobStore uploads large objects in parts and ranges across part borders",
          "[integration][s3]") {
  auto bucket = S3TestBucket::CreateOrFail([](S3BlobStoreOptions& o) {
    o.part_size = 5ull << 20;
    o.multipart_threshold = 5ull << 20;
  });
  S3BlobStore& store = bucket->store();
  const std::string data = PatternBytes(12ull << 20, 3);  // 12 MiB -> parts of 5, 5, 2 MiB
  auto w = store.NewWriter("big/object.bin");
  REQUIRE(w.ok());
  for (size_t off = 0; off < data.size(); off += 1'000'003) {
    REQUIRE((*w)->Append(absl::string_view(data).substr(off, 1'000'003)).ok());
  }
  // Parts are already uploaded, yet nothing is visible before Commit().
  CHECK(*store.CountOpenMultipartUploadsForTest() == 1);
  CHECK(store.Stat("big/object.bin").status().code() == absl::StatusCode::kNotFound);
  REQUIRE((*w)->Commit().ok());
  CHECK(*store.CountOpenMultipartUploadsForTest() == 0);
  absl::StatusOr<BlobInfo> info = store.Stat("big/object.bin");
  REQUIRE(info.ok());
  CHECK(info->size == data.size());
  absl::StatusOr<std::string> all = store.ReadAll("big/object.bin");
  REQUIRE(all.ok());
  CHECK(*all == data);
  const uint64_t border = 5ull << 20;
  CHECK(*store.ReadAll("big/object.bin", ByteRange{border - 10, 20}) ==
        data.substr(border - 10, 20));
  CHECK(*store.ReadAll("big/object.bin", ByteRange{data.size() - 3, std::nullopt}) ==
        data.substr(data.size() - 3));
}

TEST_CASE("S3BlobStore aborts the multipart upload of an abandoned writer",
          "[integration][s3]") {
  auto bucket = S3TestBucket::CreateOrFail([](S3BlobStoreOptions& o) {
    o.part_size = 5ull << 20;
    o.multipart_threshold = 5ull << 20;
  });
  S3BlobStore& store = bucket->store();
  {
    auto w = store.NewWriter("big/abandoned.bin");
    REQUIRE(w.ok());
    REQUIRE((*w)->Append(PatternBytes(6ull << 20)).ok());
    REQUIRE(*store.CountOpenMultipartUploadsForTest() == 1);
  }  // destroyed without Commit()
  CHECK(*store.CountOpenMultipartUploadsForTest() == 0);
  CHECK(store.Stat("big/abandoned.bin").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("S3BlobStore maps server errors to status codes", "[integration][s3]") {
  auto bucket = S3TestBucket::CreateOrFail();
  REQUIRE(bucket->store().Put("k", "v").ok());

  SECTION("missing key is NOT_FOUND with the S3 code in the message") {
    absl::Status s = bucket->store().ReadAll("missing").status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(absl::StrContains(s.message(), "NoSuchKey"));
  }
  SECTION("a wrong secret is PERMISSION_DENIED and the secret is not in the message") {
    S3BlobStoreOptions o = bucket->store().options();
    o.credentials.secret_access_key = "definitely-the-wrong-secret";
    auto wrong = S3BlobStore::Create(o);
    REQUIRE(wrong.ok());
    absl::Status get = (*wrong)->ReadAll("k").status();
    CHECK(get.code() == absl::StatusCode::kPermissionDenied);
    CHECK(absl::StrContains(get.message(), "SignatureDoesNotMatch"));
    CHECK_FALSE(absl::StrContains(get.message(), "definitely-the-wrong-secret"));
    CHECK((*wrong)->Put("k2", "v").code() == absl::StatusCode::kPermissionDenied);
    CHECK((*wrong)->Stat("k").status().code() == absl::StatusCode::kPermissionDenied);
    CHECK((*wrong)->List("", "", 10).status().code() == absl::StatusCode::kPermissionDenied);
  }
  SECTION("an unknown access key is PERMISSION_DENIED") {
    S3BlobStoreOptions o = bucket->store().options();
    o.credentials.access_key_id = "NOSUCHKEYID";
    auto wrong = S3BlobStore::Create(o);
    REQUIRE(wrong.ok());
    CHECK((*wrong)->ReadAll("k").status().code() == absl::StatusCode::kPermissionDenied);
  }
  SECTION("a missing bucket is NOT_FOUND") {
    S3BlobStoreOptions o = bucket->store().options();
    o.bucket = bucket->bucket() + "-absent";
    auto absent = S3BlobStore::Create(o);
    REQUIRE(absent.ok());
    CHECK((*absent)->ReadAll("k").status().code() == absl::StatusCode::kNotFound);
    CHECK((*absent)->Put("k", "v").code() == absl::StatusCode::kNotFound);
  }
  SECTION("creating an existing bucket is ALREADY_EXISTS") {
    CHECK(bucket->store().CreateBucket().code() == absl::StatusCode::kAlreadyExists);
  }
}

}  // namespace
}  // namespace switchboard::blob
