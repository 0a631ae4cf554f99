#include "services/routing/live_ports.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "services/routing/oncall.h"

namespace switchboard::routing {

// ---- CallStateCache: value = "<call_id>|<line_id>|<serialized CallState>" -----------------------

std::string CallStateCache::Encode(const CachedCall& call) {
  std::string out = absl::StrCat(call.call_id, "|", call.line_id, "|");
  out += call.state.SerializeAsString();
  return out;
}

std::optional<CachedCall> CallStateCache::Decode(absl::string_view value) {
  const size_t a = value.find('|');
  if (a == absl::string_view::npos) return std::nullopt;
  const size_t b = value.find('|', a + 1);
  if (b == absl::string_view::npos) return std::nullopt;
  CachedCall c;
  c.call_id = std::string(value.substr(0, a));
  c.line_id = std::string(value.substr(a + 1, b - a - 1));
  const absl::string_view state = value.substr(b + 1);
  if (!c.state.ParseFromArray(state.data(), static_cast<int>(state.size()))) return std::nullopt;
  if (c.call_id.empty() || c.state.call_id().empty()) return std::nullopt;
  return c;
}

std::optional<CachedCall> CallStateCache::Get(absl::string_view call_key) {
  absl::StatusOr<std::optional<std::string>> v = redis_.Get(absl::StrCat("call:", call_key));
  if (!v.ok() || !v->has_value()) return std::nullopt;
  return Decode(**v);
}

absl::Status CallStateCache::Put(absl::string_view call_key, const CachedCall& call) {
  return redis_.Set(absl::StrCat("call:", call_key), Encode(call), ttl_);
}

// ---- RedisRoundRobin ----------------------------------------------------------------------------

absl::StatusOr<int64_t> RedisRoundRobin::Next(absl::string_view ring_group_id) {
  absl::StatusOr<int64_t> v = redis_.Incr(absl::StrCat("rr:", company_id_, ":", ring_group_id));
  if (!v.ok()) return v.status();
  return *v - 1;
}

// ---- ConfigCache --------------------------------------------------------------------------------

ConfigCache::ConfigCache(PgStore& store, CompanyInfoSource& companies, const Clock& clock,
                         absl::Duration ttl, std::string fallback_zone)
    : store_(store),
      companies_(companies),
      clock_(clock),
      ttl_(ttl),
      fallback_zone_(std::move(fallback_zone)) {}

absl::StatusOr<std::shared_ptr<const CompanySnapshot>> ConfigCache::Get(
    absl::string_view company_id) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(company_id);
    if (it != entries_.end()) {
      // Fresh, or expired while another call reloads it: no herd of reloads at each expiry.
      if (now - it->second.loaded_at < ttl_ || it->second.refreshing) return it->second.snapshot;
      it->second.refreshing = true;
    }
  }
  auto done_refreshing = [&] {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(company_id);
    if (it != entries_.end()) it->second.refreshing = false;
  };
  auto snap = std::make_shared<CompanySnapshot>();
  snap->company_id = std::string(company_id);
  absl::StatusOr<CompanyConfig> config = store_.LoadCompanyConfig(company_id);
  if (!config.ok()) {
    done_refreshing();
    return config.status();
  }
  snap->config = std::move(*config);
  bool cacheable = true;
  absl::StatusOr<CompanyInfo> info = companies_.Company(company_id);
  if (!info.ok()) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(company_id);
    if (it != entries_.end()) {  // keep the last known zone and state
      info = CompanyInfo{.time_zone = it->second.snapshot->zone_name,
                         .state = it->second.snapshot->state};
    }
  }
  absl::StatusOr<absl::TimeZone> zone =
      info.ok() ? LoadZone(info->time_zone) : absl::StatusOr<absl::TimeZone>(info.status());
  if (!zone.ok()) {
    log::Warn("company time zone unavailable; using the fallback zone",
              {{"company_id", std::string(company_id)},
               {"error", std::string(zone.status().message())},
               {"fallback", fallback_zone_}});
    cacheable = false;
    zone = LoadZone(fallback_zone_);
    if (!zone.ok()) zone = absl::UTCTimeZone();
    snap->zone_name = fallback_zone_;
  } else {
    snap->zone_name = info->time_zone;
  }
  if (info.ok()) snap->state = info->state;
  snap->zone = *zone;
  for (const v1::NamedSchedule& s : snap->config.schedules) {
    absl::StatusOr<CompiledSchedule> compiled = CompiledSchedule::Compile(s.schedule());
    if (compiled.ok()) snap->schedules.emplace(s.id(), std::move(*compiled));
  }
  for (const v1::NamedRotation& r : snap->config.rotations) {
    snap->rotations.emplace(r.id(), r.rotation());
  }
  std::shared_ptr<const CompanySnapshot> out = std::move(snap);
  if (cacheable) {
    absl::MutexLock lock(&mu_);
    entries_[std::string(company_id)] = Entry{out, now};
  } else {
    done_refreshing();
  }
  return out;
}

void ConfigCache::Invalidate(absl::string_view company_id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(company_id);
}

// ---- DirectoryCache -----------------------------------------------------------------------------

absl::StatusOr<std::shared_ptr<const UserList>> DirectoryCache::Get(
    absl::string_view company_id) {
  const absl::Time now = clock_.Now();
  std::shared_ptr<const UserList> stale;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(company_id);
    if (it != entries_.end()) {
      if (it->second.users == nullptr) {
        if (now - it->second.loaded_at < std::min(ttl_, absl::Seconds(2))) return it->second.error;
      } else if (now - it->second.loaded_at < ttl_ || it->second.refreshing) {
        // Fresh, or expired while another call reloads it: no herd of reloads at each expiry.
        return it->second.users;
      } else {
        stale = it->second.users;
        it->second.refreshing = true;
      }
    }
  }
  absl::StatusOr<UserList> users = source_.LoadUsers(company_id);
  if (!users.ok()) {
    if (stale != nullptr) {
      {
        absl::MutexLock lock(&mu_);
        auto it = entries_.find(company_id);
        if (it != entries_.end()) it->second.refreshing = false;
      }
      log::Warn("directory refresh failed; using the last list",
                {{"company_id", std::string(company_id)},
                 {"error", std::string(users.status().message())}});
      return stale;
    }
    absl::MutexLock lock(&mu_);
    entries_[std::string(company_id)] = Entry{nullptr, now, users.status()};
    return users.status();
  }
  auto fresh = std::make_shared<const UserList>(std::move(*users));
  absl::MutexLock lock(&mu_);
  entries_[std::string(company_id)] = Entry{fresh, now};
  return fresh;
}

void DirectoryCache::Invalidate(absl::string_view company_id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(company_id);
}

absl::StatusOr<std::string> GreetingUrlCache::Url(absl::string_view company_id,
                                                  absl::string_view greeting_id) {
  const std::string key = absl::StrCat(company_id, "/", greeting_id);
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now < it->second.valid_until) return it->second.url;
  }
  absl::StatusOr<GreetingUrl> fetched = source_.Fetch(company_id, greeting_id);
  Entry entry;
  if (fetched.ok()) {
    entry.url = fetched->url;
    // Reused until 10 minutes before it expires (a call may take a while to fetch it), and
    // never for more than an hour: a greeting re-recorded under the same id is picked up.
    entry.valid_until =
        std::min(fetched->expires_at - absl::Minutes(10), now + absl::Hours(1));
  } else {
    log::Warn("greeting URL unavailable; its text is spoken",
              {{"company_id", std::string(company_id)},
               {"greeting_id", std::string(greeting_id)},
               {"error", fetched.status().ToString()}});
    entry.url = fetched.status();
    entry.valid_until = now + failure_ttl_;
  }
  absl::MutexLock lock(&mu_);
  if (entries_.size() >= max_entries_) entries_.clear();
  entries_[key] = entry;
  return entry.url;
}

absl::StatusOr<std::string> CompanyGreetingUrls::Url(absl::string_view audio_id) const {
  if (cache_ == nullptr) {
    return absl::NotFoundError(absl::StrCat("audio ", audio_id, ": no media service"));
  }
  return cache_->Url(company_id_, audio_id);
}

void InvalidateOnIdentityEvent(absl::string_view company_id, DirectoryCache& directory,
                               ConfigCache& config) {
  if (company_id.empty()) return;
  directory.Invalidate(company_id);
  config.Invalidate(company_id);  // the time zone may have changed
}

// ---- CachingNumberResolver ----------------------------------------------------------------------

CachingNumberResolver::CachingNumberResolver(NumberResolver& inner, const Clock& clock,
                                             absl::Duration ttl, size_t max_entries,
                                             metrics::Registry* metrics)
    : inner_(inner),
      clock_(clock),
      ttl_(ttl),
      not_found_ttl_(std::min(ttl, absl::Seconds(2))),
      max_entries_(std::max<size_t>(max_entries, 1)) {
  if (metrics != nullptr) {
    constexpr char kHelp[] =
        "ResolveNumber lookups of new calls answered from routing's cache (hit) or by the "
        "numbers service (miss).";
    hits_ = &metrics->GetCounter("routing_number_cache_lookups_total", kHelp,
                                 {{"result", "hit"}});
    misses_ = &metrics->GetCounter("routing_number_cache_lookups_total", kHelp,
                                   {{"result", "miss"}});
  }
}

absl::StatusOr<ResolvedLine> CachingNumberResolver::Resolve(absl::string_view e164) {
  if (ttl_ <= absl::ZeroDuration()) return inner_.Resolve(e164);
  const absl::Time now = clock_.Now();
  uint64_t generation = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(e164);
    if (it != entries_.end() && now < it->second.expires_at) {
      if (hits_ != nullptr) hits_->Inc();
      return it->second.answer;
    }
    generation = generation_;
  }
  if (misses_ != nullptr) misses_->Inc();
  absl::StatusOr<ResolvedLine> answer = inner_.Resolve(e164);
  absl::Duration keep;
  if (answer.ok()) {
    keep = ttl_;
  } else if (absl::IsNotFound(answer.status())) {
    keep = not_found_ttl_;
  } else {
    return answer;  // UNAVAILABLE & co: the next call asks again
  }
  absl::MutexLock lock(&mu_);
  if (generation != generation_) return answer;  // invalidated meanwhile: may predate a change
  auto it = entries_.find(e164);
  if (it != entries_.end()) {
    it->second = Entry{answer, now + keep};
    return answer;
  }
  if (entries_.size() >= max_entries_) MakeRoom(now);
  entries_.emplace(std::string(e164), Entry{answer, now + keep});
  return answer;
}

void CachingNumberResolver::MakeRoom(absl::Time now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires_at <= now) {
      entries_.erase(it++);
    } else {
      ++it;
    }
  }
  // Still mostly full (a flood of numbers within the TTL): start over rather than scan again at
  // the next insert.
  if (entries_.size() > max_entries_ / 4 * 3) entries_.clear();
}

void CachingNumberResolver::Invalidate(absl::string_view e164) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  entries_.erase(e164);
}

void CachingNumberResolver::InvalidateAll() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  entries_.clear();
}

size_t CachingNumberResolver::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

bool InvalidateOnNumbersEvent(const events::v1::Event& event, CachingNumberResolver& numbers) {
  using E = events::v1::Event;
  std::string e164, also;
  switch (event.payload_case()) {
    case E::kNumberProvisioned: e164 = event.number_provisioned().e164(); break;
    case E::kNumberActivated: e164 = event.number_activated().e164(); break;
    case E::kNumberOrderFailed: e164 = event.number_order_failed().e164(); break;
    case E::kNumberReleased: e164 = event.number_released().e164(); break;
    case E::kLineUpdated: e164 = event.line_updated().e164(); break;
    case E::kNumberPorted:
      e164 = event.number_ported().e164();
      also = event.number_ported().replaced_e164();
      break;
    case E::kPortRequestUpdated: return true;  // no line changes with it
    default:
      if (!absl::StartsWith(event.type(), "numbers.")) return false;
      break;  // a numbers event this build does not know: e164 stays empty
  }
  if (e164.empty()) {
    log::Warn("numbers event without a number; dropping every cached number",
              {{"type", event.type()}, {"event_id", event.id()}});
    numbers.InvalidateAll();
    return true;
  }
  numbers.Invalidate(e164);
  if (!also.empty()) numbers.Invalidate(also);
  return true;
}

void InvalidateCachesOnEvent(const events::v1::Event& event, DirectoryCache& directory,
                             ConfigCache& config, CachingNumberResolver& numbers) {
  if (InvalidateOnNumbersEvent(event, numbers)) return;
  InvalidateOnIdentityEvent(event.company_id(), directory, config);
}

// ---- CallDirectory ------------------------------------------------------------------------------

CallDirectory::CallDirectory(std::shared_ptr<const UserList> users,
                             const std::vector<v1::VoicemailBox>& boxes)
    : users_(std::move(users)) {
  for (const v1::VoicemailBox& b : boxes) {
    if (b.owner_case() == v1::VoicemailBox::kUserId && !b.user_id().empty()) {
      box_of_user_.emplace(b.user_id(), b.id());
    }
  }
}

DirectoryUser CallDirectory::WithBox(const DirectoryUser& u) const {
  DirectoryUser out = u;
  auto it = box_of_user_.find(u.id);
  if (it != box_of_user_.end()) out.voicemail_box_id = it->second;
  return out;
}

absl::StatusOr<std::optional<DirectoryUser>> CallDirectory::FindUser(
    absl::string_view user_id) const {
  if (users_ == nullptr) return absl::UnavailableError("directory unavailable");
  for (const DirectoryUser& u : *users_) {
    if (u.id == user_id) return std::optional<DirectoryUser>(WithBox(u));
  }
  return std::optional<DirectoryUser>();
}

absl::StatusOr<std::vector<DirectoryUser>> CallDirectory::ListUsers() const {
  if (users_ == nullptr) return absl::UnavailableError("directory unavailable");
  std::vector<DirectoryUser> out;
  out.reserve(users_->size());
  for (const DirectoryUser& u : *users_) out.push_back(WithBox(u));
  return out;
}

// ---- SnapshotScheduleOracle ---------------------------------------------------------------------

absl::StatusOr<ScheduleAnswer> SnapshotScheduleOracle::At(absl::string_view schedule_id,
                                                          absl::Time t) {
  auto it = snapshot_->schedules.find(schedule_id);
  if (it == snapshot_->schedules.end()) {
    return absl::NotFoundError(absl::StrCat("schedule ", schedule_id, " not found"));
  }
  absl::StatusOr<ScheduleDecision> d = it->second.Evaluate(snapshot_->zone, t);
  if (!d.ok()) return d.status();
  return ScheduleAnswer{d->open, std::string(ScheduleReasonName(d->reason)), d->detail};
}

absl::StatusOr<std::string> SnapshotScheduleOracle::OnCall(absl::string_view rotation_id,
                                                           absl::Time t) {
  auto it = snapshot_->rotations.find(rotation_id);
  if (it == snapshot_->rotations.end()) {
    return absl::NotFoundError(absl::StrCat("rotation ", rotation_id, " not found"));
  }
  return OnCallUserAt(it->second, snapshot_->zone, t);
}

}  // namespace switchboard::routing
