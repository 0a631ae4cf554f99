#include "services/carrier/pg_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "carrier_migrations.h"
#include "libs/common/ids.h"
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

PgCarrierStore::PgCarrierStore(db::Pool& pool, std::string topic, PgStoreOptions options)
    : pool_(pool), topic_(std::move(topic)), options_(options) {}

template <typename V, typename Load>
absl::StatusOr<V> PgCarrierStore::Cached(LookupCache<V>& cache, const std::string& key,
                                         bool cache_not_found, const Load& load) {
  if (options_.lookup_cache_ttl <= absl::ZeroDuration()) return load();
  const absl::Time now = absl::Now();
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&cache.mu);
    auto it = cache.entries.find(key);
    if (it != cache.entries.end() && it->second.expires > now) return it->second.value;
    generation = cache.generation;
  }
  absl::StatusOr<V> value = load();
  if (value.ok() || (cache_not_found && absl::IsNotFound(value.status()))) {
    absl::MutexLock lock(&cache.mu);
    if (cache.generation == generation) {
      if (cache.entries.size() >= options_.max_cached_entries) cache.entries.clear();
      cache.entries.insert_or_assign(
          key, typename LookupCache<V>::Entry{value, now + options_.lookup_cache_ttl});
    }
  }
  return value;
}

template <typename V>
void PgCarrierStore::Invalidate(LookupCache<V>& cache, const std::optional<std::string>& key) {
  absl::MutexLock lock(&cache.mu);
  ++cache.generation;
  if (key.has_value()) {
    cache.entries.erase(*key);
  } else {
    cache.entries.clear();
  }
}

namespace {
std::string TenantKey(absl::string_view company_id, absl::string_view key) {
  return absl::StrCat(company_id, std::string(1, '\0'), key);
}
}  // namespace

absl::Status PgCarrierStore::PutAccount(const AccountRow& a) {
  absl::Status status = pool_.InTenant(a.company_id, [&](pqxx::work& tx) {
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
  Invalidate(accounts_by_provider_id_, std::nullopt);
  return status;
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
  auto load = [&](pqxx::work& tx) -> absl::StatusOr<Rows> {
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
  };
  return Cached(accounts_by_provider_id_, std::string(account_id), /*cache_not_found=*/true,
                [&] { return pool_.UnscopedOr<Rows>(load); });
}

absl::Status PgCarrierStore::PutNumber(const NumberRow& n) {
  // The owner check is cross-tenant (the row may belong to another company, invisible here).
  absl::Status status = pool_.Unscoped([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        "INSERT INTO numbers (e164, company_id, provider, provider_number_id, created_at) "
        "VALUES ($1, $2, $3, $4, now()) ON CONFLICT (e164) DO UPDATE SET provider = $3, "
        "provider_number_id = $4 WHERE numbers.company_id = $2 RETURNING e164",
        n.e164, n.company_id, n.provider, n.provider_number_id);
    if (r.empty()) return absl::AlreadyExistsError("e164: number belongs to another company");
    return absl::OkStatus();
  });
  Invalidate(numbers_, n.e164);
  return status;
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
  return Cached(numbers_, std::string(e164), /*cache_not_found=*/true, [&] {
    return pool_.UnscopedOr<NumberRow>([&](pqxx::work& tx) -> absl::StatusOr<NumberRow> {
      pqxx::result r = tx.exec_params(
          "SELECT e164, company_id::text, provider, provider_number_id FROM numbers "
          "WHERE e164 = $1",
          std::string(e164));
      if (r.empty()) return absl::NotFoundError("number not found");
      return NumberFrom(r[0]);
    });
  });
}

absl::Status PgCarrierStore::DeleteNumber(absl::string_view company_id, absl::string_view e164) {
  absl::Status status = pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r =
        tx.exec_params("DELETE FROM numbers WHERE e164 = $1 RETURNING e164", std::string(e164));
    if (r.empty()) return absl::NotFoundError("number not found");
    return absl::OkStatus();
  });
  Invalidate(numbers_, std::string(e164));
  return status;
}

absl::Status PgCarrierStore::PutInstructions(const InstructionsRow& row) {
  absl::Status status = pool_.InTenant(row.company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO static_instructions (company_id, e164, instructions_id, instructions, "
        "updated_at) VALUES ($1, $2, $3, $4, now()) ON CONFLICT (company_id, e164) DO UPDATE "
        "SET instructions_id = $3, instructions = $4, updated_at = now()",
        row.company_id, row.e164, row.instructions_id, crypto::Base64Encode(row.serialized));
    return absl::OkStatus();
  });
  Invalidate(instructions_by_number_, std::nullopt);
  Invalidate(instructions_by_id_, std::nullopt);
  return status;
}

absl::StatusOr<InstructionsRow> PgCarrierStore::GetInstructionsForNumber(
    absl::string_view company_id, absl::string_view e164) {
  auto load = [&](pqxx::work& tx) -> absl::StatusOr<InstructionsRow> {
    pqxx::result r = tx.exec_params(
        "SELECT company_id::text, e164, instructions_id, instructions FROM "
        "static_instructions WHERE e164 = $1",
        std::string(e164));
    if (r.empty()) return absl::NotFoundError("no static instructions for the number");
    return InstructionsFrom(r[0]);
  };
  return Cached(instructions_by_number_, TenantKey(company_id, e164), /*cache_not_found=*/true,
                [&] { return pool_.InTenantOr<InstructionsRow>(company_id, load); });
}

absl::StatusOr<InstructionsRow> PgCarrierStore::GetInstructionsById(absl::string_view company_id,
                                                                    absl::string_view id) {
  auto load = [&](pqxx::work& tx) -> absl::StatusOr<InstructionsRow> {
    pqxx::result r = tx.exec_params(
        "SELECT company_id::text, e164, instructions_id, instructions FROM "
        "static_instructions WHERE instructions_id = $1 ORDER BY updated_at DESC LIMIT 1",
        std::string(id));
    if (r.empty()) return absl::NotFoundError("instructions not found");
    return InstructionsFrom(r[0]);
  };
  return Cached(instructions_by_id_, TenantKey(company_id, id), /*cache_not_found=*/true,
                [&] { return pool_.InTenantOr<InstructionsRow>(company_id, load); });
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
  return Cached(calls_, std::string(call_id), /*cache_not_found=*/false, [&] {
    return pool_.UnscopedOr<CallRow>([&](pqxx::work& tx) -> absl::StatusOr<CallRow> {
      tx.conn().prepare("carrier_find_call",
                        "SELECT call_id, company_id::text, provider FROM calls WHERE call_id = $1");
      pqxx::result r = tx.exec_prepared("carrier_find_call", std::string(call_id));
      if (r.empty()) return absl::NotFoundError("call not found");
      return CallFrom(r[0]);
    });
  });
}

absl::StatusOr<bool> PgCarrierStore::RecordWebhook(absl::string_view company_id,
                                                   absl::string_view dedupe_key,
                                                   const events::v1::Event& event,
                                                   const std::optional<CallRow>& call,
                                                   const BridgeChange& bridge) {
  ASSIGN_OR_RETURN(const events::OutboxRows outbox,
                   events::EncodeOutboxRows(absl::MakeConstSpan(&event, 1)));
  if (call.has_value() && call->company_id != company_id) {
    return absl::InvalidArgumentError("call.company_id: must be the webhook's company");
  }
  if (bridge.op != BridgeChange::Op::kNone && bridge.a_leg.empty()) {
    return absl::InvalidArgumentError("bridge.a_leg: required");
  }
  if (bridge.op == BridgeChange::Op::kSet && bridge.b_leg.empty()) {
    return absl::InvalidArgumentError("bridge.b_leg: required to set a bridge");
  }
  const char* bridge_op = bridge.op == BridgeChange::Op::kSet     ? "set"
                          : bridge.op == BridgeChange::Op::kClear ? "clear"
                                                                  : "";
  // One statement: the dedupe insert feeds the outbox insert (no row when the key exists), the
  // call is recorded either way, and the relay is woken (at commit) only for a new outbox row.
  // A bridge is set only with a new key (fed by d), cleared either way.
  // The outbox insert and its NOTIFY are events::OutboxInsertCte / OutboxNotifySql. Being one
  // statement, it is its own transaction (autocommit): no BEGIN/COMMIT round trips per webhook.
  static const std::string* const kSql = new std::string(absl::StrCat(
      "WITH d AS (INSERT INTO webhook_deliveries (dedupe_key, company_id, received_at) "
      "VALUES ($1, $2::uuid, now()) ON CONFLICT (dedupe_key) DO NOTHING RETURNING 1), ",
      events::OutboxInsertCte("o", 3, "EXISTS (SELECT 1 FROM d)"), ", "
      "c AS (INSERT INTO calls (call_id, company_id, provider, created_at) "
      "SELECT $7::text, $2::uuid, $8::text, now() WHERE $7::text <> '' "
      "ON CONFLICT (call_id) DO NOTHING RETURNING 1), "
      "bs AS (INSERT INTO bridged_legs (company_id, a_leg, b_leg, updated_at) "
      "SELECT $2::uuid, $9::text, $10::text, now() FROM d WHERE $11::text = 'set' "
      "ON CONFLICT (company_id, a_leg) DO UPDATE SET b_leg = EXCLUDED.b_leg, "
      "updated_at = EXCLUDED.updated_at RETURNING 1), "
      "bc AS (DELETE FROM bridged_legs WHERE $11::text = 'clear' AND company_id = $2::uuid "
      "AND a_leg = $9::text AND ($10::text = '' OR b_leg = $10::text) RETURNING 1) "
      "SELECT (SELECT count(*) FROM o), ", events::OutboxNotifySql("o", 12)));
  bool recorded = false;
  events::OutboxNotifyThrottle::Ticket wake = events::OutboxNotifyThrottle::Default().Take(topic_);
  RETURN_IF_ERROR(pool_.InTenantAutocommit(company_id, [&](pqxx::nontransaction& tx) {
    // Prepared once per connection (pqxx registers it lazily; same definition = no-op): the
    // statement is parsed and planned once instead of on every webhook.
    tx.conn().prepare("carrier_record_webhook", *kSql);
    pqxx::result r = tx.exec_prepared(
        "carrier_record_webhook", std::string(dedupe_key), std::string(company_id), topic_,
        outbox.ids, outbox.keys, outbox.payloads, call.has_value() ? call->call_id : std::string(),
        call.has_value() ? call->provider : std::string(), bridge.a_leg, bridge.b_leg,
        std::string(bridge_op), wake.notify());
    recorded = r[0][0].as<int64_t>() > 0;
    if (r[0][1].as<int64_t>() > 0) wake.MarkSent();
    return absl::OkStatus();
  }));
  return recorded;
}

absl::StatusOr<int64_t> PgCarrierStore::PruneWebhookDeliveries(absl::Time before, int limit) {
  // Batches found through the BRIN index on received_at (migrations/0004).
  return db::DeleteOlderThan(pool_, "webhook_deliveries", "received_at", before, limit);
}

absl::StatusOr<std::string> PgCarrierStore::GetBridgedLeg(absl::string_view company_id,
                                                          absl::string_view a_leg) {
  return pool_.InTenantOr<std::string>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::string> {
        pqxx::result r = tx.exec_params("SELECT b_leg FROM bridged_legs WHERE a_leg = $1",
                                        std::string(a_leg));
        if (r.empty()) return absl::NotFoundError("no bridged leg");
        return r[0][0].as<std::string>();
      });
}

absl::Status PgCarrierStore::PutBridgedLeg(absl::string_view company_id, absl::string_view a_leg,
                                           absl::string_view b_leg) {
  if (a_leg.empty()) return absl::InvalidArgumentError("a_leg: required");
  if (b_leg.empty()) return absl::InvalidArgumentError("b_leg: required");
  return pool_.InTenant(company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO bridged_legs (company_id, a_leg, b_leg, updated_at) "
        "VALUES ($1::uuid, $2, $3, now()) ON CONFLICT (company_id, a_leg) "
        "DO UPDATE SET b_leg = EXCLUDED.b_leg, updated_at = EXCLUDED.updated_at",
        std::string(company_id), std::string(a_leg), std::string(b_leg));
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> PgCarrierStore::ClearBridgedLeg(absl::string_view company_id,
                                                     absl::string_view a_leg,
                                                     absl::string_view b_leg) {
  return pool_.InTenantOr<bool>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
    pqxx::result r = tx.exec_params(
        "DELETE FROM bridged_legs WHERE a_leg = $1 AND ($2 = '' OR b_leg = $2) RETURNING 1",
        std::string(a_leg), std::string(b_leg));
    return !r.empty();
  });
}

namespace {
ConferenceRow ConferenceFromRow(absl::string_view company_id, const pqxx::row& row) {
  return ConferenceRow{.company_id = std::string(company_id),
                       .name = row[0].as<std::string>(),
                       .a_leg = row[1].as<std::string>(),
                       .conference_id = row[2].as<std::string>()};
}
}  // namespace

absl::Status PgCarrierStore::PutConference(const ConferenceRow& row) {
  if (row.name.empty()) return absl::InvalidArgumentError("name: required");
  if (row.a_leg.empty()) return absl::InvalidArgumentError("a_leg: required");
  return pool_.InTenant(row.company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO conferences (company_id, name, a_leg, conference_id, updated_at) "
        "VALUES ($1::uuid, $2, $3, $4, now()) ON CONFLICT (company_id, name) "
        "DO UPDATE SET a_leg = EXCLUDED.a_leg, conference_id = EXCLUDED.conference_id, "
        "updated_at = EXCLUDED.updated_at",
        row.company_id, row.name, row.a_leg, row.conference_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<ConferenceRow> PgCarrierStore::GetConferenceByName(absl::string_view company_id,
                                                                  absl::string_view name) {
  return pool_.InTenantOr<ConferenceRow>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<ConferenceRow> {
        pqxx::result r = tx.exec_params(
            "SELECT name, a_leg, conference_id FROM conferences WHERE name = $1",
            std::string(name));
        if (r.empty()) return absl::NotFoundError("no such conference");
        return ConferenceFromRow(company_id, r[0]);
      });
}

absl::StatusOr<ConferenceRow> PgCarrierStore::FindConference(absl::string_view company_id,
                                                             absl::string_view conference_id,
                                                             absl::string_view leg) {
  if (conference_id.empty()) return absl::NotFoundError("no such conference");
  return pool_.InTenantOr<ConferenceRow>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<ConferenceRow> {
        // The id first; a row still being created ('' id) only through its A leg.
        pqxx::result r = tx.exec_params(
            "SELECT name, a_leg, conference_id FROM conferences "
            "WHERE conference_id = $1 OR (conference_id = '' AND $2 <> '' AND a_leg = $2) "
            "ORDER BY (conference_id = $1) DESC, updated_at DESC LIMIT 1",
            std::string(conference_id), std::string(leg));
        if (r.empty()) return absl::NotFoundError("no such conference");
        return ConferenceFromRow(company_id, r[0]);
      });
}

absl::Status PgCarrierStore::PutConferenceLeg(absl::string_view company_id,
                                              absl::string_view leg,
                                              absl::string_view conference_id) {
  if (leg.empty()) return absl::InvalidArgumentError("leg: required");
  return pool_.InTenant(company_id, [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO conference_legs (company_id, leg, conference_id, joined, updated_at) "
        "VALUES ($1::uuid, $2, $3, false, now()) ON CONFLICT (company_id, leg) "
        "DO UPDATE SET conference_id = EXCLUDED.conference_id, joined = false, "
        "updated_at = EXCLUDED.updated_at",
        std::string(company_id), std::string(leg), std::string(conference_id));
    return absl::OkStatus();
  });
}

absl::StatusOr<bool> PgCarrierStore::MarkConferenceLegJoined(absl::string_view company_id,
                                                             absl::string_view leg) {
  return pool_.InTenantOr<bool>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
    pqxx::result r = tx.exec_params(
        "UPDATE conference_legs SET joined = true, updated_at = now() WHERE leg = $1 "
        "RETURNING 1",
        std::string(leg));
    return !r.empty();
  });
}

absl::StatusOr<bool> PgCarrierStore::ConferenceLegJoined(absl::string_view company_id,
                                                         absl::string_view leg) {
  return pool_.InTenantOr<bool>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<bool> {
    pqxx::result r =
        tx.exec_params("SELECT joined FROM conference_legs WHERE leg = $1", std::string(leg));
    if (r.empty()) return absl::NotFoundError("not an added conference leg");
    return r[0][0].as<bool>();
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
