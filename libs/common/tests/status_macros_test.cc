#include <catch2/catch.hpp>

#include "libs/common/status_macros.h"

namespace switchboard {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x));
  return absl::OkStatus();
}

TEST_CASE("ASSIGN_OR_RETURN unwraps values and propagates the first error", "[common][status]") {
  CHECK(*Quarter(8) == 2);
  CHECK(Quarter(6).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Quarter(7).status().message() == "odd");
}

TEST_CASE("RETURN_IF_ERROR accepts Status and StatusOr", "[common][status]") {
  CHECK(CheckEven(4).ok());
  CHECK(CheckEven(3).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Annotate keeps the code and prefixes the message", "[common][status]") {
  absl::Status s = Annotate(absl::NotFoundError("no row"), "load flow 'sales'");
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(s.message() == "load flow 'sales': no row");
  CHECK(Annotate(absl::OkStatus(), "x").ok());
}

}  // namespace
}  // namespace switchboard
