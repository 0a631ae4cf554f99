// NumbersCore: the numbers service's rules, with no I/O of its own (store, carrier, identity
// and cache are injected interfaces; tests build it from fakes).
//
// Provisioning never leaves a number half-provisioned: the number is first reserved in the
// store (a unique index on live e164s decides concurrent orders: the loser gets
// kAlreadyExists and never reaches the carrier, so it cannot release the winner's number),
// then ordered at the carrier, then recorded; a failed order deletes the reservation, a failed
// record releases the number at the carrier and deletes the reservation.
//
// Thread-safety: all methods are safe to call concurrently (state lives in the store).
// Errors: kInvalidArgument naming the field; kNotFound for unknown ids or another company's;
// kFailedPrecondition for the plan limit (names the plan and the limit), a wrong state or a
// carrier state error (carrier message kept); kAlreadyExists when the number is taken;
// kUnavailable when the carrier, identity or Postgres cannot be reached; kAborted when a
// concurrent change won three times in a row.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/common/clock.h"
#include "services/numbers/cache.h"
#include "services/numbers/clients.h"
#include "services/numbers/model.h"
#include "services/numbers/store.h"

namespace switchboard::numbers {

struct CoreOptions {
  // AES-256-GCM key (raw 32 bytes) sealing port-in account numbers and PINs. Secret.
  std::string key_encryption_key;
};

// A search as the caller typed it (letters allowed in the patterns).
struct SearchInput {
  std::string country;
  NumberType type = NumberType::kLocal;
  std::string area_code;
  std::string contains;
  std::string starts_with;
  std::string locality;
  std::string region;
  int limit = 0;
};

struct ProvisionInput {
  std::string e164;
  LineType line_type = LineType::kDirect;
  std::string nickname;
  std::string caller_id_name;
  bool sms_enabled = false;
  std::string monthly_cost;
  std::string currency;
  std::string provider;         // the carrier a search said offers it; "" = primary
  std::string port_request_id;  // set for a port-in's temporary number
};

struct LineUpdate {
  std::optional<LineType> line_type;
  std::optional<std::string> nickname;
  std::optional<std::string> caller_id_name;
  std::optional<bool> sms_enabled;
  std::optional<bool> active;
};

struct PortInput {
  std::vector<std::string> numbers;
  std::string current_carrier;
  std::string account_number;
  std::string pin;
  std::string authorized_name;
  ServiceAddress service_address;
  std::string desired_foc_date;
  std::string temporary_e164;
  LineType line_type = LineType::kMain;
  std::string nickname;
};

struct OutboundCallerId {
  std::string e164;
  std::string caller_id_name;
  CallerIdChoice source = CallerIdChoice::kMain;
  std::string line_id;
};

class NumbersCore {
 public:
  // kInvalidArgument when the key is not 32 bytes.
  static absl::StatusOr<std::unique_ptr<NumbersCore>> Create(NumberStore& store,
                                                             CarrierClient& carrier,
                                                             IdentityClient& identity,
                                                             NumbersCache& cache,
                                                             const Clock& clock,
                                                             CoreOptions options);

  // Results de-duplicated by number; `second` = served from the cache.
  absl::StatusOr<std::pair<std::vector<AvailableNumber>, bool>> SearchNumbers(
      absl::string_view company_id, const SearchInput& input);
  absl::StatusOr<Number> ProvisionNumber(absl::string_view company_id,
                                         const ProvisionInput& input);
  absl::StatusOr<Number> GetNumber(absl::string_view company_id, absl::string_view id);
  absl::StatusOr<std::vector<Number>> ListNumbers(absl::string_view company_id,
                                                  bool include_released);
  absl::StatusOr<Number> UpdateLine(absl::string_view company_id, absl::string_view line_id,
                                    const LineUpdate& update);
  // Exactly one of user_id / department non-empty (kInvalidArgument otherwise). A user must
  // be an active user of the company and the line a direct line; a department needs a
  // department line (kFailedPrecondition).
  absl::StatusOr<Number> AssignLine(absl::string_view company_id, absl::string_view line_id,
                                    absl::string_view user_id, absl::string_view department);
  absl::StatusOr<Number> UnassignLine(absl::string_view company_id, absl::string_view line_id);
  absl::StatusOr<Number> SetLineFlow(absl::string_view company_id, absl::string_view line_id,
                                     absl::string_view flow_id);
  // A main line with a flow needs `force` (kFailedPrecondition explaining why).
  absl::StatusOr<Number> ReleaseNumber(absl::string_view company_id, absl::string_view line_id,
                                       bool force);

  absl::StatusOr<PortRequest> CreatePortRequest(absl::string_view company_id,
                                                const PortInput& input);
  absl::StatusOr<PortRequest> SubmitPortRequest(absl::string_view company_id,
                                                absl::string_view id);
  // Polls the carrier for a submitted request and applies its status.
  absl::StatusOr<PortRequest> GetPortRequest(absl::string_view company_id, absl::string_view id);
  absl::StatusOr<std::vector<PortRequest>> ListPortRequests(absl::string_view company_id);
  absl::StatusOr<PortRequest> CancelPortRequest(absl::string_view company_id,
                                                absl::string_view id);

  // `second` = served from the cache. kNotFound when no active number has this e164.
  absl::StatusOr<std::pair<Resolved, bool>> ResolveNumber(absl::string_view e164);

  absl::Status SetCallerIdPreference(absl::string_view company_id, absl::string_view user_id,
                                     CallerIdChoice choice);
  absl::StatusOr<OutboundCallerId> GetOutboundCallerId(absl::string_view company_id,
                                                       absl::string_view user_id);
  absl::StatusOr<NumberCounts> CountNumbers(absl::string_view company_id);

  // ---- Consumed events (idempotent: each only moves a number/port forward) ----
  // identity.v1 UserDeactivated: the user's lines become unassigned (kept, with history).
  absl::Status OnUserDeactivated(absl::string_view company_id, absl::string_view user_id);
  // carrier.v1 number_order_status: pending → active (success) or failed (failure).
  absl::Status OnNumberOrderStatus(absl::string_view company_id, absl::string_view order_id,
                                   bool success, const std::vector<std::string>& numbers);
  // carrier.v1 port_status.
  absl::Status OnPortStatus(absl::string_view company_id, absl::string_view carrier_port_order_id,
                            PortStatus status, absl::string_view reason);

  // The plaintext account number / PIN of a port request (for tests and the carrier call).
  absl::StatusOr<std::pair<std::string, std::string>> OpenPortSecrets(const PortRequest& port);

 private:
  NumbersCore(NumberStore& store, CarrierClient& carrier, IdentityClient& identity,
              NumbersCache& cache, const Clock& clock, CoreOptions options)
      : store_(store), carrier_(carrier), identity_(identity), cache_(cache), clock_(clock),
        options_(std::move(options)) {}

  // Reads the live line, applies `change` (which may fail), writes it with one event of kind
  // kLineUpdated(detail) unless `change` sets another, retrying on kAborted.
  absl::StatusOr<Number> MutateLine(
      absl::string_view company_id, absl::string_view line_id,
      const std::function<absl::StatusOr<DomainEvent>(Number&)>& change);
  absl::Status ApplyAndInvalidate(absl::string_view company_id, const Mutation& m);
  absl::StatusOr<PortRequest> ApplyPortStatus(absl::string_view company_id, PortRow row,
                                              PortStatus status, absl::string_view reason);
  absl::Status CompletePort(absl::string_view company_id, const PortRow& row);

  NumberStore& store_;
  CarrierClient& carrier_;
  IdentityClient& identity_;
  NumbersCache& cache_;
  const Clock& clock_;
  CoreOptions options_;
};

}  // namespace switchboard::numbers
