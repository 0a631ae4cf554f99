// What the numbers core needs from other services, as interfaces (grpc_clients.h implements
// them over gRPC with the service principal; tests use fakes). Thread-safe implementations.
// Errors keep the remote code and message (carrier: FAILED_PRECONDITION for "number not
// available", UNAVAILABLE for carrier outages, NOT_FOUND for another company's number).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/numbers/model.h"

namespace switchboard::numbers {

struct OrderedNumber {
  std::string provider_number_id;
  std::string e164;
  bool pending = false;
  std::string order_id;
  std::string provider;  // "twilio" | "telnyx" | "emulator"
};

struct CarrierPortOrder {
  std::string id;
  PortStatus status = PortStatus::kSubmitted;
  std::string reason;
};

struct PortOrderSpec {
  std::vector<std::string> numbers;
  std::string current_carrier;
  std::string account_number;  // plaintext only for the carrier call
  std::string pin;
  std::string authorized_name;
  ServiceAddress service_address;
  std::string desired_foc_date;
};

class CarrierClient {
 public:
  virtual ~CarrierClient() = default;
  [[nodiscard]] virtual absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(
      absl::string_view company_id, const NumberSearch& search) = 0;
  // Orders with the carrier service's default webhook URLs (Switchboard's listener), on
  // `provider` (the carrier a search tagged the number with; "" = the company's primary).
  [[nodiscard]] virtual absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view company_id,
                                                                  absl::string_view e164,
                                                                  absl::string_view provider) = 0;
  [[nodiscard]] virtual absl::Status ReleaseNumber(absl::string_view company_id,
                                                   absl::string_view e164) = 0;
  [[nodiscard]] virtual absl::StatusOr<CarrierPortOrder> CreatePortOrder(
      absl::string_view company_id, const PortOrderSpec& spec) = 0;
  [[nodiscard]] virtual absl::StatusOr<CarrierPortOrder> GetPortOrder(
      absl::string_view company_id, absl::string_view port_order_id) = 0;
};

struct CompanyPlan {
  std::string plan;  // "solo" | "team" | "business" | "enterprise"
  int max_numbers = 0;  // 0 = unlimited
};

struct UserInfo {
  std::string id;
  bool active = false;
};

class IdentityClient {
 public:
  virtual ~IdentityClient() = default;
  [[nodiscard]] virtual absl::StatusOr<CompanyPlan> GetPlan(absl::string_view company_id) = 0;
  // kNotFound for an unknown user or one of another company.
  [[nodiscard]] virtual absl::StatusOr<UserInfo> GetUser(absl::string_view company_id,
                                                         absl::string_view user_id) = 0;
};

// The plan's number limit (Solo 1, Team 3, Business 10, Enterprise unlimited = 0).
int NumberLimitOfPlan(absl::string_view plan);

}  // namespace switchboard::numbers
