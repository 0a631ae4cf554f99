// RedisPresenceStore: presence in Redis, one hash per user:
//   <key_prefix>presence:<company_id>:<user_id> = {state: "dnd", changed_at_us: "<unix micros>"}
// with a TTL (default 7 days) so presence of users who vanished does not accumulate.
// Thread-safe (RedisPool is). Redis being down is kUnavailable (never a crash); the core turns
// that into a degraded "unknown" answer for reads.
#pragma once

#include "absl/time/time.h"
#include "libs/cache/redis_pool.h"
#include "services/identity/store.h"

namespace switchboard::identity {

class RedisPresenceStore final : public PresenceStore {
 public:
  // `redis` must outlive the store.
  explicit RedisPresenceStore(cache::RedisPool& redis, absl::Duration ttl = absl::Hours(24 * 7));

  absl::Status Set(absl::string_view company_id, const Presence& presence) override;
  absl::StatusOr<std::optional<Presence>> Get(absl::string_view company_id,
                                              absl::string_view user_id) override;

 private:
  cache::RedisPool& redis_;
  const absl::Duration ttl_;
};

}  // namespace switchboard::identity
