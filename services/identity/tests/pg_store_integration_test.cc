// PgStore against a real PostgreSQL (unique schema per test; see libs/testing).
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/events/outbox.h"
#include "libs/testing/testing.h"
#include "services/identity/pg_store.h"

namespace switchboard::identity {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

Company MakeCompany() {
  return Company{.id = NewUuidV7(), .name = "Acme", .time_zone = "America/Denver",
                 .plan = Plan::kTeam,
                 .address = {.line1 = "1 Main", .city = "Denver", .state = "CO", .country = "US"},
                 .created_at = kT0, .updated_at = kT0};
}
User MakeUser(const Company& c, const std::string& email, Role role, UserStatus status,
              const std::string& ext = "") {
  return User{.id = NewUuidV7(), .company_id = c.id, .email = email, .full_name = "Some One",
              .role = role, .extension = ext, .status = status, .password_hash = "h",
              .created_at = kT0, .updated_at = kT0};
}

int64_t OutboxCount(db::Pool& pool) {
  auto n = pool.UnscopedOr<int64_t>([](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec("SELECT count(*) FROM outbox")[0][0].as<int64_t>();
  });
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("Identity migrations apply from empty and are idempotent", "[integration][pg]") {
  auto db = testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateIdentity(db->pool()).ok());
  REQUIRE(MigrateIdentity(db->pool()).ok());
  auto tables = db->pool().UnscopedOr<int64_t>([&](pqxx::work& tx) -> absl::StatusOr<int64_t> {
    return tx.exec_params("SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 "
                          "AND table_name IN ('companies','users','invitations','refresh_tokens',"
                          "'signing_keys','api_keys','devices','outbox')",
                          db->schema())[0][0].as<int64_t>();
  });
  REQUIRE(tables.ok());
  CHECK(*tables == 8);
}

TEST_CASE("PgStore round-trips companies, users, invitations and emits outbox rows",
          "[integration][pg]") {
  auto db = testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateIdentity(db->pool()).ok());
  FakeClock clock(kT0);
  PgStore store(db->pool(), clock);
  Company c = MakeCompany();
  User owner = MakeUser(c, "owner@acme.test", Role::kOwner, UserStatus::kActive, "100");
  REQUIRE(store.CreateCompany(c, owner, {CompanyCreatedEvent{c, owner.id}}).ok());
  CHECK(OutboxCount(db->pool()) == 1);

  auto got = store.GetCompany(c.id);
  REQUIRE(got.ok());
  CHECK(got->name == "Acme");
  CHECK(got->plan == Plan::kTeam);
  CHECK(got->address.state == "CO");
  CHECK(got->created_at == kT0);

  SECTION("duplicate email and extension are AlreadyExists naming the field") {
    Company c2 = MakeCompany();
    User dup = MakeUser(c2, "owner@acme.test", Role::kOwner, UserStatus::kActive);
    absl::Status s = store.CreateCompany(c2, dup, {});
    CHECK(s.code() == absl::StatusCode::kAlreadyExists);
    CHECK(std::string(s.message()).find("email") != std::string::npos);
    CHECK(OutboxCount(db->pool()) == 1);  // rolled back with the change
    User ext = MakeUser(c, "x@acme.test", Role::kTech, UserStatus::kInvited, "100");
    Invitation inv{.id = NewUuidV7(), .company_id = c.id, .user_id = ext.id,
                   .token_hash = "h1", .created_at = kT0, .expires_at = kT0 + absl::Hours(1)};
    absl::Status e = store.CreateInvitation(ext, true, inv, kT0, {});
    CHECK(e.code() == absl::StatusCode::kAlreadyExists);
    CHECK(std::string(e.message()).find("extension") != std::string::npos);
  }
  SECTION("another company's rows are NotFound, and RLS hides them even without a WHERE") {
    Company c2 = MakeCompany();
    REQUIRE(store.CreateCompany(c2, MakeUser(c2, "o2@b.test", Role::kOwner, UserStatus::kActive),
                                {}).ok());
    CHECK(store.GetUser(c2.id, owner.id).status().code() == absl::StatusCode::kNotFound);
    CHECK(store.ListUsers(c2.id, true)->size() == 1);
    auto count_users = [](pqxx::work& tx) -> absl::StatusOr<int64_t> {
      return tx.exec("SELECT count(*) FROM users")[0][0].as<int64_t>();
    };
    CHECK(*db->pool().InTenantOr<int64_t>(c2.id, count_users) == 1);
    CHECK(*db->pool().UnscopedOr<int64_t>(count_users) == 2);
    int64_t plain = -1;
    REQUIRE(db->pool().Plain([&](pqxx::work& tx) {
      plain = tx.exec("SELECT count(*) FROM users")[0][0].as<int64_t>();
      return absl::OkStatus();
    }).ok());
    CHECK(plain == 0);
  }
  SECTION("invitation: seat limit, accept once, then user is active") {
    User invited = MakeUser(c, "tech@acme.test", Role::kTech, UserStatus::kInvited);
    Invitation inv{.id = NewUuidV7(), .company_id = c.id, .user_id = invited.id,
                   .token_hash = "hash-1", .invited_by_user_id = owner.id, .created_at = kT0,
                   .expires_at = kT0 + absl::Hours(24)};
    REQUIRE(store.CreateInvitation(invited, true, inv, kT0, {UserInvitedEvent{invited, owner.id,
                                                                              inv.id}})
                .ok());
    auto found = store.FindInvitationByTokenHash("hash-1");
    REQUIRE(found.ok());
    CHECK(found->user_id == invited.id);
    CHECK(found->expires_at == kT0 + absl::Hours(24));
    CHECK_FALSE(found->accepted_at.has_value());
    User active = invited;
    active.status = UserStatus::kActive;
    REQUIRE(store.AcceptInvitation(*found, active, kT0 + absl::Minutes(1),
                                   {UserActivatedEvent{active}}).ok());
    CHECK(store.AcceptInvitation(*found, active, kT0 + absl::Minutes(2), {}).code() ==
          absl::StatusCode::kFailedPrecondition);
    CHECK(store.GetUser(c.id, invited.id)->status == UserStatus::kActive);
    CHECK(store.FindUserByEmail("tech@acme.test")->id == invited.id);
    CHECK(OutboxCount(db->pool()) == 3);
    // Team = 5 seats: owner + tech + 3 more invitations fit, the 6th does not.
    for (int i = 0; i < 3; ++i) {
      User u = MakeUser(c, absl::StrCat("u", i, "@acme.test"), Role::kTech, UserStatus::kInvited);
      Invitation in{.id = NewUuidV7(), .company_id = c.id, .user_id = u.id,
                    .token_hash = absl::StrCat("t", i), .created_at = kT0,
                    .expires_at = kT0 + absl::Hours(24)};
      REQUIRE(store.CreateInvitation(u, true, in, kT0, {}).ok());
    }
    User sixth = MakeUser(c, "six@acme.test", Role::kTech, UserStatus::kInvited);
    Invitation in6{.id = NewUuidV7(), .company_id = c.id, .user_id = sixth.id,
                   .token_hash = "t6", .created_at = kT0, .expires_at = kT0 + absl::Hours(24)};
    absl::Status full = store.CreateInvitation(sixth, true, in6, kT0, {});
    CHECK(full.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(full.message()).find("max_users") != std::string::npos);
    // After the pending invitations expire, the seat frees up.
    CHECK(store.CreateInvitation(sixth, true, in6, kT0 + absl::Hours(25), {}).ok());
    // Downgrade to solo is refused while 2 users are active.
    Company solo = c;
    solo.plan = Plan::kSolo;
    CHECK(store.UpdateCompany(solo, kT0 + absl::Hours(25), {}).code() ==
          absl::StatusCode::kFailedPrecondition);
  }
  SECTION("last active owner is kept") {
    User demoted = owner;
    demoted.role = Role::kAdmin;
    CHECK(store.UpdateUser(demoted, {}).code() == absl::StatusCode::kFailedPrecondition);
    CHECK(store.GetUser(c.id, owner.id)->role == Role::kOwner);
  }
  SECTION("refresh tokens rotate once and revoke by family") {
    RefreshToken t1{.id = NewUuidV7(), .company_id = c.id, .user_id = owner.id,
                    .token_hash = "rt1", .created_at = kT0, .expires_at = kT0 + absl::Hours(1)};
    t1.family_id = t1.id;
    REQUIRE(store.InsertRefreshToken(t1).ok());
    RefreshToken t2 = t1;
    t2.id = NewUuidV7();
    t2.token_hash = "rt2";
    REQUIRE(store.RotateRefreshToken(t1, t2, kT0 + absl::Seconds(1)).ok());
    RefreshToken t3 = t2;
    t3.id = NewUuidV7();
    t3.token_hash = "rt3";
    CHECK(store.RotateRefreshToken(t1, t3, kT0 + absl::Seconds(2)).code() ==
          absl::StatusCode::kFailedPrecondition);
    CHECK(store.FindRefreshTokenByHash("rt1")->rotated_at == kT0 + absl::Seconds(1));
    REQUIRE(store.RevokeRefreshFamily(c.id, t1.family_id, kT0 + absl::Seconds(3)).ok());
    CHECK(store.FindRefreshTokenByHash("rt2")->revoked_at.has_value());
  }
  SECTION("signing keys: insert, retire others, list newest first") {
    SigningKeyRecord k1{.kid = "k1", .public_pem = "p1", .sealed_private_pem = std::string("\0\1x", 3),
                        .created_at = kT0};
    REQUIRE(store.InsertSigningKey(k1, false).ok());
    SigningKeyRecord k2{.kid = "k2", .public_pem = "p2", .sealed_private_pem = "s2",
                        .created_at = kT0 + absl::Seconds(5)};
    REQUIRE(store.InsertSigningKey(k2, true).ok());
    auto keys = store.ListSigningKeys();
    REQUIRE(keys.ok());
    REQUIRE(keys->size() == 2);
    CHECK((*keys)[0].kid == "k2");
    CHECK_FALSE((*keys)[0].retired_at.has_value());
    CHECK((*keys)[1].retired_at == kT0 + absl::Seconds(5));
    CHECK((*keys)[1].sealed_private_pem == std::string("\0\1x", 3));
    CHECK(store.InsertSigningKey(k2, false).code() == absl::StatusCode::kAlreadyExists);
  }
  SECTION("api keys and devices") {
    ApiKey k{.id = NewUuidV7(), .company_id = c.id, .name = "crm",
             .scopes = {"view_analytics", "view_all_history"}, .prefix = "sbk_abcd",
             .secret_hash = "sh", .created_by_user_id = owner.id, .created_at = kT0};
    REQUIRE(store.InsertApiKey(k).ok());
    auto found = store.FindApiKeyBySecretHash("sh");
    REQUIRE(found.ok());
    CHECK(found->scopes == k.scopes);
    REQUIRE(store.TouchApiKey(c.id, k.id, kT0 + absl::Seconds(9)).ok());
    CHECK(store.ListApiKeys(c.id, false)->at(0).last_used_at == kT0 + absl::Seconds(9));
    CHECK(store.RevokeApiKey(MakeCompany().id, k.id, kT0).status().code() ==
          absl::StatusCode::kNotFound);
    REQUIRE(store.RevokeApiKey(c.id, k.id, kT0 + absl::Seconds(10)).ok());
    CHECK(store.ListApiKeys(c.id, false)->empty());

    Device d{.id = NewUuidV7(), .company_id = c.id, .user_id = owner.id,
             .platform = DevicePlatform::kFcm, .push_token = "tok", .softphone_identity = "sp_1",
             .label = "Pixel", .created_at = kT0, .updated_at = kT0};
    auto stored = store.UpsertDevice(d);
    REQUIRE(stored.ok());
    Device again = d;
    again.id = NewUuidV7();
    again.softphone_identity = "sp_2";
    again.label = "Pixel 9";
    auto moved = store.UpsertDevice(again);
    REQUIRE(moved.ok());
    CHECK(moved->id == d.id);
    CHECK(moved->label == "Pixel 9");
    CHECK(store.ListDevices(c.id, owner.id)->size() == 1);
    REQUIRE(store.DeleteDevice(c.id, d.id).ok());
    CHECK(store.DeleteDevice(c.id, d.id).code() == absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace switchboard::identity
