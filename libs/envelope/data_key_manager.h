// Per-company data keys for envelope encryption (ARCHITECTURE.md §5): a random 256-bit key per
// company, stored wrapped by the active master key (AES-256-GCM, associated data
// "sb-envelope/data-key|<company>|<version>" so a wrapped key cannot be moved to another company
// or version), unwrapped on demand and cached in process.
//
// Crypto-shredding: ShredCompanyKey() erases the company's wrapped keys. Afterwards every
// decrypt (and every new encrypt) for that company fails with kFailedPrecondition
// "company data key shredded" — FAILED_PRECONDITION, not DATA_LOSS, because the state is
// deliberate and permanent rather than corruption; DATA_LOSS stays reserved for tampered or
// damaged ciphertext. Other replicas drop their cached copy within `cache_ttl`.
//
// Thread-safe. The store, ring and clock must outlive the manager.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/envelope/chunked_aead.h"
#include "libs/envelope/data_key_store.h"
#include "libs/envelope/master_key_ring.h"

namespace switchboard::envelope {

// 32 key bytes, wiped when the last reference goes away.
class SecretKey {
 public:
  explicit SecretKey(std::string bytes) : bytes_(std::move(bytes)) {}
  ~SecretKey();
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  absl::string_view bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

struct DataKey {
  std::string company_id;
  uint32_t version = 0;
  std::shared_ptr<const SecretKey> key;  // never log
};

struct DataKeyManagerOptions {
  // Unwrapped keys kept in memory (LRU). 0 disables the cache.
  size_t cache_capacity = 10000;
  // How long a cached key is trusted; bounds how long another replica keeps decrypting after a
  // shred.
  absl::Duration cache_ttl = absl::Minutes(5);
};

struct RewrapStats {
  int rewrapped = 0;  // rows moved onto the new master key
  int skipped = 0;    // rows changed concurrently (another replica rewrapped or shredded them)
};

class DataKeyManager {
 public:
  DataKeyManager(DataKeyStore& store, const MasterKeyRing& ring, const Clock& clock,
                 DataKeyManagerOptions options = {});
  ~DataKeyManager();

  // The company's current key, creating version 1 (wrapped by the active master key) when it
  // has none. Race-safe across replicas: concurrent first calls all return the same key.
  // kInvalidArgument naming "company_id" when empty; kFailedPrecondition when the key was
  // shredded or its master key is not configured; kDataLoss when the wrapped key fails to
  // unwrap (tampered row or wrong master key bytes); store errors unchanged.
  [[nodiscard]] absl::StatusOr<DataKey> GetOrCreateDataKey(absl::string_view company_id);

  // A specific version (for decryption; the version is in the ciphertext header). kNotFound
  // when it never existed; otherwise as above.
  [[nodiscard]] absl::StatusOr<DataKey> GetDataKey(absl::string_view company_id,
                                                   uint32_t version);

  // Re-wraps every unshredded data key not yet wrapped by `new_master_key_id` (which must be
  // configured in the ring: kFailedPrecondition otherwise), in pages of 100. Blobs are not
  // touched: the data keys themselves do not change. Safe to run on several replicas at once
  // (compare-and-set per row). kFailedPrecondition if a row's current master key is no longer
  // configured.
  [[nodiscard]] absl::StatusOr<RewrapStats> RewrapAll(absl::string_view new_master_key_id);

  // Crypto-shredding (explicit admin operation): erases the company's wrapped keys and drops
  // them from this process's cache. Idempotent.
  [[nodiscard]] absl::Status ShredCompanyKey(absl::string_view company_id);

  // A KeyLookup for StreamDecryptor / DecryptRange bound to `company_id`.
  KeyLookup LookupFor(std::string company_id);

  size_t CachedKeysForTest() const;

 private:
  using CacheKey = std::pair<std::string, uint32_t>;
  struct CacheEntry {
    std::shared_ptr<const SecretKey> key;
    absl::Time loaded_at;
    std::list<CacheKey>::iterator lru_pos;
  };

  absl::StatusOr<DataKey> Unwrap(const WrappedDataKey& row);
  std::shared_ptr<const SecretKey> CacheGet(const CacheKey& k);
  void CachePut(const CacheKey& k, std::shared_ptr<const SecretKey> key);
  void CacheDropCompany(absl::string_view company_id);

  DataKeyStore& store_;
  const MasterKeyRing& ring_;
  const Clock& clock_;
  const DataKeyManagerOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<CacheKey, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
  std::list<CacheKey> lru_ ABSL_GUARDED_BY(mu_);  // front = most recent
};

// Wrapping associated data (exposed for tests): "sb-envelope/data-key|<company>|<version>".
std::string WrapAad(absl::string_view company_id, uint32_t version);

}  // namespace switchboard::envelope
