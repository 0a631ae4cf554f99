#include "services/identity/rbac.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"

namespace switchboard::identity {
namespace {

struct Row {
  Permission permission;
  absl::string_view name;
  // Granted to Owner, Admin, Office, Tech.
  bool owner, admin, office, tech;
  // For own permissions: the permission that extends it to everyone's resources.
  std::optional<Permission> all_variant;
};

using P = Permission;
constexpr bool y = true;
constexpr bool n = false;

// THE role/permission matrix. Rows 1-14 are ARCHITECTURE.md §5; 15-24 are identity's own.
const std::array<Row, kPermissionCount> kTable = {{
    //  permission                 name                          O  A  Of T   all-variant
    {P::kCallsOwn,                 "calls_own",                  y, y, y, y, std::nullopt},
    {P::kTextsOwn,                 "texts_own",                  y, y, y, y, std::nullopt},
    {P::kViewOwnHistory,           "view_own_history",           y, y, y, y, P::kViewAllHistory},
    {P::kListenOwnRecording,       "listen_own_recording",       y, y, y, y, P::kListenAnyRecording},
    {P::kSetOwnPresence,           "set_own_presence",           y, y, y, y, std::nullopt},
    {P::kViewAllHistory,           "view_all_history",           y, y, y, n, std::nullopt},
    {P::kViewAnalytics,            "view_analytics",             y, y, y, n, std::nullopt},
    {P::kListenAnyRecording,       "listen_any_recording",       y, y, n, n, std::nullopt},
    {P::kConfigureRouting,         "configure_routing",          y, y, n, n, std::nullopt},
    {P::kAssignLines,              "assign_lines",               y, y, n, n, std::nullopt},
    {P::kManageNumbers,            "manage_numbers",             y, n, n, n, std::nullopt},
    {P::kManageLines,              "manage_lines",               y, n, n, n, std::nullopt},
    {P::kPortNumbers,              "port_numbers",               y, n, n, n, std::nullopt},
    {P::kManageRecordingSettings,  "manage_recording_settings",  y, n, n, n, std::nullopt},
    {P::kViewOwnProfile,           "view_own_profile",           y, y, y, y, P::kViewAllUsers},
    {P::kViewAllUsers,             "view_all_users",             y, y, y, n, std::nullopt},
    {P::kUpdateOwnProfile,         "update_own_profile",         y, y, y, y, P::kManageUsers},
    {P::kManageUsers,              "manage_users",               y, y, n, n, std::nullopt},
    {P::kChangeRoles,              "change_roles",               y, y, n, n, std::nullopt},
    {P::kManageCompany,            "manage_company",             y, y, n, n, std::nullopt},
    {P::kManageBilling,            "manage_billing",             y, n, n, n, std::nullopt},
    {P::kManageApiKeys,            "manage_api_keys",            y, y, n, n, std::nullopt},
    {P::kManageOwnDevices,         "manage_own_devices",         y, y, y, y, P::kManageUsers},
    {P::kViewPresence,             "view_presence",              y, y, y, y, std::nullopt},
}};

const Row& RowOf(Permission p) {
  const Row& row = kTable[static_cast<size_t>(p)];
  // The table is indexed by enum value; a mis-ordered row is a programming error.
  if (row.permission != p) std::abort();
  return row;
}

bool Granted(const Row& row, Role role) {
  switch (role) {
    case Role::kOwner: return row.owner;
    case Role::kAdmin: return row.admin;
    case Role::kOffice: return row.office;
    case Role::kTech: return row.tech;
  }
  return false;
}

bool HasScope(const Principal& p, Permission perm) {
  return std::find(p.scopes.begin(), p.scopes.end(), PermissionName(perm)) != p.scopes.end();
}

}  // namespace

const std::vector<Permission>& AllPermissions() {
  static const std::vector<Permission>* all = [] {
    auto* v = new std::vector<Permission>();
    for (const Row& r : kTable) v->push_back(r.permission);
    return v;
  }();
  return *all;
}

absl::string_view PermissionName(Permission permission) { return RowOf(permission).name; }

std::optional<Permission> ParsePermission(absl::string_view name) {
  for (const Row& r : kTable) {
    if (r.name == name) return r.permission;
  }
  return std::nullopt;
}

bool IsOwnPermission(Permission permission) {
  absl::string_view name = PermissionName(permission);
  return name.find("_own") != absl::string_view::npos;
}

std::optional<Permission> AllVariantOf(Permission permission) {
  return RowOf(permission).all_variant;
}

bool RoleHas(Role role, Permission permission) { return Granted(RowOf(permission), role); }

AuthzDecision Authorize(const Principal& principal, Permission permission,
                        absl::string_view resource_owner_user_id) {
  const Row& row = RowOf(permission);
  const bool own = IsOwnPermission(permission);
  if (own && resource_owner_user_id.empty()) {
    return {false, absl::StrCat(row.name, " needs the resource owner's user id")};
  }
  if (principal.service) return {true, "service principal"};
  if (!principal.api_key_id.empty() && !principal.role.has_value()) {
    if (own) {
      if (row.all_variant.has_value() && HasScope(principal, *row.all_variant)) {
        return {true, absl::StrCat("api key scope ", PermissionName(*row.all_variant))};
      }
      return {false, absl::StrCat("api key lacks scope ",
                                  row.all_variant ? PermissionName(*row.all_variant) : row.name)};
    }
    if (HasScope(principal, permission)) return {true, absl::StrCat("api key scope ", row.name)};
    return {false, absl::StrCat("api key lacks scope ", row.name)};
  }
  if (!principal.role.has_value()) return {false, "principal has no role"};
  const Role role = *principal.role;
  if (own) {
    if (row.all_variant.has_value() && Granted(RowOf(*row.all_variant), role)) {
      return {true, absl::StrCat("role ", RoleName(role), " has ",
                                 PermissionName(*row.all_variant))};
    }
    if (!Granted(row, role)) {
      return {false, absl::StrCat("role ", RoleName(role), " lacks ", row.name)};
    }
    if (principal.user_id.empty() || resource_owner_user_id != principal.user_id) {
      return {false, absl::StrCat("role ", RoleName(role), " has ", row.name,
                                  " only for its own resources")};
    }
    return {true, absl::StrCat("role ", RoleName(role), " has ", row.name, " (own resource)")};
  }
  if (Granted(row, role)) return {true, absl::StrCat("role ", RoleName(role), " has ", row.name)};
  return {false, absl::StrCat("role ", RoleName(role), " lacks ", row.name)};
}

}  // namespace switchboard::identity
