#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

#include "libs/common/ids.h"
#include "libs/events/outbox.h"
#include "libs/events/tests/test_util.h"
#include "libs/testing/testing.h"

namespace switchboard::events {
namespace {

int PendingRows(db::Pool& pool) {
  auto n = pool.UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM outbox")[0][0].as<int>();
  });
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("AppendToOutbox commits and rolls back with the state change",
          "[integration][events][outbox]") {
  testing::PgTestSchema::Options options;
  options.migrations = {{kOutboxComponent, OutboxMigrations()}};
  auto db = testing::PgTestSchema::CreateOrFail(options);
  db::Pool& pool = db->pool();
  REQUIRE(pool.Unscoped([](pqxx::work& tx) {
                tx.exec("CREATE TABLE things (id uuid PRIMARY KEY)");
                return absl::OkStatus();
              }).ok());
  const std::string company = NewUuidV7();

  SECTION("committed together") {
    v1::Event e = test::TestEvent(company, "agg-1", "hello", 1);
    REQUIRE(pool.InTenant(company, [&](pqxx::work& tx) {
                  tx.exec_params("INSERT INTO things VALUES ($1)", NewUuidV7());
                  return AppendToOutbox(tx, "things.v1", e);
                }).ok());
    CHECK(PendingRows(pool) == 1);
    auto row = pool.UnscopedOr<std::string>([](pqxx::work& tx) -> absl::StatusOr<std::string> {
      pqxx::row r = tx.exec1("SELECT topic || '|' || key || '|' || id::text, payload FROM outbox");
      pqxx::binarystring payload(r[1]);
      v1::Event parsed;
      if (!parsed.ParseFromString(payload.str())) return absl::DataLossError("bad payload");
      return r[0].as<std::string>() + "|" + parsed.test().text();
    });
    REQUIRE(row.ok());
    CHECK(*row == "things.v1|agg-1|" + e.id() + "|hello");
    SECTION("the same event id twice is AlreadyExists") {
      absl::Status s = pool.Unscoped([&](pqxx::work& tx) { return AppendToOutbox(tx, "t", e); });
      CHECK(s.code() == absl::StatusCode::kAlreadyExists);
    }
  }
  SECTION("rolled back together") {
    absl::Status s = pool.InTenant(company, [&](pqxx::work& tx) -> absl::Status {
      tx.exec_params("INSERT INTO things VALUES ($1)", NewUuidV7());
      absl::Status appended = AppendToOutbox(tx, "things.v1", test::TestEvent(company, "a", "x", 1));
      if (!appended.ok()) return appended;
      return absl::FailedPreconditionError("business rule says no");
    });
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(PendingRows(pool) == 0);
    auto things = pool.UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
      return tx.exec("SELECT count(*) FROM things")[0][0].as<int>();
    });
    CHECK(*things == 0);
  }
  SECTION("bad input is InvalidArgument") {
    v1::Event e = test::TestEvent(company, "a", "x", 1);
    absl::Status empty_topic =
        pool.Unscoped([&](pqxx::work& tx) { return AppendToOutbox(tx, "", e); });
    CHECK(empty_topic.code() == absl::StatusCode::kInvalidArgument);
    e.set_id("not-a-uuid");
    absl::Status bad_id = pool.Unscoped([&](pqxx::work& tx) { return AppendToOutbox(tx, "t", e); });
    CHECK(bad_id.code() == absl::StatusCode::kInvalidArgument);
    CHECK(bad_id.message().find("event.id") != absl::string_view::npos);
  }
  SECTION("several events in one statement, keys and payloads kept byte for byte") {
    // Keys with the characters an array literal must escape; payloads with NUL, control and
    // multi-byte characters (and, from sequence -1, ten 0xff-ish varint bytes).
    static constexpr char kText[] = "nul\0ctl\x01\x7f {\"\\} \xc3\xa9 \xe6\x97\xa5";
    const std::string binary(kText, sizeof(kText) - 1);
    std::vector<v1::Event> batch = {test::TestEvent(company, "plain", "one", 1),
                                    test::TestEvent(company, "quote\"s,{and}\\back", binary, -1),
                                    test::TestEvent(company, "", "", 3)};
    REQUIRE(pool.InTenant(company, [&](pqxx::work& tx) {
                  return AppendToOutbox(tx, "things.v1", absl::MakeConstSpan(batch));
                }).ok());
    auto rows = pool.UnscopedOr<std::vector<std::string>>(
        [](pqxx::work& tx) -> absl::StatusOr<std::vector<std::string>> {
          std::vector<std::string> out;
          for (const pqxx::row& r : tx.exec("SELECT id::text, key, payload FROM outbox")) {
            pqxx::binarystring payload(r[2]);
            v1::Event parsed;
            if (!parsed.ParseFromString(payload.str())) return absl::DataLossError("bad payload");
            out.push_back(r[0].as<std::string>() + "|" + r[1].as<std::string>() + "|" +
                          parsed.test().text());
          }
          std::sort(out.begin(), out.end());
          return out;
        });
    REQUIRE(rows.ok());
    std::vector<std::string> want;
    for (const v1::Event& e : batch) {
      want.push_back(e.id() + "|" + e.aggregate_id() + "|" + e.test().text());
    }
    std::sort(want.begin(), want.end());
    CHECK(*rows == want);

    SECTION("one invalid event appends none") {
      std::vector<v1::Event> bad = {test::TestEvent(company, "a", "x", 4),
                                    test::TestEvent(company, "b", "y", 5)};
      bad[1].set_id("nope");
      absl::Status s = pool.InTenant(company, [&](pqxx::work& tx) {
        return AppendToOutbox(tx, "things.v1", absl::MakeConstSpan(bad));
      });
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(PendingRows(pool) == 3);
    }
  }
}

}  // namespace
}  // namespace switchboard::events
