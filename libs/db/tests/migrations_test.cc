#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "libs/db/migrations.h"
#include "libs/db/pg_errors.h"
#include "libs/db/pg_pool.h"

namespace switchboard::db {
namespace {

TEST_CASE("MigrationFromFile parses NNNN_verb_noun.sql", "[db][migrations]") {
  auto m = MigrationFromFile("services/identity/migrations/0012_add_api_keys.sql", "SELECT 1");
  REQUIRE(m.ok());
  CHECK(m->version == 12);
  CHECK(m->name == "add_api_keys");
  CHECK(m->sql == "SELECT 1");
}

TEST_CASE("MigrationFromFile rejects badly named files", "[db][migrations]") {
  auto name = GENERATE(as<std::string>{}, "create_users.sql", "0001_create_users.txt",
                       "0001-create-users.sql", "0001_.sql", "0000_zero.sql", "00a1_x.sql",
                       "0001_Create.sql", "_x.sql");
  auto m = MigrationFromFile(name, "SELECT 1");
  CHECK(m.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(m.status().message().find(name) != absl::string_view::npos);
}

TEST_CASE("MigrationChecksum is the SHA-256 of the SQL", "[db][migrations]") {
  CHECK(MigrationChecksum("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(MigrationChecksum("a") != MigrationChecksum("b"));
}

TEST_CASE("TenantPolicySql calls the schema's tenant isolation function", "[db][tenant]") {
  CHECK(TenantPolicySql("users") == "SELECT enable_tenant_isolation('users');");
}

TEST_CASE("RedactDsn keeps host, port and database, never credentials", "[db][pool]") {
  CHECK(RedactDsn("postgresql://bob:s3cret@db.local:6543/app?sslmode=disable") ==
        "db.local:6543/app");
  CHECK(RedactDsn("postgres://db.local/app") == "db.local:5432/app");
  CHECK(RedactDsn("host=10.0.0.1 port=5433 dbname=x user=u password=s3cret") ==
        "10.0.0.1:5433/x");
  CHECK(RedactDsn("dbname=x password=s3cret").find("s3cret") == std::string::npos);
}

TEST_CASE("Pool::Create validates its options", "[db][pool]") {
  CHECK(Pool::Create({"", "s", 8, absl::Seconds(1), ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Pool::Create({"host=x", "Bad-Schema", 8, absl::Seconds(1), ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Pool::Create({"host=x", "ok", 0, absl::Seconds(1), ""}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::db
