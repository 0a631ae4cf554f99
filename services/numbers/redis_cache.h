// NumbersCache over Redis (libs/cache): ResolveNumber answers under "r:<e164>" (TTL
// `resolve_ttl`, deleted on every change of the number) and search results under
// "s:<query>" (TTL `search_ttl`), both as serialized numbers.v1 messages, under the pool's key
// prefix. Every Redis error is a miss (logged at most once per second); callers fall back to
// Postgres / the carrier. Thread-safe (the pool is).
#pragma once

#include <atomic>

#include "absl/time/time.h"
#include "libs/cache/redis_pool.h"
#include "services/numbers/cache.h"

namespace switchboard::numbers {

struct RedisCacheOptions {
  absl::Duration resolve_ttl = absl::Minutes(10);
  absl::Duration search_ttl = absl::Seconds(60);
};

class RedisNumbersCache final : public NumbersCache {
 public:
  RedisNumbersCache(cache::RedisPool& redis, RedisCacheOptions options)
      : redis_(redis), options_(options) {}

  std::optional<Resolved> GetResolved(absl::string_view e164) override;
  void PutResolved(absl::string_view e164, const Resolved& resolved) override;
  void InvalidateResolved(const std::vector<std::string>& e164s) override;
  std::optional<std::vector<AvailableNumber>> GetSearch(absl::string_view key) override;
  void PutSearch(absl::string_view key, const std::vector<AvailableNumber>& result) override;

 private:
  void LogError(absl::string_view op, const absl::Status& s);

  cache::RedisPool& redis_;
  RedisCacheOptions options_;
  std::atomic<int64_t> last_log_us_{0};
};

}  // namespace switchboard::numbers
