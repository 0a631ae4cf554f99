// A fixed-size pool of hiredis connections with connect, command and acquire timeouts.
//
// hiredis contexts are not thread-safe: the pool lends each context to one thread at a time
// for the duration of one command, so RedisPool itself is safe to share between threads.
//
// Redis is a cache: services must keep working when it is down. So Create() never fails
// because Redis is unreachable (it only validates options); connections are opened lazily on
// first use. A context whose ctx->err is set (I/O error, EOF, timeout) is dropped and a new one
// is dialled on the next use of that slot. After a failed dial, further dials are skipped for
// `reconnect_backoff` and commands fail fast with kUnavailable, so a dead Redis costs callers
// microseconds, not a connect_timeout per request.
//
// Error codes (ARCHITECTURE/STYLE §2.6):
//   kUnavailable       connection refused / I/O error / EOF / timeout; caller falls back
//   kDeadlineExceeded  no pooled connection became free within acquire_timeout
//   kInternal          Redis answered with an error reply (message included)
//   kInvalidArgument   bad options or arguments (names the field)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct redisContext;

namespace switchboard::cache {

struct RedisOptions {
  // redis://[[user]:password@]host[:port][/db]; port defaults to 6379, db to 0.
  std::string url;
  int pool_size = 4;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Milliseconds(250);
  // How long a caller waits for a free pooled connection.
  absl::Duration acquire_timeout = absl::Milliseconds(250);
  // After a failed connect, dials are not retried (commands fail fast) for this long. Zero
  // retries on every command.
  absl::Duration reconnect_backoff = absl::Seconds(1);
  // Prepended to every key argument of the convenience methods (Get, Set, Del, Incr, HSet,
  // HGetAll). NOT applied by Command(), which sends argv as given.
  std::string key_prefix;
};

// One Redis reply (RESP2).
struct Reply {
  enum class Type { kNil, kString, kInteger, kArray, kStatus };
  Type type = Type::kNil;
  std::string str;              // kString (binary-safe bulk string) and kStatus ("OK", "PONG")
  int64_t integer = 0;          // kInteger
  std::vector<Reply> elements;  // kArray
};

class RedisPool {
 public:
  // Validates `options` and builds the pool without connecting. Returns kInvalidArgument naming
  // "redis_url" for an unparsable URL, or the option name ("pool_size", "connect_timeout",
  // "command_timeout", "acquire_timeout", "reconnect_backoff") for an out-of-range value.
  static absl::StatusOr<std::unique_ptr<RedisPool>> Create(RedisOptions options);
  ~RedisPool();
  RedisPool(const RedisPool&) = delete;
  RedisPool& operator=(const RedisPool&) = delete;

  // Sends `argv` (binary-safe, via redisCommandArgv) on a pooled connection. No key prefix is
  // applied. kInvalidArgument naming "argv" when empty; error codes otherwise as above.
  absl::StatusOr<Reply> Command(const std::vector<std::string>& argv);

  // GET. A missing key is std::nullopt, not an error.
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view key);
  // SET, with PX `ttl` when given (kInvalidArgument naming "ttl" unless >= 1 ms).
  [[nodiscard]] absl::Status Set(absl::string_view key, absl::string_view value,
                                 std::optional<absl::Duration> ttl = std::nullopt);
  // DEL; returns how many of `keys` existed. kInvalidArgument naming "keys" when empty.
  absl::StatusOr<int64_t> Del(const std::vector<std::string>& keys);
  // INCR; returns the new value.
  absl::StatusOr<int64_t> Incr(absl::string_view key);
  // HSET key f1 v1 f2 v2 ... kInvalidArgument naming "fields" when empty.
  [[nodiscard]] absl::Status HSet(absl::string_view key,
                                  const std::map<std::string, std::string>& fields);
  // HGETALL; a missing key is an empty map.
  absl::StatusOr<std::map<std::string, std::string>> HGetAll(absl::string_view key);
  // PING; OK when Redis answers PONG.
  [[nodiscard]] absl::Status Ping();

  const RedisOptions& options() const { return options_; }

 private:
  struct Endpoint {
    std::string host;
    int port = 6379;
    int db = 0;
    std::string user;
    std::string password;
  };
  struct Slot;

  RedisPool(RedisOptions options, Endpoint endpoint);
  absl::StatusOr<Slot*> Acquire();
  void Release(Slot* slot);
  absl::Status EnsureConnected(Slot& slot);
  std::string Prefixed(absl::string_view key) const;

  const RedisOptions options_;
  const Endpoint endpoint_;
  std::vector<std::unique_ptr<Slot>> slots_;

  absl::Mutex mu_;
  std::vector<Slot*> free_ ABSL_GUARDED_BY(mu_);
  absl::Time last_connect_failure_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace switchboard::cache
