// NumbersCache: the short-lived lookups the numbers service keeps in Redis (redis_cache.h) —
// ResolveNumber answers (invalidated on every change of the number) and search results (a
// short TTL per query). Every error is a miss: implementations never fail the caller, they log
// and fall back. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "services/numbers/model.h"

namespace switchboard::numbers {

class NumbersCache {
 public:
  virtual ~NumbersCache() = default;
  virtual std::optional<Resolved> GetResolved(absl::string_view e164) = 0;
  virtual void PutResolved(absl::string_view e164, const Resolved& resolved) = 0;
  virtual void InvalidateResolved(const std::vector<std::string>& e164s) = 0;
  virtual std::optional<std::vector<AvailableNumber>> GetSearch(absl::string_view key) = 0;
  virtual void PutSearch(absl::string_view key, const std::vector<AvailableNumber>& result) = 0;
};

}  // namespace switchboard::numbers
