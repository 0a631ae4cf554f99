// Versioned schema migrations, applied per component ("identity", "events", ...) into the pool's
// schema and recorded in `schema_migrations(component, version, name, checksum, applied_at)`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/db/pg_pool.h"

namespace switchboard::db {

struct Migration {
  int version = 0;   // > 0, unique per component
  std::string name;  // "create_users"
  std::string sql;   // may hold several statements; no schema prefixes (search_path does that)
};

// Applies the pending `migrations` of `component` in version order, each in its own transaction
// holding `pg_advisory_xact_lock` keyed on (schema, component), so replicas starting together
// apply each migration exactly once. Thread- and process-safe.
// Errors: kInvalidArgument (empty component, version <= 0 or duplicated, empty sql);
// kFailedPrecondition naming the migration when an applied one's checksum changed (edit by a new
// migration instead); the failing migration's SQL error (annotated "migration 0003_x: ...")
// otherwise, with that migration rolled back and later ones not attempted.
[[nodiscard]] absl::Status Migrate(Pool& pool, absl::string_view component,
                                   const std::vector<Migration>& migrations);

// Parses "NNNN_verb_noun.sql" (any directory prefix allowed) into version and name, with `sql`
// as body. kInvalidArgument naming the file when it does not match ^[0-9]+_[a-z0-9_]+\.sql$.
[[nodiscard]] absl::StatusOr<Migration> MigrationFromFile(absl::string_view filename,
                                                          std::string sql);

// Hex SHA-256 of the migration's SQL, as stored in schema_migrations.checksum.
std::string MigrationChecksum(absl::string_view sql);

}  // namespace switchboard::db
