// The live implementations of the core's ports (interfaces.h) and the service's caches:
//
//   CallStateCache  - a live call's state in Redis ("call:<call_key>", TTL), a cache of the call
//                     log's copy in Postgres: every error is a miss (the caller reads Postgres).
//   RedisRoundRobin - RoundRobin as Redis INCR "rr:<company>:<group>": shared by the replicas,
//                     survives restarts. Per call (holds the company).
//   CompanySnapshot - a company's ring groups, boxes, compiled schedules, rotations and time zone,
//                     loaded together (ConfigCache, TTL per company, invalidated by local saves).
//   DirectoryCache  - the company's users (DirectorySource), TTL per company.
//   CallDirectory   - Directory over a users snapshot, with each user's own voicemail box.
//   SnapshotScheduleOracle - ScheduleOracle over a snapshot (schedule.h / oncall.h, company zone).
//   GreetingUrlCache / CompanyGreetingUrls - audio greetings' URLs from media (GreetingSource).
//   CachingNumberResolver - numbers' ResolveNumber answers per E.164 (TTL, bounded, dropped by
//                     numbers.v1 events: InvalidateOnNumbersEvent).
//
// Thread-safety: the caches are thread-safe; snapshots are immutable; the per-call objects
// (RedisRoundRobin, CallDirectory, SnapshotScheduleOracle) are used by one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/metrics/registry.h"
#include "services/routing/interfaces.h"
#include "services/routing/pg_store.h"
#include "services/routing/schedule.h"
#include "services/routing/service_ports.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/routing/v1/call.pb.h"

namespace switchboard::routing {

struct CachedCall {
  std::string call_id;  // call log row id
  std::string line_id;
  v1::CallState state;
};

class CallStateCache {
 public:
  CallStateCache(cache::RedisPool& redis, absl::Duration ttl) : redis_(redis), ttl_(ttl) {}
  // nullopt on a miss, an error or an unreadable value.
  std::optional<CachedCall> Get(absl::string_view call_key);
  // Best effort: an error is returned for logging only.
  absl::Status Put(absl::string_view call_key, const CachedCall& call);

  static std::string Encode(const CachedCall& call);
  static std::optional<CachedCall> Decode(absl::string_view value);

 private:
  cache::RedisPool& redis_;
  absl::Duration ttl_;
};

class RedisRoundRobin final : public RoundRobin {
 public:
  RedisRoundRobin(cache::RedisPool& redis, std::string company_id)
      : redis_(redis), company_id_(std::move(company_id)) {}
  // INCR - 1: 0, 1, 2, ... Errors are Redis's (the engine then starts at member 0).
  absl::StatusOr<int64_t> Next(absl::string_view ring_group_id) override;

 private:
  cache::RedisPool& redis_;
  std::string company_id_;
};

struct CompanySnapshot {
  std::string company_id;
  CompanyConfig config;
  absl::TimeZone zone;
  std::string zone_name;
  std::string state;  // company address state ("" when identity could not be read)
  absl::flat_hash_map<std::string, CompiledSchedule> schedules;  // only the valid ones
  absl::flat_hash_map<std::string, v1::OnCallRotation> rotations;
};

// Loads and caches CompanySnapshots. When the company record cannot be read (identity down), the
// last known time zone and state are kept; without one the snapshot uses `fallback_zone` and is
// not cached, so the next call retries.
class ConfigCache {
 public:
  ConfigCache(PgStore& store, CompanyInfoSource& companies, const Clock& clock,
              absl::Duration ttl, std::string fallback_zone = "America/New_York");
  absl::StatusOr<std::shared_ptr<const CompanySnapshot>> Get(absl::string_view company_id);
  void Invalidate(absl::string_view company_id);

 private:
  struct Entry {
    std::shared_ptr<const CompanySnapshot> snapshot;
    absl::Time loaded_at;
    bool refreshing = false;  // expired, and one caller is reloading it (the others reuse it)
  };
  PgStore& store_;
  CompanyInfoSource& companies_;
  const Clock& clock_;
  absl::Duration ttl_;
  std::string fallback_zone_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

using UserList = std::vector<DirectoryUser>;

class DirectoryCache {
 public:
  DirectoryCache(DirectorySource& source, const Clock& clock, absl::Duration ttl)
      : source_(source), clock_(clock), ttl_(ttl) {}
  // The cached list, or a fresh one; on an error the last list (however old) if any. Without
  // one, the error is remembered for min(ttl, 2 s): calls in that window get UNAVAILABLE at once
  // instead of each waiting for identity's deadline.
  absl::StatusOr<std::shared_ptr<const UserList>> Get(absl::string_view company_id);
  void Invalidate(absl::string_view company_id);

 private:
  struct Entry {
    std::shared_ptr<const UserList> users;  // null: the last load failed (at loaded_at)
    absl::Time loaded_at;
    absl::Status error;
    bool refreshing = false;  // expired, and one caller is reloading it (the others reuse it)
  };
  DirectorySource& source_;
  const Clock& clock_;
  absl::Duration ttl_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// Greeting URLs from media, cached per (company, greeting) until shortly before they expire:
// the engine resolves a flow's audio greetings on the hot path. A failure is remembered for
// `failure_ttl` (the engine speaks the greeting's text meanwhile) so an unreachable media
// service costs one deadline, not one per call. Bounded: past `max_entries` the cache starts
// over. Thread-safe.
class GreetingUrlCache {
 public:
  GreetingUrlCache(GreetingSource& source, const Clock& clock,
                   absl::Duration failure_ttl = absl::Seconds(30), size_t max_entries = 10000)
      : source_(source), clock_(clock), failure_ttl_(failure_ttl), max_entries_(max_entries) {}
  absl::StatusOr<std::string> Url(absl::string_view company_id, absl::string_view greeting_id);

 private:
  struct Entry {
    absl::StatusOr<std::string> url;
    absl::Time valid_until;
  };
  GreetingSource& source_;
  const Clock& clock_;
  absl::Duration failure_ttl_;
  size_t max_entries_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// The engine's GreetingUrlResolver for one company's call over a GreetingUrlCache.
class CompanyGreetingUrls final : public GreetingUrlResolver {
 public:
  CompanyGreetingUrls(GreetingUrlCache* cache, std::string company_id)
      : cache_(cache), company_id_(std::move(company_id)) {}
  // NOT_FOUND without a cache (no media service configured).
  absl::StatusOr<std::string> Url(absl::string_view audio_id) const override;

 private:
  GreetingUrlCache* cache_;
  std::string company_id_;
};

// identity.v1 consumer handler: any event of a company (user invited/activated/deactivated/role
// changed, company updated, ...) drops that company's directory and config snapshot, so the next
// call reloads them. Events without a company are ignored. Never fails.
void InvalidateOnIdentityEvent(absl::string_view company_id, DirectoryCache& directory,
                               ConfigCache& config);

// ResolveNumber answers cached in the process, in front of the numbers service (a decorator of
// any NumberResolver): a new call's lookup costs a map find instead of a gRPC round trip.
//   - An answer (ResolvedLine) is reused for `ttl`; NOT_FOUND ("not an active line") for
//     min(ttl, 2 s): a number provisioned or activated meanwhile is also announced by a
//     numbers.v1 event, and the short life bounds the damage if that event is late. Other
//     errors (UNAVAILABLE, DEADLINE_EXCEEDED, INVALID_ARGUMENT, ...) are never cached.
//   - `ttl` <= 0 disables the cache (every lookup goes to `inner`).
//   - Invalidate(e164) / InvalidateAll() drop entries (numbers.v1 events, see
//     InvalidateOnNumbersEvent). A lookup that was already asking `inner` when an invalidation
//     came does not store its answer (it may predate the change): any invalidation bumps a
//     generation that such lookups compare before storing.
//   - Bounded: inserting into a full cache (`max_entries`) first drops the expired entries, and
//     starts over when that does not bring it under 3/4 of the bound, so a flood of random
//     numbers costs at most `max_entries` entries and O(1) amortized per insert.
//   - CallerId (click-to-call) passes through uncached.
//   - Expired entries are not served while numbers is down: the lookup fails as `inner` does.
// `metrics` (may be null): routing_number_cache_lookups_total{result="hit"|"miss"}.
// Thread-safe (`inner` must be too); `inner`, `clock` and `metrics` must outlive it.
class CachingNumberResolver final : public NumberResolver {
 public:
  static constexpr size_t kDefaultMaxEntries = 100000;
  CachingNumberResolver(NumberResolver& inner, const Clock& clock, absl::Duration ttl,
                        size_t max_entries = kDefaultMaxEntries,
                        metrics::Registry* metrics = nullptr);

  absl::StatusOr<ResolvedLine> Resolve(absl::string_view e164) override;
  absl::StatusOr<CallerIdLine> CallerId(absl::string_view company_id, absl::string_view user_id,
                                        bool direct) override {
    return inner_.CallerId(company_id, user_id, direct);
  }

  void Invalidate(absl::string_view e164);
  void InvalidateAll();
  size_t size() const;  // entries held, expired ones included (tests)

 private:
  struct Entry {
    absl::StatusOr<ResolvedLine> answer;  // a line or NOT_FOUND
    absl::Time expires_at;
  };
  void MakeRoom(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  NumberResolver& inner_;
  const Clock& clock_;
  const absl::Duration ttl_;
  const absl::Duration not_found_ttl_;
  const size_t max_entries_;
  metrics::Counter* hits_ = nullptr;
  metrics::Counter* misses_ = nullptr;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

// numbers.v1 consumer handler: drops the cached answers of the number(s) an event names, since
// each of these may change what ResolveNumber answers for them:
//   number_provisioned, number_activated, number_order_failed, number_released, line_updated
//   (flow, assigned user, department, switched on/off): `e164`;
//   number_ported: `e164` and `replaced_e164` (the temporary number released in the swap).
// port_request_updated changes no line (a completed port also emits number_ported /
// number_released) and is ignored. A numbers event naming no e164, or of a payload this build
// does not know (type "numbers.*"), drops the whole cache. Returns false, touching nothing, for
// an event that is not a numbers event. Never fails.
bool InvalidateOnNumbersEvent(const events::v1::Event& event, CachingNumberResolver& numbers);

// The handler of routing's one cache consumer (identity.v1 and numbers.v1): numbers events go to
// InvalidateOnNumbersEvent, every other event to InvalidateOnIdentityEvent (by its company).
void InvalidateCachesOnEvent(const events::v1::Event& event, DirectoryCache& directory,
                             ConfigCache& config, CachingNumberResolver& numbers);

class CallDirectory final : public Directory {
 public:
  // `users` may be null (directory unavailable: every lookup is UNAVAILABLE).
  CallDirectory(std::shared_ptr<const UserList> users,
                const std::vector<v1::VoicemailBox>& boxes);
  absl::StatusOr<std::optional<DirectoryUser>> FindUser(absl::string_view user_id) const override;
  absl::StatusOr<std::vector<DirectoryUser>> ListUsers() const override;

 private:
  DirectoryUser WithBox(const DirectoryUser& u) const;
  std::shared_ptr<const UserList> users_;
  absl::flat_hash_map<std::string, std::string> box_of_user_;
};

class SnapshotScheduleOracle final : public ScheduleOracle {
 public:
  explicit SnapshotScheduleOracle(std::shared_ptr<const CompanySnapshot> snapshot)
      : snapshot_(std::move(snapshot)) {}
  // NOT_FOUND for an unknown (or invalid, never compiled) schedule / rotation.
  absl::StatusOr<ScheduleAnswer> At(absl::string_view schedule_id, absl::Time t) override;
  absl::StatusOr<std::string> OnCall(absl::string_view rotation_id, absl::Time t) override;

 private:
  std::shared_ptr<const CompanySnapshot> snapshot_;
};

}  // namespace switchboard::routing
