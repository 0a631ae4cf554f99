#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include "libs/events/topics.h"
#include "libs/testing/testing.h"

namespace switchboard::testing {
namespace {

bool SchemaExists(db::Pool& pool, const std::string& schema) {
  auto n = pool.UnscopedOr<int>([&](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec_params("SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema)[0][0]
        .as<int>();
  });
  REQUIRE(n.ok());
  return *n == 1;
}

TEST_CASE("PgTestSchema creates a unique schema and drops it", "[integration][testing]") {
  auto observer = PgTestSchema::CreateOrFail();
  std::string schema;
  {
    auto db = PgTestSchema::CreateOrFail();
    schema = db->schema();
    CHECK(schema.rfind("t_", 0) == 0);
    CHECK(schema != observer->schema());
    REQUIRE(db->pool().Unscoped([](pqxx::work& tx) {
                  tx.exec("CREATE TABLE x (id int)");
                  return absl::OkStatus();
                }).ok());
    CHECK(SchemaExists(observer->pool(), schema));
  }
  CHECK_FALSE(SchemaExists(observer->pool(), schema));
}

TEST_CASE("KafkaTestTopic round-trips records and deletes its topics", "[integration][testing]") {
  std::string name;
  {
    auto topic = KafkaTestTopic::CreateOrFail({2, true});
    name = topic->name();
    CHECK(topic->UniqueGroupId() != topic->UniqueGroupId());
    auto producer = topic->NewProducer();
    REQUIRE(producer.ok());
    REQUIRE((*producer)->Produce(topic->name(), "k1", "v1", {{"h", "x"}}).ok());
    REQUIRE((*producer)->Produce(topic->dlq_name(), "k2", "v2").ok());
    REQUIRE((*producer)->Flush(absl::Seconds(30)).ok());
    auto main = topic->ReadAll(topic->name(), absl::Seconds(30), 1);
    REQUIRE(main.ok());
    REQUIRE(main->size() == 1);
    CHECK((*main)[0].key == "k1");
    CHECK((*main)[0].value == "v1");
    REQUIRE((*main)[0].headers.size() == 1);
    CHECK((*main)[0].headers[0].second == "x");
    auto dlq = topic->ReadAll(topic->dlq_name(), absl::Seconds(30), 1);
    REQUIRE(dlq.ok());
    REQUIRE(dlq->size() == 1);
    CHECK((*dlq)[0].value == "v2");
    // EnsureTopics is idempotent.
    CHECK(events::EnsureTopics(topic->brokers(), {topic->name()}, 2).ok());
  }
  // Deleting again reports success: the fixture already removed it (or it is being removed).
  CHECK(events::DeleteTopics(*RequireEnv("SB_KAFKA_BROKERS"), {name}).ok());
}

TEST_CASE("RedisTestNamespace deletes only its own keys", "[integration][testing]") {
  auto other = RedisTestNamespace::CreateOrFail();
  std::string host;
  int port = 0, db = 0;
  REQUIRE(ParseRedisUrl(other->url(), &host, &port, &db).ok());
  redisContext* ctx = redisConnect(host.c_str(), port);
  REQUIRE(ctx != nullptr);
  REQUIRE(ctx->err == 0);
  auto command = [&](const std::string& cmd, const std::string& key) {
    auto* r = static_cast<redisReply*>(redisCommand(ctx, "%s %s", cmd.c_str(), key.c_str()));
    REQUIRE(r != nullptr);
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return v;
  };
  freeReplyObject(redisCommand(ctx, "SELECT %d", db));
  std::string mine;
  {
    auto ns = RedisTestNamespace::CreateOrFail();
    CHECK(ns->prefix() != other->prefix());
    mine = ns->prefix() + "a";
    command("INCR", mine);
    command("INCR", other->prefix() + "b");
    CHECK(command("EXISTS", mine) == 1);
  }
  CHECK(command("EXISTS", mine) == 0);
  CHECK(command("EXISTS", other->prefix() + "b") == 1);
  redisFree(ctx);
}

}  // namespace
}  // namespace switchboard::testing
