#include <catch2/catch.hpp>

#include "db_test_migrations.h"
#include "libs/common/ids.h"
#include "libs/db/migrations.h"
#include "libs/testing/testing.h"

namespace switchboard::db {
namespace {

using testing::PgTestSchema;

absl::Status InsertAccount(pqxx::work& tx, const std::string& company, const std::string& email) {
  tx.exec_params("INSERT INTO accounts (id, company_id, email) VALUES ($1, $2, $3)", NewUuidV7(),
                 company, email);
  return absl::OkStatus();
}

std::function<absl::StatusOr<int>(pqxx::work&)> CountAccounts() {
  return [](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM accounts")[0][0].as<int>();
  };
}

TEST_CASE("Row-level security isolates tenants", "[integration][db][tenant]") {
  PgTestSchema::Options options;
  options.migrations = {{"test", testdata::Migrations()},
                        {"test_rls", {{1, "accounts_rls", TenantPolicySql("accounts")}}}};
  auto db = PgTestSchema::CreateOrFail(options);
  Pool& pool = db->pool();
  const std::string a = NewUuidV7(), b = NewUuidV7();
  REQUIRE(pool.Unscoped([&](pqxx::work& tx) {
                tx.exec_params("INSERT INTO companies (id, name) VALUES ($1, 'a'), ($2, 'b')", a, b);
                return absl::OkStatus();
              }).ok());
  REQUIRE(pool.InTenant(a, [&](pqxx::work& tx) { return InsertAccount(tx, a, "1@a.io"); }).ok());
  REQUIRE(pool.InTenant(a, [&](pqxx::work& tx) { return InsertAccount(tx, a, "2@a.io"); }).ok());
  REQUIRE(pool.InTenant(b, [&](pqxx::work& tx) { return InsertAccount(tx, b, "1@b.io"); }).ok());

  SECTION("a tenant sees only its rows") {
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 2);
    CHECK(*pool.InTenantOr<int>(b, CountAccounts()) == 1);
  }
  SECTION("a tenant cannot write another tenant's row") {
    absl::Status s = pool.InTenant(a, [&](pqxx::work& tx) { return InsertAccount(tx, b, "x@b.io"); });
    INFO(s.ToString());
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    absl::StatusOr<int> updated = pool.InTenantOr<int>(a, [&](pqxx::work& tx) -> absl::StatusOr<int> {
      return static_cast<int>(
          tx.exec_params("UPDATE accounts SET balance = 9 WHERE company_id = $1", b).affected_rows());
    });
    REQUIRE(updated.ok());
    CHECK(*updated == 0);
  }
  SECTION("a transaction that forgot its tenant sees nothing and cannot insert") {
    absl::StatusOr<int> n = absl::UnknownError("unset");
    REQUIRE(pool.Plain([&](pqxx::work& tx) {
                  n = CountAccounts()(tx);
                  return absl::OkStatus();
                }).ok());
    REQUIRE(n.ok());
    CHECK(*n == 0);
    absl::Status s = pool.Plain([&](pqxx::work& tx) { return InsertAccount(tx, a, "x@a.io"); });
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
  }
  SECTION("tenant settings do not leak into the next transaction on the connection") {
    auto single = Pool::Create({db->dsn(), db->schema(), 1, absl::Seconds(2), ""});
    REQUIRE(single.ok());
    CHECK(*(*single)->InTenantOr<int>(a, CountAccounts()) == 2);
    CHECK(*(*single)->UnscopedOr<int>(CountAccounts()) == 3);
    absl::StatusOr<int> n = absl::UnknownError("unset");
    REQUIRE((*single)->Plain([&](pqxx::work& tx) {
                      n = CountAccounts()(tx);
                      return absl::OkStatus();
                    }).ok());
    CHECK(*n == 0);
  }
  SECTION("Unscoped sees every tenant") { CHECK(*pool.UnscopedOr<int>(CountAccounts()) == 3); }
  SECTION("an empty company id is rejected") {
    CHECK(pool.InTenant("", [](pqxx::work&) { return absl::OkStatus(); }).code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(pool.InTenantAutocommit("", [](pqxx::nontransaction&) { return absl::OkStatus(); })
              .code() == absl::StatusCode::kInvalidArgument);
  }
}

// The tenant settings are session settings written only when they change (pg_pool.h): on one
// connection, every sequence of scopes, committed or rolled back, must still isolate.
TEST_CASE("Tenant settings kept on a connection follow every change of scope",
          "[integration][db][tenant]") {
  PgTestSchema::Options options;
  options.migrations = {{"test", testdata::Migrations()},
                        {"test_rls", {{1, "accounts_rls", TenantPolicySql("accounts")}}}};
  auto db = PgTestSchema::CreateOrFail(options);
  auto single = Pool::Create({db->dsn(), db->schema(), 1, absl::Seconds(2), ""});
  REQUIRE(single.ok());
  Pool& pool = **single;  // one connection: every run below shares its session
  const std::string a = NewUuidV7(), b = NewUuidV7();
  REQUIRE(pool.Unscoped([&](pqxx::work& tx) {
                tx.exec_params("INSERT INTO companies (id, name) VALUES ($1, 'a'), ($2, 'b')", a, b);
                return absl::OkStatus();
              }).ok());
  REQUIRE(pool.InTenant(a, [&](pqxx::work& tx) { return InsertAccount(tx, a, "1@a.io"); }).ok());
  REQUIRE(pool.InTenant(a, [&](pqxx::work& tx) { return InsertAccount(tx, a, "2@a.io"); }).ok());
  REQUIRE(pool.InTenant(b, [&](pqxx::work& tx) { return InsertAccount(tx, b, "1@b.io"); }).ok());
  auto plain_count = [&] {
    absl::StatusOr<int> n = absl::UnknownError("unset");
    REQUIRE(pool.Plain([&](pqxx::work& tx) {
                  n = CountAccounts()(tx);
                  return absl::OkStatus();
                }).ok());
    REQUIRE(n.ok());
    return *n;
  };
  auto autocommit_count = [&](const std::string& company) {
    int n = -1;
    REQUIRE(pool.InTenantAutocommit(company, [&](pqxx::nontransaction& tx) {
                  n = tx.exec("SELECT count(*) FROM accounts")[0][0].as<int>();
                  return absl::OkStatus();
                }).ok());
    return n;
  };

  SECTION("the same tenant again, then others") {
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 2);
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 2);
    CHECK(*pool.InTenantOr<int>(b, CountAccounts()) == 1);
    CHECK(plain_count() == 0);
    CHECK(*pool.UnscopedOr<int>(CountAccounts()) == 3);
    CHECK(*pool.InTenantOr<int>(b, CountAccounts()) == 1);  // bypass is switched off again
    CHECK(plain_count() == 0);
  }
  SECTION("a rolled-back change of tenant leaves the session as it was, and it is rewritten") {
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 2);
    int seen_by_b = -1;
    absl::Status s = pool.InTenant(b, [&](pqxx::work& tx) {
      seen_by_b = CountAccounts()(tx).value();
      return absl::AbortedError("roll back");
    });
    CHECK(s.code() == absl::StatusCode::kAborted);
    CHECK(seen_by_b == 1);
    // The session is back to a's settings: b must write its own again, and so must a after it.
    CHECK(*pool.InTenantOr<int>(b, CountAccounts()) == 1);
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 2);
    absl::Status bypass_failed = pool.Unscoped([](pqxx::work& tx) {
      tx.exec("SELECT 1/0");
      return absl::OkStatus();
    });
    CHECK(bypass_failed.code() == absl::StatusCode::kInvalidArgument);
    CHECK(*pool.UnscopedOr<int>(CountAccounts()) == 3);
    CHECK(plain_count() == 0);
    CHECK(*pool.InTenantOr<int>(b, CountAccounts()) == 1);
  }
  SECTION("autocommit runs are scoped like transactions, and write one statement at a time") {
    CHECK(*pool.UnscopedOr<int>(CountAccounts()) == 3);
    CHECK(autocommit_count(a) == 2);
    CHECK(autocommit_count(b) == 1);
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 2);
    CHECK(autocommit_count(a) == 2);
    CHECK(plain_count() == 0);
    // A refused write of another tenant's row, then a committed one of its own.
    absl::Status s = pool.InTenantAutocommit(a, [&](pqxx::nontransaction& tx) {
      tx.exec_params("INSERT INTO accounts (id, company_id, email) VALUES ($1, $2, 'x@b.io')",
                     NewUuidV7(), b);
      return absl::OkStatus();
    });
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    REQUIRE(pool.InTenantAutocommit(a, [&](pqxx::nontransaction& tx) {
                  tx.exec_params("INSERT INTO accounts (id, company_id, email) VALUES ($1, $2, $3)",
                                 NewUuidV7(), a, "3@a.io");
                  return absl::OkStatus();
                }).ok());
    CHECK(*pool.InTenantOr<int>(a, CountAccounts()) == 3);
    CHECK(*pool.InTenantOr<int>(b, CountAccounts()) == 1);
  }
}

}  // namespace
}  // namespace switchboard::db
