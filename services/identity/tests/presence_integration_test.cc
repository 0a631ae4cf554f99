// RedisPresenceStore against a real Redis, and its failure mode when Redis is unreachable.
#include <catch2/catch.hpp>

#include "libs/cache/redis_pool.h"
#include "libs/testing/testing.h"
#include "services/identity/redis_presence_store.h"

namespace switchboard::identity {
namespace {

TEST_CASE("RedisPresenceStore stores state and change time per company and user",
          "[integration][redis]") {
  auto ns = switchboard::testing::RedisTestNamespace::CreateOrFail();
  auto pool = cache::RedisPool::Create({.url = ns->url(), .key_prefix = ns->prefix()});
  REQUIRE(pool.ok());
  RedisPresenceStore store(**pool);
  const absl::Time t = absl::FromUnixMicros(1'700'000'000'123'456);
  CHECK_FALSE(store.Get("c1", "u1")->has_value());
  REQUIRE(store.Set("c1", Presence{.user_id = "u1", .state = PresenceState::kOnCall,
                                   .changed_at = t}).ok());
  auto got = store.Get("c1", "u1");
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK((*got)->state == PresenceState::kOnCall);
  CHECK((*got)->changed_at == t);
  CHECK_FALSE(store.Get("c2", "u1")->has_value());  // other company
  auto ttl = (*pool)->Command({"PTTL", ns->prefix() + "presence:c1:u1"});
  REQUIRE(ttl.ok());
  CHECK(ttl->integer > 0);
}

TEST_CASE("RedisPresenceStore is Unavailable, not a crash, when Redis is down",
          "[integration][redis]") {
  // Port 1 on loopback: connection refused.
  auto pool = cache::RedisPool::Create({.url = "redis://127.0.0.1:1",
                                        .connect_timeout = absl::Milliseconds(100)});
  REQUIRE(pool.ok());
  RedisPresenceStore store(**pool);
  CHECK(store.Get("c1", "u1").status().code() == absl::StatusCode::kUnavailable);
  CHECK(store.Set("c1", Presence{.user_id = "u1", .state = PresenceState::kDnd,
                                 .changed_at = absl::Now()}).code() ==
        absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace switchboard::identity
