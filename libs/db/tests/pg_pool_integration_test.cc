#include <thread>

#include <catch2/catch.hpp>

#include "absl/synchronization/notification.h"
#include "db_test_migrations.h"
#include "libs/common/ids.h"
#include "libs/db/migrations.h"
#include "libs/db/pg_pool.h"
#include "libs/testing/testing.h"

namespace switchboard::db {
namespace {

using testing::PgTestSchema;

std::unique_ptr<PgTestSchema> AccountsDb() {
  PgTestSchema::Options options;
  options.migrations = {{"test", testdata::Migrations()}};
  return PgTestSchema::CreateOrFail(options);
}

absl::Status InsertCompany(Pool& pool, const std::string& id) {
  return pool.Unscoped([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO companies (id, name) VALUES ($1, 'acme')", id);
    return absl::OkStatus();
  });
}

absl::Status InsertAccount(Pool& pool, const std::string& company, const std::string& email,
                           int balance = 0) {
  return pool.Unscoped([&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO accounts (id, company_id, email, balance) VALUES ($1, $2, $3, $4)",
                   NewUuidV7(), company, email, balance);
    return absl::OkStatus();
  });
}

TEST_CASE("Pool::Create reports an unreachable server as Unavailable without the password",
          "[integration][db][pool]") {
  auto pool = Pool::Create({"postgresql://bob:s3cretpw@127.0.0.1:1/nodb?connect_timeout=2",
                            "anything", 2, absl::Seconds(1), ""});
  REQUIRE_FALSE(pool.ok());
  CHECK(pool.status().code() == absl::StatusCode::kUnavailable);
  CHECK(pool.status().message().find("127.0.0.1:1/nodb") != absl::string_view::npos);
  CHECK(pool.status().message().find("s3cretpw") == absl::string_view::npos);
}

TEST_CASE("Pool maps constraint and data errors to status codes", "[integration][db][errors]") {
  auto db = AccountsDb();
  Pool& pool = db->pool();
  const std::string company = NewUuidV7();
  REQUIRE(InsertCompany(pool, company).ok());
  REQUIRE(InsertAccount(pool, company, "a@x.io").ok());

  SECTION("unique violation is AlreadyExists") {
    CHECK(InsertAccount(pool, company, "a@x.io").code() == absl::StatusCode::kAlreadyExists);
  }
  SECTION("foreign key violation is FailedPrecondition") {
    CHECK(InsertAccount(pool, NewUuidV7(), "b@x.io").code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("check violation is FailedPrecondition") {
    CHECK(InsertAccount(pool, company, "c@x.io", -5).code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("invalid uuid text is InvalidArgument") {
    absl::Status s = pool.Unscoped([](pqxx::work& tx) {
      tx.exec_params("SELECT * FROM accounts WHERE id = $1", std::string("not-a-uuid"));
      return absl::OkStatus();
    });
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message().find("22P02") != absl::string_view::npos);
  }
  SECTION("an error status from fn rolls back its writes") {
    absl::Status s = pool.Unscoped([&](pqxx::work& tx) {
      tx.exec_params("INSERT INTO accounts (id, company_id, email) VALUES ($1, $2, 'r@x.io')",
                     NewUuidV7(), company);
      return absl::FailedPreconditionError("changed my mind");
    });
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    auto n = pool.UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
      return tx.exec("SELECT count(*) FROM accounts WHERE email = 'r@x.io'")[0][0].as<int>();
    });
    REQUIRE(n.ok());
    CHECK(*n == 0);
  }
}

TEST_CASE("Pool times out with Unavailable when exhausted", "[integration][db][pool]") {
  auto db = PgTestSchema::CreateOrFail();
  auto pool = Pool::Create({db->dsn(), db->schema(), 1, absl::Milliseconds(200), ""});
  REQUIRE(pool.ok());
  absl::Notification holding, release;
  std::thread holder([&] {
    absl::Status s = (*pool)->Unscoped([&](pqxx::work&) {
      holding.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
    CHECK(s.ok());
  });
  holding.WaitForNotification();
  const absl::Time start = absl::Now();
  absl::Status s = (*pool)->Unscoped([](pqxx::work&) { return absl::OkStatus(); });
  const absl::Duration waited = absl::Now() - start;
  release.Notify();
  holder.join();
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(s.message().find("pool exhausted") != absl::string_view::npos);
  CHECK(waited >= absl::Milliseconds(190));
  // Once released the connection is reused.
  CHECK((*pool)->Unscoped([](pqxx::work&) { return absl::OkStatus(); }).ok());
  CHECK((*pool)->OpenConnectionsForTest() == 1);
}

TEST_CASE("Pool discards a broken connection and reconnects with its search_path",
          "[integration][db][pool]") {
  auto db = AccountsDb();
  auto pool = Pool::Create({db->dsn(), db->schema(), 1, absl::Seconds(2), ""});
  REQUIRE(pool.ok());
  absl::Status killed = (*pool)->Unscoped([](pqxx::work& tx) {
    tx.exec("SELECT pg_terminate_backend(pg_backend_pid())");
    return absl::OkStatus();
  });
  CHECK(killed.code() == absl::StatusCode::kUnavailable);
  auto n = (*pool)->UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM accounts")[0][0].as<int>();  // unqualified: search_path
  });
  REQUIRE(n.ok());
  CHECK(*n == 0);
}

}  // namespace
}  // namespace switchboard::db
