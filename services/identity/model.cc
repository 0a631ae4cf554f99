#include "services/identity/model.h"

#include <type_traits>

namespace switchboard::identity {
namespace {

template <typename E, size_t N>
std::optional<E> ParseByName(absl::string_view name, const E (&all)[N],
                             absl::string_view (*to_name)(E)) {
  for (E e : all) {
    if (to_name(e) == name) return e;
  }
  return std::nullopt;
}

constexpr Plan kPlans[] = {Plan::kSolo, Plan::kTeam, Plan::kBusiness, Plan::kEnterprise};
constexpr Role kRoles[] = {Role::kOwner, Role::kAdmin, Role::kOffice, Role::kTech};
constexpr UserStatus kStatuses[] = {UserStatus::kInvited, UserStatus::kActive,
                                    UserStatus::kDeactivated};
constexpr DevicePlatform kPlatforms[] = {DevicePlatform::kApns, DevicePlatform::kFcm,
                                         DevicePlatform::kWeb};
constexpr PresenceState kStates[] = {PresenceState::kAvailable, PresenceState::kOnCall,
                                     PresenceState::kDnd, PresenceState::kOffline,
                                     PresenceState::kUnknown};

}  // namespace

absl::string_view PlanName(Plan plan) {
  switch (plan) {
    case Plan::kSolo: return "solo";
    case Plan::kTeam: return "team";
    case Plan::kBusiness: return "business";
    case Plan::kEnterprise: return "enterprise";
  }
  return "unknown";
}

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOwner: return "owner";
    case Role::kAdmin: return "admin";
    case Role::kOffice: return "office";
    case Role::kTech: return "tech";
  }
  return "unknown";
}

absl::string_view UserStatusName(UserStatus status) {
  switch (status) {
    case UserStatus::kInvited: return "invited";
    case UserStatus::kActive: return "active";
    case UserStatus::kDeactivated: return "deactivated";
  }
  return "unknown";
}

absl::string_view DevicePlatformName(DevicePlatform platform) {
  switch (platform) {
    case DevicePlatform::kApns: return "apns";
    case DevicePlatform::kFcm: return "fcm";
    case DevicePlatform::kWeb: return "web";
  }
  return "unknown";
}

absl::string_view PresenceStateName(PresenceState state) {
  switch (state) {
    case PresenceState::kAvailable: return "available";
    case PresenceState::kOnCall: return "on_call";
    case PresenceState::kDnd: return "dnd";
    case PresenceState::kOffline: return "offline";
    case PresenceState::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<Plan> ParsePlan(absl::string_view n) { return ParseByName(n, kPlans, &PlanName); }
std::optional<Role> ParseRole(absl::string_view n) { return ParseByName(n, kRoles, &RoleName); }
std::optional<UserStatus> ParseUserStatus(absl::string_view n) {
  return ParseByName(n, kStatuses, &UserStatusName);
}
std::optional<DevicePlatform> ParseDevicePlatform(absl::string_view n) {
  return ParseByName(n, kPlatforms, &DevicePlatformName);
}
std::optional<PresenceState> ParsePresenceState(absl::string_view n) {
  return ParseByName(n, kStates, &PresenceStateName);
}

absl::string_view EventType(const IdentityEvent& event) {
  struct Visitor {
    absl::string_view operator()(const CompanyCreatedEvent&) const { return "identity.company_created"; }
    absl::string_view operator()(const CompanyUpdatedEvent&) const { return "identity.company_updated"; }
    absl::string_view operator()(const UserInvitedEvent&) const { return "identity.user_invited"; }
    absl::string_view operator()(const UserActivatedEvent&) const { return "identity.user_activated"; }
    absl::string_view operator()(const UserDeactivatedEvent&) const { return "identity.user_deactivated"; }
    absl::string_view operator()(const UserRoleChangedEvent&) const { return "identity.user_role_changed"; }
  };
  return std::visit(Visitor{}, event);
}

std::string EventCompanyId(const IdentityEvent& event) {
  struct Visitor {
    std::string operator()(const CompanyCreatedEvent& e) const { return e.company.id; }
    std::string operator()(const CompanyUpdatedEvent& e) const { return e.company.id; }
    std::string operator()(const UserInvitedEvent& e) const { return e.user.company_id; }
    std::string operator()(const UserActivatedEvent& e) const { return e.user.company_id; }
    std::string operator()(const UserDeactivatedEvent& e) const { return e.company_id; }
    std::string operator()(const UserRoleChangedEvent& e) const { return e.company_id; }
  };
  return std::visit(Visitor{}, event);
}

std::string EventAggregateId(const IdentityEvent& event) {
  // Company events are keyed by company id, user events by user id (identity_events.proto).
  struct Visitor {
    std::string operator()(const CompanyCreatedEvent& e) const { return e.company.id; }
    std::string operator()(const CompanyUpdatedEvent& e) const { return e.company.id; }
    std::string operator()(const UserInvitedEvent& e) const { return e.user.id; }
    std::string operator()(const UserActivatedEvent& e) const { return e.user.id; }
    std::string operator()(const UserDeactivatedEvent& e) const { return e.user_id; }
    std::string operator()(const UserRoleChangedEvent& e) const { return e.user_id; }
  };
  return std::visit(Visitor{}, event);
}

}  // namespace switchboard::identity
