#include "services/identity/pg_store.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "services/identity/plans.h"
#include "identity_migrations.h"
#include "libs/common/ids.h"

namespace switchboard::identity {
namespace {

namespace ev = ::switchboard::events::v1;

// Timestamps travel as Unix microseconds (bigint) so nothing depends on text formats.
int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
std::string OptUs(const std::optional<absl::Time>& t) {
  return t.has_value() ? std::to_string(Us(*t)) : std::string();
}
// SQL for parameter $n holding micros, or (Opt) text micros / '' for NULL.
std::string Ts(int n) {
  return absl::StrCat("(timestamptz 'epoch' + ($", n, ")::bigint * interval '1 microsecond')");
}
std::string OptTs(int n) {
  return absl::StrCat("(timestamptz 'epoch' + NULLIF($", n,
                      "::text, '')::bigint * interval '1 microsecond')");
}
// Select expression reading column `c` as micros under the same name.
std::string Col(absl::string_view c) {
  return absl::StrCat("(extract(epoch from ", c, ") * 1000000)::bigint AS ", c);
}

absl::Time TimeOf(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }
std::optional<absl::Time> OptTimeOf(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return TimeOf(f);
}

const std::string& CompanyCols() {
  static const std::string* s = new std::string(absl::StrCat(
      "id, name, time_zone, plan, address_line1, address_line2, address_city, address_state, "
      "address_postal_code, address_country, ",
      Col("created_at"), ", ", Col("updated_at")));
  return *s;
}
const std::string& UserCols() {
  static const std::string* s = new std::string(absl::StrCat(
      "id, company_id, email, full_name, role, extension, forward_to, status, password_hash, ",
      Col("created_at"), ", ", Col("updated_at"), ", ", Col("deactivated_at")));
  return *s;
}
const std::string& InvitationCols() {
  static const std::string* s = new std::string(
      absl::StrCat("id, company_id, user_id, token_hash, invited_by, ", Col("created_at"), ", ",
                   Col("expires_at"), ", ", Col("accepted_at")));
  return *s;
}
const std::string& RefreshCols() {
  static const std::string* s = new std::string(
      absl::StrCat("id, company_id, user_id, family_id, token_hash, ", Col("created_at"), ", ",
                   Col("expires_at"), ", ", Col("rotated_at"), ", ", Col("revoked_at")));
  return *s;
}
const std::string& ApiKeyCols() {
  static const std::string* s = new std::string(absl::StrCat(
      "id, company_id, name, scopes, prefix, secret_hash, created_by, ", Col("created_at"), ", ",
      Col("last_used_at"), ", ", Col("revoked_at")));
  return *s;
}
const std::string& DeviceCols() {
  static const std::string* s = new std::string(
      absl::StrCat("id, company_id, user_id, platform, push_token, softphone_identity, label, ",
                   Col("created_at"), ", ", Col("updated_at")));
  return *s;
}

template <typename T>
T ParseOrAbort(std::optional<T> v) {
  // CHECK constraints admit only known names; anything else is a corrupted row.
  if (!v.has_value()) std::abort();
  return *v;
}

Company CompanyFrom(const pqxx::row& r) {
  Company c;
  c.id = r["id"].as<std::string>();
  c.name = r["name"].as<std::string>();
  c.time_zone = r["time_zone"].as<std::string>();
  c.plan = ParseOrAbort(ParsePlan(r["plan"].as<std::string>()));
  c.address.line1 = r["address_line1"].as<std::string>();
  c.address.line2 = r["address_line2"].as<std::string>();
  c.address.city = r["address_city"].as<std::string>();
  c.address.state = r["address_state"].as<std::string>();
  c.address.postal_code = r["address_postal_code"].as<std::string>();
  c.address.country = r["address_country"].as<std::string>();
  c.created_at = TimeOf(r["created_at"]);
  c.updated_at = TimeOf(r["updated_at"]);
  return c;
}

User UserFrom(const pqxx::row& r) {
  User u;
  u.id = r["id"].as<std::string>();
  u.company_id = r["company_id"].as<std::string>();
  u.email = r["email"].as<std::string>();
  u.full_name = r["full_name"].as<std::string>();
  u.role = ParseOrAbort(ParseRole(r["role"].as<std::string>()));
  u.extension = r["extension"].as<std::string>();
  u.forward_to = r["forward_to"].as<std::string>();
  u.status = ParseOrAbort(ParseUserStatus(r["status"].as<std::string>()));
  u.password_hash = r["password_hash"].as<std::string>();
  u.created_at = TimeOf(r["created_at"]);
  u.updated_at = TimeOf(r["updated_at"]);
  u.deactivated_at = OptTimeOf(r["deactivated_at"]);
  return u;
}

Invitation InvitationFrom(const pqxx::row& r) {
  Invitation i;
  i.id = r["id"].as<std::string>();
  i.company_id = r["company_id"].as<std::string>();
  i.user_id = r["user_id"].as<std::string>();
  i.token_hash = r["token_hash"].as<std::string>();
  i.invited_by_user_id = r["invited_by"].as<std::string>();
  i.created_at = TimeOf(r["created_at"]);
  i.expires_at = TimeOf(r["expires_at"]);
  i.accepted_at = OptTimeOf(r["accepted_at"]);
  return i;
}

RefreshToken RefreshFrom(const pqxx::row& r) {
  RefreshToken t;
  t.id = r["id"].as<std::string>();
  t.company_id = r["company_id"].as<std::string>();
  t.user_id = r["user_id"].as<std::string>();
  t.family_id = r["family_id"].as<std::string>();
  t.token_hash = r["token_hash"].as<std::string>();
  t.created_at = TimeOf(r["created_at"]);
  t.expires_at = TimeOf(r["expires_at"]);
  t.rotated_at = OptTimeOf(r["rotated_at"]);
  t.revoked_at = OptTimeOf(r["revoked_at"]);
  return t;
}

ApiKey ApiKeyFrom(const pqxx::row& r) {
  ApiKey k;
  k.id = r["id"].as<std::string>();
  k.company_id = r["company_id"].as<std::string>();
  k.name = r["name"].as<std::string>();
  k.scopes = absl::StrSplit(r["scopes"].as<std::string>(), ' ', absl::SkipEmpty());
  k.prefix = r["prefix"].as<std::string>();
  k.secret_hash = r["secret_hash"].as<std::string>();
  k.created_by_user_id = r["created_by"].as<std::string>();
  k.created_at = TimeOf(r["created_at"]);
  k.last_used_at = OptTimeOf(r["last_used_at"]);
  k.revoked_at = OptTimeOf(r["revoked_at"]);
  return k;
}

Device DeviceFrom(const pqxx::row& r) {
  Device d;
  d.id = r["id"].as<std::string>();
  d.company_id = r["company_id"].as<std::string>();
  d.user_id = r["user_id"].as<std::string>();
  d.platform = ParseOrAbort(ParseDevicePlatform(r["platform"].as<std::string>()));
  d.push_token = r["push_token"].as<std::string>();
  d.softphone_identity = r["softphone_identity"].as<std::string>();
  d.label = r["label"].as<std::string>();
  d.created_at = TimeOf(r["created_at"]);
  d.updated_at = TimeOf(r["updated_at"]);
  return d;
}

// Names the field of a unique violation instead of echoing the constraint.
absl::Status FieldOfDuplicate(absl::Status s) {
  if (s.code() != absl::StatusCode::kAlreadyExists) return s;
  if (absl::StrContains(s.message(), "users_email_key")) {
    return absl::AlreadyExistsError("email: is already registered");
  }
  if (absl::StrContains(s.message(), "users_extension_key")) {
    return absl::AlreadyExistsError("extension: is already in use in this company");
  }
  return s;
}

void InsertUser(pqxx::work& tx, const User& u) {
  tx.exec_params(absl::StrCat("INSERT INTO users (id, company_id, email, full_name, role, "
                              "extension, forward_to, status, password_hash, created_at, "
                              "updated_at, deactivated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                              "$8, $9, ",
                              Ts(10), ", ", Ts(11), ", ", OptTs(12), ")"),
                 u.id, u.company_id, u.email, u.full_name, std::string(RoleName(u.role)),
                 u.extension, u.forward_to, std::string(UserStatusName(u.status)),
                 u.password_hash, Us(u.created_at), Us(u.updated_at), OptUs(u.deactivated_at));
}

// Rows written: 0 when the user is not in the company.
size_t WriteUser(pqxx::work& tx, const User& u) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("UPDATE users SET full_name = $3, role = $4, extension = $5, forward_to = $6, "
                   "status = $7, password_hash = $8, updated_at = ",
                   Ts(9), ", deactivated_at = ", OptTs(10),
                   " WHERE id = $1 AND company_id = $2"),
      u.id, u.company_id, u.full_name, std::string(RoleName(u.role)), u.extension, u.forward_to,
      std::string(UserStatusName(u.status)), u.password_hash, Us(u.updated_at),
      OptUs(u.deactivated_at));
  return r.affected_rows();
}

// Locks the company row (serialising seat counts and owner checks) and returns its plan.
std::optional<Plan> LockCompany(pqxx::work& tx, const std::string& company_id) {
  pqxx::result r =
      tx.exec_params("SELECT plan FROM companies WHERE id = $1 FOR UPDATE", company_id);
  if (r.empty()) return std::nullopt;
  return ParsePlan(r[0]["plan"].as<std::string>());
}

// Active users plus invited users with a pending invitation at `now`, except `except_user`.
int64_t CountSeats(pqxx::work& tx, const std::string& company_id,
                   const std::string& except_user, absl::Time now) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT count(*) FROM users u WHERE u.company_id = $1 AND u.id::text <> $2 "
                   "AND (u.status = 'active' OR (u.status = 'invited' AND EXISTS ("
                   "SELECT 1 FROM invitations i WHERE i.user_id = u.id AND i.accepted_at IS "
                   "NULL AND i.expires_at > ",
                   Ts(3), ")))"),
      company_id, except_user, Us(now));
  return r[0][0].as<int64_t>();
}

void FillPayload(const IdentityEvent& event, ev::Event& out) {
  struct Visitor {
    ev::Event& e;
    void operator()(const CompanyCreatedEvent& x) {
      auto* p = e.mutable_company_created();
      p->set_company_id(x.company.id);
      p->set_name(x.company.name);
      p->set_time_zone(x.company.time_zone);
      p->set_plan(std::string(PlanName(x.company.plan)));
      p->set_owner_user_id(x.owner_user_id);
    }
    void operator()(const CompanyUpdatedEvent& x) {
      auto* p = e.mutable_company_updated();
      p->set_company_id(x.company.id);
      p->set_name(x.company.name);
      p->set_time_zone(x.company.time_zone);
      p->set_plan(std::string(PlanName(x.company.plan)));
    }
    void operator()(const UserInvitedEvent& x) {
      auto* p = e.mutable_user_invited();
      p->set_user_id(x.user.id);
      p->set_email(x.user.email);
      p->set_role(std::string(RoleName(x.user.role)));
      p->set_invited_by_user_id(x.invited_by_user_id);
      p->set_invitation_id(x.invitation_id);
    }
    void operator()(const UserActivatedEvent& x) {
      auto* p = e.mutable_user_activated();
      p->set_user_id(x.user.id);
      p->set_email(x.user.email);
      p->set_full_name(x.user.full_name);
      p->set_role(std::string(RoleName(x.user.role)));
      p->set_extension(x.user.extension);
    }
    void operator()(const UserDeactivatedEvent& x) {
      auto* p = e.mutable_user_deactivated();
      p->set_user_id(x.user_id);
      p->set_deactivated_by_user_id(x.deactivated_by_user_id);
    }
    void operator()(const UserRoleChangedEvent& x) {
      auto* p = e.mutable_user_role_changed();
      p->set_user_id(x.user_id);
      p->set_old_role(std::string(RoleName(x.old_role)));
      p->set_new_role(std::string(RoleName(x.new_role)));
      p->set_changed_by_user_id(x.changed_by_user_id);
    }
  };
  std::visit(Visitor{out}, event);
}

}  // namespace

const std::vector<db::Migration>& IdentityMigrations() {
  return ::switchboard::identity::sql::Migrations();
}

absl::Status MigrateIdentity(db::Pool& pool) {
  RETURN_IF_ERROR(Annotate(events::MigrateOutbox(pool), "migrate outbox"));
  return Annotate(db::Migrate(pool, kMigrationComponent, IdentityMigrations()),
                  "migrate identity");
}

PgStore::PgStore(db::Pool& pool, const Clock& clock, PgStoreOptions options)
    : pool_(pool), clock_(clock), options_(std::move(options)) {}

absl::Status PgStore::Ping() {
  return pool_.Plain([](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

absl::Status PgStore::AppendEvents(pqxx::work& tx, const std::vector<IdentityEvent>& events) {
  for (const IdentityEvent& e : events) {
    ev::Event envelope = events::NewEvent(EventType(e), EventCompanyId(e), EventAggregateId(e),
                                          options_.source, clock_);
    FillPayload(e, envelope);
    RETURN_IF_ERROR(events::AppendToOutbox(tx, options_.topic, envelope));
  }
  return absl::OkStatus();
}

// --- companies and users ----------------------------------------------------------------------

absl::Status PgStore::CreateCompany(const Company& c, const User& owner,
                                    const std::vector<IdentityEvent>& events) {
  return FieldOfDuplicate(pool_.InTenant(c.id, [&](pqxx::work& tx) {
    tx.exec_params(absl::StrCat("INSERT INTO companies (id, name, time_zone, plan, address_line1, "
                                "address_line2, address_city, address_state, address_postal_code, "
                                "address_country, created_at, updated_at) VALUES ($1, $2, $3, $4, "
                                "$5, $6, $7, $8, $9, $10, ",
                                Ts(11), ", ", Ts(12), ")"),
                   c.id, c.name, c.time_zone, std::string(PlanName(c.plan)), c.address.line1,
                   c.address.line2, c.address.city, c.address.state, c.address.postal_code,
                   c.address.country, Us(c.created_at), Us(c.updated_at));
    InsertUser(tx, owner);
    return AppendEvents(tx, events);
  }));
}

absl::StatusOr<Company> PgStore::GetCompany(absl::string_view company_id) {
  return pool_.InTenantOr<Company>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Company> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", CompanyCols(), " FROM companies WHERE id = $1"),
        std::string(company_id));
    if (r.empty()) return absl::NotFoundError("company not found");
    return CompanyFrom(r[0]);
  });
}

absl::Status PgStore::UpdateCompany(const Company& c, absl::Time now,
                                    const std::vector<IdentityEvent>& events) {
  return pool_.InTenant(c.id, [&](pqxx::work& tx) -> absl::Status {
    std::optional<Plan> current = LockCompany(tx, c.id);
    if (!current.has_value()) return absl::NotFoundError("company not found");
    if (*current != c.plan && !WithinUserLimit(c.plan, CountSeats(tx, c.id, "", now))) {
      return UserLimitError(c.plan);
    }
    tx.exec_params(absl::StrCat("UPDATE companies SET name = $2, time_zone = $3, plan = $4, "
                                "address_line1 = $5, address_line2 = $6, address_city = $7, "
                                "address_state = $8, address_postal_code = $9, "
                                "address_country = $10, updated_at = ",
                                Ts(11), " WHERE id = $1"),
                   c.id, c.name, c.time_zone, std::string(PlanName(c.plan)), c.address.line1,
                   c.address.line2, c.address.city, c.address.state, c.address.postal_code,
                   c.address.country, Us(c.updated_at));
    return AppendEvents(tx, events);
  });
}

absl::StatusOr<User> PgStore::GetUser(absl::string_view company_id, absl::string_view user_id) {
  if (!IsUuid(user_id)) return absl::NotFoundError("user not found");
  return pool_.InTenantOr<User>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<User> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", UserCols(), " FROM users WHERE id = $1 AND company_id = $2"),
        std::string(user_id), std::string(company_id));
    if (r.empty()) return absl::NotFoundError("user not found");
    return UserFrom(r[0]);
  });
}

absl::StatusOr<std::vector<User>> PgStore::ListUsers(absl::string_view company_id,
                                                     bool include_deactivated) {
  using Users = std::vector<User>;
  return pool_.InTenantOr<Users>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Users> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", UserCols(),
                     " FROM users WHERE company_id = $1 AND ($2 OR status <> 'deactivated') "
                     "ORDER BY created_at, id"),
        std::string(company_id), include_deactivated);
    Users out;
    for (const pqxx::row& row : r) out.push_back(UserFrom(row));
    return out;
  });
}

absl::StatusOr<User> PgStore::FindUserByEmail(absl::string_view email) {
  return pool_.UnscopedOr<User>([&](pqxx::work& tx) -> absl::StatusOr<User> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", UserCols(), " FROM users WHERE email = $1"), std::string(email));
    if (r.empty()) return absl::NotFoundError("user not found");
    return UserFrom(r[0]);
  });
}

absl::Status PgStore::UpdateUser(const User& user, const std::vector<IdentityEvent>& events) {
  return FieldOfDuplicate(pool_.InTenant(user.company_id, [&](pqxx::work& tx) -> absl::Status {
    if (!LockCompany(tx, user.company_id).has_value()) {
      return absl::NotFoundError("user not found");
    }
    if (WriteUser(tx, user) == 0) return absl::NotFoundError("user not found");
    pqxx::result owners = tx.exec_params(
        "SELECT count(*) FROM users WHERE company_id = $1 AND role = 'owner' AND "
        "status = 'active'",
        user.company_id);
    if (owners[0][0].as<int64_t>() == 0) {
      return absl::FailedPreconditionError("the company must keep at least one active owner");
    }
    return AppendEvents(tx, events);
  }));
}

// --- invitations ------------------------------------------------------------------------------

absl::Status PgStore::CreateInvitation(const User& user, bool new_user,
                                       const Invitation& inv, absl::Time now,
                                       const std::vector<IdentityEvent>& events) {
  return FieldOfDuplicate(pool_.InTenant(user.company_id, [&](pqxx::work& tx) -> absl::Status {
    std::optional<Plan> plan = LockCompany(tx, user.company_id);
    if (!plan.has_value()) return absl::NotFoundError("company not found");
    if (!WithinUserLimit(*plan, CountSeats(tx, user.company_id, user.id, now) + 1)) {
      return UserLimitError(*plan);
    }
    if (new_user) {
      InsertUser(tx, user);
    } else {
      if (WriteUser(tx, user) == 0) return absl::NotFoundError("user not found");
      // Earlier pending invitations of this user stop working.
      tx.exec_params(absl::StrCat("UPDATE invitations SET expires_at = LEAST(expires_at, ",
                                  Ts(2), ") WHERE user_id = $1 AND accepted_at IS NULL"),
                     user.id, Us(now));
    }
    tx.exec_params(absl::StrCat("INSERT INTO invitations (id, company_id, user_id, token_hash, "
                                "invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, ",
                                Ts(6), ", ", Ts(7), ")"),
                   inv.id, inv.company_id, inv.user_id, inv.token_hash, inv.invited_by_user_id,
                   Us(inv.created_at), Us(inv.expires_at));
    return AppendEvents(tx, events);
  }));
}

absl::StatusOr<Invitation> PgStore::FindInvitationByTokenHash(absl::string_view token_hash) {
  return pool_.UnscopedOr<Invitation>([&](pqxx::work& tx) -> absl::StatusOr<Invitation> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", InvitationCols(), " FROM invitations WHERE token_hash = $1"),
        std::string(token_hash));
    if (r.empty()) return absl::NotFoundError("invitation not found");
    return InvitationFrom(r[0]);
  });
}

absl::Status PgStore::AcceptInvitation(const Invitation& inv, const User& user, absl::Time now,
                                       const std::vector<IdentityEvent>& events) {
  return FieldOfDuplicate(pool_.InTenant(inv.company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result claimed = tx.exec_params(
        absl::StrCat("UPDATE invitations SET accepted_at = ", Ts(2),
                     " WHERE id = $1 AND accepted_at IS NULL AND expires_at > ", Ts(2)),
        inv.id, Us(now));
    if (claimed.affected_rows() == 0) {
      return absl::FailedPreconditionError("invitation already used or expired");
    }
    if (WriteUser(tx, user) == 0) return absl::NotFoundError("user not found");
    return AppendEvents(tx, events);
  }));
}

// --- refresh tokens ---------------------------------------------------------------------------

absl::Status PgStore::InsertRefreshToken(const RefreshToken& t) {
  return pool_.InTenant(t.company_id, [&](pqxx::work& tx) {
    tx.exec_params(absl::StrCat("INSERT INTO refresh_tokens (id, company_id, user_id, family_id, "
                                "token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, ",
                                Ts(6), ", ", Ts(7), ")"),
                   t.id, t.company_id, t.user_id, t.family_id, t.token_hash, Us(t.created_at),
                   Us(t.expires_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<RefreshToken> PgStore::FindRefreshTokenByHash(absl::string_view token_hash) {
  return pool_.UnscopedOr<RefreshToken>([&](pqxx::work& tx) -> absl::StatusOr<RefreshToken> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", RefreshCols(), " FROM refresh_tokens WHERE token_hash = $1"),
        std::string(token_hash));
    if (r.empty()) return absl::NotFoundError("refresh token not found");
    return RefreshFrom(r[0]);
  });
}

absl::Status PgStore::RotateRefreshToken(const RefreshToken& old_token, const RefreshToken& t,
                                         absl::Time now) {
  return pool_.InTenant(old_token.company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        absl::StrCat("UPDATE refresh_tokens SET rotated_at = ", Ts(2),
                     " WHERE id = $1 AND rotated_at IS NULL AND revoked_at IS NULL"),
        old_token.id, Us(now));
    if (r.affected_rows() == 0) {
      return absl::FailedPreconditionError("refresh token already rotated or revoked");
    }
    tx.exec_params(absl::StrCat("INSERT INTO refresh_tokens (id, company_id, user_id, family_id, "
                                "token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, ",
                                Ts(6), ", ", Ts(7), ")"),
                   t.id, t.company_id, t.user_id, t.family_id, t.token_hash, Us(t.created_at),
                   Us(t.expires_at));
    return absl::OkStatus();
  });
}

absl::Status PgStore::RevokeRefreshFamily(absl::string_view company_id,
                                          absl::string_view family_id, absl::Time now) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) {
    tx.exec_params(absl::StrCat("UPDATE refresh_tokens SET revoked_at = ", Ts(3),
                                " WHERE company_id = $1 AND family_id = $2 AND revoked_at IS NULL"),
                   std::string(company_id), std::string(family_id), Us(now));
    return absl::OkStatus();
  });
}

// --- signing keys -----------------------------------------------------------------------------

absl::Status PgStore::InsertSigningKey(const SigningKeyRecord& k, bool retire_others) {
  return pool_.Unscoped([&](pqxx::work& tx) {
    if (retire_others) {
      tx.exec_params(absl::StrCat("UPDATE signing_keys SET retired_at = ", Ts(1),
                                  " WHERE retired_at IS NULL"),
                     Us(k.created_at));
    }
    tx.exec_params(absl::StrCat("INSERT INTO signing_keys (kid, algorithm, public_pem, "
                                "sealed_private_pem, created_at, retired_at) VALUES ($1, $2, $3, "
                                "$4, ",
                                Ts(5), ", ", OptTs(6), ")"),
                   k.kid, k.algorithm, k.public_pem, crypto::Base64Encode(k.sealed_private_pem),
                   Us(k.created_at), OptUs(k.retired_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<SigningKeyRecord>> PgStore::ListSigningKeys() {
  using Keys = std::vector<SigningKeyRecord>;
  return pool_.UnscopedOr<Keys>([&](pqxx::work& tx) -> absl::StatusOr<Keys> {
    pqxx::result r = tx.exec(absl::StrCat(
        "SELECT kid, algorithm, public_pem, sealed_private_pem, ", Col("created_at"), ", ",
        Col("retired_at"), " FROM signing_keys ORDER BY created_at DESC, kid DESC"));
    Keys out;
    for (const pqxx::row& row : r) {
      SigningKeyRecord k;
      k.kid = row["kid"].as<std::string>();
      k.algorithm = row["algorithm"].as<std::string>();
      k.public_pem = row["public_pem"].as<std::string>();
      absl::StatusOr<std::string> sealed =
          crypto::Base64Decode(row["sealed_private_pem"].as<std::string>());
      if (!sealed.ok()) {
        return absl::DataLossError(absl::StrCat("signing key ", k.kid, " is not base64"));
      }
      k.sealed_private_pem = std::move(*sealed);
      k.created_at = TimeOf(row["created_at"]);
      k.retired_at = OptTimeOf(row["retired_at"]);
      out.push_back(std::move(k));
    }
    return out;
  });
}

// --- API keys ---------------------------------------------------------------------------------

absl::Status PgStore::InsertApiKey(const ApiKey& k) {
  return pool_.InTenant(k.company_id, [&](pqxx::work& tx) {
    tx.exec_params(absl::StrCat("INSERT INTO api_keys (id, company_id, name, scopes, prefix, "
                                "secret_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, "
                                "$6, $7, ",
                                Ts(8), ")"),
                   k.id, k.company_id, k.name, absl::StrJoin(k.scopes, " "), k.prefix,
                   k.secret_hash, k.created_by_user_id, Us(k.created_at));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ApiKey>> PgStore::ListApiKeys(absl::string_view company_id,
                                                         bool include_revoked) {
  using Keys = std::vector<ApiKey>;
  return pool_.InTenantOr<Keys>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Keys> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", ApiKeyCols(),
                     " FROM api_keys WHERE company_id = $1 AND ($2 OR revoked_at IS NULL) "
                     "ORDER BY created_at, id"),
        std::string(company_id), include_revoked);
    Keys out;
    for (const pqxx::row& row : r) out.push_back(ApiKeyFrom(row));
    return out;
  });
}

absl::StatusOr<ApiKey> PgStore::RevokeApiKey(absl::string_view company_id,
                                             absl::string_view api_key_id, absl::Time now) {
  if (!IsUuid(api_key_id)) return absl::NotFoundError("api key not found");
  return pool_.InTenantOr<ApiKey>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<ApiKey> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ", Ts(3),
                     ") WHERE id = $1 AND company_id = $2 RETURNING ", ApiKeyCols()),
        std::string(api_key_id), std::string(company_id), Us(now));
    if (r.empty()) return absl::NotFoundError("api key not found");
    return ApiKeyFrom(r[0]);
  });
}

absl::StatusOr<ApiKey> PgStore::FindApiKeyBySecretHash(absl::string_view secret_hash) {
  return pool_.UnscopedOr<ApiKey>([&](pqxx::work& tx) -> absl::StatusOr<ApiKey> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", ApiKeyCols(), " FROM api_keys WHERE secret_hash = $1"),
        std::string(secret_hash));
    if (r.empty()) return absl::NotFoundError("api key not found");
    return ApiKeyFrom(r[0]);
  });
}

absl::Status PgStore::TouchApiKey(absl::string_view company_id, absl::string_view api_key_id,
                                  absl::Time now) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        absl::StrCat("UPDATE api_keys SET last_used_at = ", Ts(3),
                     " WHERE id = $1 AND company_id = $2"),
        std::string(api_key_id), std::string(company_id), Us(now));
    if (r.affected_rows() == 0) return absl::NotFoundError("api key not found");
    return absl::OkStatus();
  });
}

// --- devices ----------------------------------------------------------------------------------

absl::StatusOr<Device> PgStore::UpsertDevice(const Device& d) {
  return pool_.InTenantOr<Device>(d.company_id, [&](pqxx::work& tx) -> absl::StatusOr<Device> {
    if (!d.push_token.empty()) {
      pqxx::result moved = tx.exec_params(
          absl::StrCat("UPDATE devices SET user_id = $4, label = $5, updated_at = ", Ts(6),
                       " WHERE company_id = $1 AND platform = $2 AND push_token = $3 RETURNING ",
                       DeviceCols()),
          d.company_id, std::string(DevicePlatformName(d.platform)), d.push_token, d.user_id,
          d.label, Us(d.updated_at));
      if (!moved.empty()) return DeviceFrom(moved[0]);
    }
    pqxx::result r = tx.exec_params(
        absl::StrCat("INSERT INTO devices (id, company_id, user_id, platform, push_token, "
                     "softphone_identity, label, created_at, updated_at) VALUES ($1, $2, $3, $4, "
                     "$5, $6, $7, ",
                     Ts(8), ", ", Ts(9), ") RETURNING ", DeviceCols()),
        d.id, d.company_id, d.user_id, std::string(DevicePlatformName(d.platform)), d.push_token,
        d.softphone_identity, d.label, Us(d.created_at), Us(d.updated_at));
    return DeviceFrom(r[0]);
  });
}

absl::StatusOr<std::vector<Device>> PgStore::ListDevices(absl::string_view company_id,
                                                         absl::string_view user_id) {
  using Devices = std::vector<Device>;
  return pool_.InTenantOr<Devices>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Devices> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", DeviceCols(),
                     " FROM devices WHERE company_id = $1 AND user_id::text = $2 "
                     "ORDER BY created_at, id"),
        std::string(company_id), std::string(user_id));
    Devices out;
    for (const pqxx::row& row : r) out.push_back(DeviceFrom(row));
    return out;
  });
}

absl::StatusOr<Device> PgStore::GetDevice(absl::string_view company_id,
                                          absl::string_view device_id) {
  if (!IsUuid(device_id)) return absl::NotFoundError("device not found");
  return pool_.InTenantOr<Device>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Device> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", DeviceCols(), " FROM devices WHERE id = $1 AND company_id = $2"),
        std::string(device_id), std::string(company_id));
    if (r.empty()) return absl::NotFoundError("device not found");
    return DeviceFrom(r[0]);
  });
}

absl::Status PgStore::DeleteDevice(absl::string_view company_id, absl::string_view device_id) {
  if (!IsUuid(device_id)) return absl::NotFoundError("device not found");
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params("DELETE FROM devices WHERE id = $1 AND company_id = $2",
                                    std::string(device_id), std::string(company_id));
    if (r.affected_rows() == 0) return absl::NotFoundError("device not found");
    return absl::OkStatus();
  });
}

}  // namespace switchboard::identity
