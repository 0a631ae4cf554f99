// PgCarrierStore: CarrierStore on PostgreSQL (schema from the pool; see store.h for the
// contract and migrations/ for the tables). Tenant reads/writes run in Pool::InTenant, the
// cross-tenant Find* lookups in Pool::Unscoped. Thread-safe; the pool must outlive the store.
#pragma once

#include <string>
#include <vector>

#include "libs/db/pg_pool.h"
#include "services/carrier/store.h"

namespace switchboard::carrier {

// Applies the outbox migrations (component "events") then the carrier ones ("carrier").
absl::Status MigrateCarrier(db::Pool& pool);

class PgCarrierStore final : public CarrierStore {
 public:
  // `topic`: Kafka topic of the outbox rows (carrier.v1).
  PgCarrierStore(db::Pool& pool, std::string topic);

  absl::Status PutAccount(const AccountRow& account) override;
  absl::StatusOr<AccountRow> GetAccount(absl::string_view company_id) override;
  absl::StatusOr<std::vector<AccountRow>> FindAccountsByProviderAccountId(
      absl::string_view account_id) override;
  absl::Status PutNumber(const NumberRow& number) override;
  absl::StatusOr<NumberRow> GetNumber(absl::string_view company_id,
                                      absl::string_view e164) override;
  absl::StatusOr<NumberRow> FindNumber(absl::string_view e164) override;
  absl::Status DeleteNumber(absl::string_view company_id, absl::string_view e164) override;
  absl::Status PutInstructions(const InstructionsRow& row) override;
  absl::StatusOr<InstructionsRow> GetInstructionsForNumber(absl::string_view company_id,
                                                           absl::string_view e164) override;
  absl::StatusOr<InstructionsRow> GetInstructionsById(absl::string_view company_id,
                                                      absl::string_view id) override;
  absl::Status PutCall(const CallRow& call) override;
  absl::StatusOr<CallRow> GetCall(absl::string_view company_id,
                                  absl::string_view call_id) override;
  absl::StatusOr<CallRow> FindCall(absl::string_view call_id) override;
  absl::StatusOr<bool> RecordWebhook(absl::string_view company_id, absl::string_view dedupe_key,
                                     const events::v1::Event& event) override;
  absl::Status AppendEvent(absl::string_view company_id, const events::v1::Event& event) override;
  absl::Status Ping() override;

 private:
  db::Pool& pool_;
  const std::string topic_;
};

}  // namespace switchboard::carrier
