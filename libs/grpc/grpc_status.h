// absl::Status <-> grpc::Status at the RPC boundary (STYLE §2.6).
//
// These live in libs/grpc, not libs/common, so that domain cores linking only sb_common never
// pull in gRPC.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace switchboard::rpc {

// Casts the code 1:1 (the numeric values are identical) and keeps the message, except for
// kInternal, kUnknown and kDataLoss: those send "internal error; request id <id>" (or
// "internal error" when `request_id` is empty) and log the real message at error level with the
// request id, so internals never reach clients. OK -> grpc::Status::OK.
grpc::Status ToGrpcStatus(const absl::Status& status, absl::string_view request_id = "");

// For outbound clients: casts the code 1:1 and keeps the message. Codes outside the canonical
// range map to kUnknown.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace switchboard::rpc
