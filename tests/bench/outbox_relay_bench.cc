// End-to-end outbox relay throughput: fills an outbox with N events, then times OutboxRelay
// draining it into a real Kafka topic (every batch acked by the broker, acks=all, before it is
// marked published). Reads SB_PG_DSN / SB_KAFKA_BROKERS (./tools/dev testenv up).
// Usage: outbox_relay_bench [events=100000] [batch_size=2000] [partitions=6]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "libs/events/outbox_relay.h"
#include "libs/events/topics.h"
#include "libs/testing/testing.h"

using namespace switchboard;  // NOLINT: a standalone tool

namespace {

}  // namespace

int main(int argc, char** argv) {
  const int n = bench::IntArg(argc, argv, 1, 100000, 1);
  const int batch = bench::IntArg(argc, argv, 2, 2000, 1);
  const int partitions = bench::IntArg(argc, argv, 3, 6, 1);
  auto brokers = testing::RequireEnv("SB_KAFKA_BROKERS");
  if (!brokers.ok()) return bench::Fail("env", brokers.status());

  testing::PgTestSchema::Options pg_options;
  pg_options.migrations = {{events::kOutboxComponent, events::OutboxMigrations()}};
  auto db = testing::PgTestSchema::Create(pg_options);
  if (!db.ok()) return bench::Fail("postgres", db.status());
  const std::string topic = "bench_" + testing::RandomSuffix();
  if (auto s = events::EnsureTopics(*brokers, {topic}, partitions); !s.ok()) {
    return bench::Fail("topic", s);
  }

  // Fill: 1,000 events per transaction, 256-byte payload text, 1,000 distinct keys.
  const absl::Time fill_start = absl::Now();
  const std::string text(256, 'x');
  for (int start = 0; start < n; start += 1000) {
    absl::Status s = (*db)->pool().Unscoped([&](pqxx::work& tx) -> absl::Status {
      for (int i = start; i < std::min(n, start + 1000); ++i) {
        events::v1::Event e = events::NewEvent("bench.event", "", "agg-" + std::to_string(i % 1000),
                                               "bench", SystemClock());
        e.mutable_test()->set_text(text);
        e.mutable_test()->set_sequence(i);
        absl::Status a = events::AppendToOutbox(tx, topic, e);
        if (!a.ok()) return a;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return bench::Fail("fill", s);
  }
  const absl::Duration fill = absl::Now() - fill_start;

  auto producer = events::Producer::Create({*brokers, "outbox-relay-bench", {}, absl::Seconds(1)});
  if (!producer.ok()) return bench::Fail("producer", producer.status());
  events::OutboxRelay relay((*db)->pool(), **producer,
                            {.batch_size = batch, .flush_timeout = absl::Seconds(60)});
  // Warm-up: metadata, connections, idempotent producer id (not timed; one small batch).
  if (auto s = (*producer)->Produce(topic, "warmup", "w"); !s.ok()) return bench::Fail("warmup", s);
  if (auto s = (*producer)->Flush(absl::Seconds(30)); !s.ok()) return bench::Fail("warmup", s);

  const absl::Time start = absl::Now();
  int64_t published = 0;
  while (published < n) {
    auto k = relay.RunOnce();
    if (!k.ok()) return bench::Fail("relay", k.status());
    if (*k == 0) break;
    published += *k;
  }
  const absl::Duration took = absl::Now() - start;
  (void)events::DeleteTopics(*brokers, {topic});
  const double rate = static_cast<double>(published) / absl::ToDoubleSeconds(took);
  std::printf(
      "outbox_relay_bench: events=%lld batch_size=%d partitions=%d payload~%zuB\n"
      "  fill:  %.2f s (%.0f events/s appended)\n"
      "  relay: %.2f s -> %.0f events/s published and acked (target >= 20000)\n",
      static_cast<long long>(published), batch, partitions, text.size() + 80,
      absl::ToDoubleSeconds(fill), n / absl::ToDoubleSeconds(fill), absl::ToDoubleSeconds(took),
      rate);
  return published == n ? 0 : 1;
}
