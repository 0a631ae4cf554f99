#include "services/identity/proto_convert.h"

#include "absl/strings/str_cat.h"
#include "services/identity/plans.h"

namespace switchboard::identity {
namespace {

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const absl::Time floor = absl::FromUnixSeconds(absl::ToUnixSeconds(t));  // rounds down
  out->set_seconds(absl::ToUnixSeconds(t));
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - floor)));
}


}  // namespace

std::optional<Plan> PlanFromProto(v1::Plan plan) {
  switch (plan) {
    case v1::PLAN_SOLO: return Plan::kSolo;
    case v1::PLAN_TEAM: return Plan::kTeam;
    case v1::PLAN_BUSINESS: return Plan::kBusiness;
    case v1::PLAN_ENTERPRISE: return Plan::kEnterprise;
    default: return std::nullopt;
  }
}

std::optional<Role> RoleFromProto(v1::Role role) {
  switch (role) {
    case v1::ROLE_OWNER: return Role::kOwner;
    case v1::ROLE_ADMIN: return Role::kAdmin;
    case v1::ROLE_OFFICE: return Role::kOffice;
    case v1::ROLE_TECH: return Role::kTech;
    default: return std::nullopt;
  }
}

std::optional<DevicePlatform> PlatformFromProto(v1::DevicePlatform platform) {
  switch (platform) {
    case v1::DEVICE_PLATFORM_APNS: return DevicePlatform::kApns;
    case v1::DEVICE_PLATFORM_FCM: return DevicePlatform::kFcm;
    case v1::DEVICE_PLATFORM_WEB: return DevicePlatform::kWeb;
    default: return std::nullopt;
  }
}

std::optional<PresenceState> PresenceStateFromProto(v1::PresenceState state) {
  switch (state) {
    case v1::PRESENCE_STATE_AVAILABLE: return PresenceState::kAvailable;
    case v1::PRESENCE_STATE_ON_CALL: return PresenceState::kOnCall;
    case v1::PRESENCE_STATE_DND: return PresenceState::kDnd;
    case v1::PRESENCE_STATE_OFFLINE: return PresenceState::kOffline;
    case v1::PRESENCE_STATE_UNKNOWN: return PresenceState::kUnknown;
    default: return std::nullopt;
  }
}

std::optional<Permission> PermissionFromProto(v1::Permission permission) {
  // The proto numbers are the domain enum + 1 (PERMISSION_CALLS_OWN = 1 ...).
  const int n = static_cast<int>(permission);
  if (n < 1 || n > kPermissionCount) return std::nullopt;
  return static_cast<Permission>(n - 1);
}

v1::Permission PermissionToProto(Permission permission) {
  return static_cast<v1::Permission>(static_cast<int>(permission) + 1);
}

v1::Plan PlanToProto(Plan plan) {
  switch (plan) {
    case Plan::kSolo: return v1::PLAN_SOLO;
    case Plan::kTeam: return v1::PLAN_TEAM;
    case Plan::kBusiness: return v1::PLAN_BUSINESS;
    case Plan::kEnterprise: return v1::PLAN_ENTERPRISE;
  }
  return v1::PLAN_UNSPECIFIED;
}

v1::Role RoleToProto(Role role) {
  switch (role) {
    case Role::kOwner: return v1::ROLE_OWNER;
    case Role::kAdmin: return v1::ROLE_ADMIN;
    case Role::kOffice: return v1::ROLE_OFFICE;
    case Role::kTech: return v1::ROLE_TECH;
  }
  return v1::ROLE_UNSPECIFIED;
}

namespace {
v1::UserStatus StatusToProto(UserStatus s) {
  switch (s) {
    case UserStatus::kInvited: return v1::USER_STATUS_INVITED;
    case UserStatus::kActive: return v1::USER_STATUS_ACTIVE;
    case UserStatus::kDeactivated: return v1::USER_STATUS_DEACTIVATED;
  }
  return v1::USER_STATUS_UNSPECIFIED;
}
v1::DevicePlatform PlatformToProto(DevicePlatform p) {
  switch (p) {
    case DevicePlatform::kApns: return v1::DEVICE_PLATFORM_APNS;
    case DevicePlatform::kFcm: return v1::DEVICE_PLATFORM_FCM;
    case DevicePlatform::kWeb: return v1::DEVICE_PLATFORM_WEB;
  }
  return v1::DEVICE_PLATFORM_UNSPECIFIED;
}
v1::PresenceState PresenceToProtoState(PresenceState s) {
  switch (s) {
    case PresenceState::kAvailable: return v1::PRESENCE_STATE_AVAILABLE;
    case PresenceState::kOnCall: return v1::PRESENCE_STATE_ON_CALL;
    case PresenceState::kDnd: return v1::PRESENCE_STATE_DND;
    case PresenceState::kOffline: return v1::PRESENCE_STATE_OFFLINE;
    case PresenceState::kUnknown: return v1::PRESENCE_STATE_UNKNOWN;
  }
  return v1::PRESENCE_STATE_UNSPECIFIED;
}
}  // namespace

Address AddressFromProto(const v1::Address& a) {
  return Address{.line1 = a.line1(), .line2 = a.line2(), .city = a.city(), .state = a.state(),
                 .postal_code = a.postal_code(), .country = a.country()};
}

void CompanyToProto(const Company& c, v1::Company* out) {
  out->set_id(c.id);
  out->set_name(c.name);
  out->set_time_zone(c.time_zone);
  out->set_plan(PlanToProto(c.plan));
  const PlanLimits limits = LimitsOf(c.plan);
  out->mutable_limits()->set_max_numbers(limits.max_numbers);
  out->mutable_limits()->set_max_users(limits.max_users);
  out->mutable_limits()->set_max_minutes_per_month(limits.max_minutes_per_month);
  v1::Address* a = out->mutable_address();
  a->set_line1(c.address.line1);
  a->set_line2(c.address.line2);
  a->set_city(c.address.city);
  a->set_state(c.address.state);
  a->set_postal_code(c.address.postal_code);
  a->set_country(c.address.country);
  SetTime(c.created_at, out->mutable_created_at());
  SetTime(c.updated_at, out->mutable_updated_at());
}

void UserToProto(const User& u, v1::User* out) {
  out->set_id(u.id);
  out->set_company_id(u.company_id);
  out->set_email(u.email);
  out->set_full_name(u.full_name);
  out->set_role(RoleToProto(u.role));
  out->set_extension(u.extension);
  out->set_forward_to(u.forward_to);
  out->set_status(StatusToProto(u.status));
  SetTime(u.created_at, out->mutable_created_at());
  SetTime(u.updated_at, out->mutable_updated_at());
  if (u.deactivated_at.has_value()) SetTime(*u.deactivated_at, out->mutable_deactivated_at());
}

void ApiKeyToProto(const ApiKey& k, v1::ApiKey* out) {
  out->set_id(k.id);
  out->set_company_id(k.company_id);
  out->set_name(k.name);
  for (const std::string& s : k.scopes) out->add_scopes(s);
  out->set_prefix(k.prefix);
  out->set_created_by_user_id(k.created_by_user_id);
  SetTime(k.created_at, out->mutable_created_at());
  if (k.last_used_at.has_value()) SetTime(*k.last_used_at, out->mutable_last_used_at());
  if (k.revoked_at.has_value()) SetTime(*k.revoked_at, out->mutable_revoked_at());
}

void DeviceToProto(const Device& d, v1::Device* out) {
  out->set_id(d.id);
  out->set_user_id(d.user_id);
  out->set_platform(PlatformToProto(d.platform));
  out->set_push_token(d.push_token);
  out->set_softphone_identity(d.softphone_identity);
  out->set_label(d.label);
  SetTime(d.created_at, out->mutable_created_at());
  SetTime(d.updated_at, out->mutable_updated_at());
}

void PresenceToProto(const Presence& p, v1::Presence* out) {
  out->set_user_id(p.user_id);
  out->set_state(PresenceToProtoState(p.state));
  // "Never set" / "unknown" presence has no change time.
  if (p.changed_at != absl::InfinitePast()) SetTime(p.changed_at, out->mutable_changed_at());
  out->set_degraded(p.degraded);
}

void TokenPairToProto(const TokenPair& pair, v1::TokenPair* out) {
  out->set_access_token(pair.access_token);
  SetTime(pair.access_token_expires_at, out->mutable_access_token_expires_at());
  out->set_refresh_token(pair.refresh_token);
  SetTime(pair.refresh_token_expires_at, out->mutable_refresh_token_expires_at());
  out->set_token_type("Bearer");
  UserToProto(pair.user, out->mutable_user());
}

SignupRequest SignupFromProto(const v1::CreateCompanyRequest& r) {
  return SignupRequest{.name = r.name(),
                       .time_zone = r.time_zone(),
                       .plan = PlanFromProto(r.plan()),
                       .address = AddressFromProto(r.address()),
                       .owner_email = r.owner_email(),
                       .owner_full_name = r.owner_full_name(),
                       .owner_password = r.owner_password(),
                       .owner_extension = r.owner_extension(),
                       .owner_forward_to = r.owner_forward_to()};
}

absl::StatusOr<CompanyUpdate> CompanyUpdateFromProto(const v1::UpdateCompanyRequest& r) {
  CompanyUpdate u{.company_id = r.company_id()};
  for (const std::string& path : r.update_mask()) {
    if (path == "name") {
      u.set_name = true;
      u.name = r.name();
    } else if (path == "time_zone") {
      u.set_time_zone = true;
      u.time_zone = r.time_zone();
    } else if (path == "plan") {
      u.set_plan = true;
      u.plan = PlanFromProto(r.plan());
    } else if (path == "address") {
      u.set_address = true;
      u.address = AddressFromProto(r.address());
    } else {
      return absl::InvalidArgumentError(absl::StrCat("update_mask: unknown field '", path, "'"));
    }
  }
  return u;
}

absl::StatusOr<UserUpdate> UserUpdateFromProto(const v1::UpdateUserRequest& r) {
  UserUpdate u{.user_id = r.user_id()};
  for (const std::string& path : r.update_mask()) {
    if (path == "full_name") {
      u.set_full_name = true;
      u.full_name = r.full_name();
    } else if (path == "extension") {
      u.set_extension = true;
      u.extension = r.extension();
    } else if (path == "forward_to") {
      u.set_forward_to = true;
      u.forward_to = r.forward_to();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("update_mask: unknown field '", path, "'"));
    }
  }
  return u;
}

absl::StatusOr<Principal> PrincipalFromRpc(const rpc::Principal& p) {
  Principal out{.company_id = p.company_id, .user_id = p.user_id, .scopes = p.scopes,
                .api_key_id = p.api_key_id};
  if (p.role == "service") {
    out.service = true;
  } else if (!p.role.empty()) {
    out.role = ParseRole(p.role);
    if (!out.role.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat("x-sb-role: unknown role '", p.role, "'"));
    }
  }
  // An API-key caller acts through its scopes only, whatever role the metadata claims.
  if (!p.api_key_id.empty() && p.user_id.empty()) out.role.reset();
  return out;
}

Principal PrincipalFromProto(const v1::Principal& p) {
  Principal out{.company_id = p.company_id(), .user_id = p.user_id(),
                .role = RoleFromProto(p.role()), .api_key_id = p.api_key_id()};
  for (const std::string& s : p.scopes()) out.scopes.push_back(s);
  return out;
}

}  // namespace switchboard::identity
