// Role-based access control: the ARCHITECTURE.md §5 matrix as ONE table (rbac.cc), plus the
// identity-specific permissions the service itself needs. Pure and thread-safe.
//
// "*_OWN" permissions apply to a resource owned by the principal (resource owner ==
// principal user id). A role that also holds the permission's all-variant (VIEW_OWN_HISTORY ->
// VIEW_ALL_HISTORY) is allowed on anyone's resource in its company.
//
// API-key principals (partners) have no role: they are allowed exactly the permissions named
// in their scopes (lower-case names, e.g. "view_all_history"); an own-permission is granted to
// an API key only through its all-variant scope, since a key owns no user resources.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/identity/model.h"

namespace switchboard::identity {

enum class Permission {
  // §5 row 1 (every role), own resources.
  kCallsOwn,
  kTextsOwn,
  kViewOwnHistory,
  kListenOwnRecording,
  kSetOwnPresence,
  // §5 rows 2-5.
  kViewAllHistory,
  kViewAnalytics,
  kListenAnyRecording,
  kConfigureRouting,
  kAssignLines,
  kManageNumbers,
  kManageLines,
  kPortNumbers,
  kManageRecordingSettings,
  // Identity's own permissions (README "Authorization").
  kViewOwnProfile,
  kViewAllUsers,
  kUpdateOwnProfile,
  kManageUsers,
  kChangeRoles,
  kManageCompany,
  kManageBilling,
  kManageApiKeys,
  kManageOwnDevices,
  kViewPresence,
};

inline constexpr int kPermissionCount = static_cast<int>(Permission::kViewPresence) + 1;

// Every permission, in declaration order.
const std::vector<Permission>& AllPermissions();
// "calls_own", "view_all_history", ... (also the API-key scope names).
absl::string_view PermissionName(Permission permission);
std::optional<Permission> ParsePermission(absl::string_view name);
// True for *_OWN permissions (they need a resource owner).
bool IsOwnPermission(Permission permission);
// The all-variant of an own permission (kViewOwnHistory -> kViewAllHistory), if any.
std::optional<Permission> AllVariantOf(Permission permission);
// True when the table grants `permission` to `role` (ignoring resource ownership).
bool RoleHas(Role role, Permission permission);

struct AuthzDecision {
  bool allowed = false;
  std::string reason;
};

// The decision for `principal` doing `permission` on a resource owned by `resource_owner_user_id`
// (empty = not a user-owned resource). Never fails: a missing role/owner is a denial with a reason.
AuthzDecision Authorize(const Principal& principal, Permission permission,
                        absl::string_view resource_owner_user_id);

}  // namespace switchboard::identity
