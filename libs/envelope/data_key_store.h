// Persistence of wrapped per-company data keys (interface). PgDataKeyStore is the real one;
// tests use an in-memory fake. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::envelope {

// One row of company_data_keys.
struct WrappedDataKey {
  std::string company_id;
  uint32_t version = 1;
  std::string master_key_id;  // which master key wrapped it
  std::string wrapped;        // AesGcmSeal output (raw bytes); empty once shredded
  bool shredded = false;
};

class DataKeyStore {
 public:
  virtual ~DataKeyStore() = default;

  // Inserts `key` unless a row for (company_id, version) exists, and returns the row stored
  // afterwards: ours, or the one a concurrent writer inserted first (race-safe create-once).
  [[nodiscard]] virtual absl::StatusOr<WrappedDataKey> InsertIfAbsent(
      const WrappedDataKey& key) = 0;

  // The highest version of the company's key, or nullopt when it has none.
  [[nodiscard]] virtual absl::StatusOr<std::optional<WrappedDataKey>> GetLatest(
      absl::string_view company_id) = 0;

  // That exact version, or nullopt.
  [[nodiscard]] virtual absl::StatusOr<std::optional<WrappedDataKey>> Get(
      absl::string_view company_id, uint32_t version) = 0;

  // Up to `limit` unshredded rows (of every company) not wrapped by `master_key_id`, ordered by
  // (company_id, version) and strictly after (after_company, after_version) (for paging).
  [[nodiscard]] virtual absl::StatusOr<std::vector<WrappedDataKey>> ListNotWrappedBy(
      absl::string_view master_key_id, absl::string_view after_company, uint32_t after_version,
      int limit) = 0;

  // Compare-and-set: replaces the wrapping of (company_id, version) if it is still wrapped by
  // `expected_master_key_id` and not shredded. Returns false when the row changed meanwhile.
  [[nodiscard]] virtual absl::StatusOr<bool> ReplaceWrapping(
      absl::string_view company_id, uint32_t version, absl::string_view expected_master_key_id,
      absl::string_view new_master_key_id, absl::string_view new_wrapped) = 0;

  // Crypto-shredding: erases the wrapped bytes of every version of the company's key and marks
  // them shredded; leaves a shredded tombstone (version 1) when the company had no key, so no
  // key is created for it afterwards. Idempotent.
  [[nodiscard]] virtual absl::Status Shred(absl::string_view company_id) = 0;
};

}  // namespace switchboard::envelope
