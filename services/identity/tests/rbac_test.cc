#include <map>
#include <string>

#include <catch2/catch.hpp>

#include "services/identity/rbac.h"

namespace switchboard::identity {
namespace {

// The expected matrix, written out independently of rbac.cc: "OAFT" columns, 'y' = granted.
// Own permissions are listed with what a role may do on its OWN resource and on ANOTHER
// user's resource.
struct Expect {
  const char* own;    // on the principal's own resource (or a non-owned resource)
  const char* other;  // on another user's resource (only differs for *_own permissions)
};
const std::map<std::string, Expect>& Matrix() {
  static const auto* m = new std::map<std::string, Expect>{
      //                              O A F T       O A F T
      {"calls_own",                 {"yyyy",       "nnnn"}},
      {"texts_own",                 {"yyyy",       "nnnn"}},
      {"view_own_history",          {"yyyy",       "yyyn"}},
      {"listen_own_recording",      {"yyyy",       "yynn"}},
      {"set_own_presence",          {"yyyy",       "nnnn"}},
      {"view_all_history",          {"yyyn",       "yyyn"}},
      {"view_analytics",            {"yyyn",       "yyyn"}},
      {"listen_any_recording",      {"yynn",       "yynn"}},
      {"configure_routing",         {"yynn",       "yynn"}},
      {"assign_lines",              {"yynn",       "yynn"}},
      {"manage_numbers",            {"ynnn",       "ynnn"}},
      {"manage_lines",              {"ynnn",       "ynnn"}},
      {"port_numbers",              {"ynnn",       "ynnn"}},
      {"manage_recording_settings", {"ynnn",       "ynnn"}},
      {"view_own_profile",          {"yyyy",       "yyyn"}},
      {"view_all_users",            {"yyyn",       "yyyn"}},
      {"update_own_profile",        {"yyyy",       "yynn"}},
      {"manage_users",              {"yynn",       "yynn"}},
      {"change_roles",              {"yynn",       "yynn"}},
      {"manage_company",            {"yynn",       "yynn"}},
      {"manage_billing",            {"ynnn",       "ynnn"}},
      {"manage_api_keys",           {"yynn",       "yynn"}},
      {"manage_own_devices",        {"yyyy",       "yynn"}},
      {"view_presence",             {"yyyy",       "yyyy"}},
  };
  return *m;
}

constexpr Role kRoles[] = {Role::kOwner, Role::kAdmin, Role::kOffice, Role::kTech};
constexpr char kMe[] = "0190a1b2-0000-7000-8000-000000000001";
constexpr char kOther[] = "0190a1b2-0000-7000-8000-000000000002";

Principal UserOf(Role role) {
  return Principal{.company_id = "c1", .user_id = kMe, .role = role, .scopes = {},
                   .api_key_id = "", .service = false};
}

TEST_CASE("RBAC table covers every permission exactly once", "[rbac][identity]") {
  CHECK(AllPermissions().size() == Matrix().size());
  CHECK(static_cast<int>(AllPermissions().size()) == kPermissionCount);
  for (Permission p : AllPermissions()) {
    INFO(PermissionName(p));
    CHECK(Matrix().count(std::string(PermissionName(p))) == 1);
    CHECK(ParsePermission(PermissionName(p)) == p);
  }
  CHECK_FALSE(ParsePermission("fly_to_moon").has_value());
}

TEST_CASE("RBAC matrix: every role x permission, own and other's resource", "[rbac][identity]") {
  for (Permission p : AllPermissions()) {
    const Expect& e = Matrix().at(std::string(PermissionName(p)));
    for (size_t r = 0; r < 4; ++r) {
      const Principal who = UserOf(kRoles[r]);
      INFO(PermissionName(p) << " role " << RoleName(kRoles[r]));
      const bool own = IsOwnPermission(p);
      AuthzDecision mine = Authorize(who, p, own ? kMe : "");
      CHECK(mine.allowed == (e.own[r] == 'y'));
      CHECK_FALSE(mine.reason.empty());
      AuthzDecision theirs = Authorize(who, p, kOther);
      CHECK(theirs.allowed == (e.other[r] == 'y'));
      CHECK_FALSE(theirs.reason.empty());
    }
  }
}

TEST_CASE("RBAC own permissions need a resource owner", "[rbac][identity]") {
  AuthzDecision d = Authorize(UserOf(Role::kOwner), Permission::kCallsOwn, "");
  CHECK_FALSE(d.allowed);
  CHECK(d.reason.find("owner") != std::string::npos);
}

TEST_CASE("RBAC principals without a role, API keys and services", "[rbac][identity]") {
  SECTION("no role is denied") {
    Principal p{.company_id = "c1", .user_id = kMe};
    CHECK_FALSE(Authorize(p, Permission::kViewPresence, "").allowed);
  }
  SECTION("api key is allowed exactly its scopes") {
    Principal key{.company_id = "c1", .scopes = {"view_all_history"}, .api_key_id = "k1"};
    CHECK(Authorize(key, Permission::kViewAllHistory, "").allowed);
    CHECK_FALSE(Authorize(key, Permission::kViewAnalytics, "").allowed);
    // Own permissions only through the all-variant scope.
    CHECK(Authorize(key, Permission::kViewOwnHistory, kOther).allowed);
    CHECK_FALSE(Authorize(key, Permission::kCallsOwn, kOther).allowed);
  }
  SECTION("service principal is allowed everything") {
    Principal svc{.company_id = "c1", .service = true};
    for (Permission p : AllPermissions()) CHECK(Authorize(svc, p, kOther).allowed);
  }
}

}  // namespace
}  // namespace switchboard::identity
