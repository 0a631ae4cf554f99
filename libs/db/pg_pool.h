// A bounded, thread-safe pool of libpqxx connections bound to one Postgres schema, with tenant
// scoping backed by row-level security (see README.md and TenantPolicySql()).
//
// Every connection runs `SET search_path TO <schema>` when opened, so SQL (and migrations) are
// written without schema prefixes. Transactions are run through InTenant() (tenant-owned rows of
// one company) or Unscoped() (cross-tenant work: login by email, outbox relay, migrations).
// A transaction started any other way sees no tenant rows at all under the RLS policy.
//
// The tenant settings (`app.company_id`, `app.tenant_bypass`) are session settings of the
// connection, written only when a run needs other ones than the connection holds: a service
// that works for one company after another on the same connection pays no round trip for them.
// The pool tracks what each session holds (a run that wrote them and did not commit makes it
// "unknown", and they are written again next time). Like `search_path`, this needs a connection that is the client's
// own for the whole session: never put a transaction-pooling proxy (PgBouncer
// `pool_mode=transaction`) between a Pool and Postgres.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/pqxx>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace switchboard::db {

struct PoolOptions {
  // libpq connection string: "postgresql://user:pass@host:port/db" or "host=... dbname=...".
  std::string dsn;
  // Schema every connection works in (created if missing). Must match [a-z_][a-z0-9_]{0,62}.
  std::string schema;
  // Maximum number of open connections.
  int max_size = 8;
  // How long Acquire waits for a free connection before kUnavailable("pool exhausted").
  absl::Duration acquire_timeout = absl::Seconds(2);
  // Optional role to `SET ROLE` to on every connection (e.g. when the DSN user is a superuser,
  // which bypasses row-level security). Empty = stay the login user.
  std::string role;
};

// The function run inside a transaction. Return OK to commit, anything else to roll back.
using TxFn = std::function<absl::Status(pqxx::work&)>;
// The function run without a transaction block: every statement is its own transaction.
using AutocommitFn = std::function<absl::Status(pqxx::nontransaction&)>;

// Thread-safe. Connections are opened lazily up to max_size (one eagerly by Create() to validate
// the settings) and reused; a connection found broken is discarded and re-opened on demand.
// The Pool must outlive every transaction running on it.
class Pool {
 public:
  // Connects once to validate `options` and creates the schema if missing.
  // Errors: kInvalidArgument (empty dsn, bad schema name, max_size < 1), kUnavailable (server
  // unreachable; the message names the host, never the password), other codes from
  // StatusFromPqxx().
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Pool>> Create(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs `fn` in one transaction scoped to `company_id` (the session's `app.company_id` is that
  // company and `app.tenant_bypass` off, so the RLS policy shows only that company's rows and
  // refuses writes of others). Commits when fn returns OK, rolls back otherwise and returns fn's
  // status. Exceptions from fn or commit are mapped by StatusFromPqxx(). kInvalidArgument if
  // company_id is empty; kUnavailable if no connection frees up within acquire_timeout.
  [[nodiscard]] absl::Status InTenant(absl::string_view company_id, const TxFn& fn);

  // Same scoping, but `fn` runs without BEGIN/COMMIT: each statement it executes is its own
  // transaction (autocommit), so a write that is ONE statement (a data-modifying WITH can write
  // several tables atomically) costs one round trip instead of three. Nothing is rolled back
  // when fn returns an error: only for single-statement work.
  [[nodiscard]] absl::Status InTenantAutocommit(absl::string_view company_id,
                                                const AutocommitFn& fn);

  // Same, but with `app.tenant_bypass = on`: the policy admits every tenant's rows. For
  // cross-tenant work only (login by email, relays, consumers of platform events).
  [[nodiscard]] absl::Status Unscoped(const TxFn& fn);

  // A transaction with no tenant settings at all: under the RLS policy it sees no tenant rows and
  // cannot write any. Useful for tables without RLS and for tests proving isolation.
  [[nodiscard]] absl::Status Plain(const TxFn& fn);

  // StatusOr flavours: `fn` returns StatusOr<T>; commit on OK.
  template <typename T>
  [[nodiscard]] absl::StatusOr<T> InTenantOr(
      absl::string_view company_id, const std::function<absl::StatusOr<T>(pqxx::work&)>& fn) {
    std::optional<T> out;
    absl::Status s = InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
      absl::StatusOr<T> r = fn(tx);
      if (!r.ok()) return r.status();
      out.emplace(std::move(*r));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }
  template <typename T>
  [[nodiscard]] absl::StatusOr<T> UnscopedOr(
      const std::function<absl::StatusOr<T>(pqxx::work&)>& fn) {
    std::optional<T> out;
    absl::Status s = Unscoped([&](pqxx::work& tx) -> absl::Status {
      absl::StatusOr<T> r = fn(tx);
      if (!r.ok()) return r.status();
      out.emplace(std::move(*r));
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return std::move(*out);
  }

  // Opens a new connection outside the pool (search_path and role set as for pooled ones), e.g.
  // for LISTEN. The caller owns it; use it through RunCatching().
  [[nodiscard]] absl::StatusOr<std::unique_ptr<pqxx::connection>> OpenDedicatedConnection();

  const PoolOptions& options() const { return options_; }
  const std::string& schema() const { return options_.schema; }
  // "host:port/dbname" of the DSN, without user or password; for messages and logs.
  const std::string& redacted_target() const { return redacted_target_; }

  // Number of connections currently open (idle + in use). For tests and metrics.
  int OpenConnectionsForTest() const;

 private:
  explicit Pool(PoolOptions options, std::string redacted_target);

  enum class Scope { kTenant, kBypass, kPlain };
  // A pooled connection and the tenant settings its session holds ("" = not known: write them).
  struct Pooled {
    std::unique_ptr<pqxx::connection> conn;
    std::string session_scope;
  };
  static std::string SessionScope(Scope scope, absl::string_view company_id);
  static void SetSessionScope(pqxx::transaction_base& tx, Scope scope,
                              absl::string_view company_id);
  absl::Status Run(Scope scope, absl::string_view company_id, const TxFn& fn);
  // Prefers an idle connection whose session holds `scope` (see SessionScope).
  absl::StatusOr<Pooled> Acquire(absl::string_view scope);
  void Release(Pooled pooled, bool broken);

  const PoolOptions options_;
  const std::string redacted_target_;
  mutable absl::Mutex mu_;
  std::vector<Pooled> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Deletes the rows of `table` (of every tenant) whose timestamptz `time_column` is before
// `before`, in batches of `limit` rows, each batch its own Unscoped transaction (DELETE has no
// LIMIT: `ctid = ANY(ARRAY(SELECT ctid ... LIMIT n))`), until a batch is not full. Returns how
// many were deleted. For retention pruning; give `time_column` an index (BRIN suits
// insert-ordered times). kInvalidArgument for a bad table or column name or limit < 1.
[[nodiscard]] absl::StatusOr<int64_t> DeleteOlderThan(Pool& pool, absl::string_view table,
                                                      absl::string_view time_column,
                                                      absl::Time before, int limit);

// SQL enabling tenant isolation on `table` (which must have a `company_id` column):
// `SELECT enable_tenant_isolation('<table>');`. Migrate() defines that function in every schema
// it migrates: ENABLE + FORCE row level security and a `tenant_isolation` policy admitting rows
// whose company_id matches `app.company_id` (InTenant) or any row under `app.tenant_bypass`
// (Unscoped). FORCE is required because services connect as the table owner. Superusers and
// BYPASSRLS roles always skip RLS: connect as (or SET ROLE to) an ordinary role.
std::string TenantPolicySql(absl::string_view table);

// "host:port/dbname" for a libpq DSN (URI or key=value), without user or password.
std::string RedactDsn(absl::string_view dsn);

}  // namespace switchboard::db
