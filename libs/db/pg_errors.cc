#include "libs/db/pg_errors.h"

#include <string>

#include <pqxx/pqxx>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace switchboard::db {
namespace {

absl::Status FromSqlError(const pqxx::sql_error& e) {
  const std::string state = e.sqlstate();
  // libpqxx messages end with a newline; keep them on one log line.
  std::string msg = e.what();
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  auto with_state = [&](absl::StatusCode code) {
    return absl::Status(code, absl::StrCat(msg, " (SQLSTATE ", state, ")"));
  };
  if (state == "23505") return with_state(absl::StatusCode::kAlreadyExists);
  if (absl::StartsWith(state, "23")) return with_state(absl::StatusCode::kFailedPrecondition);
  if (absl::StartsWith(state, "22")) return with_state(absl::StatusCode::kInvalidArgument);
  if (state == "40001" || state == "40P01") return with_state(absl::StatusCode::kAborted);
  if (state == "53300" || state == "57P01" || state == "57P02" || state == "57P03" ||
      absl::StartsWith(state, "08")) {
    return with_state(absl::StatusCode::kUnavailable);
  }
  if (state == "42501") return with_state(absl::StatusCode::kPermissionDenied);
  if (state == "57014") return with_state(absl::StatusCode::kDeadlineExceeded);
  return with_state(absl::StatusCode::kInternal);
}

std::string Trimmed(const char* what) {
  std::string msg = what;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

}  // namespace

absl::Status StatusFromPqxx(const std::exception& e) {
  // Order matters: the more specific libpqxx classes derive from the general ones.
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::statement_completion_unknown*>(&e) != nullptr) {
    return absl::UnknownError(
        absl::StrCat("transaction outcome unknown (do not blindly retry): ", Trimmed(e.what())));
  }
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr) {
    return absl::AbortedError(Trimmed(e.what()));
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e); sql != nullptr) {
    if (!sql->sqlstate().empty()) return FromSqlError(*sql);
    // libpqxx 6 throws some subclasses without the SQLSTATE: map by class.
    const std::string msg = Trimmed(e.what());
    if (dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
      return absl::AlreadyExistsError(msg);
    }
    if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&e) != nullptr) {
      return absl::FailedPreconditionError(msg);
    }
    if (dynamic_cast<const pqxx::data_exception*>(&e) != nullptr) {
      return absl::InvalidArgumentError(msg);
    }
    if (dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr) {
      return absl::PermissionDeniedError(msg);
    }
    if (dynamic_cast<const pqxx::insufficient_resources*>(&e) != nullptr) {
      return absl::ResourceExhaustedError(msg);
    }
    return absl::InternalError(msg);
  }
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return absl::UnavailableError(absl::StrCat("database connection: ", Trimmed(e.what())));
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(Trimmed(e.what()));
  }
  if (dynamic_cast<const pqxx::conversion_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::argument_error*>(&e) != nullptr) {
    return absl::InvalidArgumentError(Trimmed(e.what()));
  }
  return absl::InternalError(Trimmed(e.what()));
}

absl::Status RunCatching(absl::string_view context, const std::function<absl::Status()>& fn) {
  absl::Status status;
  try {
    status = fn();
  } catch (const std::exception& e) {
    status = StatusFromPqxx(e);
  }
  if (!status.ok() && !context.empty()) return Annotate(status, context);
  return status;
}

}  // namespace switchboard::db
