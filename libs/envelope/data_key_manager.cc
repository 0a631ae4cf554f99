#include "libs/envelope/data_key_manager.h"

#include <openssl/crypto.h>

#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/aead.h"
#include "libs/crypto/random.h"

namespace switchboard::envelope {
namespace {

constexpr int kRewrapPage = 100;

absl::Status ShreddedError(absl::string_view company_id) {
  return absl::FailedPreconditionError(
      absl::StrCat("company data key shredded for company '", company_id,
                   "': its encrypted data is permanently unreadable"));
}

}  // namespace

SecretKey::~SecretKey() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

std::string WrapAad(absl::string_view company_id, uint32_t version) {
  return absl::StrCat("sb-envelope/data-key|", company_id, "|", version);
}

DataKeyManager::DataKeyManager(DataKeyStore& store, const MasterKeyRing& ring, const Clock& clock,
                               DataKeyManagerOptions options)
    : store_(store), ring_(ring), clock_(clock), options_(options) {}

DataKeyManager::~DataKeyManager() = default;

absl::StatusOr<DataKey> DataKeyManager::Unwrap(const WrappedDataKey& row) {
  if (row.shredded) return ShreddedError(row.company_id);
  CacheKey ck{row.company_id, row.version};
  if (auto cached = CacheGet(ck)) return DataKey{row.company_id, row.version, std::move(cached)};
  ASSIGN_OR_RETURN(absl::string_view master, ring_.Key(row.master_key_id));
  absl::StatusOr<std::string> raw =
      crypto::AesGcmOpen(master, row.wrapped, WrapAad(row.company_id, row.version));
  if (!raw.ok()) {
    return absl::DataLossError(absl::StrCat("data key of company '", row.company_id, "' v",
                                            row.version, " does not unwrap with master key '",
                                            row.master_key_id, "'"));
  }
  if (raw->size() != crypto::kAesGcmKeyBytes) {
    OPENSSL_cleanse(raw->data(), raw->size());
    return absl::DataLossError("data key has the wrong size");
  }
  auto key = std::make_shared<const SecretKey>(std::move(*raw));
  CachePut(ck, key);
  return DataKey{row.company_id, row.version, std::move(key)};
}

absl::StatusOr<DataKey> DataKeyManager::GetOrCreateDataKey(absl::string_view company_id) {
  if (company_id.empty()) return absl::InvalidArgumentError("company_id: must not be empty");
  ASSIGN_OR_RETURN(std::optional<WrappedDataKey> latest, store_.GetLatest(company_id));
  if (latest.has_value()) return Unwrap(*latest);
  // First use: mint a key. Concurrent creators race on the primary key; everyone gets the
  // winner's row back and unwraps that.
  std::string raw = crypto::RandomBytes(crypto::kAesGcmKeyBytes);
  ASSIGN_OR_RETURN(absl::string_view master, ring_.Key(ring_.active_id()));
  absl::StatusOr<std::string> wrapped = crypto::AesGcmSeal(master, raw, WrapAad(company_id, 1));
  OPENSSL_cleanse(raw.data(), raw.size());
  if (!wrapped.ok()) return wrapped.status();
  WrappedDataKey row{.company_id = std::string(company_id), .version = 1,
                     .master_key_id = ring_.active_id(), .wrapped = std::move(*wrapped)};
  ASSIGN_OR_RETURN(WrappedDataKey stored, store_.InsertIfAbsent(row));
  return Unwrap(stored);
}

absl::StatusOr<DataKey> DataKeyManager::GetDataKey(absl::string_view company_id,
                                                   uint32_t version) {
  if (company_id.empty()) return absl::InvalidArgumentError("company_id: must not be empty");
  if (auto cached = CacheGet({std::string(company_id), version})) {
    return DataKey{std::string(company_id), version, std::move(cached)};
  }
  ASSIGN_OR_RETURN(std::optional<WrappedDataKey> row, store_.Get(company_id, version));
  if (!row.has_value()) {
    // A shredded company may only have its tombstone left; report the shred, not "missing".
    ASSIGN_OR_RETURN(std::optional<WrappedDataKey> latest, store_.GetLatest(company_id));
    if (latest.has_value() && latest->shredded) return ShreddedError(company_id);
    return absl::NotFoundError(
        absl::StrCat("no data key v", version, " for company '", company_id, "'"));
  }
  return Unwrap(*row);
}

absl::StatusOr<RewrapStats> DataKeyManager::RewrapAll(absl::string_view new_master_key_id) {
  ASSIGN_OR_RETURN(absl::string_view new_master, ring_.Key(new_master_key_id));
  RewrapStats stats;
  std::string after_company;
  uint32_t after_version = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<WrappedDataKey> rows,
                     store_.ListNotWrappedBy(new_master_key_id, after_company, after_version,
                                             kRewrapPage));
    for (const WrappedDataKey& row : rows) {
      after_company = row.company_id;
      after_version = row.version;
      ASSIGN_OR_RETURN(absl::string_view old_master, ring_.Key(row.master_key_id));
      std::string aad = WrapAad(row.company_id, row.version);
      absl::StatusOr<std::string> raw = crypto::AesGcmOpen(old_master, row.wrapped, aad);
      if (!raw.ok()) {
        return absl::DataLossError(absl::StrCat("data key of company '", row.company_id, "' v",
                                                row.version, " does not unwrap with master key '",
                                                row.master_key_id, "'"));
      }
      absl::StatusOr<std::string> rewrapped = crypto::AesGcmSeal(new_master, *raw, aad);
      OPENSSL_cleanse(raw->data(), raw->size());
      if (!rewrapped.ok()) return rewrapped.status();
      ASSIGN_OR_RETURN(bool replaced,
                       store_.ReplaceWrapping(row.company_id, row.version, row.master_key_id,
                                              new_master_key_id, *rewrapped));
      if (replaced) {
        ++stats.rewrapped;
      } else {
        ++stats.skipped;
      }
    }
    if (rows.size() < static_cast<size_t>(kRewrapPage)) break;
  }
  return stats;
}

absl::Status DataKeyManager::ShredCompanyKey(absl::string_view company_id) {
  if (company_id.empty()) return absl::InvalidArgumentError("company_id: must not be empty");
  CacheDropCompany(company_id);
  absl::Status s = store_.Shred(company_id);
  CacheDropCompany(company_id);  // a concurrent reader may have re-cached it meanwhile
  return s;
}

KeyLookup DataKeyManager::LookupFor(std::string company_id) {
  return [this, company_id = std::move(company_id)](uint32_t version)
             -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(DataKey key, GetDataKey(company_id, version));
    return std::string(key.key->bytes());
  };
}

std::shared_ptr<const SecretKey> DataKeyManager::CacheGet(const CacheKey& k) {
  if (options_.cache_capacity == 0) return nullptr;
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(k);
  if (it == cache_.end()) return nullptr;
  if (clock_.Now() - it->second.loaded_at > options_.cache_ttl) {
    lru_.erase(it->second.lru_pos);
    cache_.erase(it);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
  return it->second.key;
}

void DataKeyManager::CachePut(const CacheKey& k, std::shared_ptr<const SecretKey> key) {
  if (options_.cache_capacity == 0) return;
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(k);
  if (it != cache_.end()) {
    it->second.key = std::move(key);
    it->second.loaded_at = clock_.Now();
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
    return;
  }
  lru_.push_front(k);
  cache_.emplace(k, CacheEntry{std::move(key), clock_.Now(), lru_.begin()});
  while (cache_.size() > options_.cache_capacity) {
    // Dropping the last shared_ptr wipes the key bytes (SecretKey's destructor).
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
}

void DataKeyManager::CacheDropCompany(absl::string_view company_id) {
  absl::MutexLock lock(&mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->first == company_id) {
      cache_.erase(*it);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t DataKeyManager::CachedKeysForTest() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

}  // namespace switchboard::envelope
