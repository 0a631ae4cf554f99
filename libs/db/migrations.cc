#include "libs/db/migrations.h"

#include <algorithm>
#include <set>

#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"

namespace switchboard::db {
namespace {

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  component  text        NOT NULL,"
    "  version    integer     NOT NULL,"
    "  name       text        NOT NULL,"
    "  checksum   text        NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (component, version))";

// Created in every migrated schema so migrations enable tenant isolation with one line,
// `SELECT enable_tenant_isolation('users');`, instead of repeating the policy (kept in one place).
// FORCE is needed because services connect as the table owner, whom RLS otherwise skips.
constexpr char kCreateTenantFunction[] = R"sql(
CREATE OR REPLACE FUNCTION enable_tenant_isolation(tbl regclass, tenant_column name DEFAULT 'company_id')
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  predicate text := format(
    '(current_setting(''app.tenant_bypass'', true) = ''on'' OR %I::text = current_setting(''app.company_id'', true))',
    tenant_column);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING %s WITH CHECK %s', tbl, predicate, predicate);
END
$fn$)sql";

std::string Label(const Migration& m) { return absl::StrFormat("%04d_%s", m.version, m.name); }

// Serialises migrators of one schema across threads, processes and replicas.
void Lock(pqxx::work& tx, const std::string& schema) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                 absl::StrCat("switchboard.schema_migrations.", schema));
}

}  // namespace

std::string MigrationChecksum(absl::string_view sql) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(sql.data(), sql.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) absl::StrAppendFormat(&hex, "%02x", digest[i]);
  return hex;
}

absl::StatusOr<Migration> MigrationFromFile(absl::string_view filename, std::string sql) {
  absl::string_view base = filename;
  if (size_t slash = base.rfind('/'); slash != absl::string_view::npos) {
    base = base.substr(slash + 1);
  }
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file '", filename, "' is not named NNNN_verb_noun.sql"));
  };
  if (!absl::ConsumeSuffix(&base, ".sql")) return bad();
  size_t underscore = base.find('_');
  if (underscore == 0 || underscore == absl::string_view::npos) return bad();
  absl::string_view digits = base.substr(0, underscore);
  absl::string_view name = base.substr(underscore + 1);
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return bad();
  }
  if (name.empty()) return bad();
  for (char c : name) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) return bad();
  }
  int version = 0;
  if (!absl::SimpleAtoi(digits, &version) || version <= 0) return bad();
  return Migration{version, std::string(name), std::move(sql)};
}

absl::Status Migrate(Pool& pool, absl::string_view component,
                     const std::vector<Migration>& migrations) {
  if (component.empty()) return absl::InvalidArgumentError("migration component is empty");
  std::vector<const Migration*> sorted;
  std::set<int> versions;
  for (const Migration& m : migrations) {
    if (m.version <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration '", m.name, "' has version ", m.version, "; must be > 0"));
    }
    if (!versions.insert(m.version).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration version ", m.version, " of '", component, "' is duplicated"));
    }
    if (m.sql.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("migration ", Label(m), " has empty sql"));
    }
    sorted.push_back(&m);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Migration* a, const Migration* b) { return a->version < b->version; });
  const std::string schema = pool.schema();
  const std::string comp(component);

  RETURN_IF_ERROR(Annotate(pool.Unscoped([&](pqxx::work& tx) -> absl::Status {
                             Lock(tx, schema);
                             tx.exec(kCreateTable);
                             tx.exec(kCreateTenantFunction);
                             return absl::OkStatus();
                           }),
                           "create schema_migrations"));

  for (const Migration* m : sorted) {
    const std::string checksum = MigrationChecksum(m->sql);
    bool applied_now = false;
    absl::Status status = pool.Unscoped([&](pqxx::work& tx) -> absl::Status {
      Lock(tx, schema);
      pqxx::result r = tx.exec_params(
          "SELECT checksum FROM schema_migrations WHERE component = $1 AND version = $2", comp,
          m->version);
      if (!r.empty()) {
        std::string stored = r[0][0].as<std::string>();
        if (stored != checksum) {
          return absl::FailedPreconditionError(absl::StrCat(
              "migration ", comp, "/", Label(*m),
              " was already applied with a different checksum (stored ", stored.substr(0, 12),
              ", file ", checksum.substr(0, 12), "); never edit an applied migration, add a new "
              "one"));
        }
        return absl::OkStatus();
      }
      tx.exec(m->sql);
      tx.exec_params(
          "INSERT INTO schema_migrations (component, version, name, checksum) "
          "VALUES ($1, $2, $3, $4)",
          comp, m->version, m->name, checksum);
      applied_now = true;
      return absl::OkStatus();
    });
    if (!status.ok()) {
      if (status.code() == absl::StatusCode::kFailedPrecondition &&
          absl::StrContains(status.message(), "different checksum")) {
        return status;
      }
      return Annotate(status, absl::StrCat("migration ", comp, "/", Label(*m)));
    }
    if (applied_now) {
      log::Info("migration applied", {{"component", comp},
                                      {"migration", Label(*m)},
                                      {"schema", schema}});
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::db
