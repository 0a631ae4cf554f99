#include <catch2/catch.hpp>

#include <string>

#include "libs/cache/redis_pool.h"

namespace switchboard::cache {
namespace {

RedisOptions WithUrl(std::string url) {
  RedisOptions options;
  options.url = std::move(url);
  return options;
}

TEST_CASE("RedisPool::Create accepts well-formed URLs without connecting", "[cache][redis]") {
  // Port 1 on a reserved address: nothing listens there, and Create must not care.
  const std::string url = GENERATE(as<std::string>{}, "redis://127.0.0.1:1",
                                   "redis://localhost", "redis://cache.internal:6380/3",
                                   "redis://:secret@127.0.0.1:1/0", "redis://user:pw@h:1",
                                   "redis://[::1]:6379/2", "redis://h:1/");
  absl::StatusOr<std::unique_ptr<RedisPool>> pool = RedisPool::Create(WithUrl(url));
  INFO(url);
  REQUIRE(pool.ok());
  CHECK((*pool)->options().url == url);
}

TEST_CASE("RedisPool::Create rejects bad URLs naming redis_url", "[cache][redis]") {
  const std::string url = GENERATE(as<std::string>{}, "", "127.0.0.1:6379", "http://h:1",
                                   "rediss://h:1", "redis://", "redis://:6379", "redis://h:0",
                                   "redis://h:65536", "redis://h:port", "redis://h:1/x",
                                   "redis://h:1/-1", "redis://[::1", "redis://[::1]x");
  absl::StatusOr<std::unique_ptr<RedisPool>> pool = RedisPool::Create(WithUrl(url));
  INFO(url);
  REQUIRE_FALSE(pool.ok());
  CHECK(pool.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(pool.status().message().find("redis_url") != absl::string_view::npos);
}

TEST_CASE("RedisPool::Create rejects out-of-range options naming them", "[cache][redis]") {
  RedisOptions options = WithUrl("redis://127.0.0.1:1");
  std::string field;
  SECTION("pool_size") {
    options.pool_size = 0;
    field = "pool_size";
  }
  SECTION("connect_timeout") {
    options.connect_timeout = absl::ZeroDuration();
    field = "connect_timeout";
  }
  SECTION("command_timeout") {
    options.command_timeout = -absl::Seconds(1);
    field = "command_timeout";
  }
  SECTION("acquire_timeout") {
    options.acquire_timeout = -absl::Seconds(1);
    field = "acquire_timeout";
  }
  SECTION("reconnect_backoff") {
    options.reconnect_backoff = -absl::Seconds(1);
    field = "reconnect_backoff";
  }
  absl::StatusOr<std::unique_ptr<RedisPool>> pool = RedisPool::Create(options);
  REQUIRE_FALSE(pool.ok());
  CHECK(pool.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(pool.status().message().find(field) != absl::string_view::npos);
}

TEST_CASE("RedisPool validates arguments before touching the network", "[cache][redis]") {
  absl::StatusOr<std::unique_ptr<RedisPool>> pool =
      RedisPool::Create(WithUrl("redis://127.0.0.1:1"));
  REQUIRE(pool.ok());
  RedisPool& redis = **pool;
  CHECK(redis.Command({}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(redis.Del({}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(redis.HSet("k", {}).code() == absl::StatusCode::kInvalidArgument);
  absl::Status ttl = redis.Set("k", "v", absl::ZeroDuration());
  CHECK(ttl.code() == absl::StatusCode::kInvalidArgument);
  CHECK(ttl.message().find("ttl") != absl::string_view::npos);
  CHECK(redis.Set("k", "v", absl::Microseconds(999)).code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::cache
