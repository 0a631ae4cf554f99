// DataKeyStore over Postgres (libs/db). The table company_data_keys comes from the migrations
// this library embeds (target sb_envelope_migrations, component "envelope"): a service runs
//   db::Migrate(pool, "envelope", switchboard::envelope::sql::Migrations());
// next to its own migrations, so the table lives in the service's schema. Row-level security
// applies: per-company calls run InTenant(company), the rewrap scan runs Unscoped().
// Thread-safe (the Pool is).
#pragma once

#include "libs/db/pg_pool.h"
#include "libs/envelope/data_key_store.h"

namespace switchboard::envelope {

class PgDataKeyStore final : public DataKeyStore {
 public:
  // `pool` must outlive the store.
  explicit PgDataKeyStore(db::Pool& pool) : pool_(pool) {}

  absl::StatusOr<WrappedDataKey> InsertIfAbsent(const WrappedDataKey& key) override;
  absl::StatusOr<std::optional<WrappedDataKey>> GetLatest(absl::string_view company_id) override;
  absl::StatusOr<std::optional<WrappedDataKey>> Get(absl::string_view company_id,
                                                    uint32_t version) override;
  absl::StatusOr<std::vector<WrappedDataKey>> ListNotWrappedBy(absl::string_view master_key_id,
                                                               absl::string_view after_company,
                                                               uint32_t after_version,
                                                               int limit) override;
  absl::StatusOr<bool> ReplaceWrapping(absl::string_view company_id, uint32_t version,
                                       absl::string_view expected_master_key_id,
                                       absl::string_view new_master_key_id,
                                       absl::string_view new_wrapped) override;
  absl::Status Shred(absl::string_view company_id) override;

 private:
  db::Pool& pool_;
};

}  // namespace switchboard::envelope
