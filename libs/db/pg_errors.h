// Mapping of libpqxx exceptions to absl::Status (STYLE.md §2.6). This file and pg_errors.cc are
// the only code in the project that catches pqxx exceptions; everything else runs database code
// through RunCatching()/RunCatchingOr() or through Pool::InTenant()/Pool::Unscoped().
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::db {

// Maps an exception thrown by libpqxx (or the standard library inside a transaction) to a
// Status, keeping the server's message and, for SQL errors, the SQLSTATE:
//   unique_violation (23505)                                   -> kAlreadyExists
//   foreign_key (23503) / check (23514) / not_null (23502) /
//     restrict (23001) / other integrity violations (23xxx)    -> kFailedPrecondition
//   data_exception (22xxx, e.g. invalid uuid text)             -> kInvalidArgument
//   serialization_failure (40001) / deadlock_detected (40P01)  -> kAborted
//   broken_connection, too_many_connections (53300),
//     admin shutdown (57P01..57P03)                             -> kUnavailable
//   in_doubt_error / statement_completion_unknown              -> kUnknown (never blindly retry)
//   insufficient_privilege (42501), incl. RLS WITH CHECK       -> kPermissionDenied
//   query_canceled (57014, statement_timeout)                  -> kDeadlineExceeded
//   (libpqxx 6 omits the SQLSTATE on some classes; those map by exception class)
//   any other sql_error                                        -> kInternal "... (SQLSTATE xxxxx)"
//   pqxx::conversion_error / argument_error                    -> kInvalidArgument
//   anything else                                              -> kInternal
[[nodiscard]] absl::Status StatusFromPqxx(const std::exception& e);

// Runs `fn`, converting any exception it throws with StatusFromPqxx(). `context` (may be empty)
// is prepended to the message of a failure ("insert user: ...").
[[nodiscard]] absl::Status RunCatching(absl::string_view context,
                                       const std::function<absl::Status()>& fn);

// StatusOr flavour of RunCatching().
template <typename T, typename Fn>
[[nodiscard]] absl::StatusOr<T> RunCatchingOr(absl::string_view context, Fn&& fn) {
  std::optional<absl::StatusOr<T>> result;
  absl::Status status = RunCatching(context, [&]() -> absl::Status {
    result.emplace(fn());
    return result->status();
  });
  if (!status.ok()) return status;
  return std::move(*result);
}

}  // namespace switchboard::db
