// PgNumberStore: NumberStore over PostgreSQL (libs/db), schema from the pool (default
// "numbers", migrations/0001_create_numbers.sql, RLS per company via enable_tenant_isolation).
// Tenant methods run in Pool::InTenant; Resolve (any company) in Pool::Unscoped. Events are
// appended to the outbox in the same transaction as the change, as Event envelopes on
// `options.topic` (numbers.v1) with key = line id. Sealed port secrets are stored base64.
// Thread-safe (the pool is). Errors as NumberStore (db::StatusFromPqxx mapping).
#pragma once

#include <string>
#include <vector>

#include "libs/common/clock.h"
#include "libs/db/migrations.h"
#include "libs/db/pg_pool.h"
#include "services/numbers/store.h"

namespace switchboard::numbers {

// Applies events::OutboxMigrations() then the numbers migrations.
[[nodiscard]] absl::Status MigrateNumbers(db::Pool& pool);

struct PgStoreOptions {
  std::string topic = "numbers.v1";
  std::string source = "numbers";
};

class PgNumberStore final : public NumberStore {
 public:
  PgNumberStore(db::Pool& pool, const Clock& clock, PgStoreOptions options = {});

  absl::Status Reserve(const Number& number, int limit, absl::string_view plan) override;
  absl::Status DeleteReservation(absl::string_view company_id,
                                 absl::string_view number_id) override;
  absl::Status Apply(absl::string_view company_id, const Mutation& mutation) override;
  absl::StatusOr<NumberRow> Get(absl::string_view company_id, absl::string_view id) override;
  absl::StatusOr<NumberRow> FindByE164(absl::string_view company_id,
                                       absl::string_view e164) override;
  absl::StatusOr<std::vector<NumberRow>> List(absl::string_view company_id,
                                              bool include_released) override;
  absl::StatusOr<std::vector<NumberRow>> ListAssignedTo(absl::string_view company_id,
                                                        absl::string_view user_id) override;
  absl::StatusOr<Resolved> Resolve(absl::string_view e164) override;
  absl::StatusOr<PortRow> GetPort(absl::string_view company_id, absl::string_view id) override;
  absl::StatusOr<PortRow> FindPortByCarrierId(absl::string_view company_id,
                                              absl::string_view carrier_port_order_id) override;
  absl::StatusOr<std::vector<PortRow>> ListPorts(absl::string_view company_id) override;
  absl::Status SetCallerIdChoice(absl::string_view company_id, absl::string_view user_id,
                                 CallerIdChoice choice) override;
  absl::StatusOr<CallerIdChoice> GetCallerIdChoice(absl::string_view company_id,
                                                   absl::string_view user_id) override;
  absl::Status Ping() override;

 private:
  db::Pool& pool_;
  const Clock& clock_;
  PgStoreOptions options_;
};

}  // namespace switchboard::numbers
