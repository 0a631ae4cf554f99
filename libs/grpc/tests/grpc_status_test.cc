#include "libs/grpc/grpc_status.h"

#include <catch2/catch.hpp>

namespace switchboard::rpc {
namespace {

TEST_CASE("ToGrpcStatus casts codes and keeps client-facing messages", "[grpc][status]") {
  CHECK(ToGrpcStatus(absl::OkStatus()).ok());
  grpc::Status s = ToGrpcStatus(absl::InvalidArgumentError("phone_number: not E.164"), "r1");
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "phone_number: not E.164");
  CHECK(ToGrpcStatus(absl::NotFoundError("x")).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(ToGrpcStatus(absl::UnavailableError("x")).error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(ToGrpcStatus(absl::UnauthenticatedError("x")).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("ToGrpcStatus hides internal details behind the request id", "[grpc][status]") {
  auto code = GENERATE(absl::StatusCode::kInternal, absl::StatusCode::kUnknown,
                       absl::StatusCode::kDataLoss);
  absl::Status internal(code, "pq: relation \"secret_table\" does not exist");
  grpc::Status with_id = ToGrpcStatus(internal, "0190f5c2-aaaa-7bbb-8ccc-0123456789ab");
  CHECK(static_cast<int>(with_id.error_code()) == static_cast<int>(code));
  CHECK(with_id.error_message() ==
        "internal error; request id 0190f5c2-aaaa-7bbb-8ccc-0123456789ab");
  grpc::Status without_id = ToGrpcStatus(internal);
  CHECK(without_id.error_message() == "internal error");
}

TEST_CASE("FromGrpcStatus casts codes back", "[grpc][status]") {
  CHECK(FromGrpcStatus(grpc::Status::OK).ok());
  absl::Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::ABORTED, "retry"));
  CHECK(s.code() == absl::StatusCode::kAborted);
  CHECK(s.message() == "retry");
  for (int c = 1; c <= 16; ++c) {
    CHECK(static_cast<int>(
              FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(c), "m")).code()) == c);
  }
  CHECK(FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(42), "odd")).code() ==
        absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace switchboard::rpc
