// In-memory DataKeyStore for unit tests. Thread-safe.
#pragma once

#include <map>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "libs/envelope/data_key_store.h"

namespace switchboard::envelope::testing {

class FakeDataKeyStore final : public DataKeyStore {
 public:
  absl::StatusOr<WrappedDataKey> InsertIfAbsent(const WrappedDataKey& key) override {
    absl::MutexLock lock(&mu_);
    ++inserts_;
    auto [it, inserted] = rows_.emplace(std::make_pair(key.company_id, key.version), key);
    return it->second;
  }
  absl::StatusOr<std::optional<WrappedDataKey>> GetLatest(absl::string_view company) override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    std::optional<WrappedDataKey> out;
    for (const auto& [k, v] : rows_) {
      if (k.first == company) out = v;
    }
    return out;
  }
  absl::StatusOr<std::optional<WrappedDataKey>> Get(absl::string_view company,
                                                    uint32_t version) override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    auto it = rows_.find({std::string(company), version});
    if (it == rows_.end()) return std::optional<WrappedDataKey>();
    return std::optional<WrappedDataKey>(it->second);
  }
  absl::StatusOr<std::vector<WrappedDataKey>> ListNotWrappedBy(absl::string_view master,
                                                               absl::string_view after_company,
                                                               uint32_t after_version,
                                                               int limit) override {
    absl::MutexLock lock(&mu_);
    std::vector<WrappedDataKey> out;
    for (const auto& [k, v] : rows_) {
      if (v.shredded || v.master_key_id == master) continue;
      if (k <= std::make_pair(std::string(after_company), after_version)) continue;
      if (static_cast<int>(out.size()) == limit) break;
      out.push_back(v);
    }
    return out;
  }
  absl::StatusOr<bool> ReplaceWrapping(absl::string_view company, uint32_t version,
                                       absl::string_view expected, absl::string_view new_master,
                                       absl::string_view new_wrapped) override {
    absl::MutexLock lock(&mu_);
    auto it = rows_.find({std::string(company), version});
    if (it == rows_.end() || it->second.shredded || it->second.master_key_id != expected) {
      return false;
    }
    it->second.master_key_id = std::string(new_master);
    it->second.wrapped = std::string(new_wrapped);
    return true;
  }
  absl::Status Shred(absl::string_view company) override {
    absl::MutexLock lock(&mu_);
    rows_.emplace(std::make_pair(std::string(company), 1u),
                  WrappedDataKey{std::string(company), 1, "", "", true});
    for (auto& [k, v] : rows_) {
      if (k.first == company) {
        v.shredded = true;
        v.wrapped.clear();
      }
    }
    return absl::OkStatus();
  }

  // Direct access for tampering tests.
  void MutateForTest(const std::string& company, uint32_t version,
                     const std::function<void(WrappedDataKey&)>& fn) {
    absl::MutexLock lock(&mu_);
    fn(rows_.at({company, version}));
  }
  int reads() const {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, uint32_t>, WrappedDataKey> rows_ ABSL_GUARDED_BY(mu_);
  int inserts_ ABSL_GUARDED_BY(mu_) = 0;
  int reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace switchboard::envelope::testing
