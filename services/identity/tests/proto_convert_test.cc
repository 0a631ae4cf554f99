#include <string>

#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "services/identity/proto_convert.h"

namespace switchboard::identity {
namespace {

TEST_CASE("Proto Permission enum mirrors the RBAC table one to one", "[proto][identity]") {
  CHECK(v1::Permission_descriptor()->value_count() == kPermissionCount + 1);  // + UNSPECIFIED
  for (Permission p : AllPermissions()) {
    v1::Permission proto = PermissionToProto(p);
    INFO(PermissionName(p));
    CHECK(v1::Permission_Name(proto) ==
          "PERMISSION_" + absl::AsciiStrToUpper(std::string(PermissionName(p))));
    CHECK(PermissionFromProto(proto) == p);
  }
  CHECK_FALSE(PermissionFromProto(v1::PERMISSION_UNSPECIFIED).has_value());
  CHECK_FALSE(PermissionFromProto(static_cast<v1::Permission>(999)).has_value());
}

TEST_CASE("Enums: UNSPECIFIED maps to nullopt, others round-trip", "[proto][identity]") {
  CHECK_FALSE(PlanFromProto(v1::PLAN_UNSPECIFIED).has_value());
  CHECK_FALSE(RoleFromProto(v1::ROLE_UNSPECIFIED).has_value());
  CHECK_FALSE(PlatformFromProto(v1::DEVICE_PLATFORM_UNSPECIFIED).has_value());
  CHECK_FALSE(PresenceStateFromProto(v1::PRESENCE_STATE_UNSPECIFIED).has_value());
  for (Plan p : {Plan::kSolo, Plan::kTeam, Plan::kBusiness, Plan::kEnterprise}) {
    CHECK(PlanFromProto(PlanToProto(p)) == p);
  }
  for (Role r : {Role::kOwner, Role::kAdmin, Role::kOffice, Role::kTech}) {
    CHECK(RoleFromProto(RoleToProto(r)) == r);
  }
}

TEST_CASE("Metadata principals: roles, service, API keys", "[proto][identity]") {
  auto user = PrincipalFromRpc({.company_id = "c", .user_id = "u", .role = "office"});
  REQUIRE(user.ok());
  CHECK(user->role == Role::kOffice);
  CHECK_FALSE(user->service);
  auto svc = PrincipalFromRpc({.company_id = "c", .user_id = "svc:routing", .role = "service"});
  REQUIRE(svc.ok());
  CHECK(svc->service);
  CHECK_FALSE(svc->role.has_value());
  auto key = PrincipalFromRpc({.company_id = "c", .role = "owner",
                               .scopes = {"view_analytics"}, .api_key_id = "k"});
  REQUIRE(key.ok());
  CHECK_FALSE(key->role.has_value());  // API keys act through scopes only
  CHECK(key->scopes.size() == 1);
  auto bad = PrincipalFromRpc({.company_id = "c", .user_id = "u", .role = "root"});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("x-sb-role") != std::string::npos);
}

TEST_CASE("Update masks name unknown paths", "[proto][identity]") {
  v1::UpdateUserRequest req;
  req.set_user_id("u");
  req.add_update_mask("forward_to");
  req.set_forward_to("+15125550100");
  auto u = UserUpdateFromProto(req);
  REQUIRE(u.ok());
  CHECK(u->set_forward_to);
  CHECK_FALSE(u->set_full_name);
  req.add_update_mask("role");
  auto bad = UserUpdateFromProto(req);
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("update_mask") != std::string::npos);
}

TEST_CASE("User conversion never carries the password hash", "[proto][identity]") {
  User u{.id = "u", .company_id = "c", .email = "a@b.test", .password_hash = "$argon2id$secret",
         .created_at = absl::FromUnixMicros(1'700'000'000'123'456)};
  v1::User out;
  UserToProto(u, &out);
  CHECK(out.SerializeAsString().find("argon2") == std::string::npos);
  CHECK(out.created_at().seconds() == 1'700'000'000);
  CHECK(out.created_at().nanos() == 123'456'000);
  CHECK_FALSE(out.has_deactivated_at());
}

}  // namespace
}  // namespace switchboard::identity
