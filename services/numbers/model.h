// Value types of the numbers service (plain structs; no protobuf). See numbers_core.h for the
// rules that move them between states.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace switchboard::numbers {

enum class NumberStatus {
  kOrdering,   // reserved while the carrier order is in flight (internal; listed as pending)
  kPending,    // ordered, waiting for the carrier's order-status webhook
  kActive,
  kFailed,     // the carrier reported the order failed
  kReleased,   // kept for history
  kPortedOut,  // the carrier reported the number ported away
};
enum class LineType { kMain, kDirect, kDepartment };
enum class NumberType { kLocal, kTollFree };
enum class CallerIdChoice { kMain, kDirect };
enum class PortStatus { kDraft, kSubmitted, kException, kFocDateConfirmed, kPorted, kCancelled };

const char* StatusName(NumberStatus s);
const char* LineTypeName(LineType t);
const char* NumberTypeName(NumberType t);
const char* PortStatusName(PortStatus s);
std::optional<NumberStatus> ParseStatus(const std::string& s);
std::optional<LineType> ParseLineType(const std::string& s);
std::optional<NumberType> ParseNumberType(const std::string& s);
std::optional<PortStatus> ParsePortStatus(const std::string& s);

// One number in a company's inventory with the line it carries.
struct Number {
  std::string id;
  std::string line_id;
  std::string company_id;
  std::string e164;
  NumberType type = NumberType::kLocal;
  std::string country = "US";
  std::string area_code;
  std::string provider;
  std::string provider_number_id;
  std::string carrier_order_id;
  std::string monthly_cost;
  std::string currency;
  NumberStatus status = NumberStatus::kOrdering;
  LineType line_type = LineType::kDirect;
  std::string nickname;
  std::string caller_id_name;
  bool sms_enabled = false;
  bool active = true;
  std::string assigned_user_id;
  std::string department;
  std::string flow_id;
  std::string port_request_id;
  absl::Time created_at;
  absl::Time updated_at;
  std::optional<absl::Time> released_at;
};

// What ResolveNumber answers (and what the cache holds).
struct Resolved {
  std::string company_id;
  std::string line_id;
  std::string number_id;
  LineType line_type = LineType::kDirect;
  std::string flow_id;
  std::string assigned_user_id;
  std::string department;
  std::string nickname;
  bool sms_enabled = false;
  bool active = true;  // the line's on/off switch
};

struct ServiceAddress {
  std::string street, extended, locality, region, postal_code, country;
};

struct PortRequest {
  std::string id;
  std::string company_id;
  std::vector<std::string> numbers;
  std::string current_carrier;
  std::string account_number_sealed;  // AES-256-GCM; never returned
  std::string pin_sealed;
  std::string authorized_name;
  ServiceAddress service_address;
  std::string desired_foc_date;
  PortStatus status = PortStatus::kDraft;
  std::string reason;
  std::string carrier_port_order_id;
  std::string temporary_line_id;
  std::string temporary_e164;
  absl::Time created_at;
  absl::Time updated_at;
};

// Search as the numbers service accepts it (already normalised: digits and '*').
struct NumberSearch {
  std::string country = "US";
  NumberType type = NumberType::kLocal;
  std::string area_code;
  std::string contains;
  std::string starts_with;
  std::string locality;
  std::string region;
  int limit = 20;
};

struct AvailableNumber {
  std::string e164;
  std::string locality;
  std::string region;
  std::string monthly_cost;
  std::string currency;
  bool sms = false;
  bool voice = false;
  std::string provider;  // the carrier offering it ("twilio" | "telnyx")
};

struct NumberCounts {
  int local = 0;
  int toll_free = 0;
  int total = 0;
  int limit = 0;
  std::string plan;
};

}  // namespace switchboard::numbers
