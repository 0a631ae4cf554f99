#include <stdexcept>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "libs/db/pg_errors.h"

namespace switchboard::db {
namespace {

TEST_CASE("StatusFromPqxx maps libpqxx exceptions per the style table", "[db][errors]") {
  CHECK(StatusFromPqxx(pqxx::unique_violation("dup", "q", "23505")).code() ==
        absl::StatusCode::kAlreadyExists);
  CHECK(StatusFromPqxx(pqxx::foreign_key_violation("fk", "q", "23503")).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(StatusFromPqxx(pqxx::check_violation("ck", "q", "23514")).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(StatusFromPqxx(pqxx::not_null_violation("nn", "q", "23502")).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(StatusFromPqxx(pqxx::data_exception("bad uuid", "q", "22P02")).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(StatusFromPqxx(pqxx::serialization_failure("ser")).code() == absl::StatusCode::kAborted);
  CHECK(StatusFromPqxx(pqxx::deadlock_detected("dl")).code() == absl::StatusCode::kAborted);
  CHECK(StatusFromPqxx(pqxx::broken_connection("gone")).code() ==
        absl::StatusCode::kUnavailable);
  CHECK(StatusFromPqxx(pqxx::too_many_connections("full")).code() ==
        absl::StatusCode::kUnavailable);
  CHECK(StatusFromPqxx(pqxx::in_doubt_error("?")).code() == absl::StatusCode::kUnknown);
  CHECK(StatusFromPqxx(pqxx::statement_completion_unknown("?")).code() ==
        absl::StatusCode::kUnknown);
  CHECK(StatusFromPqxx(pqxx::conversion_error("nope")).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(StatusFromPqxx(std::runtime_error("other")).code() == absl::StatusCode::kInternal);
}

TEST_CASE("StatusFromPqxx maps by class when libpqxx omits the SQLSTATE", "[db][errors]") {
  CHECK(StatusFromPqxx(pqxx::insufficient_privilege("rls")).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(StatusFromPqxx(pqxx::unique_violation("dup")).code() == absl::StatusCode::kAlreadyExists);
  CHECK(StatusFromPqxx(pqxx::check_violation("ck")).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(StatusFromPqxx(pqxx::data_exception("bad")).code() == absl::StatusCode::kInvalidArgument);
  CHECK(StatusFromPqxx(pqxx::syntax_error("oops")).code() == absl::StatusCode::kInternal);
}

TEST_CASE("StatusFromPqxx keeps the SQLSTATE of other SQL errors", "[db][errors]") {
  absl::Status s = StatusFromPqxx(pqxx::undefined_table("no such table\n", "q", "42P01"));
  CHECK(s.code() == absl::StatusCode::kInternal);
  CHECK(s.message() == "no such table (SQLSTATE 42P01)");
}

TEST_CASE("RunCatching converts throws and annotates failures", "[db][errors]") {
  absl::Status s = RunCatching("insert user", []() -> absl::Status {
    throw pqxx::unique_violation("duplicate key", "q", "23505");
  });
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(s.message().find("insert user: duplicate key") == 0);
  CHECK(RunCatching("x", [] { return absl::OkStatus(); }).ok());
  auto v = RunCatchingOr<int>("y", []() -> absl::StatusOr<int> { return 7; });
  REQUIRE(v.ok());
  CHECK(*v == 7);
}

}  // namespace
}  // namespace switchboard::db
