// The identity domain core: companies, users, invitations, login and refresh tokens, API keys,
// devices, presence and authorization decisions. Pure logic over the IdentityStore and
// PresenceStore interfaces, the TokenService and a Clock; no protobuf, gRPC, SQL or Redis.
//
// Every method taking a `caller` enforces tenancy (objects of another company are kNotFound)
// and the RBAC table (rbac.h; kPermissionDenied names the missing permission). A caller without
// a company is kUnauthenticated. Bad input is kInvalidArgument naming the field. Store errors
// pass through with context (kUnavailable, kAborted, ...).
//
// Thread-safe (all state lives in the stores and the TokenService).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/crypto/password.h"
#include "services/identity/model.h"
#include "services/identity/rbac.h"
#include "services/identity/store.h"
#include "services/identity/token_service.h"

namespace switchboard::identity {

struct CoreOptions {
  absl::Duration invitation_ttl = absl::Hours(24 * 7);
  absl::Duration refresh_token_ttl = absl::Hours(24 * 30);
  crypto::PasswordCost password_cost = crypto::PasswordCost::kInteractive;
};

struct SignupRequest {
  std::string name;
  std::string time_zone;
  std::optional<Plan> plan;
  Address address;
  std::string owner_email;
  std::string owner_full_name;
  std::string owner_password;
  std::string owner_extension;
  std::string owner_forward_to;
};

// Only the fields whose set_* flag is true change.
struct CompanyUpdate {
  std::string company_id;
  bool set_name = false, set_time_zone = false, set_plan = false, set_address = false;
  std::string name;
  std::string time_zone;
  std::optional<Plan> plan;
  Address address;
};

struct InviteRequest {
  std::string email;
  std::string full_name;
  std::optional<Role> role;
  std::string extension;
  std::string forward_to;
};

struct Invite {
  User user;
  std::string invitation_id;
  std::string token;  // secret, returned once
  absl::Time expires_at;
};

struct UserUpdate {
  std::string user_id;
  bool set_full_name = false, set_extension = false, set_forward_to = false;
  std::string full_name;
  std::string extension;
  std::string forward_to;
};

struct TokenPair {
  std::string access_token;
  absl::Time access_token_expires_at;
  std::string refresh_token;
  absl::Time refresh_token_expires_at;
  User user;
};

struct NewApiKey {
  ApiKey key;
  std::string secret;  // returned once
};

struct DeviceRequest {
  std::string user_id;  // empty = the caller
  std::optional<DevicePlatform> platform;
  std::string push_token;
  std::string label;
};

class IdentityCore {
 public:
  IdentityCore(IdentityStore& store, PresenceStore& presence, TokenService& tokens,
               const Clock& clock, CoreOptions options);

  // --- companies -----------------------------------------------------------------------------
  // Signup (no caller): the company and its active owner. kAlreadyExists for a taken email.
  absl::StatusOr<std::pair<Company, User>> CreateCompany(const SignupRequest& request);
  // `company_id` empty = the caller's.
  absl::StatusOr<Company> GetCompany(const Principal& caller, absl::string_view company_id);
  // MANAGE_COMPANY; a plan change also needs MANAGE_BILLING. Downgrading below the current
  // head count is kFailedPrecondition naming the limit.
  absl::StatusOr<Company> UpdateCompany(const Principal& caller, const CompanyUpdate& update);

  // --- users ---------------------------------------------------------------------------------
  // MANAGE_USERS; inviting an owner needs the caller to be an owner. Re-inviting a still
  // invited email of the same company issues a fresh invitation (the old one stops working).
  // kAlreadyExists for an email taken otherwise or an extension in use; kFailedPrecondition
  // when the plan's user limit is reached.
  absl::StatusOr<Invite> InviteUser(const Principal& caller, const InviteRequest& request);
  // No caller: the token is the credential. kUnauthenticated for an unknown, expired, used or
  // superseded token (one message for all, so tokens cannot be probed).
  absl::StatusOr<User> AcceptInvitation(absl::string_view token, absl::string_view password,
                                         absl::string_view full_name);
  // VIEW_OWN_PROFILE (own) / VIEW_ALL_USERS.
  absl::StatusOr<User> GetUser(const Principal& caller, absl::string_view user_id);
  // VIEW_ALL_USERS lists everyone; other roles get only themselves.
  absl::StatusOr<std::vector<User>> ListUsers(const Principal& caller, bool include_deactivated);
  // UPDATE_OWN_PROFILE (own) / MANAGE_USERS; an admin cannot edit an owner.
  absl::StatusOr<User> UpdateUser(const Principal& caller, const UserUpdate& update);
  // CHANGE_ROLES; only an owner grants or takes away the owner role; the last active owner
  // cannot be demoted (kFailedPrecondition).
  absl::StatusOr<User> ChangeRole(const Principal& caller, absl::string_view user_id,
                                  std::optional<Role> role);
  // MANAGE_USERS; an admin cannot deactivate an owner; nobody deactivates themselves or the
  // last active owner. Revokes nothing in flight: refresh fails for deactivated users and access
  // tokens expire within access_token_ttl. Idempotent for an already deactivated user.
  absl::StatusOr<User> DeactivateUser(const Principal& caller, absl::string_view user_id);

  // --- sessions ------------------------------------------------------------------------------
  // kUnauthenticated "invalid email or password" for an unknown email, a wrong password and a
  // user who is not active.
  absl::StatusOr<TokenPair> Login(absl::string_view email, absl::string_view password);
  // Rotates the refresh token. kUnauthenticated for unknown/expired/revoked tokens; presenting
  // an already-rotated token revokes the whole family (reuse detection).
  absl::StatusOr<TokenPair> Refresh(absl::string_view refresh_token);
  // Revokes the token's family. kUnauthenticated for an unknown token; OK when already revoked.
  absl::Status Logout(absl::string_view refresh_token);
  // An owner (of any company) or a service principal.
  absl::StatusOr<KeyRotation> RotateSigningKey(const Principal& caller);
  absl::StatusOr<std::vector<PublishedKey>> VerificationKeys();
  absl::StatusOr<crypto::Claims> VerifyAccessToken(absl::string_view token);
  const std::string& issuer() const { return tokens_.options().issuer; }

  // --- API keys ------------------------------------------------------------------------------
  // MANAGE_API_KEYS. Scopes are permission names (rbac.h); unknown names are kInvalidArgument.
  absl::StatusOr<NewApiKey> CreateApiKey(const Principal& caller, absl::string_view name,
                                         const std::vector<std::string>& scopes);
  absl::StatusOr<std::vector<ApiKey>> ListApiKeys(const Principal& caller, bool include_revoked);
  absl::StatusOr<ApiKey> RevokeApiKey(const Principal& caller, absl::string_view api_key_id);
  // No caller. kUnauthenticated for unknown, malformed or revoked secrets. Records last use.
  absl::StatusOr<Principal> VerifyApiKey(absl::string_view secret);

  // --- devices -------------------------------------------------------------------------------
  // MANAGE_OWN_DEVICES (own) / MANAGE_USERS. APNS and FCM need a push token.
  absl::StatusOr<Device> RegisterDevice(const Principal& caller, const DeviceRequest& request);
  absl::StatusOr<std::vector<Device>> ListDevices(const Principal& caller,
                                                  absl::string_view user_id);
  absl::Status RemoveDevice(const Principal& caller, absl::string_view device_id);

  // --- presence ------------------------------------------------------------------------------
  // SET_OWN_PRESENCE (own; admins/owners may set anyone's through MANAGE_USERS). kUnknown is
  // not settable. kUnavailable when Redis is down (a write cannot be faked).
  absl::StatusOr<Presence> SetPresence(const Principal& caller, absl::string_view user_id,
                                       std::optional<PresenceState> state);
  // VIEW_PRESENCE. A user with no stored presence is kOffline. When Redis is down the answer is
  // OK with state kUnknown and degraded = true (routing keeps working; it treats unknown as
  // available-but-unconfirmed).
  absl::StatusOr<Presence> GetPresence(const Principal& caller, absl::string_view user_id);

  // --- authorization -------------------------------------------------------------------------
  // The RBAC decision for `subject` (rbac.h). Reads no data, so it needs no caller of its own.
  // kInvalidArgument naming "permission" when it is missing, "principal" when the subject has
  // no company.
  absl::StatusOr<AuthzDecision> Authorize(const Principal& subject,
                                          std::optional<Permission> permission,
                                          absl::string_view resource_owner_user_id);

 private:
  // Access token plus the first refresh token of a new family (login).
  absl::StatusOr<TokenPair> StartSession(const User& user);
  absl::Status Require(const Principal& caller, Permission permission,
                       absl::string_view resource_owner = "");

  IdentityStore& store_;
  PresenceStore& presence_;
  TokenService& tokens_;
  const Clock& clock_;
  const CoreOptions options_;
};

// "<id>" of the acting user or "api_key:<id>" / "service" for events and logs.
std::string ActorId(const Principal& caller);

}  // namespace switchboard::identity
