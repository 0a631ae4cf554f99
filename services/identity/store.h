// Storage interfaces of the identity service. The domain core depends only on these; PgStore
// and RedisPresenceStore implement them, tests use in-memory fakes.
//
// Tenancy: every method taking `company_id` only sees that company's rows (PgStore runs them
// inside db::Pool::InTenant, so Postgres row-level security backs this up); a row of another
// company is kNotFound. Methods documented "cross-tenant" look rows up by a secret (email for
// login, token hashes) and run unscoped.
//
// Events: methods taking `events` append them to the outbox in the same transaction as the
// change, so an event is published if and only if the change committed.
//
// Errors (all methods): kUnavailable when the database cannot be reached, kAborted on a
// serialization failure (retry the whole call), plus the codes named per method.
// Implementations are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/identity/model.h"

namespace switchboard::identity {

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // --- companies and users -------------------------------------------------------------------
  // Inserts the company and its owner. kAlreadyExists when the email (or company id) is taken.
  [[nodiscard]] virtual absl::Status CreateCompany(const Company& company, const User& owner,
                                                   const std::vector<IdentityEvent>& events) = 0;
  // kNotFound when unknown or not `company_id`.
  virtual absl::StatusOr<Company> GetCompany(absl::string_view company_id) = 0;
  // Updates name, time zone, plan and address. kNotFound when unknown. When the plan changes,
  // kFailedPrecondition (UserLimitError) if the company holds more counted users than it allows.
  [[nodiscard]] virtual absl::Status UpdateCompany(const Company& company, absl::Time now,
                                                   const std::vector<IdentityEvent>& events) = 0;

  // kNotFound when the user is unknown or belongs to another company.
  virtual absl::StatusOr<User> GetUser(absl::string_view company_id,
                                       absl::string_view user_id) = 0;
  // Ordered by creation.
  virtual absl::StatusOr<std::vector<User>> ListUsers(absl::string_view company_id,
                                                      bool include_deactivated) = 0;
  // Cross-tenant (login). `email` is normalised. kNotFound when unknown.
  virtual absl::StatusOr<User> FindUserByEmail(absl::string_view email) = 0;
  // Writes the mutable fields of an existing user (full_name, role, extension, forward_to,
  // status, password_hash, deactivated_at, updated_at). kNotFound when unknown; kAlreadyExists
  // when the extension is taken in the company; kFailedPrecondition when the change would
  // leave the company without an active owner.
  [[nodiscard]] virtual absl::Status UpdateUser(const User& user,
                                                const std::vector<IdentityEvent>& events) = 0;

  // --- invitations ---------------------------------------------------------------------------
  // Stores `invitation` for `user`. When `new_user`, inserts the user (status invited) first;
  // otherwise `user` is an existing invited user whose details are overwritten and whose
  // earlier pending invitations stop working. Under a lock on the company row, counts the
  // company's seats (active users plus invited users with a pending, unexpired invitation at
  // `now`, excluding `user`) and returns kFailedPrecondition (UserLimitError) when one more
  // would exceed the plan. kAlreadyExists for a taken email or extension.
  [[nodiscard]] virtual absl::Status CreateInvitation(const User& user, bool new_user,
                                                      const Invitation& invitation, absl::Time now,
                                                      const std::vector<IdentityEvent>& events) = 0;
  // Cross-tenant. kNotFound when no invitation has this token hash.
  virtual absl::StatusOr<Invitation> FindInvitationByTokenHash(absl::string_view token_hash) = 0;
  // Marks the invitation accepted at `now` and writes `user` (now active) in one transaction.
  // kFailedPrecondition when the invitation was already accepted or superseded (single use,
  // also under concurrent accepts).
  [[nodiscard]] virtual absl::Status AcceptInvitation(const Invitation& invitation,
                                                      const User& user, absl::Time now,
                                                      const std::vector<IdentityEvent>& events) = 0;

  // --- refresh tokens ------------------------------------------------------------------------
  [[nodiscard]] virtual absl::Status InsertRefreshToken(const RefreshToken& token) = 0;
  // Cross-tenant. kNotFound when unknown.
  virtual absl::StatusOr<RefreshToken> FindRefreshTokenByHash(absl::string_view token_hash) = 0;
  // Marks `old_token` rotated at `now` and inserts `next` atomically. kFailedPrecondition when
  // `old_token` was already rotated or revoked (a concurrent reuse).
  [[nodiscard]] virtual absl::Status RotateRefreshToken(const RefreshToken& old_token,
                                                        const RefreshToken& next,
                                                        absl::Time now) = 0;
  // Revokes every unrevoked token of the family. Idempotent.
  [[nodiscard]] virtual absl::Status RevokeRefreshFamily(absl::string_view company_id,
                                                         absl::string_view family_id,
                                                         absl::Time now) = 0;

  // --- signing keys (platform-wide, not tenant data) -----------------------------------------
  // Inserts `key`; when `retire_others`, marks every other unretired key retired at
  // key.created_at in the same transaction. kAlreadyExists for a duplicate kid.
  [[nodiscard]] virtual absl::Status InsertSigningKey(const SigningKeyRecord& key,
                                                      bool retire_others) = 0;
  // All keys, newest first.
  virtual absl::StatusOr<std::vector<SigningKeyRecord>> ListSigningKeys() = 0;

  // --- API keys ------------------------------------------------------------------------------
  [[nodiscard]] virtual absl::Status InsertApiKey(const ApiKey& key) = 0;
  virtual absl::StatusOr<std::vector<ApiKey>> ListApiKeys(absl::string_view company_id,
                                                          bool include_revoked) = 0;
  // Sets revoked_at (keeps the first revocation time) and returns the key. kNotFound.
  virtual absl::StatusOr<ApiKey> RevokeApiKey(absl::string_view company_id,
                                              absl::string_view api_key_id, absl::Time now) = 0;
  // Cross-tenant. kNotFound when unknown.
  virtual absl::StatusOr<ApiKey> FindApiKeyBySecretHash(absl::string_view secret_hash) = 0;
  [[nodiscard]] virtual absl::Status TouchApiKey(absl::string_view company_id,
                                                 absl::string_view api_key_id, absl::Time now) = 0;

  // --- devices -------------------------------------------------------------------------------
  // Inserts the device, or, when the company already has a device with the same platform and
  // non-empty push token, moves that device to `device.user_id` and updates its label. Returns
  // the stored device (its id and softphone identity are the existing ones on update).
  virtual absl::StatusOr<Device> UpsertDevice(const Device& device) = 0;
  virtual absl::StatusOr<std::vector<Device>> ListDevices(absl::string_view company_id,
                                                          absl::string_view user_id) = 0;
  virtual absl::StatusOr<Device> GetDevice(absl::string_view company_id,
                                           absl::string_view device_id) = 0;
  // kNotFound when unknown.
  [[nodiscard]] virtual absl::Status DeleteDevice(absl::string_view company_id,
                                                  absl::string_view device_id) = 0;
};

// Presence lives in Redis (volatile, high churn). Thread-safe.
class PresenceStore {
 public:
  virtual ~PresenceStore() = default;
  // kUnavailable when the backing store is down.
  [[nodiscard]] virtual absl::Status Set(absl::string_view company_id,
                                         const Presence& presence) = 0;
  // std::nullopt when nothing was ever set; kUnavailable when the backing store is down.
  virtual absl::StatusOr<std::optional<Presence>> Get(absl::string_view company_id,
                                                      absl::string_view user_id) = 0;
};

}  // namespace switchboard::identity
