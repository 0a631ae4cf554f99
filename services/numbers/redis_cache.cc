#include "services/numbers/redis_cache.h"

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "services/numbers/proto_convert.h"
#include "switchboard/numbers/v1/numbers.pb.h"

namespace switchboard::numbers {

void RedisNumbersCache::LogError(absl::string_view op, const absl::Status& s) {
  const int64_t now = absl::ToUnixMicros(absl::Now());
  int64_t last = last_log_us_.load();
  if (now - last < 1000000 || !last_log_us_.compare_exchange_strong(last, now)) return;
  log::Warn("numbers: redis cache error (treated as a miss)",
            {{"op", std::string(op)}, {"error", std::string(s.message())}});
}

std::optional<Resolved> RedisNumbersCache::GetResolved(absl::string_view e164) {
  absl::StatusOr<std::optional<std::string>> v = redis_.Get(absl::StrCat("r:", e164));
  if (!v.ok()) {
    LogError("get", v.status());
    return std::nullopt;
  }
  if (!v->has_value()) return std::nullopt;
  v1::ResolvedNumber proto;
  if (!proto.ParseFromString(**v)) return std::nullopt;
  return ResolvedFromProto(proto);
}

void RedisNumbersCache::PutResolved(absl::string_view e164, const Resolved& resolved) {
  v1::ResolvedNumber proto;
  ResolvedToProto(resolved, false, &proto);
  absl::Status s =
      redis_.Set(absl::StrCat("r:", e164), proto.SerializeAsString(), options_.resolve_ttl);
  if (!s.ok()) LogError("set", s);
}

void RedisNumbersCache::InvalidateResolved(const std::vector<std::string>& e164s) {
  std::vector<std::string> keys;
  for (const std::string& e : e164s) keys.push_back(absl::StrCat("r:", e));
  if (keys.empty()) return;
  absl::Status s = redis_.Del(keys).status();
  if (!s.ok()) LogError("del", s);
}

std::optional<std::vector<AvailableNumber>> RedisNumbersCache::GetSearch(absl::string_view key) {
  absl::StatusOr<std::optional<std::string>> v = redis_.Get(absl::StrCat("s:", key));
  if (!v.ok()) {
    LogError("get", v.status());
    return std::nullopt;
  }
  if (!v->has_value()) return std::nullopt;
  v1::SearchNumbersResponse proto;
  if (!proto.ParseFromString(**v)) return std::nullopt;
  std::vector<AvailableNumber> out;
  for (const v1::AvailableNumber& n : proto.numbers()) out.push_back(AvailableFromProto(n));
  return out;
}

void RedisNumbersCache::PutSearch(absl::string_view key,
                                  const std::vector<AvailableNumber>& result) {
  v1::SearchNumbersResponse proto;
  for (const AvailableNumber& n : result) AvailableToProto(n, proto.add_numbers());
  absl::Status s = redis_.Set(absl::StrCat("s:", key), proto.SerializeAsString(),
                              options_.search_ttl);
  if (!s.ok()) LogError("set", s);
}

}  // namespace switchboard::numbers
