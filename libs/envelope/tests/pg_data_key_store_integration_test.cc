// DataKeyManager over PgDataKeyStore against real Postgres (./tools/dev testenv up).
#include <thread>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/crypto/encoding.h"
#include "libs/envelope/chunked_aead.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/pg_data_key_store.h"
#include "libs/testing/testing.h"
#include "sb_envelope_migrations.h"

namespace switchboard::envelope {
namespace {

using switchboard::testing::PgTestSchema;

std::unique_ptr<PgTestSchema> Schema() {
  return PgTestSchema::CreateOrFail(
      {.max_size = 16, .migrations = {{"envelope", sql::Migrations()}}});
}

MasterKeyRing Ring(const std::string& spec_ids, const std::string& active) {
  std::string spec;
  for (char id : spec_ids) {
    if (!spec.empty()) spec += ",";
    spec += std::string("m") + id + ":" + crypto::Base64Encode(std::string(32, id));
  }
  auto ring = MasterKeyRing::Parse(spec, active);
  REQUIRE(ring.ok());
  return std::move(*ring);
}

std::string Seal(DataKeyManager& keys, const std::string& company, const std::string& plain) {
  absl::StatusOr<DataKey> key = keys.GetOrCreateDataKey(company);
  REQUIRE(key.ok());
  auto sealed = SealAll(key->key->bytes(), key->version, company + "|obj", plain);
  REQUIRE(sealed.ok());
  return *sealed;
}

TEST_CASE("PgDataKeyStore: replicas racing on first use create exactly one key",
          "[integration][envelope][pg]") {
  auto db = Schema();
  MasterKeyRing ring = Ring("1", "m1");
  // Separate pools and managers stand in for separate replicas.
  std::vector<std::unique_ptr<db::Pool>> pools;
  std::vector<std::unique_ptr<PgDataKeyStore>> stores;
  std::vector<std::unique_ptr<DataKeyManager>> managers;
  for (int i = 0; i < 6; ++i) {
    pools.push_back(switchboard::testing::ValueOrFail(db::Pool::Create(db->pool_options()), "pool"));
    stores.push_back(std::make_unique<PgDataKeyStore>(*pools.back()));
    managers.push_back(std::make_unique<DataKeyManager>(*stores.back(), ring, SystemClock()));
  }
  for (int round = 0; round < 5; ++round) {
    std::string company = "co-race-" + std::to_string(round);
    std::vector<std::string> got(managers.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < managers.size(); ++i) {
      threads.emplace_back([&, i] {
        auto k = managers[i]->GetOrCreateDataKey(company);
        got[i] = k.ok() ? std::string(k->key->bytes()) : k.status().ToString();
      });
    }
    for (auto& t : threads) t.join();
    for (const std::string& k : got) {
      CHECK(k.size() == 32);
      CHECK(k == got[0]);
    }
    int rows = 0;
    REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
      rows = tx.exec_params("SELECT count(*) FROM company_data_keys WHERE company_id = $1",
                            company)[0][0].as<int>();
      return absl::OkStatus();
    }).ok());
    CHECK(rows == 1);
  }
}

TEST_CASE("PgDataKeyStore: rewrap to a new master key, then old data still decrypts",
          "[integration][envelope][pg]") {
  auto db = Schema();
  PgDataKeyStore store(db->pool());
  MasterKeyRing ring_v1 = Ring("1", "m1");
  DataKeyManager v1(store, ring_v1, SystemClock());
  std::string plain(200'000, 'p');
  std::string sealed_a = Seal(v1, "co-a", plain);
  std::string sealed_b = Seal(v1, "co-b", plain);

  // Deploy with both keys, m2 active: rewrap.
  MasterKeyRing ring_both = Ring("12", "m2");
  DataKeyManager both(store, ring_both, SystemClock());
  absl::StatusOr<RewrapStats> stats = both.RewrapAll("m2");
  REQUIRE(stats.ok());
  CHECK(stats->rewrapped == 2);
  CHECK(both.RewrapAll("m2")->rewrapped == 0);
  // New companies get keys wrapped by m2.
  std::string sealed_c = Seal(both, "co-c", plain);

  // Retire m1: only m2 configured; everything written before and after still opens.
  MasterKeyRing ring_v2 = Ring("2", "m2");
  DataKeyManager v2(store, ring_v2, SystemClock());
  for (auto [company, sealed] : {std::pair{"co-a", &sealed_a}, std::pair{"co-b", &sealed_b},
                                 std::pair{"co-c", &sealed_c}}) {
    INFO(company);
    absl::StatusOr<std::string> opened =
        OpenAll(v2.LookupFor(company), std::string(company) + "|obj", *sealed);
    REQUIRE(opened.ok());
    CHECK(*opened == plain);
  }
  int on_m1 = -1;
  REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
    on_m1 = tx.exec("SELECT count(*) FROM company_data_keys WHERE master_key_id = 'm1'")[0][0]
                .as<int>();
    return absl::OkStatus();
  }).ok());
  CHECK(on_m1 == 0);
}

TEST_CASE("PgDataKeyStore: shredding makes the company's data unreadable",
          "[integration][envelope][pg]") {
  auto db = Schema();
  PgDataKeyStore store(db->pool());
  MasterKeyRing ring = Ring("1", "m1");
  DataKeyManager keys(store, ring, SystemClock());
  std::string sealed_a = Seal(keys, "co-a", "secret audio a");
  std::string sealed_b = Seal(keys, "co-b", "secret audio b");
  REQUIRE(OpenAll(keys.LookupFor("co-a"), "co-a|obj", sealed_a).ok());  // cached now

  REQUIRE(keys.ShredCompanyKey("co-a").ok());
  absl::Status s = OpenAll(keys.LookupFor("co-a"), "co-a|obj", sealed_a).status();
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(s.message(), "shredded"));
  // Another replica (fresh cache) fails the same way; encrypting anew is refused too.
  DataKeyManager replica(store, ring, SystemClock());
  CHECK(OpenAll(replica.LookupFor("co-a"), "co-a|obj", sealed_a).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(replica.GetOrCreateDataKey("co-a").status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // The key material is gone from the row; other companies are untouched.
  REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
    pqxx::result r = tx.exec(
        "SELECT wrapped_key IS NULL, shredded_at IS NOT NULL FROM company_data_keys "
        "WHERE company_id = 'co-a'");
    REQUIRE(r.size() == 1);
    CHECK(r[0][0].as<bool>());
    CHECK(r[0][1].as<bool>());
    return absl::OkStatus();
  }).ok());
  CHECK(*OpenAll(replica.LookupFor("co-b"), "co-b|obj", sealed_b) == "secret audio b");
  // Rewrap leaves the tombstone alone.
  MasterKeyRing ring2 = Ring("12", "m2");
  DataKeyManager rotated(store, ring2, SystemClock());
  CHECK(rotated.RewrapAll("m2")->rewrapped == 1);
}

TEST_CASE("PgDataKeyStore rows are tenant-isolated", "[integration][envelope][pg]") {
  auto db = Schema();
  PgDataKeyStore store(db->pool());
  MasterKeyRing ring = Ring("1", "m1");
  DataKeyManager keys(store, ring, SystemClock());
  REQUIRE(keys.GetOrCreateDataKey("co-a").ok());
  int visible = -1;
  REQUIRE(db->pool().InTenant("co-b", [&](pqxx::work& tx) {
    visible = tx.exec("SELECT count(*) FROM company_data_keys")[0][0].as<int>();
    return absl::OkStatus();
  }).ok());
  CHECK(visible == 0);
}

}  // namespace
}  // namespace switchboard::envelope
