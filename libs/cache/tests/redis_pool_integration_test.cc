// RedisPool against a real Redis (SB_REDIS_URL; `./tools/dev testenv up`). Every test works
// under its own RedisTestNamespace key prefix, removed afterwards.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/cache/redis_pool.h"
#include "libs/testing/testing.h"

namespace switchboard::cache {
namespace {

std::unique_ptr<RedisPool> PoolFor(const testing::RedisTestNamespace& ns,
                                   RedisOptions options = {}) {
  options.url = ns.url();
  options.key_prefix = ns.prefix();
  absl::StatusOr<std::unique_ptr<RedisPool>> pool = RedisPool::Create(std::move(options));
  REQUIRE(pool.ok());
  return *std::move(pool);
}

// A TCP port on 127.0.0.1 that is bound, so nobody else gets it, and either refuses
// connections (listen == false) or accepts them into the backlog and never answers.
class LocalPort {
 public:
  explicit LocalPort(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    if (listen) REQUIRE(::listen(fd_, 16) == 0);
  }
  ~LocalPort() { ::close(fd_); }
  std::string url() const { return absl::StrCat("redis://127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_CASE("RedisPool convenience commands round-trip", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  auto redis = PoolFor(*ns);

  REQUIRE(redis->Ping().ok());

  SECTION("get of a missing key is nullopt") {
    absl::StatusOr<std::optional<std::string>> got = redis->Get("missing");
    REQUIRE(got.ok());
    CHECK_FALSE(got->has_value());
  }
  SECTION("set, get, overwrite, del") {
    REQUIRE(redis->Set("k", "v1").ok());
    CHECK(redis->Get("k")->value() == "v1");
    REQUIRE(redis->Set("k", "v2").ok());
    CHECK(redis->Get("k")->value() == "v2");
    absl::StatusOr<int64_t> deleted = redis->Del({"k", "never-there"});
    REQUIRE(deleted.ok());
    CHECK(*deleted == 1);
    CHECK_FALSE(redis->Get("k")->has_value());
  }
  SECTION("incr") {
    CHECK(*redis->Incr("counter") == 1);
    CHECK(*redis->Incr("counter") == 2);
  }
  SECTION("hset and hgetall") {
    REQUIRE(redis->HSet("h", {{"a", "1"}, {"b", "2"}}).ok());
    REQUIRE(redis->HSet("h", {{"b", "3"}}).ok());
    absl::StatusOr<std::map<std::string, std::string>> all = redis->HGetAll("h");
    REQUIRE(all.ok());
    CHECK(*all == std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}});
    CHECK(redis->HGetAll("no-such-hash")->empty());
  }
}

TEST_CASE("key_prefix applies to convenience methods but not to Command",
          "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  auto redis = PoolFor(*ns);
  REQUIRE(redis->Set("k", "prefixed").ok());
  absl::StatusOr<Reply> raw = redis->Command({"GET", ns->prefix() + "k"});
  REQUIRE(raw.ok());
  CHECK(raw->type == Reply::Type::kString);
  CHECK(raw->str == "prefixed");
  absl::StatusOr<Reply> unprefixed = redis->Command({"EXISTS", "k"});
  REQUIRE(unprefixed.ok());
  CHECK(unprefixed->type == Reply::Type::kInteger);
  CHECK(unprefixed->integer == 0);
}

TEST_CASE("Set with a ttl expires the key", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  auto redis = PoolFor(*ns);

  SECTION("the ttl reaches Redis in milliseconds") {
    REQUIRE(redis->Set("ttl", "v", absl::Seconds(1)).ok());
    absl::StatusOr<Reply> pttl = redis->Command({"PTTL", ns->prefix() + "ttl"});
    REQUIRE(pttl.ok());
    REQUIRE(pttl->type == Reply::Type::kInteger);
    CHECK(pttl->integer > 0);
    CHECK(pttl->integer <= 1000);
    // No ttl: PTTL -1 (persistent).
    REQUIRE(redis->Set("forever", "v").ok());
    CHECK(redis->Command({"PTTL", ns->prefix() + "forever"})->integer == -1);
  }
  SECTION("an expired key reads as a miss") {
    REQUIRE(redis->Set("short", "v", absl::Milliseconds(20)).ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    bool gone = false;
    while (!gone && absl::Now() < deadline) {
      absl::StatusOr<std::optional<std::string>> got = redis->Get("short");
      REQUIRE(got.ok());
      gone = !got->has_value();
      if (!gone) absl::SleepFor(absl::Milliseconds(5));  // poll interval, not synchronisation
    }
    CHECK(gone);
  }
}

TEST_CASE("Values and keys are binary-safe", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  auto redis = PoolFor(*ns);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::string key("bin\0key\r\n", 9);
  REQUIRE(redis->Set(key, all_bytes).ok());
  absl::StatusOr<std::optional<std::string>> got = redis->Get(key);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK(**got == all_bytes);
  CHECK(!redis->Get(std::string("bin", 3))->has_value());
  const std::string big(1 << 20, '\xab');
  REQUIRE(redis->Set("big", big).ok());
  CHECK(redis->Get("big")->value() == big);
  REQUIRE(redis->HSet("h", {{std::string("f\0", 2), std::string("\0v", 2)}}).ok());
  CHECK(redis->HGetAll("h")->at(std::string("f\0", 2)) == std::string("\0v", 2));
}

TEST_CASE("Error replies are kInternal with Redis's message", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  auto redis = PoolFor(*ns);
  REQUIRE(redis->Set("text", "not a number").ok());
  absl::StatusOr<int64_t> incr = redis->Incr("text");
  REQUIRE_FALSE(incr.ok());
  CHECK(incr.status().code() == absl::StatusCode::kInternal);
  CHECK(incr.status().message().find("not an integer") != absl::string_view::npos);
  absl::StatusOr<Reply> unknown = redis->Command({"NOSUCHCOMMAND"});
  CHECK(unknown.status().code() == absl::StatusCode::kInternal);
  // The connection stays usable after an error reply.
  CHECK(redis->Ping().ok());
}

TEST_CASE("Command converts arrays, nil and status replies", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  auto redis = PoolFor(*ns);
  REQUIRE(redis->Set("a", "1").ok());
  absl::StatusOr<Reply> mget =
      redis->Command({"MGET", ns->prefix() + "a", ns->prefix() + "missing"});
  REQUIRE(mget.ok());
  REQUIRE(mget->type == Reply::Type::kArray);
  REQUIRE(mget->elements.size() == 2);
  CHECK(mget->elements[0].type == Reply::Type::kString);
  CHECK(mget->elements[0].str == "1");
  CHECK(mget->elements[1].type == Reply::Type::kNil);
  absl::StatusOr<Reply> set = redis->Command({"SET", ns->prefix() + "b", "2"});
  REQUIRE(set.ok());
  CHECK(set->type == Reply::Type::kStatus);
  CHECK(set->str == "OK");
}

TEST_CASE("The pool serves 8 threads concurrently", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  RedisOptions options;
  options.pool_size = 3;  // fewer connections than threads: exercises waiting for a slot
  options.acquire_timeout = absl::Seconds(5);
  options.command_timeout = absl::Seconds(2);
  auto redis = PoolFor(*ns, options);
  constexpr int kThreads = 8;
  constexpr int kOps = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        if (!redis->Incr("shared").ok()) ++failures;
        const std::string key = absl::StrCat("t", t, ":", i);
        const std::string value = absl::StrCat("value-", t, "-", i);
        if (!redis->Set(key, value).ok()) ++failures;
        absl::StatusOr<std::optional<std::string>> got = redis->Get(key);
        if (!got.ok() || !got->has_value() || **got != value) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  absl::StatusOr<std::optional<std::string>> total = redis->Get("shared");
  REQUIRE(total.ok());
  CHECK(total->value() == std::to_string(kThreads * kOps));
}

TEST_CASE("A busy pool fails acquisition with kDeadlineExceeded",
          "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  RedisOptions options;
  options.pool_size = 1;
  options.acquire_timeout = absl::Milliseconds(20);
  options.command_timeout = absl::Seconds(5);
  auto redis = PoolFor(*ns, options);
  REQUIRE(redis->Ping().ok());
  // Holds the only connection for up to 2 s: BLPOP on a list nobody pushes to until the main
  // thread has observed the timeout.
  std::thread blocker([&] {
    absl::StatusOr<Reply> r = redis->Command({"BLPOP", ns->prefix() + "wake", "2"});
    CHECK(r.ok());
  });
  // Wait until the blocker really holds the connection (Redis lists it blocked in BLPOP), so the
  // pings below cannot take the connection first and starve the blocker instead.
  auto other = PoolFor(*ns);
  const absl::Time blocked_by = absl::Now() + absl::Seconds(2);
  bool blocked = false;
  while (!blocked && absl::Now() < blocked_by) {
    absl::StatusOr<Reply> clients = other->Command({"CLIENT", "LIST"});
    REQUIRE(clients.ok());
    blocked = clients->str.find("cmd=blpop") != std::string::npos;
  }
  REQUIRE(blocked);
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  absl::StatusCode seen = absl::StatusCode::kOk;
  while (absl::Now() < deadline) {
    absl::Status s = redis->Ping();
    if (s.code() == absl::StatusCode::kDeadlineExceeded) {
      seen = s.code();
      break;
    }
  }
  CHECK(seen == absl::StatusCode::kDeadlineExceeded);
  // Wake the blocker from the second pool so the test does not wait for BLPOP's timeout.
  REQUIRE(other->Command({"RPUSH", ns->prefix() + "wake", "x"}).ok());
  blocker.join();
  CHECK(redis->Ping().ok());
}

TEST_CASE("Unreachable Redis: Create succeeds, commands fail fast with kUnavailable",
          "[integration][cache][redis]") {
  LocalPort closed(/*listen=*/false);
  RedisOptions options;
  options.url = closed.url();
  options.connect_timeout = absl::Milliseconds(300);
  absl::StatusOr<std::unique_ptr<RedisPool>> pool = RedisPool::Create(options);
  REQUIRE(pool.ok());  // services keep starting while Redis is down

  const absl::Time start = absl::Now();
  absl::StatusOr<std::optional<std::string>> got = (*pool)->Get("k");
  const absl::Duration first = absl::Now() - start;
  REQUIRE_FALSE(got.ok());
  CHECK(got.status().code() == absl::StatusCode::kUnavailable);
  CHECK(first < options.connect_timeout + absl::Milliseconds(200));

  // Within the reconnect backoff, further commands do not even dial.
  const absl::Time again = absl::Now();
  CHECK((*pool)->Ping().code() == absl::StatusCode::kUnavailable);
  CHECK((*pool)->Set("k", "v").code() == absl::StatusCode::kUnavailable);
  CHECK(absl::Now() - again < absl::Milliseconds(50));
}

TEST_CASE("A Redis that accepts but never answers times out with kUnavailable",
          "[integration][cache][redis]") {
  LocalPort silent(/*listen=*/true);
  RedisOptions options;
  options.url = silent.url();
  options.command_timeout = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<RedisPool>> pool = RedisPool::Create(options);
  REQUIRE(pool.ok());
  const absl::Time start = absl::Now();
  absl::Status ping = (*pool)->Ping();
  const absl::Duration elapsed = absl::Now() - start;
  CHECK(ping.code() == absl::StatusCode::kUnavailable);
  CHECK(ping.message().find("timed out") != absl::string_view::npos);
  CHECK(elapsed >= absl::Milliseconds(90));
  CHECK(elapsed < absl::Seconds(1));
}

TEST_CASE("A dropped connection is replaced on the next command",
          "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  RedisOptions options;
  options.pool_size = 1;
  options.reconnect_backoff = absl::ZeroDuration();
  auto redis = PoolFor(*ns, options);
  absl::StatusOr<Reply> id = redis->Command({"CLIENT", "ID"});
  REQUIRE(id.ok());
  REQUIRE(id->type == Reply::Type::kInteger);

  auto killer = PoolFor(*ns);
  absl::StatusOr<Reply> killed =
      killer->Command({"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  REQUIRE(killed.ok());
  CHECK(killed->integer == 1);

  // The first command on the dead socket fails (EOF); the pool drops it and redials.
  absl::Status first = redis->Ping();
  CHECK(first.code() == absl::StatusCode::kUnavailable);
  CHECK(redis->Ping().ok());
  absl::StatusOr<Reply> new_id = redis->Command({"CLIENT", "ID"});
  REQUIRE(new_id.ok());
  CHECK(new_id->integer != id->integer);
}

TEST_CASE("The database number in the URL is selected", "[integration][cache][redis]") {
  auto ns = testing::RedisTestNamespace::CreateOrFail();
  const int other_db = ns->db() == 0 ? 1 : 0;
  RedisOptions options;
  options.url = absl::StrCat("redis://", ns->host(), ":", ns->port(), "/", other_db);
  options.key_prefix = ns->prefix();
  absl::StatusOr<std::unique_ptr<RedisPool>> other = RedisPool::Create(options);
  REQUIRE(other.ok());
  REQUIRE((*other)->Set("where", "other-db").ok());
  CHECK((*(*other)->Command({"CLIENT", "INFO"})).str.find(absl::StrCat("db=", other_db)) !=
        std::string::npos);
  auto same = PoolFor(*ns);
  CHECK_FALSE(same->Get("where")->has_value());
  CHECK(*(*other)->Del({"where"}) == 1);
}

}  // namespace
}  // namespace switchboard::cache
