#include "services/numbers/model.h"

namespace switchboard::numbers {

const char* StatusName(NumberStatus s) {
  switch (s) {
    case NumberStatus::kOrdering: return "ordering";
    case NumberStatus::kPending: return "pending";
    case NumberStatus::kActive: return "active";
    case NumberStatus::kFailed: return "failed";
    case NumberStatus::kReleased: return "released";
    case NumberStatus::kPortedOut: return "ported_out";
  }
  return "unknown";
}

const char* LineTypeName(LineType t) {
  switch (t) {
    case LineType::kMain: return "main";
    case LineType::kDirect: return "direct";
    case LineType::kDepartment: return "department";
  }
  return "unknown";
}

const char* NumberTypeName(NumberType t) {
  return t == NumberType::kTollFree ? "toll_free" : "local";
}

const char* PortStatusName(PortStatus s) {
  switch (s) {
    case PortStatus::kDraft: return "draft";
    case PortStatus::kSubmitted: return "submitted";
    case PortStatus::kException: return "exception";
    case PortStatus::kFocDateConfirmed: return "foc-date-confirmed";
    case PortStatus::kPorted: return "ported";
    case PortStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<NumberStatus> ParseStatus(const std::string& s) {
  for (NumberStatus v : {NumberStatus::kOrdering, NumberStatus::kPending, NumberStatus::kActive,
                         NumberStatus::kFailed, NumberStatus::kReleased,
                         NumberStatus::kPortedOut}) {
    if (s == StatusName(v)) return v;
  }
  return std::nullopt;
}

std::optional<LineType> ParseLineType(const std::string& s) {
  for (LineType v : {LineType::kMain, LineType::kDirect, LineType::kDepartment}) {
    if (s == LineTypeName(v)) return v;
  }
  return std::nullopt;
}

std::optional<NumberType> ParseNumberType(const std::string& s) {
  if (s == "local") return NumberType::kLocal;
  if (s == "toll_free") return NumberType::kTollFree;
  return std::nullopt;
}

std::optional<PortStatus> ParsePortStatus(const std::string& s) {
  for (PortStatus v : {PortStatus::kDraft, PortStatus::kSubmitted, PortStatus::kException,
                       PortStatus::kFocDateConfirmed, PortStatus::kPorted,
                       PortStatus::kCancelled}) {
    if (s == PortStatusName(v)) return v;
  }
  return std::nullopt;
}

}  // namespace switchboard::numbers
