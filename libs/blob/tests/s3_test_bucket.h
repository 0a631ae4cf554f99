// A unique bucket on the S3-compatible server of the test infrastructure (MinIO started by
// `./tools/dev testenv up`; SB_S3_ENDPOINT, SB_S3_ACCESS_KEY, SB_S3_SECRET_KEY, SB_S3_REGION in
// .run/test/endpoints.env), deleted with its contents in the destructor.
#pragma once

#include <memory>
#include <string>

#include "libs/blob/s3_blob_store.h"
#include "libs/common/status_macros.h"
#include "libs/testing/testing.h"

namespace switchboard::blob::testing {

inline absl::StatusOr<S3BlobStoreOptions> S3TestOptions(const std::string& bucket) {
  S3BlobStoreOptions o;
  ASSIGN_OR_RETURN(o.endpoint, switchboard::testing::RequireEnv("SB_S3_ENDPOINT"));
  ASSIGN_OR_RETURN(o.credentials.access_key_id,
                   switchboard::testing::RequireEnv("SB_S3_ACCESS_KEY"));
  ASSIGN_OR_RETURN(o.credentials.secret_access_key,
                   switchboard::testing::RequireEnv("SB_S3_SECRET_KEY"));
  o.region = switchboard::testing::Env("SB_S3_REGION").value_or("us-east-1");
  o.bucket = bucket;
  return o;
}

class S3TestBucket {
 public:
  // Creates "sb-test-<random>" with `tweak` applied to the options (part size etc.).
  template <typename Tweak>
  static std::unique_ptr<S3TestBucket> CreateOrFail(Tweak tweak) {
    std::string bucket = "sb-test-" + switchboard::testing::RandomSuffix();
    S3BlobStoreOptions o = switchboard::testing::ValueOrFail(S3TestOptions(bucket), "S3 env");
    tweak(o);
    auto store = switchboard::testing::ValueOrFail(S3BlobStore::Create(o), "S3BlobStore");
    switchboard::testing::RequireOk(store->CreateBucket(), "create bucket " + bucket);
    return std::unique_ptr<S3TestBucket>(new S3TestBucket(std::move(store)));
  }
  static std::unique_ptr<S3TestBucket> CreateOrFail() {
    return CreateOrFail([](S3BlobStoreOptions&) {});
  }
  ~S3TestBucket() { (void)store_->DeleteBucketAndContents(); }
  S3BlobStore& store() { return *store_; }
  const std::string& bucket() const { return store_->options().bucket; }

 private:
  explicit S3TestBucket(std::unique_ptr<S3BlobStore> store) : store_(std::move(store)) {}
  std::unique_ptr<S3BlobStore> store_;
};

}  // namespace switchboard::blob::testing
