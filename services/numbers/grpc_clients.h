// CarrierClient and IdentityClient over gRPC (switchboard.carrier.v1.Carrier,
// switchboard.identity.v1.Identity). Every call carries the service principal of the company
// (x-sb-company-id, x-sb-role=service) and a deadline of `timeout`. Remote statuses come back
// with their code and message (FromGrpcStatus). Thread-safe (stubs are).
#pragma once

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "services/numbers/clients.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"

namespace switchboard::numbers {

class GrpcCarrierClient final : public CarrierClient {
 public:
  GrpcCarrierClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(absl::string_view company_id,
                                                             const NumberSearch& search) override;
  absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view company_id, absl::string_view e164,
                                            absl::string_view provider) override;
  absl::Status ReleaseNumber(absl::string_view company_id, absl::string_view e164) override;
  absl::StatusOr<CarrierPortOrder> CreatePortOrder(absl::string_view company_id,
                                                   const PortOrderSpec& spec) override;
  absl::StatusOr<CarrierPortOrder> GetPortOrder(absl::string_view company_id,
                                                absl::string_view port_order_id) override;

 private:
  std::unique_ptr<carrier::v1::Carrier::Stub> stub_;
  absl::Duration timeout_;
};

class GrpcIdentityClient final : public IdentityClient {
 public:
  GrpcIdentityClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout);
  absl::StatusOr<CompanyPlan> GetPlan(absl::string_view company_id) override;
  absl::StatusOr<UserInfo> GetUser(absl::string_view company_id,
                                   absl::string_view user_id) override;

 private:
  std::unique_ptr<identity::v1::Identity::Stub> stub_;
  absl::Duration timeout_;
};

// carrier.v1 PortState → our PortStatus (in-process → submitted, cancel-pending → cancelled).
PortStatus PortStatusFromCarrier(carrier::v1::PortState state);

}  // namespace switchboard::numbers
