#include <string>
#include <variant>

#include <catch2/catch.hpp>

#include "services/identity/identity_core.h"
#include "services/identity/tests/fake_stores.h"

namespace switchboard::identity {
namespace {

using testing::FakeIdentityStore;
using testing::FakePresenceStore;

struct Fixture {
  FakeIdentityStore store;
  FakePresenceStore presence;
  FakeClock clock{absl::FromUnixSeconds(1'700'000'000)};
  std::unique_ptr<TokenService> tokens;
  std::unique_ptr<IdentityCore> core;
  Company company;
  User owner;
  Principal owner_p;

  explicit Fixture(Plan plan = Plan::kTeam) {
    auto t = TokenService::Create(store, clock,
                                  TokenOptions{.issuer = "t", .key_encryption_key =
                                                                  std::string(32, 'k')});
    REQUIRE(t.ok());
    tokens = std::move(*t);
    REQUIRE(tokens->EnsureSigningKey().ok());
    core = std::make_unique<IdentityCore>(
        store, presence, *tokens, clock,
        CoreOptions{.invitation_ttl = absl::Hours(24 * 7),
                    .refresh_token_ttl = absl::Hours(24 * 30),
                    .password_cost = crypto::PasswordCost::kMinimalForTests});
    auto created = core->CreateCompany(Signup(plan, "owner@acme.test"));
    REQUIRE(created.ok());
    company = created->first;
    owner = created->second;
    owner_p = As(owner);
    store.ClearEvents();
  }
  static SignupRequest Signup(Plan plan, std::string email) {
    return SignupRequest{.name = "Acme Plumbing",
                         .time_zone = "America/Chicago",
                         .plan = plan,
                         .address = {.line1 = "1 Main St", .city = "Austin", .state = "TX",
                                     .country = "US"},
                         .owner_email = std::move(email),
                         .owner_full_name = "Olive Owner",
                         .owner_password = "owner-password",
                         .owner_extension = "100",
                         .owner_forward_to = "+15125550100"};
  }
  static Principal As(const User& u) {
    return Principal{.company_id = u.company_id, .user_id = u.id, .role = u.role};
  }
  // Invites and accepts; returns the active user.
  User AddUser(Role role, const std::string& email, const std::string& ext = "") {
    auto inv = core->InviteUser(owner_p, InviteRequest{.email = email, .full_name = "Some One",
                                                       .role = role, .extension = ext});
    REQUIRE(inv.ok());
    auto user = core->AcceptInvitation(inv->token, "user-password", "");
    REQUIRE(user.ok());
    return *user;
  }
};

bool Names(const absl::Status& s, const std::string& field) {
  return s.code() == absl::StatusCode::kInvalidArgument &&
         std::string(s.message()).find(field + ":") != std::string::npos;
}

TEST_CASE("CreateCompany validates and emits company_created + user_activated", "[core][identity]") {
  FakeIdentityStore store;
  FakePresenceStore presence;
  FakeClock clock(absl::FromUnixSeconds(1'700'000'000));
  auto tokens = TokenService::Create(store, clock, TokenOptions{.key_encryption_key =
                                                                    std::string(32, 'k')});
  REQUIRE(tokens.ok());
  IdentityCore core(store, presence, **tokens, clock,
                    CoreOptions{.password_cost = crypto::PasswordCost::kMinimalForTests});
  SECTION("happy path") {
    auto r = core.CreateCompany(Fixture::Signup(Plan::kSolo, "  Owner@ACME.test "));
    REQUIRE(r.ok());
    CHECK(r->second.email == "owner@acme.test");
    CHECK(r->second.role == Role::kOwner);
    CHECK(r->second.status == UserStatus::kActive);
    REQUIRE(store.events().size() == 2);
    CHECK(std::holds_alternative<CompanyCreatedEvent>(store.events()[0]));
    CHECK(EventType(store.events()[1]) == "identity.user_activated");
    SECTION("duplicate email is AlreadyExists") {
      auto again = core.CreateCompany(Fixture::Signup(Plan::kSolo, "owner@acme.test"));
      CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);
    }
  }
  SECTION("bad fields are named") {
    auto s = Fixture::Signup(Plan::kSolo, "x@y.test");
    s.time_zone = "Mars/Base";
    CHECK(Names(core.CreateCompany(s).status(), "time_zone"));
    s = Fixture::Signup(Plan::kSolo, "not-an-email");
    CHECK(Names(core.CreateCompany(s).status(), "owner_email"));
    s = Fixture::Signup(Plan::kSolo, "x@y.test");
    s.name = " ";
    CHECK(Names(core.CreateCompany(s).status(), "name"));
    s = Fixture::Signup(Plan::kSolo, "x@y.test");
    s.owner_forward_to = "5125550100";
    CHECK(Names(core.CreateCompany(s).status(), "owner_forward_to"));
    s = Fixture::Signup(Plan::kSolo, "x@y.test");
    s.plan.reset();
    CHECK(Names(core.CreateCompany(s).status(), "plan"));
    s = Fixture::Signup(Plan::kSolo, "x@y.test");
    s.owner_password = "short";
    CHECK(Names(core.CreateCompany(s).status(), "owner_password"));
    CHECK(store.events().empty());
  }
}

TEST_CASE("Company reads are tenant-scoped and updates need the right role", "[core][identity]") {
  Fixture f;
  CHECK(f.core->GetCompany(f.owner_p, "")->id == f.company.id);
  CHECK(f.core->GetCompany(f.owner_p, f.company.id).ok());
  CHECK(f.core->GetCompany(f.owner_p, "0190a1b2-0000-7000-8000-00000000ffff").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(f.core->GetCompany(Principal{}, "").status().code() ==
        absl::StatusCode::kUnauthenticated);
  User admin = f.AddUser(Role::kAdmin, "admin@acme.test");
  f.store.ClearEvents();
  CompanyUpdate rename{.set_name = true, .name = "Acme Heating"};
  SECTION("admin renames; event emitted") {
    auto c = f.core->UpdateCompany(Fixture::As(admin), rename);
    REQUIRE(c.ok());
    CHECK(c->name == "Acme Heating");
    REQUIRE(f.store.events().size() == 1);
    CHECK(EventType(f.store.events()[0]) == "identity.company_updated");
  }
  SECTION("admin cannot change the plan (manage_billing)") {
    auto c = f.core->UpdateCompany(Fixture::As(admin),
                                   CompanyUpdate{.set_plan = true, .plan = Plan::kBusiness});
    CHECK(c.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(std::string(c.status().message()).find("manage_billing") != std::string::npos);
  }
  SECTION("downgrade below head count names the limit") {
    auto c = f.core->UpdateCompany(f.owner_p, CompanyUpdate{.set_plan = true, .plan = Plan::kSolo});
    CHECK(c.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(c.status().message()).find("max_users") != std::string::npos);
  }
  SECTION("bad time zone and empty mask") {
    CHECK(Names(f.core->UpdateCompany(f.owner_p, CompanyUpdate{.set_time_zone = true,
                                                               .time_zone = "Nowhere/City"})
                    .status(),
                "time_zone"));
    CHECK(Names(f.core->UpdateCompany(f.owner_p, CompanyUpdate{}).status(), "update_mask"));
  }
}

TEST_CASE("Plan user limit is enforced on invitation", "[core][identity][plans]") {
  SECTION("solo: the owner fills the only seat") {
    Fixture f(Plan::kSolo);
    auto inv = f.core->InviteUser(f.owner_p, InviteRequest{.email = "b@acme.test",
                                                           .full_name = "B", .role = Role::kTech});
    CHECK(inv.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(inv.status().message()).find("max_users") != std::string::npos);
  }
  SECTION("team: five seats, pending invitations count, expired ones do not") {
    Fixture f(Plan::kTeam);
    for (int i = 0; i < 4; ++i) {
      REQUIRE(f.core->InviteUser(f.owner_p, InviteRequest{.email = "u" + std::to_string(i) +
                                                                   "@acme.test",
                                                          .full_name = "U", .role = Role::kTech})
                  .ok());
    }
    InviteRequest sixth{.email = "six@acme.test", .full_name = "S", .role = Role::kTech};
    CHECK(f.core->InviteUser(f.owner_p, sixth).status().code() ==
          absl::StatusCode::kFailedPrecondition);
    f.clock.Advance(absl::Hours(24 * 8));  // the four invitations expired
    CHECK(f.core->InviteUser(f.owner_p, sixth).ok());
  }
}

TEST_CASE("Invitations: role rules, duplicates, expiry and single use", "[core][identity]") {
  Fixture f;
  User admin = f.AddUser(Role::kAdmin, "admin@acme.test", "101");
  User office = f.AddUser(Role::kOffice, "office@acme.test");
  f.store.ClearEvents();
  InviteRequest tech{.email = "Tech@Acme.test", .full_name = "Tina Tech", .role = Role::kTech,
                     .extension = "102", .forward_to = "+15125550199"};
  SECTION("office cannot invite; admin cannot invite an owner") {
    CHECK(f.core->InviteUser(Fixture::As(office), tech).status().code() ==
          absl::StatusCode::kPermissionDenied);
    InviteRequest o = tech;
    o.role = Role::kOwner;
    CHECK(f.core->InviteUser(Fixture::As(admin), o).status().code() ==
          absl::StatusCode::kPermissionDenied);
  }
  SECTION("duplicate email and extension are AlreadyExists") {
    InviteRequest dup = tech;
    dup.email = "ADMIN@acme.test";
    CHECK(f.core->InviteUser(f.owner_p, dup).status().code() == absl::StatusCode::kAlreadyExists);
    dup = tech;
    dup.extension = "101";
    CHECK(f.core->InviteUser(f.owner_p, dup).status().code() == absl::StatusCode::kAlreadyExists);
  }
  SECTION("bad fields are named") {
    InviteRequest bad = tech;
    bad.forward_to = "+0123";
    CHECK(Names(f.core->InviteUser(f.owner_p, bad).status(), "forward_to"));
    bad = tech;
    bad.role.reset();
    CHECK(Names(f.core->InviteUser(f.owner_p, bad).status(), "role"));
    bad = tech;
    bad.email = "nope";
    CHECK(Names(f.core->InviteUser(f.owner_p, bad).status(), "email"));
  }
  auto inv = f.core->InviteUser(Fixture::As(admin), tech);
  REQUIRE(inv.ok());
  CHECK(inv->user.status == UserStatus::kInvited);
  CHECK(inv->user.email == "tech@acme.test");
  CHECK(inv->expires_at == f.clock.Now() + absl::Hours(24 * 7));
  REQUIRE(f.store.events().size() == 1);
  CHECK(std::get<UserInvitedEvent>(f.store.events()[0]).invited_by_user_id == admin.id);
  SECTION("accepting activates, sets the password, then the token is spent") {
    auto user = f.core->AcceptInvitation(inv->token, "tech-password", "Tina T.");
    REQUIRE(user.ok());
    CHECK(user->status == UserStatus::kActive);
    CHECK(user->full_name == "Tina T.");
    CHECK(EventType(f.store.events().back()) == "identity.user_activated");
    CHECK(f.core->Login("tech@acme.test", "tech-password").ok());
    CHECK(f.core->AcceptInvitation(inv->token, "other-password", "").status().code() ==
          absl::StatusCode::kUnauthenticated);
  }
  SECTION("expired invitation is rejected") {
    f.clock.Advance(absl::Hours(24 * 7) + absl::Seconds(1));
    CHECK(f.core->AcceptInvitation(inv->token, "tech-password", "").status().code() ==
          absl::StatusCode::kUnauthenticated);
  }
  SECTION("unknown token and weak password") {
    CHECK(f.core->AcceptInvitation("inv_nope", "tech-password", "").status().code() ==
          absl::StatusCode::kUnauthenticated);
    CHECK(Names(f.core->AcceptInvitation(inv->token, "short", "").status(), "password"));
  }
  SECTION("re-inviting a pending user supersedes the old token") {
    auto again = f.core->InviteUser(f.owner_p, tech);
    REQUIRE(again.ok());
    CHECK(again->user.id == inv->user.id);
    CHECK(f.core->AcceptInvitation(inv->token, "tech-password", "").status().code() ==
          absl::StatusCode::kUnauthenticated);
    CHECK(f.core->AcceptInvitation(again->token, "tech-password", "").ok());
  }
}

TEST_CASE("User reads, updates, roles and deactivation follow the RBAC table", "[core][identity]") {
  Fixture f;
  User admin = f.AddUser(Role::kAdmin, "admin@acme.test");
  User office = f.AddUser(Role::kOffice, "office@acme.test");
  User tech = f.AddUser(Role::kTech, "tech@acme.test");
  Fixture other;  // a second company
  f.store.ClearEvents();

  SECTION("a tech reads only itself; office reads everyone") {
    CHECK(f.core->GetUser(Fixture::As(tech), tech.id).ok());
    CHECK(f.core->GetUser(Fixture::As(tech), office.id).status().code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(f.core->GetUser(Fixture::As(office), tech.id).ok());
    auto listed = f.core->ListUsers(Fixture::As(tech), false);
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 1);
    CHECK((*listed)[0].id == tech.id);
    CHECK(f.core->ListUsers(Fixture::As(office), false)->size() == 4);
  }
  SECTION("another company's user is NotFound") {
    CHECK(f.core->GetUser(f.owner_p, other.owner.id).status().code() ==
          absl::StatusCode::kNotFound);
    CHECK(f.core->DeactivateUser(f.owner_p, other.owner.id).status().code() ==
          absl::StatusCode::kNotFound);
    CHECK(Names(f.core->GetUser(f.owner_p, "not-a-uuid").status(), "user_id"));
  }
  SECTION("users edit their own profile; admins edit others; bad fields named") {
    auto mine = f.core->UpdateUser(Fixture::As(tech),
                                   UserUpdate{.user_id = tech.id, .set_forward_to = true,
                                              .forward_to = "+15125550111"});
    REQUIRE(mine.ok());
    CHECK(mine->forward_to == "+15125550111");
    CHECK(f.core->UpdateUser(Fixture::As(tech), UserUpdate{.user_id = office.id,
                                                           .set_full_name = true,
                                                           .full_name = "X"})
              .status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(f.core->UpdateUser(Fixture::As(admin), UserUpdate{.user_id = f.owner.id,
                                                            .set_full_name = true,
                                                            .full_name = "X"})
              .status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(Names(f.core->UpdateUser(Fixture::As(admin), UserUpdate{.user_id = tech.id,
                                                                  .set_extension = true,
                                                                  .extension = "x1"})
                    .status(),
                "extension"));
    CHECK(f.core->UpdateUser(Fixture::As(admin), UserUpdate{.user_id = tech.id,
                                                            .set_extension = true,
                                                            .extension = "100"})
              .status().code() == absl::StatusCode::kAlreadyExists);
  }
  SECTION("role changes: only an owner touches the owner role; event emitted") {
    auto r = f.core->ChangeRole(Fixture::As(admin), tech.id, Role::kOffice);
    REQUIRE(r.ok());
    CHECK(r->role == Role::kOffice);
    REQUIRE(f.store.events().size() == 1);
    auto ev = std::get<UserRoleChangedEvent>(f.store.events()[0]);
    CHECK(ev.old_role == Role::kTech);
    CHECK(ev.new_role == Role::kOffice);
    CHECK(ev.changed_by_user_id == admin.id);
    CHECK(f.core->ChangeRole(Fixture::As(admin), tech.id, Role::kOwner).status().code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(f.core->ChangeRole(Fixture::As(office), tech.id, Role::kTech).status().code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(f.core->ChangeRole(f.owner_p, admin.id, Role::kOwner).ok());
    CHECK(Names(f.core->ChangeRole(f.owner_p, admin.id, std::nullopt).status(), "role"));
  }
  SECTION("the last active owner cannot be demoted") {
    auto r = f.core->ChangeRole(f.owner_p, f.owner.id, Role::kAdmin);
    CHECK(r.status().code() == absl::StatusCode::kFailedPrecondition);
  }
  SECTION("deactivation keeps the user, blocks login and refresh, emits an event") {
    auto before = f.core->Login("tech@acme.test", "user-password");
    REQUIRE(before.ok());
    CHECK(f.core->DeactivateUser(Fixture::As(office), tech.id).status().code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(f.core->DeactivateUser(Fixture::As(admin), f.owner.id).status().code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(f.core->DeactivateUser(f.owner_p, f.owner.id).status().code() ==
          absl::StatusCode::kFailedPrecondition);
    auto d = f.core->DeactivateUser(Fixture::As(admin), tech.id);
    REQUIRE(d.ok());
    CHECK(d->status == UserStatus::kDeactivated);
    CHECK(d->deactivated_at == f.clock.Now());
    CHECK(EventType(f.store.events().back()) == "identity.user_deactivated");
    CHECK(f.core->GetUser(f.owner_p, tech.id)->status == UserStatus::kDeactivated);
    CHECK(f.core->ListUsers(f.owner_p, false)->size() == 3);
    CHECK(f.core->ListUsers(f.owner_p, true)->size() == 4);
    CHECK(f.core->Login("tech@acme.test", "user-password").status().code() ==
          absl::StatusCode::kUnauthenticated);
    CHECK(f.core->Refresh(before->refresh_token).status().code() ==
          absl::StatusCode::kUnauthenticated);
  }
}

TEST_CASE("Login, refresh rotation and reuse detection", "[core][identity][tokens]") {
  Fixture f;
  SECTION("wrong password and unknown email look the same") {
    auto wrong = f.core->Login("owner@acme.test", "nope-nope");
    auto unknown = f.core->Login("ghost@acme.test", "owner-password");
    CHECK(wrong.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(unknown.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(wrong.status().message() == unknown.status().message());
    CHECK(Names(f.core->Login("bad", "x").status(), "email"));
  }
  auto login = f.core->Login("  OWNER@acme.test", "owner-password");
  REQUIRE(login.ok());
  CHECK(login->user.password_hash.empty());
  auto claims = f.core->VerifyAccessToken(login->access_token);
  REQUIRE(claims.ok());
  CHECK(claims->subject == f.owner.id);
  CHECK(claims->company_id == f.company.id);
  CHECK(claims->role == "owner");
  // Stored hashed, never in the clear.
  for (const RefreshToken& t : f.store.refresh_tokens()) {
    CHECK(t.token_hash != login->refresh_token);
    CHECK(t.token_hash.size() == 64);
  }
  SECTION("rotation returns a new pair; the new one works") {
    auto r1 = f.core->Refresh(login->refresh_token);
    REQUIRE(r1.ok());
    CHECK(r1->refresh_token != login->refresh_token);
    auto r2 = f.core->Refresh(r1->refresh_token);
    REQUIRE(r2.ok());
    SECTION("reusing a rotated token revokes the whole family") {
      auto reuse = f.core->Refresh(login->refresh_token);
      CHECK(reuse.status().code() == absl::StatusCode::kUnauthenticated);
      CHECK(std::string(reuse.status().message()).find("reuse") != std::string::npos);
      CHECK(f.core->Refresh(r2->refresh_token).status().code() ==
            absl::StatusCode::kUnauthenticated);
      for (const RefreshToken& t : f.store.refresh_tokens()) CHECK(t.revoked_at.has_value());
    }
  }
  SECTION("expired refresh token") {
    f.clock.Advance(absl::Hours(24 * 30) + absl::Seconds(1));
    CHECK(f.core->Refresh(login->refresh_token).status().code() ==
          absl::StatusCode::kUnauthenticated);
  }
  SECTION("logout revokes; logout is idempotent; unknown token unauthenticated") {
    REQUIRE(f.core->Logout(login->refresh_token).ok());
    CHECK(f.core->Logout(login->refresh_token).ok());
    CHECK(f.core->Refresh(login->refresh_token).status().code() ==
          absl::StatusCode::kUnauthenticated);
    CHECK(f.core->Logout("rt_unknown").code() == absl::StatusCode::kUnauthenticated);
    CHECK(Names(f.core->Logout(""), "refresh_token"));
  }
  SECTION("access token expiry and tamper") {
    f.clock.Advance(absl::Minutes(16));
    CHECK(f.core->VerifyAccessToken(login->access_token).status().code() ==
          absl::StatusCode::kUnauthenticated);
  }
  SECTION("store outage is Unavailable, not Unauthenticated") {
    f.store.FailNext(absl::UnavailableError("db down"));
    CHECK(f.core->Refresh(login->refresh_token).status().code() ==
          absl::StatusCode::kUnavailable);
  }
}

TEST_CASE("Signing key rotation needs an owner or a service", "[core][identity][tokens]") {
  Fixture f;
  User admin = f.AddUser(Role::kAdmin, "admin@acme.test");
  CHECK(f.core->RotateSigningKey(Fixture::As(admin)).status().code() ==
        absl::StatusCode::kPermissionDenied);
  auto old_login = f.core->Login("owner@acme.test", "owner-password");
  REQUIRE(old_login.ok());
  REQUIRE(f.core->RotateSigningKey(f.owner_p).ok());
  REQUIRE(f.core->RotateSigningKey(Principal{.company_id = f.company.id, .service = true}).ok());
  CHECK(f.core->VerificationKeys()->size() == 3);
  CHECK(f.core->VerifyAccessToken(old_login->access_token).ok());
}

TEST_CASE("API keys: scopes, shown once, hashed, revocable, last use", "[core][identity]") {
  Fixture f;
  User office = f.AddUser(Role::kOffice, "office@acme.test");
  CHECK(f.core->CreateApiKey(Fixture::As(office), "crm", {"view_all_history"}).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(Names(f.core->CreateApiKey(f.owner_p, "crm", {"bogus"}).status(), "scopes"));
  CHECK(Names(f.core->CreateApiKey(f.owner_p, "", {"view_analytics"}).status(), "name"));
  auto key = f.core->CreateApiKey(f.owner_p, "crm", {"view_all_history", "view_analytics"});
  REQUIRE(key.ok());
  CHECK(key->key.secret_hash != key->secret);
  CHECK(key->secret.rfind(key->key.prefix, 0) == 0);
  auto p = f.core->VerifyApiKey(key->secret);
  REQUIRE(p.ok());
  CHECK(p->company_id == f.company.id);
  CHECK(p->api_key_id == key->key.id);
  CHECK(f.core->Authorize(*p, Permission::kViewAnalytics, "")->allowed);
  CHECK_FALSE(f.core->Authorize(*p, Permission::kManageNumbers, "")->allowed);
  auto listed = f.core->ListApiKeys(f.owner_p, false);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 1);
  CHECK((*listed)[0].last_used_at == f.clock.Now());
  CHECK(f.core->VerifyApiKey("sbk_wrong").status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(f.core->VerifyApiKey("garbage").status().code() == absl::StatusCode::kUnauthenticated);
  Fixture other;
  CHECK(f.core->RevokeApiKey(other.owner_p, key->key.id).status().code() ==
        absl::StatusCode::kNotFound);
  REQUIRE(f.core->RevokeApiKey(f.owner_p, key->key.id).ok());
  CHECK(f.core->VerifyApiKey(key->secret).status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(f.core->ListApiKeys(f.owner_p, false)->empty());
  CHECK(f.core->ListApiKeys(f.owner_p, true)->size() == 1);
}

TEST_CASE("Devices: own registration, upsert by push token, removal", "[core][identity]") {
  Fixture f;
  User tech = f.AddUser(Role::kTech, "tech@acme.test");
  User office = f.AddUser(Role::kOffice, "office@acme.test");
  auto d = f.core->RegisterDevice(Fixture::As(tech), DeviceRequest{
                                      .platform = DevicePlatform::kApns, .push_token = "tok1",
                                      .label = "iPhone"});
  REQUIRE(d.ok());
  CHECK(d->user_id == tech.id);
  CHECK(d->softphone_identity.rfind("sp_", 0) == 0);
  auto again = f.core->RegisterDevice(Fixture::As(tech), DeviceRequest{
                                          .platform = DevicePlatform::kApns,
                                          .push_token = "tok1", .label = "iPhone 2"});
  REQUIRE(again.ok());
  CHECK(again->id == d->id);
  CHECK(f.core->ListDevices(Fixture::As(tech), "")->size() == 1);
  CHECK(Names(f.core->RegisterDevice(Fixture::As(tech),
                                     DeviceRequest{.platform = DevicePlatform::kFcm})
                  .status(),
              "push_token"));
  CHECK(Names(f.core->RegisterDevice(Fixture::As(tech), DeviceRequest{}).status(), "platform"));
  CHECK(f.core->RegisterDevice(Fixture::As(office), DeviceRequest{.user_id = tech.id,
                                                                  .platform = DevicePlatform::kWeb})
            .status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(f.core->RemoveDevice(Fixture::As(office), d->id).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(f.core->ListDevices(f.owner_p, tech.id)->size() == 1);
  REQUIRE(f.core->RemoveDevice(Fixture::As(tech), d->id).ok());
  CHECK(f.core->RemoveDevice(Fixture::As(tech), d->id).code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Presence: own set, company-wide read, degraded when Redis is down",
          "[core][identity][presence]") {
  Fixture f;
  User tech = f.AddUser(Role::kTech, "tech@acme.test");
  User office = f.AddUser(Role::kOffice, "office@acme.test");
  auto unset = f.core->GetPresence(Fixture::As(office), tech.id);
  REQUIRE(unset.ok());
  CHECK(unset->state == PresenceState::kOffline);
  auto set = f.core->SetPresence(Fixture::As(tech), "", PresenceState::kDnd);
  REQUIRE(set.ok());
  auto got = f.core->GetPresence(Fixture::As(office), tech.id);
  REQUIRE(got.ok());
  CHECK(got->state == PresenceState::kDnd);
  CHECK(got->changed_at == f.clock.Now());
  CHECK(f.core->SetPresence(Fixture::As(office), tech.id, PresenceState::kAvailable)
            .status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(f.core->SetPresence(f.owner_p, tech.id, PresenceState::kAvailable).ok());
  CHECK(Names(f.core->SetPresence(Fixture::As(tech), "", PresenceState::kUnknown).status(),
              "state"));
  f.presence.SetDown(true);
  auto degraded = f.core->GetPresence(Fixture::As(office), tech.id);
  REQUIRE(degraded.ok());
  CHECK(degraded->degraded);
  CHECK(degraded->state == PresenceState::kUnknown);
  CHECK(f.core->SetPresence(Fixture::As(tech), "", PresenceState::kAvailable).status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("Authorize validates its input", "[core][identity][rbac]") {
  Fixture f;
  CHECK(Names(f.core->Authorize(f.owner_p, std::nullopt, "").status(), "permission"));
  CHECK(Names(f.core->Authorize(Principal{}, Permission::kCallsOwn, "x").status(),
              "principal.company_id"));
  auto d = f.core->Authorize(f.owner_p, Permission::kManageNumbers, "");
  REQUIRE(d.ok());
  CHECK(d->allowed);
}

}  // namespace
}  // namespace switchboard::identity
