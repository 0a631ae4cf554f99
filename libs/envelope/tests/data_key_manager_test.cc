#include "libs/envelope/data_key_manager.h"

#include <thread>

#include <catch2/catch.hpp>

#include "libs/crypto/aead.h"
#include "libs/crypto/encoding.h"
#include "libs/envelope/tests/fake_data_key_store.h"

namespace switchboard::envelope {
namespace {

using testing::FakeDataKeyStore;

MasterKeyRing Ring(const std::string& active) {
  auto ring = MasterKeyRing::Parse("m1:" + crypto::Base64Encode(std::string(32, '1')) +
                                       ",m2:" + crypto::Base64Encode(std::string(32, '2')),
                                   active);
  REQUIRE(ring.ok());
  return std::move(*ring);
}

TEST_CASE("DataKeyManager creates one key per company and caches it", "[envelope][keys]") {
  FakeDataKeyStore store;
  MasterKeyRing ring = Ring("m1");
  FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  DataKeyManager keys(store, ring, clock, {.cache_capacity = 2, .cache_ttl = absl::Minutes(1)});

  absl::StatusOr<DataKey> a = keys.GetOrCreateDataKey("co-a");
  REQUIRE(a.ok());
  CHECK(a->version == 1);
  CHECK(a->key->bytes().size() == 32);
  absl::StatusOr<DataKey> again = keys.GetOrCreateDataKey("co-a");
  REQUIRE(again.ok());
  CHECK(again->key->bytes() == a->key->bytes());
  absl::StatusOr<DataKey> b = keys.GetOrCreateDataKey("co-b");
  REQUIRE(b.ok());
  CHECK(b->key->bytes() != a->key->bytes());
  CHECK(keys.GetDataKey("co-a", 1)->key->bytes() == a->key->bytes());

  SECTION("the stored key is wrapped by the active master key with company+version aad") {
    auto row = store.Get("co-a", 1);
    REQUIRE(row.ok());
    REQUIRE(row->has_value());
    CHECK((*row)->master_key_id == "m1");
    CHECK((*row)->wrapped.find(std::string(a->key->bytes())) == std::string::npos);
    auto raw = crypto::AesGcmOpen(std::string(32, '1'), (*row)->wrapped, WrapAad("co-a", 1));
    REQUIRE(raw.ok());
    CHECK(*raw == a->key->bytes());
    CHECK_FALSE(crypto::AesGcmOpen(std::string(32, '1'), (*row)->wrapped, WrapAad("co-b", 1)).ok());
  }
  SECTION("the cache is bounded and expires") {
    CHECK(keys.CachedKeysForTest() == 2);
    REQUIRE(keys.GetOrCreateDataKey("co-c").ok());
    CHECK(keys.CachedKeysForTest() == 2);
    int before = store.reads();
    REQUIRE(keys.GetDataKey("co-c", 1).ok());
    CHECK(store.reads() == before);  // cache hit
    clock.Advance(absl::Minutes(2));
    REQUIRE(keys.GetDataKey("co-c", 1).ok());
    CHECK(store.reads() > before);  // expired: reloaded
  }
  SECTION("unknown version is NOT_FOUND, empty company INVALID_ARGUMENT") {
    CHECK(keys.GetDataKey("co-a", 9).status().code() == absl::StatusCode::kNotFound);
    CHECK(keys.GetOrCreateDataKey("").status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a tampered wrapped key is DATA_LOSS") {
    DataKeyManager fresh(store, ring, clock, {.cache_capacity = 0});
    store.MutateForTest("co-b", 1, [](WrappedDataKey& k) { k.wrapped[20] ^= 1; });
    CHECK(fresh.GetDataKey("co-b", 1).status().code() == absl::StatusCode::kDataLoss);
  }
}

TEST_CASE("DataKeyManager: concurrent first use yields a single key", "[envelope][keys]") {
  FakeDataKeyStore store;
  MasterKeyRing ring = Ring("m1");
  std::vector<std::unique_ptr<DataKeyManager>> replicas;
  for (int i = 0; i < 8; ++i) {
    replicas.push_back(std::make_unique<DataKeyManager>(store, ring, SystemClock()));
  }
  std::vector<std::string> got(replicas.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < replicas.size(); ++i) {
    threads.emplace_back([&, i] {
      auto k = replicas[i]->GetOrCreateDataKey("co-race");
      if (k.ok()) got[i] = std::string(k->key->bytes());
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& k : got) {
    CHECK(k.size() == 32);
    CHECK(k == got[0]);
  }
}

TEST_CASE("DataKeyManager rewraps to a new master key without changing data keys",
          "[envelope][keys]") {
  FakeDataKeyStore store;
  MasterKeyRing ring = Ring("m1");
  DataKeyManager keys(store, ring, SystemClock(), {.cache_capacity = 0});
  std::vector<std::string> before;
  for (int i = 0; i < 250; ++i) {  // more than one page of 100
    before.emplace_back(keys.GetOrCreateDataKey("co-" + std::to_string(i))->key->bytes());
  }
  REQUIRE(keys.ShredCompanyKey("co-7").ok());

  absl::StatusOr<RewrapStats> stats = keys.RewrapAll("m2");
  REQUIRE(stats.ok());
  CHECK(stats->rewrapped == 249);  // the shredded one is left alone
  CHECK(keys.RewrapAll("m2")->rewrapped == 0);  // idempotent
  CHECK(keys.RewrapAll("m9").status().code() == absl::StatusCode::kFailedPrecondition);

  // Only m2 is needed now: a ring without m1 still opens every key, and they are unchanged.
  auto m2_only = MasterKeyRing::Parse("m2:" + crypto::Base64Encode(std::string(32, '2')), "m2");
  REQUIRE(m2_only.ok());
  DataKeyManager after(store, *m2_only, SystemClock(), {.cache_capacity = 0});
  for (int i = 0; i < 250; ++i) {
    absl::StatusOr<DataKey> k = after.GetDataKey("co-" + std::to_string(i), 1);
    if (i == 7) {
      CHECK(k.status().code() == absl::StatusCode::kFailedPrecondition);
      continue;
    }
    REQUIRE(k.ok());
    CHECK(k->key->bytes() == before[static_cast<size_t>(i)]);
  }
}

TEST_CASE("DataKeyManager: a retired master key still referenced is a clear error",
          "[envelope][keys]") {
  FakeDataKeyStore store;
  MasterKeyRing ring = Ring("m1");
  DataKeyManager keys(store, ring, SystemClock());
  REQUIRE(keys.GetOrCreateDataKey("co-a").ok());
  auto m2_only = MasterKeyRing::Parse("m2:" + crypto::Base64Encode(std::string(32, '2')), "m2");
  REQUIRE(m2_only.ok());
  DataKeyManager other(store, *m2_only, SystemClock());
  absl::Status s = other.GetDataKey("co-a", 1).status();
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.message() == "master key 'm1' is not configured (configured: m2)");
}

TEST_CASE("DataKeyManager shreds a company's key: FAILED_PRECONDITION afterwards",
          "[envelope][keys]") {
  FakeDataKeyStore store;
  MasterKeyRing ring = Ring("m1");
  DataKeyManager keys(store, ring, SystemClock());
  REQUIRE(keys.GetOrCreateDataKey("co-a").ok());
  REQUIRE(keys.GetOrCreateDataKey("co-b").ok());
  REQUIRE(keys.ShredCompanyKey("co-a").ok());
  REQUIRE(keys.ShredCompanyKey("co-a").ok());  // idempotent
  CHECK(keys.GetDataKey("co-a", 1).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(keys.GetOrCreateDataKey("co-a").status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(keys.GetDataKey("co-b", 1).ok());  // others unaffected
  // A company shredded before it ever had a key gets none afterwards either.
  REQUIRE(keys.ShredCompanyKey("co-never").ok());
  CHECK(keys.GetOrCreateDataKey("co-never").status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(keys.GetDataKey("co-never", 2).status().code() == absl::StatusCode::kFailedPrecondition);
  // LookupFor maps the same way for decryptors.
  CHECK(keys.LookupFor("co-a")(1).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(keys.LookupFor("co-b")(1)->size() == 32);
}

}  // namespace
}  // namespace switchboard::envelope
