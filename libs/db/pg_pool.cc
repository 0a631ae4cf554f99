#include "libs/db/pg_pool.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/db/pg_errors.h"

namespace switchboard::db {
namespace {

bool ValidIdentifier(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!(absl::ascii_islower(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) return false;
  }
  return true;
}

// Opens and prepares one connection: search_path (and role) are session settings, so a
// connection must never be silently re-opened by libpqxx without them.
absl::StatusOr<std::unique_ptr<pqxx::connection>> Connect(const PoolOptions& options,
                                                          const std::string& target,
                                                          bool create_schema) {
  std::unique_ptr<pqxx::connection> conn;
  absl::Status status = RunCatching("", [&]() -> absl::Status {
    conn = std::make_unique<pqxx::connection>(options.dsn);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    pqxx::nontransaction tx(*conn);
    if (!options.role.empty()) tx.exec("SET ROLE " + tx.quote_name(options.role));
    if (create_schema) {
      tx.exec("CREATE SCHEMA IF NOT EXISTS " + tx.quote_name(options.schema));
    }
    tx.exec("SET search_path TO " + tx.quote_name(options.schema));
    return absl::OkStatus();
  });
  if (!status.ok()) {
    if (status.code() == absl::StatusCode::kUnavailable) {
      return absl::UnavailableError(
          absl::StrCat("cannot connect to Postgres at ", target, ": ", status.message()));
    }
    return Annotate(status, absl::StrCat("prepare connection to ", target, " schema '",
                                         options.schema, "'"));
  }
  return conn;
}

// The tenant settings a session holds, as Pool::Pooled::session_scope names them.
constexpr absl::string_view kFreshSession = "plain";  // nothing set: sees no tenant rows

}  // namespace

std::string Pool::SessionScope(Scope scope, absl::string_view company_id) {
  switch (scope) {
    case Scope::kTenant:
      return absl::StrCat("tenant:", company_id);
    case Scope::kBypass:
      return "bypass";
    case Scope::kPlain:
      break;
  }
  return std::string(kFreshSession);
}

void Pool::SetSessionScope(pqxx::transaction_base& tx, Scope scope,
                           absl::string_view company_id) {
  // Session settings (is_local false): they outlive the transaction when it commits and are
  // undone when it rolls back.
  tx.exec_params(
      "SELECT set_config('app.company_id', $1, false), set_config('app.tenant_bypass', $2, false)",
      scope == Scope::kTenant ? std::string(company_id) : std::string(),
      scope == Scope::kBypass ? "on" : "off");
}

std::string RedactDsn(absl::string_view dsn) {
  std::string host = "localhost", port = "5432", dbname;
  if (absl::StartsWith(dsn, "postgresql://") || absl::StartsWith(dsn, "postgres://")) {
    absl::string_view rest = dsn.substr(dsn.find("://") + 3);
    rest = rest.substr(0, rest.find('?'));
    size_t at = rest.rfind('@');
    if (at != absl::string_view::npos) rest = rest.substr(at + 1);
    size_t slash = rest.find('/');
    absl::string_view hostport = rest.substr(0, slash);
    if (slash != absl::string_view::npos) dbname = std::string(rest.substr(slash + 1));
    size_t colon = hostport.rfind(':');
    if (colon != absl::string_view::npos && !absl::EndsWith(hostport, "]")) {
      port = std::string(hostport.substr(colon + 1));
      hostport = hostport.substr(0, colon);
    }
    if (!hostport.empty()) host = std::string(hostport);
  } else {
    for (absl::string_view kv : absl::StrSplit(dsn, ' ', absl::SkipWhitespace())) {
      size_t eq = kv.find('=');
      if (eq == absl::string_view::npos) continue;
      absl::string_view k = kv.substr(0, eq);
      std::string v(kv.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
      if (k == "host" || k == "hostaddr") host = v;
      if (k == "port") port = v;
      if (k == "dbname") dbname = v;
    }
  }
  return absl::StrCat(host, ":", port, "/", dbname);
}

std::string TenantPolicySql(absl::string_view table) {
  return absl::StrCat("SELECT enable_tenant_isolation('", table, "');");
}

Pool::Pool(PoolOptions options, std::string redacted_target)
    : options_(std::move(options)), redacted_target_(std::move(redacted_target)) {}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<Pool>> Pool::Create(PoolOptions options) {
  if (options.dsn.empty()) return absl::InvalidArgumentError("PoolOptions.dsn is empty");
  if (!ValidIdentifier(options.schema)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PoolOptions.schema '", options.schema, "' must match [a-z_][a-z0-9_]{0,62}"));
  }
  if (options.max_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("PoolOptions.max_size must be >= 1, got ", options.max_size));
  }
  if (options.acquire_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("PoolOptions.acquire_timeout must be >= 0");
  }
  std::string target = RedactDsn(options.dsn);
  ASSIGN_OR_RETURN(std::unique_ptr<pqxx::connection> first,
                   Connect(options, target, /*create_schema=*/true));
  std::unique_ptr<Pool> pool(new Pool(std::move(options), std::move(target)));
  absl::MutexLock lock(&pool->mu_);
  pool->idle_.push_back(Pooled{std::move(first), std::string(kFreshSession)});
  pool->open_ = 1;
  return pool;
}

absl::StatusOr<std::unique_ptr<pqxx::connection>> Pool::OpenDedicatedConnection() {
  return Connect(options_, redacted_target_, /*create_schema=*/false);
}

int Pool::OpenConnectionsForTest() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

absl::StatusOr<Pool::Pooled> Pool::Acquire(absl::string_view scope) {
  {
    absl::MutexLock lock(&mu_);
    auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_size;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&available), options_.acquire_timeout)) {
      return absl::UnavailableError(absl::StrCat("pool exhausted: all ", options_.max_size,
                                                 " connections to ", redacted_target_,
                                                 " busy for ",
                                                 absl::FormatDuration(options_.acquire_timeout)));
    }
    // The most recently used idle connection whose session already holds `scope` (no settings
    // to write), else the most recently used one.
    for (size_t i = idle_.size(); i-- > 0;) {
      if (idle_[i].session_scope != scope || !idle_[i].conn->is_open()) continue;
      Pooled pooled = std::move(idle_[i]);
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
      return pooled;
    }
    while (!idle_.empty()) {
      Pooled pooled = std::move(idle_.back());
      idle_.pop_back();
      if (pooled.conn->is_open()) return pooled;
      --open_;  // broken while idle: drop it and try the next one (or open a new one)
    }
    ++open_;  // reserve a slot; connect outside the lock
  }
  absl::StatusOr<std::unique_ptr<pqxx::connection>> conn =
      Connect(options_, redacted_target_, /*create_schema=*/false);
  if (!conn.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return conn.status();
  }
  return Pooled{std::move(*conn), std::string(kFreshSession)};
}

void Pool::Release(Pooled pooled, bool broken) {
  absl::MutexLock lock(&mu_);
  if (broken || !pooled.conn->is_open()) {
    --open_;
    return;  // the connection closes as it goes out of scope (under the lock: cheap, no I/O wait)
  }
  idle_.push_back(std::move(pooled));
}

absl::Status Pool::Run(Scope scope, absl::string_view company_id, const TxFn& fn) {
  const std::string want = SessionScope(scope, company_id);
  ASSIGN_OR_RETURN(Pooled pooled, Acquire(want));
  bool committed = false;
  absl::Status status = RunCatching("", [&]() -> absl::Status {
    pqxx::work tx(*pooled.conn);
    if (pooled.session_scope != want) SetSessionScope(tx, scope, company_id);
    absl::Status s = fn(tx);
    if (!s.ok()) {
      tx.abort();
      return s;
    }
    tx.commit();
    committed = true;
    return absl::OkStatus();
  });
  // A rolled-back (or in-doubt) transaction undid (or may have undone) settings it wrote.
  if (committed) {
    pooled.session_scope = want;
  } else if (pooled.session_scope != want) {
    pooled.session_scope.clear();
  }
  // A lost connection may still report open until libpq notices; drop it on kUnavailable too.
  Release(std::move(pooled), status.code() == absl::StatusCode::kUnavailable);
  return status;
}

absl::Status Pool::InTenantAutocommit(absl::string_view company_id, const AutocommitFn& fn) {
  if (company_id.empty()) return absl::InvalidArgumentError("company_id is empty");
  const std::string want = SessionScope(Scope::kTenant, company_id);
  ASSIGN_OR_RETURN(Pooled pooled, Acquire(want));
  absl::Status status = RunCatching("", [&]() -> absl::Status {
    pqxx::nontransaction tx(*pooled.conn);
    if (pooled.session_scope != want) {
      pooled.session_scope.clear();
      SetSessionScope(tx, Scope::kTenant, company_id);  // committed at once
      pooled.session_scope = want;
    }
    return fn(tx);
  });
  Release(std::move(pooled), status.code() == absl::StatusCode::kUnavailable);
  return status;
}

absl::StatusOr<int64_t> DeleteOlderThan(Pool& pool, absl::string_view table,
                                        absl::string_view time_column, absl::Time before,
                                        int limit) {
  if (!ValidIdentifier(table)) return absl::InvalidArgumentError("table: not an identifier");
  if (!ValidIdentifier(time_column)) {
    return absl::InvalidArgumentError("time_column: not an identifier");
  }
  if (limit < 1) return absl::InvalidArgumentError("limit: must be >= 1");
  const std::string sql = absl::StrCat(
      "DELETE FROM ", table, " WHERE ctid = ANY(ARRAY(SELECT ctid FROM ", table, " WHERE ",
      time_column, " < (timestamptz 'epoch' + $1::bigint * interval '1 microsecond') LIMIT $2))");
  const int64_t before_us = absl::ToUnixMicros(before);
  int64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(const int64_t n,
                     pool.UnscopedOr<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
                       return static_cast<int64_t>(
                           tx.exec_params(sql, before_us, limit).affected_rows());
                     }));
    total += n;
    if (n < limit) return total;
  }
}

absl::Status Pool::InTenant(absl::string_view company_id, const TxFn& fn) {
  if (company_id.empty()) return absl::InvalidArgumentError("company_id is empty");
  return Run(Scope::kTenant, company_id, fn);
}

absl::Status Pool::Unscoped(const TxFn& fn) { return Run(Scope::kBypass, "", fn); }

absl::Status Pool::Plain(const TxFn& fn) { return Run(Scope::kPlain, "", fn); }

}  // namespace switchboard::db
