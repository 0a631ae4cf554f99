#include "libs/cache/redis_pool.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace switchboard::cache {

struct RedisPool::Slot {
  ~Slot() { Drop(); }
  void Drop() {
    if (ctx != nullptr) redisFree(ctx);
    ctx = nullptr;
  }
  redisContext* ctx = nullptr;
};

namespace {

absl::Status BadUrl(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("redis_url: ", why));
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// Converts a hiredis reply. An error reply anywhere in it becomes kInternal.
absl::StatusOr<Reply> Convert(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r.str, r.len);
      return out;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r.str, r.len);
      return out;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r.integer;
      return out;
    case REDIS_REPLY_NIL:
      out.type = Reply::Type::kNil;
      return out;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) {
        absl::StatusOr<Reply> element = Convert(*r.element[i]);
        if (!element.ok()) return element.status();
        out.elements.push_back(*std::move(element));
      }
      return out;
    case REDIS_REPLY_ERROR:
      return absl::InternalError(
          absl::StrCat("redis: ", absl::string_view(r.str, static_cast<size_t>(r.len))));
    default:
      return absl::InternalError(absl::StrCat("redis: unsupported reply type ", r.type));
  }
}

absl::Status UnexpectedReply(absl::string_view command) {
  return absl::InternalError(absl::StrCat("redis: unexpected reply to ", command));
}

// Runs `release` when the scope ends: returns a lent slot to the pool on every path.
class ScopedRelease {
 public:
  explicit ScopedRelease(std::function<void()> release) : release_(std::move(release)) {}
  ~ScopedRelease() { release_(); }
  ScopedRelease(const ScopedRelease&) = delete;
  ScopedRelease& operator=(const ScopedRelease&) = delete;

 private:
  std::function<void()> release_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RedisPool>> RedisPool::Create(RedisOptions options) {
  absl::string_view rest = options.url;
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return BadUrl("must start with redis://");
  }
  Endpoint ep;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    absl::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!absl::SimpleAtoi(db, &ep.db) || ep.db < 0)) {
      return BadUrl("database must be a non-negative integer");
    }
  }
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (size_t colon = userinfo.find(':'); colon != absl::string_view::npos) {
      ep.user = std::string(userinfo.substr(0, colon));
      ep.password = std::string(userinfo.substr(colon + 1));
    } else {
      ep.password = std::string(userinfo);
    }
  }
  absl::string_view host = rest;
  absl::string_view port;
  if (absl::ConsumePrefix(&host, "[")) {  // [ipv6]:port
    size_t close = host.find(']');
    if (close == absl::string_view::npos) return BadUrl("unterminated [ in host");
    absl::string_view after = host.substr(close + 1);
    host = host.substr(0, close);
    if (!after.empty()) {
      if (!absl::ConsumePrefix(&after, ":")) return BadUrl("expected :port after ]");
      port = after;
    }
  } else if (size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  if (host.empty()) return BadUrl("missing host");
  ep.host = std::string(host);
  if (!port.empty() && (!absl::SimpleAtoi(port, &ep.port) || ep.port < 1 || ep.port > 65535)) {
    return BadUrl("port must be 1..65535");
  }

  if (options.pool_size < 1 || options.pool_size > 1024) {
    return absl::InvalidArgumentError("pool_size: must be 1..1024");
  }
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("connect_timeout: must be positive");
  }
  if (options.command_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("command_timeout: must be positive");
  }
  if (options.acquire_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("acquire_timeout: must not be negative");
  }
  if (options.reconnect_backoff < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("reconnect_backoff: must not be negative");
  }
  return std::unique_ptr<RedisPool>(new RedisPool(std::move(options), std::move(ep)));
}

RedisPool::RedisPool(RedisOptions options, Endpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {
  slots_.reserve(static_cast<size_t>(options_.pool_size));
  for (int i = 0; i < options_.pool_size; ++i) slots_.push_back(std::make_unique<Slot>());
  absl::MutexLock lock(&mu_);
  for (auto& slot : slots_) free_.push_back(slot.get());
}

RedisPool::~RedisPool() = default;

absl::StatusOr<RedisPool::Slot*> RedisPool::Acquire() {
  absl::MutexLock lock(&mu_);
  const absl::Condition has_free(
      +[](std::vector<Slot*>* free) { return !free->empty(); }, &free_);
  if (!mu_.AwaitWithTimeout(has_free, options_.acquire_timeout)) {
    return absl::DeadlineExceededError(
        "redis: no pooled connection became free within acquire_timeout");
  }
  Slot* slot = free_.back();
  free_.pop_back();
  return slot;
}

void RedisPool::Release(Slot* slot) {
  absl::MutexLock lock(&mu_);
  free_.push_back(slot);
}

absl::Status RedisPool::EnsureConnected(Slot& slot) {
  if (slot.ctx != nullptr && slot.ctx->err == 0) return absl::OkStatus();
  slot.Drop();
  {
    absl::MutexLock lock(&mu_);
    if (absl::Now() - last_connect_failure_ < options_.reconnect_backoff) {
      return absl::UnavailableError("redis: unreachable (last connect failed; backing off)");
    }
  }
  auto fail = [&](absl::string_view why) {
    slot.Drop();
    absl::MutexLock lock(&mu_);
    last_connect_failure_ = absl::Now();
    return absl::UnavailableError(absl::StrCat("redis: connect to ", endpoint_.host, ":",
                                               endpoint_.port, " failed: ", why));
  };
  slot.ctx = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                     absl::ToTimeval(options_.connect_timeout));
  if (slot.ctx == nullptr) return fail("out of memory");
  if (slot.ctx->err != 0) return fail(slot.ctx->errstr);
  if (redisSetTimeout(slot.ctx, absl::ToTimeval(options_.command_timeout)) != REDIS_OK) {
    return fail("cannot set command timeout");
  }
  // Session setup: AUTH and SELECT. An error reply here means the pool is misconfigured; treat
  // it like an unreachable server so callers fall back, and keep the message for the log.
  std::vector<std::vector<std::string>> setup;
  if (!endpoint_.password.empty()) {
    if (endpoint_.user.empty()) {
      setup.push_back({"AUTH", endpoint_.password});
    } else {
      setup.push_back({"AUTH", endpoint_.user, endpoint_.password});
    }
  }
  if (endpoint_.db != 0) setup.push_back({"SELECT", absl::StrCat(endpoint_.db)});
  for (const auto& argv : setup) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const std::string& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    ReplyPtr reply(static_cast<redisReply*>(
        redisCommandArgv(slot.ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
    if (reply == nullptr) return fail(slot.ctx->errstr);
    if (reply->type == REDIS_REPLY_ERROR) {
      return fail(absl::StrCat(argv[0], ": ", absl::string_view(reply->str, reply->len)));
    }
  }
  {
    absl::MutexLock lock(&mu_);
    last_connect_failure_ = absl::InfinitePast();
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> RedisPool::Command(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("argv: must not be empty");
  absl::StatusOr<Slot*> acquired = Acquire();
  if (!acquired.ok()) return acquired.status();
  Slot* slot = *acquired;
  ScopedRelease lease([this, slot] { Release(slot); });

  if (absl::Status s = EnsureConnected(*slot); !s.ok()) return s;
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(slot->ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
  if (reply == nullptr) {
    // The context is unusable after any I/O error (the reply stream may be out of step):
    // drop it; the next user of this slot dials again.
    const bool timed_out = slot->ctx->err == REDIS_ERR_IO &&
                           (errno == EAGAIN || errno == EWOULDBLOCK);
    std::string why = timed_out ? std::string("command timed out") : std::string(slot->ctx->errstr);
    slot->Drop();
    return absl::UnavailableError(absl::StrCat("redis: ", argv[0], ": ", why));
  }
  return Convert(*reply);
}

std::string RedisPool::Prefixed(absl::string_view key) const {
  return absl::StrCat(options_.key_prefix, key);
}

absl::StatusOr<std::optional<std::string>> RedisPool::Get(absl::string_view key) {
  absl::StatusOr<Reply> reply = Command({"GET", Prefixed(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type == Reply::Type::kNil) return std::optional<std::string>();
  if (reply->type != Reply::Type::kString) return UnexpectedReply("GET");
  return std::optional<std::string>(std::move(reply->str));
}

absl::Status RedisPool::Set(absl::string_view key, absl::string_view value,
                            std::optional<absl::Duration> ttl) {
  std::vector<std::string> argv = {"SET", Prefixed(key), std::string(value)};
  if (ttl.has_value()) {
    if (*ttl < absl::Milliseconds(1) || *ttl == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError("ttl: must be at least 1ms and finite");
    }
    argv.push_back("PX");
    argv.push_back(absl::StrCat(absl::ToInt64Milliseconds(*ttl)));
  }
  absl::StatusOr<Reply> reply = Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type != Reply::Type::kStatus || reply->str != "OK") return UnexpectedReply("SET");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisPool::Del(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::InvalidArgumentError("keys: must not be empty");
  std::vector<std::string> argv = {"DEL"};
  for (const std::string& key : keys) argv.push_back(Prefixed(key));
  absl::StatusOr<Reply> reply = Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type != Reply::Type::kInteger) return UnexpectedReply("DEL");
  return reply->integer;
}

absl::StatusOr<int64_t> RedisPool::Incr(absl::string_view key) {
  absl::StatusOr<Reply> reply = Command({"INCR", Prefixed(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type != Reply::Type::kInteger) return UnexpectedReply("INCR");
  return reply->integer;
}

absl::Status RedisPool::HSet(absl::string_view key,
                             const std::map<std::string, std::string>& fields) {
  if (fields.empty()) return absl::InvalidArgumentError("fields: must not be empty");
  std::vector<std::string> argv = {"HSET", Prefixed(key)};
  for (const auto& [field, value] : fields) {
    argv.push_back(field);
    argv.push_back(value);
  }
  absl::StatusOr<Reply> reply = Command(argv);
  if (!reply.ok()) return reply.status();
  if (reply->type != Reply::Type::kInteger) return UnexpectedReply("HSET");
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, std::string>> RedisPool::HGetAll(absl::string_view key) {
  absl::StatusOr<Reply> reply = Command({"HGETALL", Prefixed(key)});
  if (!reply.ok()) return reply.status();
  if (reply->type != Reply::Type::kArray || reply->elements.size() % 2 != 0) {
    return UnexpectedReply("HGETALL");
  }
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < reply->elements.size(); i += 2) {
    out[std::move(reply->elements[i].str)] = std::move(reply->elements[i + 1].str);
  }
  return out;
}

absl::Status RedisPool::Ping() {
  absl::StatusOr<Reply> reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->type != Reply::Type::kStatus || reply->str != "PONG") return UnexpectedReply("PING");
  return absl::OkStatus();
}

}  // namespace switchboard::cache
