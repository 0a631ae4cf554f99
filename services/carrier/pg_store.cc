#include "services/carrier/pg_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "carrier_migrations.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/db/migrations.h"
#include "libs/events/outbox.h"

namespace switchboard::carrier {
namespace {

Provider ProviderFromName(const std::string& name) {
  if (name == "twilio") return Provider::kTwilio;
  if (name == "telnyx") return Provider::kTelnyx;
  if (name == "emulator") return Provider::kEmulator;
  return Provider::kUnspecified;
}

std::string NameOf(Provider p) {
  return p == Provider::kUnspecified ? std::string() : std::string(ProviderName(p));
}

constexpr char kAccountCols[] =
    "company_id::text, primary_provider, primary_account_id, secondary_provider, "
    "secondary_account_id, sealed_credentials";

absl::StatusOr<AccountRow> AccountFrom(const pqxx::row& r) {
  AccountRow a;
  a.company_id = r[0].as<std::string>();
  a.primary_provider = ProviderFromName(r[1].as<std::string>());
  a.primary_account_id = r[2].as<std::string>();
  a.secondary_provider = ProviderFromName(r[3].as<std::string>());
  a.secondary_account_id = r[4].as<std::string>();
  ASSIGN_OR_RETURN(a.sealed_credentials, crypto::Base64Decode(r[5].as<std::string>()));
  return a;
}

NumberRow NumberFrom(const pqxx::row& r) {
  return NumberRow{.e164 = r[0].as<std::string>(),
                   .company_id = r[1].as<std::string>(),
                   .provider = r[2].as<std::string>(),
                   .provider_number_id = r[3].as<std::string>()};
}

absl::StatusOr<InstructionsRow> InstructionsFrom(const pqxx::row& r) {
  InstructionsRow row{.company_id = r[0].as<std::string>(),
                      .e164 = r[1].as<std::string>(),
                      .instructions_id = r[2].as<std::string>()};
  ASSIGN_OR_RETURN(row.serialized, crypto::Base64Decode(r[3].as<std::string>()));
  return row;
}

CallRow CallFrom(const pqxx::row& r) {
  return CallRow{.call_id = r[0].as<std::string>(),
                 .company_id = r[1].as<std::string>(),
                 .provider = r[2].as<std::string>()};
}

}  // namespace

absl::Status MigrateCarrier(db::Pool& pool) {
  RETURN_IF_ERROR(Annotate(events::MigrateOutbox(pool), "migrate outbox"));
  return Annotate(db::Migrate(pool, "carrier", ::switchboard::carrier::sql::Migrations()),
                  "migrate carrier");
}

PgCarrierStore::PgCarrierStore(db::Pool& pool, std::string topic)
    : pool_(pool), topic_(std::move(topic)) {}

absl::Status PgCarrierStore::PutAccount(const AccountRow& a) {
  return pool_.InTenant(a.company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO carrier_accounts (company_id, primary_provider, primary_account_id, "
        "secondary_provider, secondary_account_id, sealed_credentials, updated_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, now()) ON CONFLICT (company_id) DO UPDATE SET "
        "primary_provider = $2, primary_account_id = $3, secondary_provider = $4, "
        "secondary_account_id = $5, sealed_credentials = $6, updated_at = now()",
        a.company_id, NameOf(a.primary_provider), a.primary_account_id,
        NameOf(a.secondary_provider), a.secondary_account_id,
        crypto::Base64Encode(a.sealed_credentials));
    return absl::OkStatus();
  });
}

absl::StatusOr<AccountRow> PgCarrierStore::GetAccount(absl::string_view company_id) {
  return pool_.InTenantOr<AccountRow>(company_id,
                                      [&](pqxx::work& tx) -> absl::StatusOr<AccountRow> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", kAccountCols, " FROM carrier_accounts WHERE company_id = $1"),
        std::string(company_id));
    if (r.empty()) return absl::NotFoundError("carrier account not found");
    return AccountFrom(r[0]);
  });
}

absl::StatusOr<std::vector<AccountRow>> PgCarrierStore::FindAccountsByProviderAccountId(
    absl::string_view account_id) {
  using Rows = std::vector<AccountRow>;
  return pool_.UnscopedOr<Rows>([&](pqxx::work& tx) -> absl::StatusOr<Rows> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT ", kAccountCols,
                     " FROM carrier_accounts WHERE primary_account_id = $1 OR "
                     "(secondary_account_id = $1 AND secondary_account_id <> '') "
                     "ORDER BY updated_at DESC"),
        std::string(account_id));
    Rows out;
    for (const auto& row : r) {
      ASSIGN_OR_RETURN(AccountRow a, AccountFrom(row));
      out.push_back(std::move(a));
    }
    return out;
  });
}

absl::Status PgCarrierStore::PutNumber(const NumberRow& n) {
  // The owner check is cross-tenant (the row may belong to another company, invisible here).
  return pool_.Unscoped([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "INSERT INTO numbers (e164, company_id, provider, provider_number_id, created_at) "
        "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (e164) DO UPDATE SET provider = $3, "
        "provider_number_id = $4 WHERE numbers.company_id = $2 RETURNING e164",
        n.e164, n.company_id, n.provider, n.provider_number_id);
    if (r.empty()) return absl::AlreadyExistsError("e164: number belongs to another company");
    return absl::OkStatus();
  });
}

absl::StatusOr<NumberRow> PgCarrierStore::GetNumber(absl::string_view company_id,
                                                    absl::string_view e164) {
  return pool_.InTenantOr<NumberRow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<NumberRow> {
    pqxx::result r = tx.exec_params(
        "SELECT e164, company_id::text, provider, provider_number_id FROM numbers "
        "WHERE e164 = $1",
        std::string(e164));
    if (r.empty()) return absl::NotFoundError("number not found");
    return NumberFrom(r[0]);
  });
}

absl::StatusOr<NumberRow> PgCarrierStore::FindNumber(absl::string_view e164) {
  return pool_.UnscopedOr<NumberRow>([&](pqxx::work& tx) -> absl::StatusOr<NumberRow> {
    pqxx::result r = tx.exec_params(
        "SELECT e164, company_id::text, provider, provider_number_id FROM numbers "
        "WHERE e164 = $1",
        std::string(e164));
    if (r.empty()) return absl::NotFoundError("number not found");
    return NumberFrom(r[0]);
  });
}

absl::Status PgCarrierStore::DeleteNumber(absl::string_view company_id, absl::string_view e164) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r =
        tx.exec_params("DELETE FROM numbers WHERE e164 = $1 RETURNING e164", std::string(e164));
    if (r.empty()) return absl::NotFoundError("number not found");
    return absl::OkStatus();
  });
}

absl::Status PgCarrierStore::PutInstructions(const InstructionsRow& row) {
  return pool_.InTenant(row.company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO static_instructions (company_id, e164, instructions_id, instructions, "
        "updated_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT (company_id, e164) DO UPDATE "
        "SET instructions_id = $3, instructions = $4, updated_at = now()",
        row.company_id, row.e164, row.instructions_id, crypto::Base64Encode(row.serialized));
    return absl::OkStatus();
  });
}

absl::StatusOr<InstructionsRow> PgCarrierStore::GetInstructionsForNumber(
    absl::string_view company_id, absl::string_view e164) {
  return pool_.InTenantOr<InstructionsRow>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<InstructionsRow> {
        pqxx::result r = tx.exec_params(
            "SELECT company_id::text, e164, instructions_id, instructions FROM "
            "static_instructions WHERE e164 = $1",
            std::string(e164));
        if (r.empty()) return absl::NotFoundError("no static instructions for the number");
        return InstructionsFrom(r[0]);
      });
}

absl::StatusOr<InstructionsRow> PgCarrierStore::GetInstructionsById(absl::string_view company_id,
                                                                    absl::string_view id) {
  return pool_.InTenantOr<InstructionsRow>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<InstructionsRow> {
        pqxx::result r = tx.exec_params(
            "SELECT company_id::text, e164, instructions_id, instructions FROM "
            "static_instructions WHERE instructions_id = $1 ORDER BY updated_at DESC LIMIT 1",
            std::string(id));
        if (r.empty()) return absl::NotFoundError("instructions not found");
        return InstructionsFrom(r[0]);
      });
}

absl::Status PgCarrierStore::PutCall(const CallRow& c) {
  return pool_.InTenant(c.company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO calls (call_id, company_id, provider, created_at) VALUES ($1, $2, $3, "
        "now()) ON CONFLICT (call_id) DO NOTHING",
        c.call_id, c.company_id, c.provider);
    return absl::OkStatus();
  });
}

absl::StatusOr<CallRow> PgCarrierStore::GetCall(absl::string_view company_id,
                                                absl::string_view call_id) {
  return pool_.InTenantOr<CallRow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<CallRow> {
    pqxx::result r = tx.exec_params(
        "SELECT call_id, company_id::text, provider FROM calls WHERE call_id = $1",
        std::string(call_id));
    if (r.empty()) return absl::NotFoundError("call not found");
    return CallFrom(r[0]);
  });
}

absl::StatusOr<CallRow> PgCarrierStore::FindCall(absl::string_view call_id) {
  return pool_.UnscopedOr<CallRow>([&](pqxx::work& tx) -> absl::StatusOr<CallRow> {
    pqxx::result r = tx.exec_params(
        "SELECT call_id, company_id::text, provider FROM calls WHERE call_id = $1",
        std::string(call_id));
    if (r.empty()) return absl::NotFoundError("call not found");
    return CallFrom(r[0]);
  });
}

absl::StatusOr<bool> PgCarrierStore::RecordWebhook(absl::string_view company_id,
                                                   absl::string_view dedupe_key,
                                                   const events::v1::Event& event) {
  return pool_.InTenantOr<bool>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
    pqxx::result r = tx.exec_params(
        "INSERT INTO webhook_deliveries (dedupe_key, company_id, received_at) VALUES ($1, $2, "
        "now()) ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key",
        std::string(dedupe_key), std::string(company_id));
    if (r.empty()) return false;
    RETURN_IF_ERROR(events::AppendToOutbox(tx, topic_, event));
    return true;
  });
}

absl::Status PgCarrierStore::AppendEvent(absl::string_view company_id,
                                         const events::v1::Event& event) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) {
    return events::AppendToOutbox(tx, topic_, event);
  });
}

absl::Status PgCarrierStore::Ping() {
  return pool_.Plain([](pqxx::work& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace switchboard::carrier
