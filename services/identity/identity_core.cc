#include "services/identity/identity_core.h"

#include <algorithm>

#include "absl/base/call_once.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/crypto/random.h"
#include "services/identity/plans.h"
#include "services/identity/validation.h"

namespace switchboard::identity {
namespace {

constexpr absl::string_view kInvitationPrefix = "inv_";
constexpr absl::string_view kRefreshPrefix = "rt_";
constexpr absl::string_view kApiKeyPrefix = "sbk_";
constexpr size_t kApiKeyShownPrefix = 12;
constexpr absl::string_view kBadLogin = "invalid email or password";
constexpr absl::string_view kBadInvitation = "invitation is invalid, used or expired";
constexpr absl::string_view kBadRefresh = "invalid refresh token";

std::string HashSecret(absl::string_view secret) {
  return crypto::HexEncode(crypto::Sha256(secret));
}

absl::Status RequireCaller(const Principal& caller) {
  if (caller.company_id.empty()) {
    return absl::UnauthenticatedError("this call needs an authenticated principal");
  }
  return absl::OkStatus();
}

absl::Status RequireId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is required"));
  if (!IsUuid(id)) return absl::InvalidArgumentError(absl::StrCat(field, ": is not a UUID"));
  return absl::OkStatus();
}

bool IsOwner(const Principal& p) { return p.role.has_value() && *p.role == Role::kOwner; }

}  // namespace

std::string ActorId(const Principal& caller) {
  if (!caller.user_id.empty()) return caller.user_id;
  if (!caller.api_key_id.empty()) return absl::StrCat("api_key:", caller.api_key_id);
  return caller.service ? "service" : "";
}

IdentityCore::IdentityCore(IdentityStore& store, PresenceStore& presence, TokenService& tokens,
                           const Clock& clock, CoreOptions options)
    : store_(store), presence_(presence), tokens_(tokens), clock_(clock), options_(options) {}

absl::Status IdentityCore::Require(const Principal& caller, Permission permission,
                                   absl::string_view resource_owner) {
  RETURN_IF_ERROR(RequireCaller(caller));
  AuthzDecision d = identity::Authorize(caller, permission, resource_owner);
  if (!d.allowed) return absl::PermissionDeniedError(d.reason);
  return absl::OkStatus();
}

// --- companies --------------------------------------------------------------------------------

absl::StatusOr<std::pair<Company, User>> IdentityCore::CreateCompany(const SignupRequest& r) {
  ASSIGN_OR_RETURN(std::string name, RequireName("name", r.name));
  RETURN_IF_ERROR(ValidateTimeZone("time_zone", r.time_zone));
  if (!r.plan.has_value()) return absl::InvalidArgumentError("plan: is required");
  ASSIGN_OR_RETURN(Address address, NormalizeAddress("address", r.address));
  ASSIGN_OR_RETURN(std::string email, NormalizeEmail("owner_email", r.owner_email));
  ASSIGN_OR_RETURN(std::string full_name, RequireName("owner_full_name", r.owner_full_name));
  RETURN_IF_ERROR(ValidatePassword("owner_password", r.owner_password));
  RETURN_IF_ERROR(ValidateExtension("owner_extension", r.owner_extension));
  RETURN_IF_ERROR(ValidateE164("owner_forward_to", r.owner_forward_to, /*optional=*/true));
  ASSIGN_OR_RETURN(std::string hash, crypto::HashPassword(r.owner_password, options_.password_cost));

  const absl::Time now = clock_.Now();
  Company company{.id = NewUuidV7(now),
                  .name = std::move(name),
                  .time_zone = r.time_zone,
                  .plan = *r.plan,
                  .address = std::move(address),
                  .created_at = now,
                  .updated_at = now};
  User owner{.id = NewUuidV7(now),
             .company_id = company.id,
             .email = std::move(email),
             .full_name = std::move(full_name),
             .role = Role::kOwner,
             .extension = r.owner_extension,
             .forward_to = r.owner_forward_to,
             .status = UserStatus::kActive,
             .password_hash = std::move(hash),
             .created_at = now,
             .updated_at = now,
             .deactivated_at = std::nullopt};
  std::vector<IdentityEvent> events = {CompanyCreatedEvent{company, owner.id},
                                       UserActivatedEvent{owner}};
  RETURN_IF_ERROR(Annotate(store_.CreateCompany(company, owner, events), "create company"));
  return std::make_pair(std::move(company), std::move(owner));
}

absl::StatusOr<Company> IdentityCore::GetCompany(const Principal& caller,
                                                 absl::string_view company_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  if (!company_id.empty()) {
    RETURN_IF_ERROR(RequireId("company_id", company_id));
    // Another company's id is indistinguishable from an unknown one.
    if (company_id != caller.company_id) return absl::NotFoundError("company not found");
  }
  return store_.GetCompany(caller.company_id);
}

absl::StatusOr<Company> IdentityCore::UpdateCompany(const Principal& caller,
                                                    const CompanyUpdate& u) {
  RETURN_IF_ERROR(RequireCaller(caller));
  if (!u.company_id.empty()) {
    RETURN_IF_ERROR(RequireId("company_id", u.company_id));
    if (u.company_id != caller.company_id) return absl::NotFoundError("company not found");
  }
  if (!u.set_name && !u.set_time_zone && !u.set_plan && !u.set_address) {
    return absl::InvalidArgumentError("update_mask: names no field to update");
  }
  RETURN_IF_ERROR(Require(caller, Permission::kManageCompany));
  if (u.set_plan) RETURN_IF_ERROR(Require(caller, Permission::kManageBilling));
  ASSIGN_OR_RETURN(Company company, store_.GetCompany(caller.company_id));
  if (u.set_name) {
    ASSIGN_OR_RETURN(company.name, RequireName("name", u.name));
  }
  if (u.set_time_zone) {
    RETURN_IF_ERROR(ValidateTimeZone("time_zone", u.time_zone));
    company.time_zone = u.time_zone;
  }
  if (u.set_plan) {
    if (!u.plan.has_value()) return absl::InvalidArgumentError("plan: is required");
    company.plan = *u.plan;  // the store refuses a downgrade below the current seat count
  }
  if (u.set_address) {
    ASSIGN_OR_RETURN(company.address, NormalizeAddress("address", u.address));
  }
  const absl::Time now = clock_.Now();
  company.updated_at = now;
  RETURN_IF_ERROR(Annotate(store_.UpdateCompany(company, now, {CompanyUpdatedEvent{company}}),
                           "update company"));
  return company;
}

// --- users ------------------------------------------------------------------------------------

absl::StatusOr<Invite> IdentityCore::InviteUser(const Principal& caller, const InviteRequest& r) {
  RETURN_IF_ERROR(Require(caller, Permission::kManageUsers));
  ASSIGN_OR_RETURN(std::string email, NormalizeEmail("email", r.email));
  ASSIGN_OR_RETURN(std::string full_name, RequireName("full_name", r.full_name));
  if (!r.role.has_value()) return absl::InvalidArgumentError("role: is required");
  RETURN_IF_ERROR(ValidateExtension("extension", r.extension));
  RETURN_IF_ERROR(ValidateE164("forward_to", r.forward_to, /*optional=*/true));
  if (*r.role == Role::kOwner && !IsOwner(caller) && !caller.service) {
    return absl::PermissionDeniedError("only an owner may invite an owner");
  }
  ASSIGN_OR_RETURN(Company company, store_.GetCompany(caller.company_id));

  const absl::Time now = clock_.Now();
  User user;
  bool new_user = true;
  absl::StatusOr<User> existing = store_.FindUserByEmail(email);
  if (existing.ok()) {
    if (existing->company_id != caller.company_id || existing->status != UserStatus::kInvited) {
      return absl::AlreadyExistsError(absl::StrCat("email: ", email, " is already registered"));
    }
    user = *existing;  // re-invite a pending user: fresh token, new details
    new_user = false;
  } else if (existing.status().code() != absl::StatusCode::kNotFound) {
    return Annotate(existing.status(), "look up email");
  } else {
    user.id = NewUuidV7(now);
    user.company_id = caller.company_id;
    user.email = email;
    user.status = UserStatus::kInvited;
    user.created_at = now;
  }
  user.full_name = std::move(full_name);
  user.role = *r.role;
  user.extension = r.extension;
  user.forward_to = r.forward_to;
  user.updated_at = now;

  const std::string token = absl::StrCat(kInvitationPrefix, crypto::RandomToken(32));
  Invitation invitation{.id = NewUuidV7(now),
                        .company_id = caller.company_id,
                        .user_id = user.id,
                        .token_hash = HashSecret(token),
                        .invited_by_user_id = caller.user_id,
                        .created_at = now,
                        .expires_at = now + options_.invitation_ttl,
                        .accepted_at = std::nullopt};
  (void)company;  // loaded so an unknown/foreign company is kNotFound before writing
  RETURN_IF_ERROR(Annotate(
      store_.CreateInvitation(user, new_user, invitation, now,
                              {UserInvitedEvent{user, ActorId(caller), invitation.id}}),
      "invite user"));
  return Invite{std::move(user), invitation.id, token, invitation.expires_at};
}

absl::StatusOr<User> IdentityCore::AcceptInvitation(absl::string_view token,
                                                    absl::string_view password,
                                                    absl::string_view full_name) {
  if (token.empty()) return absl::InvalidArgumentError("invitation_token: is required");
  RETURN_IF_ERROR(ValidatePassword("password", password));
  std::string name;
  if (!full_name.empty()) {
    ASSIGN_OR_RETURN(name, RequireName("full_name", full_name));
  }
  absl::StatusOr<Invitation> inv = store_.FindInvitationByTokenHash(HashSecret(token));
  if (inv.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError(kBadInvitation);
  }
  if (!inv.ok()) return Annotate(inv.status(), "find invitation");
  const absl::Time now = clock_.Now();
  if (inv->accepted_at.has_value() || inv->expires_at <= now) {
    return absl::UnauthenticatedError(kBadInvitation);
  }
  ASSIGN_OR_RETURN(User user, store_.GetUser(inv->company_id, inv->user_id));
  if (user.status != UserStatus::kInvited) return absl::UnauthenticatedError(kBadInvitation);
  ASSIGN_OR_RETURN(user.password_hash, crypto::HashPassword(password, options_.password_cost));
  if (!name.empty()) user.full_name = std::move(name);
  user.status = UserStatus::kActive;
  user.updated_at = now;
  absl::Status s = store_.AcceptInvitation(*inv, user, now, {UserActivatedEvent{user}});
  if (s.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::UnauthenticatedError(kBadInvitation);  // lost a race with another accept
  }
  RETURN_IF_ERROR(Annotate(s, "accept invitation"));
  return user;
}

absl::StatusOr<User> IdentityCore::GetUser(const Principal& caller, absl::string_view user_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("user_id", user_id));
  RETURN_IF_ERROR(Require(caller, Permission::kViewOwnProfile, user_id));
  return store_.GetUser(caller.company_id, user_id);
}

absl::StatusOr<std::vector<User>> IdentityCore::ListUsers(const Principal& caller,
                                                          bool include_deactivated) {
  RETURN_IF_ERROR(RequireCaller(caller));
  if (identity::Authorize(caller, Permission::kViewAllUsers, "").allowed) {
    return store_.ListUsers(caller.company_id, include_deactivated);
  }
  if (caller.user_id.empty()) {
    return absl::PermissionDeniedError(
        identity::Authorize(caller, Permission::kViewAllUsers, "").reason);
  }
  ASSIGN_OR_RETURN(User self, store_.GetUser(caller.company_id, caller.user_id));
  std::vector<User> out;
  if (include_deactivated || self.status != UserStatus::kDeactivated) out.push_back(self);
  return out;
}

absl::StatusOr<User> IdentityCore::UpdateUser(const Principal& caller, const UserUpdate& u) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("user_id", u.user_id));
  if (!u.set_full_name && !u.set_extension && !u.set_forward_to) {
    return absl::InvalidArgumentError("update_mask: names no field to update");
  }
  RETURN_IF_ERROR(Require(caller, Permission::kUpdateOwnProfile, u.user_id));
  ASSIGN_OR_RETURN(User user, store_.GetUser(caller.company_id, u.user_id));
  if (user.role == Role::kOwner && user.id != caller.user_id && !IsOwner(caller) &&
      !caller.service) {
    return absl::PermissionDeniedError("only an owner may edit an owner");
  }
  if (u.set_full_name) {
    ASSIGN_OR_RETURN(user.full_name, RequireName("full_name", u.full_name));
  }
  if (u.set_extension) {
    RETURN_IF_ERROR(ValidateExtension("extension", u.extension));
    user.extension = u.extension;
  }
  if (u.set_forward_to) {
    RETURN_IF_ERROR(ValidateE164("forward_to", u.forward_to, /*optional=*/true));
    user.forward_to = u.forward_to;
  }
  user.updated_at = clock_.Now();
  RETURN_IF_ERROR(Annotate(store_.UpdateUser(user, {}), "update user"));
  return user;
}

absl::StatusOr<User> IdentityCore::ChangeRole(const Principal& caller, absl::string_view user_id,
                                              std::optional<Role> role) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("user_id", user_id));
  if (!role.has_value()) return absl::InvalidArgumentError("role: is required");
  RETURN_IF_ERROR(Require(caller, Permission::kChangeRoles));
  ASSIGN_OR_RETURN(User user, store_.GetUser(caller.company_id, user_id));
  if ((*role == Role::kOwner || user.role == Role::kOwner) && !IsOwner(caller) &&
      !caller.service) {
    return absl::PermissionDeniedError("only an owner may grant or remove the owner role");
  }
  if (user.role == *role) return user;
  if (user.status == UserStatus::kDeactivated) {
    return absl::FailedPreconditionError("user is deactivated");
  }
  const Role old_role = user.role;
  user.role = *role;
  user.updated_at = clock_.Now();
  RETURN_IF_ERROR(Annotate(
      store_.UpdateUser(user, {UserRoleChangedEvent{user.company_id, user.id, old_role, *role,
                                                    ActorId(caller)}}),
      "change role"));
  return user;
}

absl::StatusOr<User> IdentityCore::DeactivateUser(const Principal& caller,
                                                  absl::string_view user_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("user_id", user_id));
  RETURN_IF_ERROR(Require(caller, Permission::kManageUsers));
  if (user_id == caller.user_id) {
    return absl::FailedPreconditionError("users cannot deactivate themselves");
  }
  ASSIGN_OR_RETURN(User user, store_.GetUser(caller.company_id, user_id));
  if (user.role == Role::kOwner && !IsOwner(caller) && !caller.service) {
    return absl::PermissionDeniedError("only an owner may deactivate an owner");
  }
  if (user.status == UserStatus::kDeactivated) return user;
  const absl::Time now = clock_.Now();
  user.status = UserStatus::kDeactivated;
  user.deactivated_at = now;
  user.updated_at = now;
  RETURN_IF_ERROR(Annotate(
      store_.UpdateUser(user, {UserDeactivatedEvent{user.company_id, user.id, ActorId(caller)}}),
      "deactivate user"));
  return user;
}

// --- sessions ---------------------------------------------------------------------------------

absl::StatusOr<TokenPair> IdentityCore::StartSession(const User& user) {
  ASSIGN_OR_RETURN(AccessToken access, tokens_.Issue(user));
  const absl::Time now = clock_.Now();
  const std::string secret = absl::StrCat(kRefreshPrefix, crypto::RandomToken(32));
  RefreshToken rt{.id = NewUuidV7(now),
                  .company_id = user.company_id,
                  .user_id = user.id,
                  .family_id = "",
                  .token_hash = HashSecret(secret),
                  .created_at = now,
                  .expires_at = now + options_.refresh_token_ttl,
                  .rotated_at = std::nullopt,
                  .revoked_at = std::nullopt};
  TokenPair pair{.access_token = std::move(access.token),
                 .access_token_expires_at = access.expires_at,
                 .refresh_token = secret,
                 .refresh_token_expires_at = rt.expires_at,
                 .user = user};
  pair.user.password_hash.clear();
  rt.family_id = rt.id;  // a login starts a new family
  RETURN_IF_ERROR(Annotate(store_.InsertRefreshToken(rt), "store refresh token"));
  return pair;
}

absl::StatusOr<TokenPair> IdentityCore::Login(absl::string_view email,
                                              absl::string_view password) {
  ASSIGN_OR_RETURN(std::string normalized, NormalizeEmail("email", email));
  if (password.empty()) return absl::InvalidArgumentError("password: is required");
  absl::StatusOr<User> user = store_.FindUserByEmail(normalized);
  if (!user.ok() && user.status().code() != absl::StatusCode::kNotFound) {
    return Annotate(user.status(), "find user");
  }
  // Verify even for unknown emails so both failures cost the same time.
  static absl::once_flag dummy_once;
  static std::string* dummy_hash = nullptr;
  absl::call_once(dummy_once, [this] {
    absl::StatusOr<std::string> h =
        crypto::HashPassword("not-a-real-password", options_.password_cost);
    dummy_hash = new std::string(h.ok() ? *h : "");
  });
  const bool match = user.ok() && !user->password_hash.empty()
                         ? crypto::VerifyPassword(user->password_hash, password)
                         : (crypto::VerifyPassword(*dummy_hash, password) && false);
  if (!match || user->status != UserStatus::kActive) {
    return absl::UnauthenticatedError(kBadLogin);
  }
  return StartSession(*user);
}

absl::StatusOr<TokenPair> IdentityCore::Refresh(absl::string_view refresh_token) {
  if (refresh_token.empty()) return absl::InvalidArgumentError("refresh_token: is required");
  absl::StatusOr<RefreshToken> old = store_.FindRefreshTokenByHash(HashSecret(refresh_token));
  if (old.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError(kBadRefresh);
  }
  if (!old.ok()) return Annotate(old.status(), "find refresh token");
  const absl::Time now = clock_.Now();
  if (old->revoked_at.has_value()) return absl::UnauthenticatedError("refresh token revoked");
  if (old->rotated_at.has_value()) {
    // Reuse of a rotated token: someone holds a stolen copy. Kill the whole session.
    RETURN_IF_ERROR(store_.RevokeRefreshFamily(old->company_id, old->family_id, now));
    return absl::UnauthenticatedError("refresh token reuse detected; session revoked");
  }
  if (old->expires_at <= now) return absl::UnauthenticatedError("refresh token expired");
  absl::StatusOr<User> user = store_.GetUser(old->company_id, old->user_id);
  if (!user.ok() && user.status().code() != absl::StatusCode::kNotFound) {
    return Annotate(user.status(), "load user");
  }
  if (!user.ok() || user->status != UserStatus::kActive) {
    RETURN_IF_ERROR(store_.RevokeRefreshFamily(old->company_id, old->family_id, now));
    return absl::UnauthenticatedError("user is not active");
  }
  ASSIGN_OR_RETURN(AccessToken access, tokens_.Issue(*user));
  const std::string secret = absl::StrCat(kRefreshPrefix, crypto::RandomToken(32));
  RefreshToken next{.id = NewUuidV7(now),
                    .company_id = old->company_id,
                    .user_id = old->user_id,
                    .family_id = old->family_id,
                    .token_hash = HashSecret(secret),
                    .created_at = now,
                    .expires_at = now + options_.refresh_token_ttl,
                    .rotated_at = std::nullopt,
                    .revoked_at = std::nullopt};
  absl::Status rotated = store_.RotateRefreshToken(*old, next, now);
  if (rotated.code() == absl::StatusCode::kFailedPrecondition) {
    // Two presentations of one token raced: treat the loser as reuse.
    RETURN_IF_ERROR(store_.RevokeRefreshFamily(old->company_id, old->family_id, now));
    return absl::UnauthenticatedError("refresh token reuse detected; session revoked");
  }
  RETURN_IF_ERROR(Annotate(rotated, "rotate refresh token"));
  User out = *user;
  out.password_hash.clear();
  return TokenPair{std::move(access.token), access.expires_at, secret, next.expires_at,
                   std::move(out)};
}

absl::Status IdentityCore::Logout(absl::string_view refresh_token) {
  if (refresh_token.empty()) return absl::InvalidArgumentError("refresh_token: is required");
  absl::StatusOr<RefreshToken> rt = store_.FindRefreshTokenByHash(HashSecret(refresh_token));
  if (rt.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError(kBadRefresh);
  }
  if (!rt.ok()) return Annotate(rt.status(), "find refresh token");
  return store_.RevokeRefreshFamily(rt->company_id, rt->family_id, clock_.Now());
}

absl::StatusOr<KeyRotation> IdentityCore::RotateSigningKey(const Principal& caller) {
  RETURN_IF_ERROR(RequireCaller(caller));
  if (!IsOwner(caller) && !caller.service) {
    return absl::PermissionDeniedError("rotating signing keys needs an owner or a service");
  }
  return tokens_.Rotate();
}

absl::StatusOr<std::vector<PublishedKey>> IdentityCore::VerificationKeys() {
  return tokens_.PublishedKeys();
}

absl::StatusOr<crypto::Claims> IdentityCore::VerifyAccessToken(absl::string_view token) {
  if (token.empty()) return absl::InvalidArgumentError("access_token: is required");
  return tokens_.Verify(token);
}

// --- API keys ---------------------------------------------------------------------------------

absl::StatusOr<NewApiKey> IdentityCore::CreateApiKey(const Principal& caller,
                                                     absl::string_view name,
                                                     const std::vector<std::string>& scopes) {
  RETURN_IF_ERROR(Require(caller, Permission::kManageApiKeys));
  ASSIGN_OR_RETURN(std::string clean_name, RequireName("name", name, 100));
  if (scopes.empty()) return absl::InvalidArgumentError("scopes: at least one is required");
  std::vector<std::string> clean_scopes;
  for (const std::string& s : scopes) {
    if (!ParsePermission(s).has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("scopes: unknown scope '", s, "'"));
    }
    if (std::find(clean_scopes.begin(), clean_scopes.end(), s) == clean_scopes.end()) {
      clean_scopes.push_back(s);
    }
  }
  const absl::Time now = clock_.Now();
  const std::string secret = absl::StrCat(kApiKeyPrefix, crypto::RandomToken(32));
  ApiKey key{.id = NewUuidV7(now),
             .company_id = caller.company_id,
             .name = std::move(clean_name),
             .scopes = std::move(clean_scopes),
             .prefix = secret.substr(0, kApiKeyShownPrefix),
             .secret_hash = HashSecret(secret),
             .created_by_user_id = caller.user_id,
             .created_at = now,
             .last_used_at = std::nullopt,
             .revoked_at = std::nullopt};
  RETURN_IF_ERROR(Annotate(store_.InsertApiKey(key), "store api key"));
  return NewApiKey{std::move(key), secret};
}

absl::StatusOr<std::vector<ApiKey>> IdentityCore::ListApiKeys(const Principal& caller,
                                                              bool include_revoked) {
  RETURN_IF_ERROR(Require(caller, Permission::kManageApiKeys));
  return store_.ListApiKeys(caller.company_id, include_revoked);
}

absl::StatusOr<ApiKey> IdentityCore::RevokeApiKey(const Principal& caller,
                                                  absl::string_view api_key_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("api_key_id", api_key_id));
  RETURN_IF_ERROR(Require(caller, Permission::kManageApiKeys));
  return store_.RevokeApiKey(caller.company_id, api_key_id, clock_.Now());
}

absl::StatusOr<Principal> IdentityCore::VerifyApiKey(absl::string_view secret) {
  if (secret.empty()) return absl::InvalidArgumentError("secret: is required");
  if (!absl::StartsWith(secret, kApiKeyPrefix)) {
    return absl::UnauthenticatedError("invalid api key");
  }
  absl::StatusOr<ApiKey> key = store_.FindApiKeyBySecretHash(HashSecret(secret));
  if (key.status().code() == absl::StatusCode::kNotFound) {
    return absl::UnauthenticatedError("invalid api key");
  }
  if (!key.ok()) return Annotate(key.status(), "find api key");
  if (key->revoked_at.has_value()) return absl::UnauthenticatedError("api key revoked");
  RETURN_IF_ERROR(Annotate(store_.TouchApiKey(key->company_id, key->id, clock_.Now()),
                           "record api key use"));
  return Principal{.company_id = key->company_id,
                   .user_id = "",
                   .role = std::nullopt,
                   .scopes = key->scopes,
                   .api_key_id = key->id,
                   .service = false};
}

// --- devices ----------------------------------------------------------------------------------

absl::StatusOr<Device> IdentityCore::RegisterDevice(const Principal& caller,
                                                    const DeviceRequest& r) {
  RETURN_IF_ERROR(RequireCaller(caller));
  const std::string user_id = r.user_id.empty() ? caller.user_id : r.user_id;
  RETURN_IF_ERROR(RequireId("user_id", user_id));
  if (!r.platform.has_value()) return absl::InvalidArgumentError("platform: is required");
  if (*r.platform != DevicePlatform::kWeb && r.push_token.empty()) {
    return absl::InvalidArgumentError("push_token: is required for APNS and FCM");
  }
  if (r.push_token.size() > 4096) {
    return absl::InvalidArgumentError("push_token: is longer than 4096 bytes");
  }
  if (r.label.size() > 100) return absl::InvalidArgumentError("label: is longer than 100 bytes");
  RETURN_IF_ERROR(Require(caller, Permission::kManageOwnDevices, user_id));
  ASSIGN_OR_RETURN(User user, store_.GetUser(caller.company_id, user_id));
  if (user.status != UserStatus::kActive) {
    return absl::FailedPreconditionError("user is not active");
  }
  const absl::Time now = clock_.Now();
  Device d{.id = NewUuidV7(now),
           .company_id = caller.company_id,
           .user_id = user_id,
           .platform = *r.platform,
           .push_token = r.push_token,
           .softphone_identity = absl::StrCat("sp_", crypto::RandomToken(12)),
           .label = r.label,
           .created_at = now,
           .updated_at = now};
  return store_.UpsertDevice(d);
}

absl::StatusOr<std::vector<Device>> IdentityCore::ListDevices(const Principal& caller,
                                                              absl::string_view user_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  const std::string uid = user_id.empty() ? caller.user_id : std::string(user_id);
  RETURN_IF_ERROR(RequireId("user_id", uid));
  RETURN_IF_ERROR(Require(caller, Permission::kManageOwnDevices, uid));
  return store_.ListDevices(caller.company_id, uid);
}

absl::Status IdentityCore::RemoveDevice(const Principal& caller, absl::string_view device_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("device_id", device_id));
  ASSIGN_OR_RETURN(Device d, store_.GetDevice(caller.company_id, device_id));
  RETURN_IF_ERROR(Require(caller, Permission::kManageOwnDevices, d.user_id));
  return store_.DeleteDevice(caller.company_id, device_id);
}

// --- presence ---------------------------------------------------------------------------------

absl::StatusOr<Presence> IdentityCore::SetPresence(const Principal& caller,
                                                   absl::string_view user_id,
                                                   std::optional<PresenceState> state) {
  RETURN_IF_ERROR(RequireCaller(caller));
  const std::string uid = user_id.empty() ? caller.user_id : std::string(user_id);
  RETURN_IF_ERROR(RequireId("user_id", uid));
  if (!state.has_value() || *state == PresenceState::kUnknown) {
    return absl::InvalidArgumentError("state: must be available, on_call, dnd or offline");
  }
  // Own presence for everyone; someone else's needs MANAGE_USERS (admins covering a desk).
  if (uid != caller.user_id) {
    RETURN_IF_ERROR(Require(caller, Permission::kManageUsers));
  } else {
    RETURN_IF_ERROR(Require(caller, Permission::kSetOwnPresence, uid));
  }
  ASSIGN_OR_RETURN(User user, store_.GetUser(caller.company_id, uid));
  Presence p{.user_id = user.id, .state = *state, .changed_at = clock_.Now(), .degraded = false};
  RETURN_IF_ERROR(Annotate(presence_.Set(caller.company_id, p), "store presence"));
  return p;
}

absl::StatusOr<Presence> IdentityCore::GetPresence(const Principal& caller,
                                                   absl::string_view user_id) {
  RETURN_IF_ERROR(RequireCaller(caller));
  RETURN_IF_ERROR(RequireId("user_id", user_id));
  RETURN_IF_ERROR(Require(caller, Permission::kViewPresence));
  ASSIGN_OR_RETURN(User user, store_.GetUser(caller.company_id, user_id));
  absl::StatusOr<std::optional<Presence>> got = presence_.Get(caller.company_id, user.id);
  if (!got.ok()) {
    if (got.status().code() != absl::StatusCode::kUnavailable) return got.status();
    return Presence{.user_id = user.id, .state = PresenceState::kUnknown,
                    .changed_at = absl::InfinitePast(), .degraded = true};
  }
  if (!got->has_value()) {
    return Presence{.user_id = user.id, .state = PresenceState::kOffline,
                    .changed_at = absl::InfinitePast(), .degraded = false};
  }
  return **got;
}

// --- authorization ----------------------------------------------------------------------------

absl::StatusOr<AuthzDecision> IdentityCore::Authorize(const Principal& subject,
                                                      std::optional<Permission> permission,
                                                      absl::string_view resource_owner_user_id) {
  if (!permission.has_value()) return absl::InvalidArgumentError("permission: is required");
  if (subject.company_id.empty()) {
    return absl::InvalidArgumentError("principal.company_id: is required");
  }
  return identity::Authorize(subject, *permission, resource_owner_user_id);
}

}  // namespace switchboard::identity
