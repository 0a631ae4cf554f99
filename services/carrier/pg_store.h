// PgCarrierStore: CarrierStore on PostgreSQL (schema from the pool; see store.h for the
// contract and migrations/ for the tables). Tenant reads/writes run in Pool::InTenant, the
// cross-tenant Find* lookups in Pool::Unscoped. Thread-safe; the pool must outlive the store.
// The per-webhook statements (RecordWebhook, FindCall) are prepared once per connection.
//
// Lookup cache (PgStoreOptions.lookup_cache_ttl > 0; off by default): the read-mostly lookups
// of the webhook path are served from memory for up to the TTL: FindAccountsByProviderAccountId,
// FindNumber, GetInstructionsForNumber, GetInstructionsById (found and kNotFound results) and
// FindCall (found results only; a call row never changes). Writes through THIS store invalidate
// at once (PutAccount -> accounts; PutNumber/DeleteNumber -> that number; PutInstructions ->
// instructions); an invalidation racing a load wins (the load is not cached). Writes by another
// replica are seen after at most the TTL. Other errors are never cached. Bounded by
// max_cached_entries per lookup (the map is cleared when full).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/db/pg_pool.h"
#include "services/carrier/store.h"

namespace switchboard::carrier {

// Applies the outbox migrations (component "events") then the carrier ones ("carrier").
absl::Status MigrateCarrier(db::Pool& pool);

struct PgStoreOptions {
  absl::Duration lookup_cache_ttl = absl::ZeroDuration();  // <= 0: no cache
  size_t max_cached_entries = 10000;
};

class PgCarrierStore final : public CarrierStore {
 public:
  // `topic`: Kafka topic of the outbox rows (carrier.v1).
  PgCarrierStore(db::Pool& pool, std::string topic, PgStoreOptions options = {});

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
                                     const events::v1::Event& event,
                                     const std::optional<CallRow>& call,
                                     const BridgeChange& bridge) override;
  absl::StatusOr<std::string> GetBridgedLeg(absl::string_view company_id,
                                            absl::string_view a_leg) override;
  absl::Status PutBridgedLeg(absl::string_view company_id, absl::string_view a_leg,
                             absl::string_view b_leg) override;
  absl::StatusOr<bool> ClearBridgedLeg(absl::string_view company_id, absl::string_view a_leg,
                                       absl::string_view b_leg) override;
  absl::Status PutConference(const ConferenceRow& row) override;
  absl::StatusOr<ConferenceRow> GetConferenceByName(absl::string_view company_id,
                                                    absl::string_view name) override;
  absl::StatusOr<ConferenceRow> FindConference(absl::string_view company_id,
                                               absl::string_view conference_id,
                                               absl::string_view leg) override;
  absl::Status PutConferenceLeg(absl::string_view company_id, absl::string_view leg,
                                absl::string_view conference_id) override;
  absl::StatusOr<bool> MarkConferenceLegJoined(absl::string_view company_id,
                                               absl::string_view leg) override;
  absl::StatusOr<bool> ConferenceLegJoined(absl::string_view company_id,
                                           absl::string_view leg) override;
  absl::Status AppendEvent(absl::string_view company_id, const events::v1::Event& event) override;
  absl::Status Ping() override;

  // Deletes webhook_deliveries rows received before `before` (all companies; Pool::Unscoped),
  // `limit` rows per transaction, looping while a batch is full so no transaction holds many
  // row locks or a long snapshot. Returns the rows deleted; on an error, the batches already
  // committed stay deleted. A key pruned this way is accepted again as new by RecordWebhook, so
  // `before` must be older than any carrier redelivery. kInvalidArgument when limit < 1.
  absl::StatusOr<int64_t> PruneWebhookDeliveries(absl::Time before, int limit = 10000);

 private:
  template <typename V>
  struct LookupCache {
    struct Entry {
      absl::StatusOr<V> value;
      absl::Time expires;
    };
    absl::Mutex mu;
    uint64_t generation ABSL_GUARDED_BY(mu) = 0;
    std::unordered_map<std::string, Entry> entries ABSL_GUARDED_BY(mu);
  };
  // Serves `key` from `cache` or runs `load` (caching OK, and kNotFound when cache_not_found).
  template <typename V, typename Load>
  absl::StatusOr<V> Cached(LookupCache<V>& cache, const std::string& key, bool cache_not_found,
                           const Load& load);
  // Drops `key` (or everything when nullopt) and voids loads in flight.
  template <typename V>
  static void Invalidate(LookupCache<V>& cache, const std::optional<std::string>& key);

  db::Pool& pool_;
  const std::string topic_;
  const PgStoreOptions options_;
  LookupCache<std::vector<AccountRow>> accounts_by_provider_id_;
  LookupCache<NumberRow> numbers_;
  LookupCache<InstructionsRow> instructions_by_number_;
  LookupCache<InstructionsRow> instructions_by_id_;
  LookupCache<CallRow> calls_;
};

}  // namespace switchboard::carrier
