#include <thread>

#include <catch2/catch.hpp>

#include "db_test_migrations.h"
#include "libs/db/migrations.h"
#include "libs/testing/testing.h"

namespace switchboard::db {
namespace {

using testing::PgTestSchema;

int Count(Pool& pool, const std::string& sql) {
  auto n = pool.UnscopedOr<int>([&](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec(sql)[0][0].as<int>();
  });
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("Embedded migrations carry version, name and SQL from the file",
          "[integration][db][migrations]") {
  const auto& ms = testdata::Migrations();
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].version == 1);
  CHECK(ms[0].name == "create_accounts");
  CHECK(ms[1].version == 2);
  CHECK(ms[1].name == "add_notes");
  CHECK(ms[1].sql.find("DEFAULT 'a;b'") != std::string::npos);
}

TEST_CASE("Migrate applies from empty, then is idempotent", "[integration][db][migrations]") {
  auto db = PgTestSchema::CreateOrFail();
  Pool& pool = db->pool();
  REQUIRE(Migrate(pool, "test", testdata::Migrations()).ok());
  CHECK(Count(pool, "SELECT count(*) FROM schema_migrations WHERE component = 'test'") == 2);
  CHECK(Count(pool, "SELECT count(*) FROM information_schema.columns WHERE table_schema = '" +
                        db->schema() + "' AND table_name = 'accounts' AND column_name = 'note'") ==
        1);
  const int before = Count(pool, "SELECT extract(epoch FROM max(applied_at))::int FROM "
                                 "schema_migrations");
  REQUIRE(Migrate(pool, "test", testdata::Migrations()).ok());
  CHECK(Count(pool, "SELECT count(*) FROM schema_migrations") == 2);
  CHECK(Count(pool, "SELECT extract(epoch FROM max(applied_at))::int FROM schema_migrations") ==
        before);
  SECTION("components are tracked separately") {
    std::vector<Migration> other = {{1, "create_other", "CREATE TABLE other (x int)"}};
    REQUIRE(Migrate(pool, "other", other).ok());
    CHECK(Count(pool, "SELECT count(*) FROM schema_migrations") == 3);
  }
}

TEST_CASE("Migrate from two threads applies each migration once", "[integration][db][migrations]") {
  auto db = PgTestSchema::CreateOrFail();
  auto second = Pool::Create(db->pool_options());
  REQUIRE(second.ok());
  // Not idempotent on purpose: applying it twice would fail.
  std::vector<Migration> ms = {{1, "create_t", "CREATE TABLE t (x int)"},
                               {2, "seed_t", "INSERT INTO t VALUES (1)"}};
  absl::Status a, b;
  std::thread ta([&] { a = Migrate(db->pool(), "race", ms); });
  std::thread tb([&] { b = Migrate(**second, "race", ms); });
  ta.join();
  tb.join();
  CHECK(a.ok());
  CHECK(b.ok());
  CHECK(Count(db->pool(), "SELECT count(*) FROM t") == 1);
  CHECK(Count(db->pool(), "SELECT count(*) FROM schema_migrations") == 2);
}

TEST_CASE("Migrate refuses an applied migration whose SQL changed",
          "[integration][db][migrations]") {
  auto db = PgTestSchema::CreateOrFail();
  REQUIRE(Migrate(db->pool(), "test", testdata::Migrations()).ok());
  std::vector<Migration> edited = testdata::Migrations();
  edited[0].sql += "\n-- sneaky edit";
  absl::Status s = Migrate(db->pool(), "test", edited);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.message().find("0001_create_accounts") != absl::string_view::npos);
}

TEST_CASE("A failing migration rolls back and stops the run", "[integration][db][migrations]") {
  auto db = PgTestSchema::CreateOrFail();
  std::vector<Migration> ms = {
      {1, "create_a", "CREATE TABLE a (x int)"},
      {2, "broken", "CREATE TABLE b (x int); SELECT * FROM no_such_table"},
      {3, "create_c", "CREATE TABLE c (x int)"}};
  absl::Status s = Migrate(db->pool(), "test", ms);
  CHECK(s.code() == absl::StatusCode::kInternal);
  CHECK(s.message().find("0002_broken") != absl::string_view::npos);
  CHECK(Count(db->pool(), "SELECT count(*) FROM schema_migrations") == 1);
  CHECK(Count(db->pool(), "SELECT count(*) FROM pg_tables WHERE schemaname = '" + db->schema() +
                              "' AND tablename IN ('b', 'c')") == 0);
}

TEST_CASE("Migrate validates its input", "[integration][db][migrations]") {
  auto db = PgTestSchema::CreateOrFail();
  CHECK(Migrate(db->pool(), "", {}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Migrate(db->pool(), "x", {{0, "zero", "SELECT 1"}}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Migrate(db->pool(), "x", {{1, "a", "SELECT 1"}, {1, "b", "SELECT 1"}}).code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::db
