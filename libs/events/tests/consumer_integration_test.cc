#include <map>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/events/consumer.h"
#include "libs/events/outbox.h"
#include "libs/events/tests/test_util.h"
#include "libs/testing/testing.h"

namespace switchboard::events {
namespace {

using testing::KafkaTestTopic;
using testing::PgTestSchema;

std::unique_ptr<PgTestSchema> ConsumerDb() {
  PgTestSchema::Options options;
  options.migrations = {
      {kOutboxComponent, OutboxMigrations()},
      {"test", {{1, "create_effects", "CREATE TABLE effects (event_id uuid, text text)"}}}};
  return PgTestSchema::CreateOrFail(options);
}

void Publish(Producer& producer, const std::string& topic, const std::vector<v1::Event>& events) {
  for (const auto& e : events) {
    REQUIRE(producer.Produce(topic, e.aggregate_id(), e.SerializeAsString()).ok());
  }
  REQUIRE(producer.Flush(absl::Seconds(30)).ok());
}

int Effects(db::Pool& pool) {
  auto n = pool.UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM effects")[0][0].as<int>();
  });
  REQUIRE(n.ok());
  return *n;
}

std::string Header(const testing::KafkaRecord& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<missing>";
}

TEST_CASE("A failing event is retried, dead-lettered, and does not block the next",
          "[integration][events][consumer]") {
  auto topic = KafkaTestTopic::CreateOrFail({1, true});
  auto db = ConsumerDb();
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  const std::string company = NewUuidV7();
  std::vector<v1::Event> events = {test::TestEvent(company, "a", "ok", 1),
                                   test::TestEvent(company, "a", "fail", 2),
                                   test::TestEvent("", "a", "ok", 3)};
  Publish(**producer, topic->name(), {events[0], events[1]});
  REQUIRE((*producer)->Produce(topic->name(), "a", "this is not a protobuf Event").ok());
  Publish(**producer, topic->name(), {events[2]});

  absl::Mutex mu;
  std::map<std::string, int> calls;
  ConsumerOptions options;
  options.brokers = topic->brokers();
  options.group_id = topic->UniqueGroupId();
  options.topics = {topic->name()};
  options.consumer_name = "test.dlq";
  options.max_attempts = 3;
  options.initial_backoff = absl::Milliseconds(10);
  options.max_backoff = absl::Milliseconds(40);
  auto consumer = IdempotentConsumer::Create(
      db->pool(), options, [&](pqxx::work& tx, const v1::Event& e) -> absl::Status {
        {
          absl::MutexLock lock(&mu);
          ++calls[e.id()];
        }
        // The effect is written before failing: the rollback must undo it.
        tx.exec_params("INSERT INTO effects VALUES ($1, $2)", e.id(), e.test().text());
        if (e.test().text() == "fail") return absl::UnavailableError("downstream is down");
        return absl::OkStatus();
      });
  REQUIRE(consumer.ok());
  int processed = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (processed < 4 && absl::Now() < deadline) {
    auto n = (*consumer)->PollOnce(absl::Milliseconds(200));
    REQUIRE(n.ok());
    processed += *n;
  }
  REQUIRE(processed == 4);
  CHECK((*consumer)->Stop().ok());
  CHECK((*consumer)->HandledCount() == 2);
  CHECK((*consumer)->DeadLetteredCount() == 2);
  CHECK(calls[events[1].id()] == 3);
  CHECK(calls[events[2].id()] == 1);
  CHECK(Effects(db->pool()) == 2);

  auto dlq = topic->ReadAll(topic->dlq_name(), absl::Seconds(30), 2);
  REQUIRE(dlq.ok());
  REQUIRE(dlq->size() == 2);
  CHECK((*dlq)[0].value == events[1].SerializeAsString());  // original bytes
  CHECK((*dlq)[0].key == "a");
  CHECK(Header((*dlq)[0], "sb-attempts") == "3");
  CHECK(Header((*dlq)[0], "sb-original-topic") == topic->name());
  CHECK(Header((*dlq)[0], "sb-original-offset") == "1");
  CHECK(Header((*dlq)[0], "sb-error").find("downstream is down") != std::string::npos);
  CHECK((*dlq)[1].value == "this is not a protobuf Event");
  CHECK(Header((*dlq)[1], "sb-attempts") == "0");
}

TEST_CASE("Offsets are committed after the effect: a restart neither redoes nor skips",
          "[integration][events][consumer]") {
  auto topic = KafkaTestTopic::CreateOrFail({1, false});
  auto db = ConsumerDb();
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  ConsumerOptions options;
  options.brokers = topic->brokers();
  options.group_id = topic->UniqueGroupId();
  options.topics = {topic->name()};
  options.consumer_name = "test.restart";
  options.commit_interval = absl::Hours(1);  // only Stop() commits
  auto handler = [](pqxx::work& tx, const v1::Event& e) {
    tx.exec_params("INSERT INTO effects VALUES ($1, $2)", e.id(), e.test().text());
    return absl::OkStatus();
  };
  auto run_until = [&](IdempotentConsumer& c, int64_t handled) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (c.HandledCount() < handled && absl::Now() < deadline) {
      REQUIRE(c.PollOnce(absl::Milliseconds(200)).ok());
    }
  };
  std::vector<v1::Event> first, second;
  for (int i = 0; i < 5; ++i) first.push_back(test::TestEvent("", "k", "first", i));
  for (int i = 0; i < 3; ++i) second.push_back(test::TestEvent("", "k", "second", i));

  Publish(**producer, topic->name(), first);
  {
    auto c = IdempotentConsumer::Create(db->pool(), options, handler);
    REQUIRE(c.ok());
    REQUIRE((*c)->Start().ok());
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while ((*c)->HandledCount() < 5 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
    REQUIRE((*c)->Stop().ok());
    CHECK((*c)->HandledCount() == 5);
  }
  Publish(**producer, topic->name(), second);
  auto c = IdempotentConsumer::Create(db->pool(), options, handler);
  REQUIRE(c.ok());
  run_until(**c, 3);
  // One partition: a redelivered old message would have arrived before the new ones.
  CHECK((*c)->HandledCount() == 3);
  CHECK((*c)->DuplicateCount() == 0);
  CHECK((*c)->HandlerCallCount() == 3);
  CHECK((*c)->Stop().ok());
  CHECK(Effects(db->pool()) == 8);
}

TEST_CASE("Events the consumer does not accept cost no transaction",
          "[integration][events][consumer]") {
  auto topic = KafkaTestTopic::CreateOrFail({1, false});
  auto db = ConsumerDb();
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  ConsumerOptions options;
  options.brokers = topic->brokers();
  options.group_id = topic->UniqueGroupId();
  options.topics = {topic->name()};
  options.consumer_name = "test.accepts";
  options.accepts = [](const v1::Event& e) { return e.test().text() == "wanted"; };
  std::vector<v1::Event> events;
  for (int i = 0; i < 6; ++i) {
    events.push_back(test::TestEvent("", "k", i % 3 == 0 ? "wanted" : "other", i));
  }
  Publish(**producer, topic->name(), events);
  auto c = IdempotentConsumer::Create(
      db->pool(), options, [](pqxx::work& tx, const v1::Event& e) {
        tx.exec_params("INSERT INTO effects VALUES ($1, $2)", e.id(), e.test().text());
        return absl::OkStatus();
      });
  REQUIRE(c.ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*c)->HandledCount() + (*c)->NotAcceptedCount() < 6 && absl::Now() < deadline) {
    REQUIRE((*c)->PollOnce(absl::Milliseconds(200)).ok());
  }
  CHECK((*c)->HandledCount() == 2);
  CHECK((*c)->NotAcceptedCount() == 4);
  CHECK(Effects(db->pool()) == 2);
  auto processed = db->pool().UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM processed_events")[0][0].as<int>();
  });
  REQUIRE(processed.ok());
  CHECK(*processed == 2);  // only the accepted events are recorded
  CHECK((*c)->Stop().ok());
}

TEST_CASE("IdempotentConsumer::Create validates its options", "[integration][events][consumer]") {
  auto db = PgTestSchema::CreateOrFail();
  auto ok_handler = [](pqxx::work&, const v1::Event&) { return absl::OkStatus(); };
  ConsumerOptions o;
  o.brokers = "127.0.0.1:1";
  o.group_id = "g";
  o.topics = {"t"};
  o.consumer_name = "c";
  o.max_attempts = 0;
  auto c = IdempotentConsumer::Create(db->pool(), o, ok_handler);
  CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(c.status().message().find("max_attempts") != absl::string_view::npos);
  o.max_attempts = 1;
  o.processed_retention = -absl::Seconds(1);
  c = IdempotentConsumer::Create(db->pool(), o, ok_handler);
  CHECK(c.status().message().find("processed_retention") != absl::string_view::npos);
  o.processed_retention = absl::Hours(1);
  o.prune_interval = absl::ZeroDuration();
  c = IdempotentConsumer::Create(db->pool(), o, ok_handler);
  CHECK(c.status().message().find("prune_interval") != absl::string_view::npos);
  o.prune_interval = absl::Minutes(1);
  o.topics.clear();
  CHECK(IdempotentConsumer::Create(db->pool(), o, ok_handler).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// processed_events rows of `consumer` (any consumer when empty).
int ProcessedRows(db::Pool& pool, const std::string& consumer = "") {
  auto n = pool.UnscopedOr<int>([&](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec_params("SELECT count(*) FROM processed_events WHERE $1 = '' OR consumer = $1",
                          consumer)[0][0].as<int>();
  });
  REQUIRE(n.ok());
  return *n;
}

void InsertProcessed(db::Pool& pool, const std::string& consumer, int rows, absl::Duration age) {
  REQUIRE(pool.Unscoped([&](pqxx::work& tx) {
                tx.exec_params(
                    "INSERT INTO processed_events (consumer, event_id, processed_at) "
                    "SELECT $1, gen_random_uuid(), now() - make_interval(secs => $2) "
                    "FROM generate_series(1, $3)",
                    consumer, absl::ToDoubleSeconds(age), rows);
                return absl::OkStatus();
              }).ok());
}

TEST_CASE("PruneProcessedEvents deletes only the rows older than the cut, in batches",
          "[integration][events][consumer]") {
  auto db = ConsumerDb();
  InsertProcessed(db->pool(), "routing.cache.gone", 25, absl::Hours(100));
  InsertProcessed(db->pool(), "numbers.identity", 7, absl::Hours(80));
  InsertProcessed(db->pool(), "numbers.identity", 5, absl::Hours(1));
  absl::StatusOr<int64_t> n = PruneProcessedEvents(db->pool(), absl::Now() - absl::Hours(72), 10);
  REQUIRE(n.ok());
  CHECK(*n == 32);  // four batches of at most 10
  CHECK(ProcessedRows(db->pool(), "routing.cache.gone") == 0);
  CHECK(ProcessedRows(db->pool(), "numbers.identity") == 5);
  n = PruneProcessedEvents(db->pool(), absl::Now() - absl::Hours(72), 10);
  REQUIRE(n.ok());
  CHECK(*n == 0);
  CHECK(PruneProcessedEvents(db->pool(), absl::Now(), 0).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("A started consumer prunes old processed_events rows and keeps deduplicating",
          "[integration][events][consumer]") {
  auto topic = KafkaTestTopic::CreateOrFail({1, false});
  auto db = ConsumerDb();
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  InsertProcessed(db->pool(), "old.process", 12, absl::Hours(73));
  ConsumerOptions options;
  options.brokers = topic->brokers();
  options.group_id = topic->UniqueGroupId();
  options.topics = {topic->name()};
  options.consumer_name = "test.prune";
  options.prune_interval = absl::Milliseconds(50);
  auto c = IdempotentConsumer::Create(db->pool(), options,
                                      [](pqxx::work& tx, const v1::Event& e) {
                                        tx.exec_params("INSERT INTO effects VALUES ($1, $2)",
                                                       e.id(), e.test().text());
                                        return absl::OkStatus();
                                      });
  REQUIRE(c.ok());
  REQUIRE((*c)->Start().ok());
  const v1::Event event = test::TestEvent("", "k", "once", 0);
  Publish(**producer, topic->name(), {event, event});  // a duplicate: handled once
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((ProcessedRows(db->pool(), "old.process") > 0 ||
          (*c)->HandledCount() + (*c)->DuplicateCount() < 2) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // polling for the thread's progress, bounded
  }
  CHECK((*c)->Stop().ok());
  CHECK(ProcessedRows(db->pool(), "old.process") == 0);
  CHECK((*c)->HandledCount() == 1);
  CHECK((*c)->DuplicateCount() == 1);
  CHECK(ProcessedRows(db->pool(), "test.prune") == 1);  // its own recent row stays
  CHECK(Effects(db->pool()) == 1);
}

}  // namespace
}  // namespace switchboard::events
