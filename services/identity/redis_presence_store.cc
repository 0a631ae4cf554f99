#include "services/identity/redis_presence_store.h"

#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"

namespace switchboard::identity {
namespace {

std::string Key(absl::string_view company_id, absl::string_view user_id) {
  return absl::StrCat("presence:", company_id, ":", user_id);
}

}  // namespace

RedisPresenceStore::RedisPresenceStore(cache::RedisPool& redis, absl::Duration ttl)
    : redis_(redis), ttl_(ttl) {}

absl::Status RedisPresenceStore::Set(absl::string_view company_id, const Presence& p) {
  const std::string key = Key(company_id, p.user_id);
  RETURN_IF_ERROR(redis_.HSet(key, {{"state", std::string(PresenceStateName(p.state))},
                                    {"changed_at_us",
                                     absl::StrCat(absl::ToUnixMicros(p.changed_at))}}));
  // Command() applies no prefix: add it like the convenience methods do.
  absl::StatusOr<cache::Reply> expired = redis_.Command(
      {"PEXPIRE", absl::StrCat(redis_.options().key_prefix, key),
       absl::StrCat(absl::ToInt64Milliseconds(ttl_))});
  return expired.status();
}

absl::StatusOr<std::optional<Presence>> RedisPresenceStore::Get(absl::string_view company_id,
                                                                absl::string_view user_id) {
  ASSIGN_OR_RETURN(auto fields, redis_.HGetAll(Key(company_id, user_id)));
  if (fields.empty()) return std::optional<Presence>();
  std::optional<PresenceState> state = ParsePresenceState(fields["state"]);
  int64_t us = 0;
  if (!state.has_value() || !absl::SimpleAtoi(fields["changed_at_us"], &us)) {
    // A value we did not write: treat as never set rather than failing the caller.
    return std::optional<Presence>();
  }
  return std::optional<Presence>(Presence{.user_id = std::string(user_id),
                                          .state = *state,
                                          .changed_at = absl::FromUnixMicros(us),
                                          .degraded = false});
}

}  // namespace switchboard::identity
