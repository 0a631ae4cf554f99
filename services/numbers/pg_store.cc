#include "services/numbers/pg_store.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "numbers_migrations.h"

namespace switchboard::numbers {
namespace {

namespace ev = ::switchboard::events::v1;

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
std::string Ts(int n) {
  return absl::StrCat("(timestamptz 'epoch' + ($", n, ")::bigint * interval '1 microsecond')");
}
std::string OptTs(int n) {
  return absl::StrCat("(timestamptz 'epoch' + NULLIF($", n,
                      "::text, '')::bigint * interval '1 microsecond')");
}
std::string Col(absl::string_view c) {
  return absl::StrCat("(extract(epoch from ", c, ") * 1000000)::bigint AS ", c);
}
absl::Time TimeOf(const pqxx::field& f) { return absl::FromUnixMicros(f.as<int64_t>()); }
std::optional<std::string> OptStr(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}
std::string StrOf(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

const std::string& NumberCols() {
  static const std::string* s = new std::string(absl::StrCat(
      "id, line_id, company_id, e164, number_type, country, area_code, provider, "
      "provider_number_id, carrier_order_id, monthly_cost, currency, status, line_type, "
      "nickname, caller_id_name, sms_enabled, active, assigned_user_id, department, flow_id, "
      "port_request_id, version, ",
      Col("created_at"), ", ", Col("updated_at"), ", ", Col("released_at")));
  return *s;
}

const std::string& PortCols() {
  static const std::string* s = new std::string(absl::StrCat(
      "id, company_id, array_to_string(numbers, ',') AS numbers, current_carrier, "
      "account_number_sealed, pin_sealed, authorized_name, address_street, address_extended, "
      "address_locality, address_region, address_postal_code, address_country, "
      "desired_foc_date, status, reason, carrier_port_order_id, temporary_line_id, "
      "temporary_e164, version, ",
      Col("created_at"), ", ", Col("updated_at")));
  return *s;
}

template <typename T>
T OrAbort(std::optional<T> v) {
  if (!v.has_value()) std::abort();  // CHECK constraints admit only known names
  return *v;
}

NumberRow NumberFrom(const pqxx::row& r) {
  NumberRow row;
  Number& n = row.number;
  n.id = r["id"].as<std::string>();
  n.line_id = r["line_id"].as<std::string>();
  n.company_id = r["company_id"].as<std::string>();
  n.e164 = r["e164"].as<std::string>();
  n.type = OrAbort(ParseNumberType(r["number_type"].as<std::string>()));
  n.country = r["country"].as<std::string>();
  n.area_code = r["area_code"].as<std::string>();
  n.provider = r["provider"].as<std::string>();
  n.provider_number_id = r["provider_number_id"].as<std::string>();
  n.carrier_order_id = r["carrier_order_id"].as<std::string>();
  n.monthly_cost = r["monthly_cost"].as<std::string>();
  n.currency = r["currency"].as<std::string>();
  n.status = OrAbort(ParseStatus(r["status"].as<std::string>()));
  n.line_type = OrAbort(ParseLineType(r["line_type"].as<std::string>()));
  n.nickname = r["nickname"].as<std::string>();
  n.caller_id_name = r["caller_id_name"].as<std::string>();
  n.sms_enabled = r["sms_enabled"].as<bool>();
  n.active = r["active"].as<bool>();
  n.assigned_user_id = StrOf(r["assigned_user_id"]);
  n.department = r["department"].as<std::string>();
  n.flow_id = StrOf(r["flow_id"]);
  n.port_request_id = StrOf(r["port_request_id"]);
  n.created_at = TimeOf(r["created_at"]);
  n.updated_at = TimeOf(r["updated_at"]);
  if (!r["released_at"].is_null()) n.released_at = TimeOf(r["released_at"]);
  row.version = r["version"].as<int64_t>();
  return row;
}

absl::StatusOr<PortRow> PortFrom(const pqxx::row& r) {
  PortRow row;
  PortRequest& p = row.port;
  p.id = r["id"].as<std::string>();
  p.company_id = r["company_id"].as<std::string>();
  const std::string numbers = r["numbers"].as<std::string>();
  if (!numbers.empty()) p.numbers = absl::StrSplit(numbers, ',');
  p.current_carrier = r["current_carrier"].as<std::string>();
  ASSIGN_OR_RETURN(p.account_number_sealed,
                   crypto::Base64Decode(r["account_number_sealed"].as<std::string>()));
  ASSIGN_OR_RETURN(p.pin_sealed, crypto::Base64Decode(r["pin_sealed"].as<std::string>()));
  p.authorized_name = r["authorized_name"].as<std::string>();
  p.service_address = {r["address_street"].as<std::string>(),
                       r["address_extended"].as<std::string>(),
                       r["address_locality"].as<std::string>(),
                       r["address_region"].as<std::string>(),
                       r["address_postal_code"].as<std::string>(),
                       r["address_country"].as<std::string>()};
  p.desired_foc_date = r["desired_foc_date"].as<std::string>();
  p.status = OrAbort(ParsePortStatus(r["status"].as<std::string>()));
  p.reason = r["reason"].as<std::string>();
  p.carrier_port_order_id = r["carrier_port_order_id"].as<std::string>();
  p.temporary_line_id = StrOf(r["temporary_line_id"]);
  p.temporary_e164 = r["temporary_e164"].as<std::string>();
  p.created_at = TimeOf(r["created_at"]);
  p.updated_at = TimeOf(r["updated_at"]);
  row.version = r["version"].as<int64_t>();
  return row;
}

void InsertNumber(pqxx::work& tx, const Number& n) {
  tx.exec_params(
      absl::StrCat("INSERT INTO numbers (id, line_id, company_id, e164, number_type, country, "
                   "area_code, provider, provider_number_id, carrier_order_id, monthly_cost, "
                   "currency, status, line_type, nickname, caller_id_name, sms_enabled, active, "
                   "assigned_user_id, department, flow_id, port_request_id, created_at, "
                   "updated_at, released_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                   "$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, ",
                   Ts(23), ", ", Ts(24), ", ", OptTs(25), ")"),
      n.id, n.line_id, n.company_id, n.e164, NumberTypeName(n.type), n.country, n.area_code,
      n.provider, n.provider_number_id, n.carrier_order_id, n.monthly_cost, n.currency,
      StatusName(n.status), LineTypeName(n.line_type), n.nickname, n.caller_id_name,
      n.sms_enabled, n.active, OptStr(n.assigned_user_id), n.department, OptStr(n.flow_id),
      OptStr(n.port_request_id), Us(n.created_at), Us(n.updated_at),
      n.released_at.has_value() ? std::to_string(Us(*n.released_at)) : std::string());
}

absl::Status UpdateNumber(pqxx::work& tx, const NumberRow& row) {
  const Number& n = row.number;
  pqxx::result r = tx.exec_params(
      absl::StrCat("UPDATE numbers SET line_id = $2, provider = $3, provider_number_id = $4, "
                   "carrier_order_id = $5, status = $6, line_type = $7, nickname = $8, "
                   "caller_id_name = $9, sms_enabled = $10, active = $11, "
                   "assigned_user_id = $12, department = $13, flow_id = $14, "
                   "port_request_id = $15, updated_at = ", Ts(16), ", released_at = ", OptTs(17),
                   ", version = version + 1 WHERE id = $1 AND version = $18"),
      n.id, n.line_id, n.provider, n.provider_number_id, n.carrier_order_id, StatusName(n.status),
      LineTypeName(n.line_type), n.nickname, n.caller_id_name, n.sms_enabled, n.active,
      OptStr(n.assigned_user_id), n.department, OptStr(n.flow_id), OptStr(n.port_request_id),
      Us(n.updated_at),
      n.released_at.has_value() ? std::to_string(Us(*n.released_at)) : std::string(),
      row.version);
  if (r.affected_rows() != 1) {
    return absl::AbortedError(absl::StrCat("number ", n.e164, " changed concurrently; retry"));
  }
  return absl::OkStatus();
}

std::string PgTextArray(const std::vector<std::string>& items) {
  // E.164 strings need no quoting inside an array literal.
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

void InsertPort(pqxx::work& tx, const PortRequest& p) {
  tx.exec_params(
      absl::StrCat("INSERT INTO port_requests (id, company_id, numbers, current_carrier, "
                   "account_number_sealed, pin_sealed, authorized_name, address_street, "
                   "address_extended, address_locality, address_region, address_postal_code, "
                   "address_country, desired_foc_date, status, reason, carrier_port_order_id, "
                   "temporary_line_id, temporary_e164, created_at, updated_at) VALUES ($1, $2, "
                   "$3::text[], $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
                   "$18, $19, ", Ts(20), ", ", Ts(21), ")"),
      p.id, p.company_id, PgTextArray(p.numbers), p.current_carrier,
      crypto::Base64Encode(p.account_number_sealed), crypto::Base64Encode(p.pin_sealed),
      p.authorized_name, p.service_address.street, p.service_address.extended,
      p.service_address.locality, p.service_address.region, p.service_address.postal_code,
      p.service_address.country, p.desired_foc_date, PortStatusName(p.status), p.reason,
      p.carrier_port_order_id, OptStr(p.temporary_line_id), p.temporary_e164, Us(p.created_at),
      Us(p.updated_at));
}

absl::Status UpdatePort(pqxx::work& tx, const PortRow& row) {
  const PortRequest& p = row.port;
  pqxx::result r = tx.exec_params(
      absl::StrCat("UPDATE port_requests SET status = $2, reason = $3, "
                   "carrier_port_order_id = $4, temporary_line_id = $5, temporary_e164 = $6, "
                   "updated_at = ", Ts(7), ", version = version + 1 WHERE id = $1 AND "
                   "version = $8"),
      p.id, PortStatusName(p.status), p.reason, p.carrier_port_order_id,
      OptStr(p.temporary_line_id), p.temporary_e164, Us(p.updated_at), row.version);
  if (r.affected_rows() != 1) {
    return absl::AbortedError("port request changed concurrently; retry");
  }
  return absl::OkStatus();
}

ev::Event ToEnvelope(const DomainEvent& e, absl::string_view company_id, const Clock& clock,
                     absl::string_view source) {
  const Number& n = e.number;
  using K = DomainEvent::Kind;
  std::string type;
  std::string aggregate = n.line_id;
  switch (e.kind) {
    case K::kProvisioned: type = "numbers.number_provisioned"; break;
    case K::kActivated: type = "numbers.number_activated"; break;
    case K::kOrderFailed: type = "numbers.number_order_failed"; break;
    case K::kReleased: type = "numbers.number_released"; break;
    case K::kLineUpdated: type = "numbers.line_updated"; break;
    case K::kPortUpdated: type = "numbers.port_request_updated"; aggregate = e.port.id; break;
    case K::kPorted: type = "numbers.number_ported"; break;
  }
  ev::Event env = events::NewEvent(type, company_id, aggregate, source, clock);
  switch (e.kind) {
    case K::kProvisioned: {
      ev::NumberProvisioned* p = env.mutable_number_provisioned();
      p->set_number_id(n.id);
      p->set_line_id(n.line_id);
      p->set_e164(n.e164);
      p->set_number_type(NumberTypeName(n.type));
      p->set_country(n.country);
      p->set_provider(n.provider);
      p->set_monthly_cost(n.monthly_cost);
      p->set_currency(n.currency);
      p->set_status(StatusName(n.status));
      p->set_line_type(LineTypeName(n.line_type));
      break;
    }
    case K::kActivated: {
      ev::NumberActivated* p = env.mutable_number_activated();
      p->set_number_id(n.id);
      p->set_line_id(n.line_id);
      p->set_e164(n.e164);
      break;
    }
    case K::kOrderFailed: {
      ev::NumberOrderFailed* p = env.mutable_number_order_failed();
      p->set_number_id(n.id);
      p->set_line_id(n.line_id);
      p->set_e164(n.e164);
      break;
    }
    case K::kReleased: {
      ev::NumberReleased* p = env.mutable_number_released();
      p->set_number_id(n.id);
      p->set_line_id(n.line_id);
      p->set_e164(n.e164);
      p->set_number_type(NumberTypeName(n.type));
      p->set_forced(e.forced);
      p->set_reason(e.detail);
      break;
    }
    case K::kLineUpdated: {
      ev::LineUpdated* p = env.mutable_line_updated();
      p->set_number_id(n.id);
      p->set_line_id(n.line_id);
      p->set_e164(n.e164);
      p->set_line_type(LineTypeName(n.line_type));
      p->set_assigned_user_id(n.assigned_user_id);
      p->set_department(n.department);
      p->set_flow_id(n.flow_id);
      p->set_active(n.active);
      p->set_change(e.detail);
      break;
    }
    case K::kPortUpdated: {
      ev::PortRequestUpdated* p = env.mutable_port_request_updated();
      p->set_port_request_id(e.port.id);
      for (const std::string& x : e.port.numbers) p->add_numbers(x);
      p->set_status(PortStatusName(e.port.status));
      p->set_reason(e.port.reason);
      break;
    }
    case K::kPorted: {
      ev::NumberPorted* p = env.mutable_number_ported();
      p->set_port_request_id(e.port.id);
      p->set_number_id(n.id);
      p->set_line_id(n.line_id);
      p->set_e164(n.e164);
      p->set_replaced_e164(e.replaced_e164);
      break;
    }
  }
  return env;
}

}  // namespace

absl::Status MigrateNumbers(db::Pool& pool) {
  RETURN_IF_ERROR(Annotate(events::MigrateOutbox(pool), "migrate outbox"));
  return Annotate(db::Migrate(pool, "numbers", sql::Migrations()), "migrate numbers");
}

PgNumberStore::PgNumberStore(db::Pool& pool, const Clock& clock, PgStoreOptions options)
    : pool_(pool), clock_(clock), options_(std::move(options)) {}

absl::Status PgNumberStore::Reserve(const Number& number, int limit, absl::string_view plan) {
  absl::Status s = pool_.InTenant(number.company_id, [&](pqxx::work& tx) -> absl::Status {
    // Serialises reservations of one company so the count below cannot be raced.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('numbers.limit:' || $1))",
                   number.company_id);
    if (limit > 0) {
      pqxx::row r = tx.exec_params1(
          "SELECT count(*) FROM numbers WHERE company_id = $1 AND status IN "
          "('ordering', 'pending', 'active')",
          number.company_id);
      const int64_t count = r[0].as<int64_t>();
      if (count >= limit) {
        return absl::FailedPreconditionError(absl::StrCat(
            "number limit reached: plan '", plan, "' allows at most ", limit,
            limit == 1 ? " number" : " numbers", " (pending + active); release one or upgrade"));
      }
    }
    InsertNumber(tx, number);
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError(
        absl::StrCat("e164: ", number.e164, " is already taken (being ordered or in use)"));
  }
  return s;
}

absl::Status PgNumberStore::DeleteReservation(absl::string_view company_id,
                                              absl::string_view number_id) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) {
    tx.exec_params("DELETE FROM numbers WHERE id = $1 AND status = 'ordering'",
                   std::string(number_id));
    return absl::OkStatus();
  });
}

absl::Status PgNumberStore::Apply(absl::string_view company_id, const Mutation& m) {
  absl::Status s = pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    for (const NumberRow& row : m.update_numbers) RETURN_IF_ERROR(UpdateNumber(tx, row));
    for (const Number& n : m.insert_numbers) InsertNumber(tx, n);
    if (m.insert_port.has_value()) InsertPort(tx, *m.insert_port);
    if (m.update_port.has_value()) RETURN_IF_ERROR(UpdatePort(tx, *m.update_port));
    for (const DomainEvent& e : m.events) {
      RETURN_IF_ERROR(events::AppendToOutbox(
          tx, options_.topic, ToEnvelope(e, company_id, clock_, options_.source)));
    }
    return absl::OkStatus();
  });
  if (absl::IsAlreadyExists(s)) {
    return absl::AlreadyExistsError("e164: the number is already live for a company");
  }
  return s;
}

absl::StatusOr<NumberRow> PgNumberStore::Get(absl::string_view company_id,
                                             absl::string_view id) {
  return pool_.InTenantOr<NumberRow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<NumberRow> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", NumberCols(), " FROM numbers WHERE company_id = $1 AND (id = $2 "
                     "OR (line_id = $2 AND status IN ('ordering', 'pending', 'active'))) "
                     "ORDER BY (id = $2) DESC LIMIT 1"),
        std::string(company_id), std::string(id));
    if (r.empty()) {
      // The newest number a line ever had (a released line still answers by line id).
      r = tx.exec_params(absl::StrCat("SELECT ", NumberCols(),
                                      " FROM numbers WHERE company_id = $1 AND line_id = $2 "
                                      "ORDER BY created_at DESC LIMIT 1"),
                         std::string(company_id), std::string(id));
    }
    if (r.empty()) return absl::NotFoundError(absl::StrCat("number or line ", id, " not found"));
    return NumberFrom(r[0]);
  });
}

absl::StatusOr<NumberRow> PgNumberStore::FindByE164(absl::string_view company_id,
                                                    absl::string_view e164) {
  return pool_.InTenantOr<NumberRow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<NumberRow> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", NumberCols(), " FROM numbers WHERE company_id = $1 AND e164 = $2 "
                     "ORDER BY (status IN ('ordering', 'pending', 'active')) DESC, "
                     "created_at DESC LIMIT 1"),
        std::string(company_id), std::string(e164));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("number ", e164, " not found"));
    return NumberFrom(r[0]);
  });
}

absl::StatusOr<std::vector<NumberRow>> PgNumberStore::List(absl::string_view company_id,
                                                           bool include_released) {
  return pool_.InTenantOr<std::vector<NumberRow>>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<NumberRow>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", NumberCols(), " FROM numbers WHERE company_id = $1",
                         include_released ? "" : " AND status IN ('ordering', 'pending', 'active')",
                         " ORDER BY e164, created_at"),
            std::string(company_id));
        std::vector<NumberRow> out;
        for (const pqxx::row& row : r) out.push_back(NumberFrom(row));
        return out;
      });
}

absl::StatusOr<std::vector<NumberRow>> PgNumberStore::ListAssignedTo(absl::string_view company_id,
                                                                     absl::string_view user_id) {
  return pool_.InTenantOr<std::vector<NumberRow>>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<NumberRow>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", NumberCols(),
                         " FROM numbers WHERE company_id = $1 AND assigned_user_id = $2 AND "
                         "status IN ('ordering', 'pending', 'active') ORDER BY e164"),
            std::string(company_id), std::string(user_id));
        std::vector<NumberRow> out;
        for (const pqxx::row& row : r) out.push_back(NumberFrom(row));
        return out;
      });
}

absl::StatusOr<Resolved> PgNumberStore::Resolve(absl::string_view e164) {
  return pool_.UnscopedOr<Resolved>([&](pqxx::work& tx) -> absl::StatusOr<Resolved> {
    pqxx::result r = tx.exec_params(
        "SELECT company_id, line_id, id, line_type, flow_id, assigned_user_id, department, "
        "nickname, sms_enabled, active FROM numbers WHERE e164 = $1 AND status = 'active'",
        std::string(e164));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("e164: ", e164, " is not a line"));
    Resolved out;
    out.company_id = r[0]["company_id"].as<std::string>();
    out.line_id = r[0]["line_id"].as<std::string>();
    out.number_id = r[0]["id"].as<std::string>();
    out.line_type = OrAbort(ParseLineType(r[0]["line_type"].as<std::string>()));
    out.flow_id = StrOf(r[0]["flow_id"]);
    out.assigned_user_id = StrOf(r[0]["assigned_user_id"]);
    out.department = r[0]["department"].as<std::string>();
    out.nickname = r[0]["nickname"].as<std::string>();
    out.sms_enabled = r[0]["sms_enabled"].as<bool>();
    out.active = r[0]["active"].as<bool>();
    return out;
  });
}

absl::StatusOr<PortRow> PgNumberStore::GetPort(absl::string_view company_id,
                                               absl::string_view id) {
  return pool_.InTenantOr<PortRow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<PortRow> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", PortCols(), " FROM port_requests WHERE company_id = $1 AND id = $2"),
        std::string(company_id), std::string(id));
    if (r.empty()) return absl::NotFoundError(absl::StrCat("port request ", id, " not found"));
    return PortFrom(r[0]);
  });
}

absl::StatusOr<PortRow> PgNumberStore::FindPortByCarrierId(absl::string_view company_id,
                                                           absl::string_view carrier_id) {
  return pool_.InTenantOr<PortRow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<PortRow> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", PortCols(),
                     " FROM port_requests WHERE company_id = $1 AND carrier_port_order_id = $2"),
        std::string(company_id), std::string(carrier_id));
    if (r.empty()) return absl::NotFoundError("port order not found");
    return PortFrom(r[0]);
  });
}

absl::StatusOr<std::vector<PortRow>> PgNumberStore::ListPorts(absl::string_view company_id) {
  return pool_.InTenantOr<std::vector<PortRow>>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::vector<PortRow>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", PortCols(),
                         " FROM port_requests WHERE company_id = $1 ORDER BY created_at"),
            std::string(company_id));
        std::vector<PortRow> out;
        for (const pqxx::row& row : r) {
          ASSIGN_OR_RETURN(PortRow p, PortFrom(row));
          out.push_back(std::move(p));
        }
        return out;
      });
}

absl::Status PgNumberStore::SetCallerIdChoice(absl::string_view company_id,
                                              absl::string_view user_id, CallerIdChoice choice) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO caller_id_preferences (company_id, user_id, choice) VALUES ($1, $2, $3) "
        "ON CONFLICT (company_id, user_id) DO UPDATE SET choice = EXCLUDED.choice, "
        "updated_at = now()",
        std::string(company_id), std::string(user_id),
        choice == CallerIdChoice::kDirect ? "direct" : "main");
    return absl::OkStatus();
  });
}

absl::StatusOr<CallerIdChoice> PgNumberStore::GetCallerIdChoice(absl::string_view company_id,
                                                                absl::string_view user_id) {
  return pool_.InTenantOr<CallerIdChoice>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<CallerIdChoice> {
        pqxx::result r = tx.exec_params(
            "SELECT choice FROM caller_id_preferences WHERE company_id = $1 AND user_id = $2",
            std::string(company_id), std::string(user_id));
        if (r.empty()) return CallerIdChoice::kMain;
        return r[0][0].as<std::string>() == "direct" ? CallerIdChoice::kDirect
                                                     : CallerIdChoice::kMain;
      });
}

absl::Status PgNumberStore::Ping() {
  return pool_.Plain([](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace switchboard::numbers
