// Test service for libs/grpc tests: echoes the text and reports what the handler saw
// (request id, principal) so tests can check the interceptor and metadata end to end.
#pragma once

#include <memory>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include "absl/synchronization/notification.h"
#include "libs/grpc/grpc_status.h"
#include "libs/grpc/principal.h"
#include "libs/grpc/server.h"
#include "switchboard/rpctest/v1/rpctest.grpc.pb.h"

namespace switchboard::rpc::testing {

class EchoService final : public switchboard::rpctest::v1::Echo::Service {
 public:
  grpc::Status Echo(grpc::ServerContext* context,
                    const switchboard::rpctest::v1::EchoRequest* request,
                    switchboard::rpctest::v1::EchoResponse* response) override {
    const std::string request_id = RequestIdOf(*context);
    if (request->block()) {
      entered.Notify();
      release.WaitForNotification();
    }
    if (request->fail_code() != 0) {
      return ToGrpcStatus(
          absl::Status(static_cast<absl::StatusCode>(request->fail_code()), request->text()),
          request_id);
    }
    response->set_text(request->text());
    response->set_request_id(request_id);
    absl::StatusOr<Principal> principal = PrincipalFromContext(*context);
    if (principal.ok()) {
      response->set_company_id(principal->company_id);
      response->set_user_id(principal->user_id);
      response->set_role(principal->role);
      for (const auto& scope : principal->scopes) response->add_scopes(scope);
      response->set_api_key_id(principal->api_key_id);
    } else {
      response->set_principal_error_code(static_cast<int>(principal.status().code()));
      response->set_principal_error(std::string(principal.status().message()));
    }
    return grpc::Status::OK;
  }

  // For requests with `block` set (one such request per service object).
  absl::Notification entered;
  absl::Notification release;
};

inline std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

}  // namespace switchboard::rpc::testing
