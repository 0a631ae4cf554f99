// Status helpers that our Abseil (20220623) lacks: RETURN_IF_ERROR, ASSIGN_OR_RETURN, Annotate.
#pragma once

#include "absl/strings/string_view.h"
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace switchboard {

// Returns `status` with `context` prepended to its message ("load flow 'sales': <cause>"),
// keeping the code. OK stays OK.
[[nodiscard]] inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

namespace internal_status {
inline absl::Status AsStatus(absl::Status s) { return s; }
template <typename T>
absl::Status AsStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace internal_status

}  // namespace switchboard

#define SB_STATUS_CONCAT_INNER_(a, b) a##b
#define SB_STATUS_CONCAT_(a, b) SB_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (a Status or StatusOr) is not OK.
#define RETURN_IF_ERROR(expr)                                                     \
  do {                                                                            \
    absl::Status sb_status_ = ::switchboard::internal_status::AsStatus((expr));   \
    if (!sb_status_.ok()) return sb_status_;                                      \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr): evaluates the StatusOr `expr`; on error returns its status,
// otherwise moves the value into `lhs` (which may be a declaration: `auto x`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  SB_ASSIGN_OR_RETURN_IMPL_(SB_STATUS_CONCAT_(sb_statusor_, __LINE__), lhs, expr)
#define SB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)
