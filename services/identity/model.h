// Value types of the identity domain. Plain structs, no behaviour beyond small helpers; no
// protobuf, gRPC or database types (those live in proto_convert and pg_store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::identity {

enum class Plan { kSolo, kTeam, kBusiness, kEnterprise };
enum class Role { kOwner, kAdmin, kOffice, kTech };
enum class UserStatus { kInvited, kActive, kDeactivated };
enum class DevicePlatform { kApns, kFcm, kWeb };
enum class PresenceState { kAvailable, kOnCall, kDnd, kOffline, kUnknown };

// Limits of a plan; 0 means unlimited.
struct PlanLimits {
  int max_numbers = 0;
  int max_users = 0;
  int max_minutes_per_month = 0;
};

struct Address {
  std::string line1;
  std::string line2;
  std::string city;
  std::string state;
  std::string postal_code;
  std::string country;
};

struct Company {
  std::string id;
  std::string name;
  std::string time_zone;
  Plan plan = Plan::kSolo;
  Address address;
  absl::Time created_at;
  absl::Time updated_at;
};

struct User {
  std::string id;
  std::string company_id;
  std::string email;
  std::string full_name;
  Role role = Role::kTech;
  std::string extension;
  std::string forward_to;
  UserStatus status = UserStatus::kInvited;
  // Argon2id PHC string; empty until the user has a password. Never leaves the service.
  std::string password_hash;
  absl::Time created_at;
  absl::Time updated_at;
  std::optional<absl::Time> deactivated_at;
};

struct Invitation {
  std::string id;
  std::string company_id;
  std::string user_id;
  // SHA-256 (hex) of the secret token; the token itself is never stored.
  std::string token_hash;
  std::string invited_by_user_id;
  absl::Time created_at;
  absl::Time expires_at;
  std::optional<absl::Time> accepted_at;
};

struct RefreshToken {
  std::string id;
  std::string company_id;
  std::string user_id;
  // All tokens descending from one login share a family; reuse revokes the family.
  std::string family_id;
  std::string token_hash;  // SHA-256 hex
  absl::Time created_at;
  absl::Time expires_at;
  std::optional<absl::Time> rotated_at;
  std::optional<absl::Time> revoked_at;
};

struct SigningKeyRecord {
  std::string kid;
  std::string algorithm = "ES256";
  std::string public_pem;
  // PKCS#8 PEM sealed with AES-256-GCM under the key-encryption key (aad = kid).
  std::string sealed_private_pem;
  absl::Time created_at;
  std::optional<absl::Time> retired_at;
};

struct ApiKey {
  std::string id;
  std::string company_id;
  std::string name;
  std::vector<std::string> scopes;
  std::string prefix;
  std::string secret_hash;  // SHA-256 hex
  std::string created_by_user_id;
  absl::Time created_at;
  std::optional<absl::Time> last_used_at;
  std::optional<absl::Time> revoked_at;
};

struct Device {
  std::string id;
  std::string company_id;
  std::string user_id;
  DevicePlatform platform = DevicePlatform::kWeb;
  std::string push_token;
  std::string softphone_identity;
  std::string label;
  absl::Time created_at;
  absl::Time updated_at;
};

struct Presence {
  std::string user_id;
  PresenceState state = PresenceState::kUnknown;
  absl::Time changed_at;
  // True when the state could not be read (Redis unavailable); state is kUnknown.
  bool degraded = false;
};

// Who is calling: from gateway-set metadata. A user principal has user_id and role; an API-key
// principal has api_key_id and scopes and no role; a service principal (a sibling service,
// metadata role "service") has `service` set and acts with full authority in its company.
struct Principal {
  std::string company_id;
  std::string user_id;
  std::optional<Role> role;
  std::vector<std::string> scopes;
  std::string api_key_id;
  bool service = false;
};

// Domain events; pg_store turns them into switchboard.events.v1 envelopes in the outbox.
struct CompanyCreatedEvent {
  Company company;
  std::string owner_user_id;
};
struct CompanyUpdatedEvent {
  Company company;
};
struct UserInvitedEvent {
  User user;
  std::string invited_by_user_id;
  std::string invitation_id;
};
struct UserActivatedEvent {
  User user;
};
struct UserDeactivatedEvent {
  std::string company_id;
  std::string user_id;
  std::string deactivated_by_user_id;
};
struct UserRoleChangedEvent {
  std::string company_id;
  std::string user_id;
  Role old_role = Role::kTech;
  Role new_role = Role::kTech;
  std::string changed_by_user_id;
};
using IdentityEvent = std::variant<CompanyCreatedEvent, CompanyUpdatedEvent, UserInvitedEvent,
                                   UserActivatedEvent, UserDeactivatedEvent, UserRoleChangedEvent>;

// Names used in storage, events and messages ("solo", "owner", ...).
absl::string_view PlanName(Plan plan);
absl::string_view RoleName(Role role);
absl::string_view UserStatusName(UserStatus status);
absl::string_view DevicePlatformName(DevicePlatform platform);
absl::string_view PresenceStateName(PresenceState state);
std::optional<Plan> ParsePlan(absl::string_view name);
std::optional<Role> ParseRole(absl::string_view name);
std::optional<UserStatus> ParseUserStatus(absl::string_view name);
std::optional<DevicePlatform> ParseDevicePlatform(absl::string_view name);
std::optional<PresenceState> ParsePresenceState(absl::string_view name);

// The event type string of the envelope ("identity.user_invited") and its aggregate id.
absl::string_view EventType(const IdentityEvent& event);
std::string EventCompanyId(const IdentityEvent& event);
std::string EventAggregateId(const IdentityEvent& event);

}  // namespace switchboard::identity
