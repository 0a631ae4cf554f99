#include "libs/metrics/registry.h"

#include <algorithm>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

namespace switchboard::metrics {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("Counter and gauge exposition", "[metrics][registry]") {
  Registry registry;
  Counter& twilio = registry.GetCounter("webhooks_total", "Webhooks received.",
                                        {{"provider", "twilio"}, {"result", "ok"}});
  Counter& telnyx = registry.GetCounter("webhooks_total", "ignored second help",
                                        {{"result", "ok"}, {"provider", "telnyx"}});
  twilio.Inc();
  twilio.Inc(2);
  telnyx.Inc(0.5);
  twilio.Inc(-5);  // ignored: counters never go down
  Gauge& queue = registry.GetGauge("queue_depth", "Calls waiting.");
  queue.Set(7);
  queue.Dec(2);
  queue.Inc();

  CHECK(registry.Exposition() ==
        "# HELP queue_depth Calls waiting.\n"
        "# TYPE queue_depth gauge\n"
        "queue_depth 6\n"
        "# HELP webhooks_total Webhooks received.\n"
        "# TYPE webhooks_total counter\n"
        "webhooks_total{provider=\"telnyx\",result=\"ok\"} 0.5\n"
        "webhooks_total{provider=\"twilio\",result=\"ok\"} 3\n");
}

TEST_CASE("The same name and labels return the same series", "[metrics][registry]") {
  Registry registry;
  Counter& a = registry.GetCounter("c_total", "h", {{"x", "1"}});
  Counter& b = registry.GetCounter("c_total", "h", {{"x", "1"}});
  CHECK(&a == &b);
  Counter& c = registry.GetCounter("c_total", "h", {{"x", "2"}});
  CHECK(&a != &c);
}

TEST_CASE("Histogram buckets are cumulative with _sum and _count", "[metrics][registry]") {
  Registry registry;
  Histogram& h = registry.GetHistogram("rpc_seconds", "RPC latency.", {0.25, 1, 10},
                                       {{"method", "Route"}});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.5);
  h.Observe(20);
  CHECK(registry.Exposition() ==
        "# HELP rpc_seconds RPC latency.\n"
        "# TYPE rpc_seconds histogram\n"
        "rpc_seconds_bucket{method=\"Route\",le=\"0.25\"} 2\n"
        "rpc_seconds_bucket{method=\"Route\",le=\"1\"} 3\n"
        "rpc_seconds_bucket{method=\"Route\",le=\"10\"} 3\n"
        "rpc_seconds_bucket{method=\"Route\",le=\"+Inf\"} 4\n"
        "rpc_seconds_sum{method=\"Route\"} 20.875\n"
        "rpc_seconds_count{method=\"Route\"} 4\n");
  CHECK(Contains(registry.Exposition(), "# TYPE rpc_seconds histogram"));
}

TEST_CASE("Default latency buckets span 0.5 ms to 10 s", "[metrics][registry]") {
  const std::vector<double>& b = DefaultLatencyBuckets();
  REQUIRE(b.size() >= 10);
  CHECK(b.front() == 0.0005);
  CHECK(b.back() == 10);
  CHECK(std::is_sorted(b.begin(), b.end()));
}

TEST_CASE("Label values and help text are escaped", "[metrics][registry]") {
  Registry registry;
  registry.GetCounter("esc_total", "Help with \\ and\nnewline \"quoted\".",
                      {{"v", "a\"b\\c\nd"}})
      .Inc();
  CHECK(registry.Exposition() ==
        "# HELP esc_total Help with \\\\ and\\nnewline \"quoted\".\n"
        "# TYPE esc_total counter\n"
        "esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST_CASE("Concurrent updates from many threads sum exactly", "[metrics][registry]") {
  Registry registry;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry] {
      // Lookups race with updates on purpose: the registry must hand out the same series.
      Counter& counter = registry.GetCounter("hits_total", "Hits.", {{"k", "v"}});
      Gauge& gauge = registry.GetGauge("level", "Level.");
      Histogram& histogram = registry.GetHistogram("lat_seconds", "Latency.", {0.5});
      for (int i = 0; i < kPerThread; ++i) {
        counter.Inc();
        gauge.Inc();
        histogram.Observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(registry.GetCounter("hits_total", "Hits.", {{"k", "v"}}).Value() ==
        kThreads * kPerThread);
  CHECK(registry.GetGauge("level", "Level.").Value() == kThreads * kPerThread);
  Histogram::Snapshot snap = registry.GetHistogram("lat_seconds", "Latency.", {0.5}).Snap();
  CHECK(snap.count == static_cast<uint64_t>(kThreads * kPerThread));
  CHECK(snap.cumulative[0] == static_cast<uint64_t>(kThreads * kPerThread / 2));
  CHECK(snap.sum == Approx(kThreads * kPerThread / 2 * 1.25));
}

TEST_CASE("Misuse yields a working but unexported metric", "[metrics][registry]") {
  Registry registry;
  registry.GetCounter("dup", "A counter.").Inc();

  SECTION("same name with another type") {
    Gauge& g = registry.GetGauge("dup", "A gauge.");
    g.Set(5);
    CHECK(g.Value() == 5);
  }
  SECTION("invalid metric name") { registry.GetCounter("bad-name", "x").Inc(); }
  SECTION("invalid label name") { registry.GetCounter("ok_total", "x", {{"__x", "1"}}).Inc(); }
  SECTION("le label on a histogram") {
    registry.GetHistogram("h_seconds", "x", {1}, {{"le", "1"}}).Observe(1);
  }
  SECTION("unsorted buckets") { registry.GetHistogram("h2_seconds", "x", {2, 1}).Observe(1); }
  CHECK(registry.Exposition() ==
        "# HELP dup A counter.\n"
        "# TYPE dup counter\n"
        "dup 1\n");
}

}  // namespace
}  // namespace switchboard::metrics
