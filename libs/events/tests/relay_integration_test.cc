#include <csignal>
#include <map>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/events/consumer.h"
#include "libs/events/outbox.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/tests/test_util.h"
#include "libs/testing/testing.h"

namespace switchboard::events {
namespace {

using testing::KafkaTestTopic;
using testing::PgTestSchema;

std::unique_ptr<PgTestSchema> OutboxDb() {
  PgTestSchema::Options options;
  options.migrations = {{kOutboxComponent, OutboxMigrations()}};
  return PgTestSchema::CreateOrFail(options);
}

// Appends `per_key` events for each of `keys` aggregates, interleaved, in transactions of 10.
void AppendEvents(db::Pool& pool, const std::string& topic, int keys, int per_key) {
  std::vector<v1::Event> all;
  for (int i = 0; i < per_key; ++i) {
    for (int k = 0; k < keys; ++k) {
      all.push_back(test::TestEvent("", "key-" + std::to_string(k), "e", i));
    }
  }
  for (size_t start = 0; start < all.size(); start += 10) {
    REQUIRE(pool.Unscoped([&](pqxx::work& tx) -> absl::Status {
                  for (size_t i = start; i < std::min(all.size(), start + 10); ++i) {
                    absl::Status s = AppendToOutbox(tx, topic, all[i]);
                    if (!s.ok()) return s;
                  }
                  return absl::OkStatus();
                }).ok());
  }
}

// key -> sequence numbers in the order they were read (records come ordered per partition).
std::map<std::string, std::vector<int64_t>> SequencesByKey(
    const std::vector<testing::KafkaRecord>& records) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& r : records) {
    v1::Event e;
    REQUIRE(e.ParseFromString(r.value));
    CHECK(e.aggregate_id() == r.key);
    out[r.key].push_back(e.test().sequence());
  }
  return out;
}

int PendingRows(db::Pool& pool) {
  auto n = pool.UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM outbox")[0][0].as<int>();
  });
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("The relay thread publishes in order per key, woken by NOTIFY",
          "[integration][events][relay]") {
  auto topic = KafkaTestTopic::CreateOrFail({3, false});
  auto db = OutboxDb();
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  // A long poll interval: only LISTEN/NOTIFY can deliver within the test's deadline.
  OutboxRelay relay(db->pool(), **producer,
                    {.batch_size = 100, .poll_interval = absl::Seconds(60)});
  REQUIRE(relay.Start().ok());
  const absl::Time start = absl::Now();
  AppendEvents(db->pool(), topic->name(), 4, 50);  // 200 events, batches of 100
  auto records = topic->ReadAll(topic->name(), absl::Seconds(30), 200);
  relay.Stop();
  REQUIRE(records.ok());
  CHECK(absl::Now() - start < absl::Seconds(30));
  REQUIRE(records->size() == 200);
  for (const auto& [key, seqs] : SequencesByKey(*records)) {
    INFO(key);
    REQUIRE(seqs.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(seqs[i] == i);
  }
  CHECK(PendingRows(db->pool()) == 0);
  CHECK(relay.PublishedForTest() == 200);
}

TEST_CASE("A write that skipped the NOTIFY wakes the relay of its process",
          "[integration][events][relay]") {
  auto topic = KafkaTestTopic::CreateOrFail({1, false});
  auto db = OutboxDb();
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  // A long poll interval: only the skipped write's completion can deliver in time. The write
  // comes once the relay sleeps, having found the outbox empty.
  absl::Mutex mu;
  bool asleep = false;
  OutboxRelay relay(db->pool(), **producer,
                    {.batch_size = 100,
                     .poll_interval = absl::Minutes(2),
                     .before_sleep_hook_for_test = [&] {
                       absl::MutexLock lock(&mu);
                       asleep = true;
                     }});
  REQUIRE(relay.Start().ok());
  {
    absl::MutexLock lock(&mu);
    REQUIRE(mu.AwaitWithTimeout(absl::Condition(&asleep), absl::Seconds(30)));
  }
  OutboxNotifyThrottle& throttle = OutboxNotifyThrottle::Default();
  const absl::Time t = absl::Now();
  const absl::Time start = absl::Now();
  // A write took the NOTIFY and will not commit (it is still running, then nothing is written);
  // the next one, within the interval, skipped the NOTIFY and commits first.
  OutboxNotifyThrottle::Ticket lost = throttle.Take(topic->name(), t);
  REQUIRE(lost.notify());
  {
    OutboxNotifyThrottle::Ticket skipped = throttle.Take(topic->name(), t);
    REQUIRE_FALSE(skipped.notify());
    absl::StatusOr<OutboxRows> rows =
        EncodeOutboxRows({test::TestEvent("", "key-0", "e", 0)});
    REQUIRE(rows.ok());
    const std::string sql = absl::StrCat("WITH ", OutboxInsertCte("o", 1, "true"), " SELECT ",
                                         OutboxNotifySql("o", 5));
    REQUIRE(db->pool().InTenantAutocommit(NewUuidV7(), [&](pqxx::nontransaction& tx) {
                  pqxx::result r = tx.exec_params(sql, topic->name(), rows->ids, rows->keys,
                                                  rows->payloads, skipped.notify());
                  CHECK(r[0][0].as<int>() == 0);  // no NOTIFY
                  return absl::OkStatus();
                }).ok());
  }
  auto records = topic->ReadAll(topic->name(), absl::Seconds(30), 1);
  relay.Stop();
  REQUIRE(records.ok());
  CHECK(records->size() == 1);
  CHECK(absl::Now() - start < absl::Seconds(30));
  CHECK(PendingRows(db->pool()) == 0);
}

TEST_CASE("A relay killed between publish and mark republishes; the consumer applies once",
          "[integration][events][relay][consumer]") {
  auto topic = KafkaTestTopic::CreateOrFail({2, true});
  auto db = OutboxDb();
  REQUIRE(db->pool().Unscoped([](pqxx::work& tx) {
                tx.exec("CREATE TABLE effects (event_id uuid NOT NULL, sequence bigint)");
                return absl::OkStatus();
              }).ok());
  AppendEvents(db->pool(), topic->name(), 5, 10);  // 50 events

  // The child gets its own pool and producer (nothing Kafka-related exists in the parent yet).
  const db::PoolOptions pool_options = db->pool_options();
  const std::string brokers = topic->brokers();
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto pool = db::Pool::Create(pool_options);
    if (!pool.ok()) _exit(2);
    auto producer = Producer::Create({brokers, "doomed-relay", {}, absl::Seconds(1)});
    if (!producer.ok()) _exit(3);
    OutboxRelay relay(**pool, **producer,
                      {.batch_size = 1000, .after_publish_hook_for_test = [] { raise(SIGKILL); }});
    (void)relay.RunOnce();
    _exit(4);  // unreachable unless the hook did not run
  }
  int wstatus = 0;
  REQUIRE(waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFSIGNALED(wstatus));
  CHECK(WTERMSIG(wstatus) == SIGKILL);
  CHECK(PendingRows(db->pool()) == 50);  // published, delete rolled back by the kill

  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  OutboxRelay relay(db->pool(), **producer);
  auto n = relay.RunOnce();
  REQUIRE(n.ok());
  CHECK(*n == 50);
  CHECK(*relay.RunOnce() == 0);
  CHECK(PendingRows(db->pool()) == 0);

  auto records = topic->ReadAll(topic->name(), absl::Seconds(30), 100);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 100);  // every event twice
  for (const auto& [key, seqs] : SequencesByKey(*records)) {
    INFO(key);
    REQUIRE(seqs.size() == 20);
    for (int i = 0; i < 20; ++i) CHECK(seqs[i] == i % 10);
  }

  ConsumerOptions options;
  options.brokers = topic->brokers();
  options.group_id = topic->UniqueGroupId();
  options.topics = {topic->name()};
  options.consumer_name = "test.effects";
  auto consumer = IdempotentConsumer::Create(
      db->pool(), options, [](pqxx::work& tx, const v1::Event& e) {
        tx.exec_params("INSERT INTO effects VALUES ($1, $2)", e.id(), e.test().sequence());
        return absl::OkStatus();
      });
  REQUIRE(consumer.ok());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((*consumer)->HandledCount() + (*consumer)->DuplicateCount() < 100 &&
         absl::Now() < deadline) {
    REQUIRE((*consumer)->PollOnce(absl::Milliseconds(200)).ok());
  }
  CHECK((*consumer)->HandledCount() == 50);
  CHECK((*consumer)->DuplicateCount() == 50);
  CHECK((*consumer)->Stop().ok());
  auto effects = db->pool().UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(*) FROM effects")[0][0].as<int>();
  });
  auto distinct = db->pool().UnscopedOr<int>([](pqxx::work& tx) -> absl::StatusOr<int> {
    return tx.exec("SELECT count(DISTINCT event_id) FROM effects")[0][0].as<int>();
  });
  CHECK(*effects == 50);
  CHECK(*distinct == 50);
}

TEST_CASE("A relay that cannot take the schema's advisory lock leaves the outbox alone",
          "[integration][events][relay]") {
  auto topic = KafkaTestTopic::CreateOrFail({1, false});
  auto db = OutboxDb();
  AppendEvents(db->pool(), topic->name(), 2, 5);  // 10 events
  auto producer = topic->NewProducer();
  REQUIRE(producer.ok());
  OutboxRelay relay(db->pool(), **producer);
  // Another replica's relay transaction is simulated by holding the same lock on another
  // connection of the pool.
  absl::StatusOr<int> while_locked = absl::UnknownError("not run");
  REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
                tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                               "switchboard.outbox_relay." + db->pool().schema());
                while_locked = relay.RunOnce();
                return absl::OkStatus();
              }).ok());
  REQUIRE(while_locked.ok());
  CHECK(*while_locked == 0);
  CHECK(PendingRows(db->pool()) == 10);
  auto n = relay.RunOnce();
  REQUIRE(n.ok());
  CHECK(*n == 10);
  CHECK(PendingRows(db->pool()) == 0);
  auto records = topic->ReadAll(topic->name(), absl::Seconds(30), 10);
  REQUIRE(records.ok());
  CHECK(records->size() == 10);
}

}  // namespace
}  // namespace switchboard::events
