#include "libs/grpc/grpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"

namespace switchboard::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss: {
      log::Error("rpc failed with an internal error",
                 {{"request_id", std::string(request_id)},
                  {"code", absl::StatusCodeToString(status.code())},
                  {"error", std::string(status.message())}});
      std::string message = request_id.empty()
                                ? std::string("internal error")
                                : absl::StrCat("internal error; request id ", request_id);
      return grpc::Status(code, message);
    }
    default:
      return grpc::Status(code, std::string(status.message()));
  }
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  if (code < 1 || code > 16) return absl::UnknownError(status.error_message());
  return absl::Status(static_cast<absl::StatusCode>(code), status.error_message());
}

}  // namespace switchboard::rpc
