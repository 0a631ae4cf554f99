// PgStore: IdentityStore over PostgreSQL (libs/db). Tenant methods run in Pool::InTenant (RLS
// on company_id) and also filter by company_id; cross-tenant lookups (email, token hashes) run
// in Pool::Unscoped. Events are appended to the outbox (libs/events) in the same transaction as
// the change, as switchboard.events.v1.Event envelopes on `options.topic`.
//
// Timestamps are stored at microsecond precision. Thread-safe (the pool is).
// Errors: as IdentityStore, mapped by db::StatusFromPqxx; duplicate email/extension are
// kAlreadyExists naming the field.
#pragma once

#include <string>
#include <vector>

#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/pg_pool.h"
#include "services/identity/store.h"

namespace switchboard::identity {

// Migration component name of the identity tables.
inline constexpr char kMigrationComponent[] = "identity";

// The identity migrations (migrations/*.sql, embedded at build time).
const std::vector<db::Migration>& IdentityMigrations();

// Applies events::OutboxMigrations() (component "events") then IdentityMigrations().
[[nodiscard]] absl::Status MigrateIdentity(db::Pool& pool);

struct PgStoreOptions {
  std::string topic = "identity.v1";
  std::string source = "identity";
};

class PgStore final : public IdentityStore {
 public:
  // `pool` and `clock` (stamps event occurred_at) must outlive the store.
  PgStore(db::Pool& pool, const Clock& clock, PgStoreOptions options = {});

  absl::Status CreateCompany(const Company& company, const User& owner,
                             const std::vector<IdentityEvent>& events) override;
  absl::StatusOr<Company> GetCompany(absl::string_view company_id) override;
  absl::Status UpdateCompany(const Company& company, absl::Time now,
                             const std::vector<IdentityEvent>& events) override;
  absl::StatusOr<User> GetUser(absl::string_view company_id, absl::string_view user_id) override;
  absl::StatusOr<std::vector<User>> ListUsers(absl::string_view company_id,
                                              bool include_deactivated) override;
  absl::StatusOr<User> FindUserByEmail(absl::string_view email) override;
  absl::Status UpdateUser(const User& user, const std::vector<IdentityEvent>& events) override;
  absl::Status CreateInvitation(const User& user, bool new_user, const Invitation& invitation,
                                absl::Time now, const std::vector<IdentityEvent>& events) override;
  absl::StatusOr<Invitation> FindInvitationByTokenHash(absl::string_view token_hash) override;
  absl::Status AcceptInvitation(const Invitation& invitation, const User& user, absl::Time now,
                                const std::vector<IdentityEvent>& events) override;
  absl::Status InsertRefreshToken(const RefreshToken& token) override;
  absl::StatusOr<RefreshToken> FindRefreshTokenByHash(absl::string_view token_hash) override;
  absl::Status RotateRefreshToken(const RefreshToken& old_token, const RefreshToken& next,
                                  absl::Time now) override;
  absl::Status RevokeRefreshFamily(absl::string_view company_id, absl::string_view family_id,
                                   absl::Time now) override;
  absl::Status InsertSigningKey(const SigningKeyRecord& key, bool retire_others) override;
  absl::StatusOr<std::vector<SigningKeyRecord>> ListSigningKeys() override;
  absl::Status InsertApiKey(const ApiKey& key) override;
  absl::StatusOr<std::vector<ApiKey>> ListApiKeys(absl::string_view company_id,
                                                  bool include_revoked) override;
  absl::StatusOr<ApiKey> RevokeApiKey(absl::string_view company_id, absl::string_view api_key_id,
                                      absl::Time now) override;
  absl::StatusOr<ApiKey> FindApiKeyBySecretHash(absl::string_view secret_hash) override;
  absl::Status TouchApiKey(absl::string_view company_id, absl::string_view api_key_id,
                           absl::Time now) override;
  absl::StatusOr<Device> UpsertDevice(const Device& device) override;
  absl::StatusOr<std::vector<Device>> ListDevices(absl::string_view company_id,
                                                  absl::string_view user_id) override;
  absl::StatusOr<Device> GetDevice(absl::string_view company_id,
                                   absl::string_view device_id) override;
  absl::Status DeleteDevice(absl::string_view company_id, absl::string_view device_id) override;

  // `SELECT 1` (health watcher). kUnavailable when Postgres cannot be reached.
  [[nodiscard]] absl::Status Ping();

 private:
  absl::Status AppendEvents(pqxx::work& tx, const std::vector<IdentityEvent>& events);

  db::Pool& pool_;
  const Clock& clock_;
  const PgStoreOptions options_;
};

}  // namespace switchboard::identity
