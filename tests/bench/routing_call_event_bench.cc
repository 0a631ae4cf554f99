// Routing's hot path without the carrier: HandleCallEvent through RoutingCore with real Postgres
// and Redis (fake identity/numbers ports, as the carrier-side bench covers the webhook). N calls
// to the Powers Electric main line, each Incoming -> press 1 -> Dial answered -> Completed, run
// by T threads. Prints events/s, per-event p50/p90/p99/max, and the largest serialized CallState.
// Reads SB_PG_DSN / SB_REDIS_URL (./tools/dev testenv up).
// Usage: routing_call_event_bench [calls=1000] [threads=4] [async_commit=0|1]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/testing/testing.h"
#include "services/routing/demo_flow.h"
#include "services/routing/live_ports.h"
#include "services/routing/pg_store.h"
#include "services/routing/routing_core.h"
#include "services/routing/tests/service_fakes.h"

using namespace switchboard;           // NOLINT: a standalone tool
using namespace switchboard::routing;  // NOLINT

namespace {

void Die(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = bench::IntArg(argc, argv, 1, 1000, 1);
  const int threads = bench::IntArg(argc, argv, 2, 4, 1);
  const bool async_commit = argc > 3 && std::string(argv[3]) == "1";
  auto pg = switchboard::testing::PgTestSchema::Create(
      switchboard::testing::PgTestSchema::Options{.max_size = threads + 2});
  Die(pg.status(), "postgres");
  auto ns = switchboard::testing::RedisTestNamespace::Create();
  Die(ns.status(), "redis");
  Die(MigrateRouting((*pg)->pool()), "migrate");
  auto redis = cache::RedisPool::Create(
      {.url = (*ns)->url(), .pool_size = threads + 2, .key_prefix = (*ns)->prefix()});
  Die(redis.status(), "redis pool");

  const std::string company = "bench-" + switchboard::testing::RandomSuffix();
  // Tuesday 2026-11-17 10:00 New York: business hours, Mike on call.
  FakeClock clock(absl::FromUnixSeconds(1'794'927'600));
  routing::testing::FakeNumbers numbers;
  routing::testing::FakeDirectorySource dir;
  routing::testing::FakeCompanies companies;
  dir.users[company] = routing::testing::PowersPeople();
  companies.zones[company] = "America/New_York";
  numbers.Add("+12035550100",
              ResolvedLine{.company_id = company, .line_id = "main", .flow_id = "main_line"});
  PgStore store((*pg)->pool(), "calls.v1", async_commit);
  CallStateCache state(**redis, absl::Hours(2));
  DirectoryCache directory(dir, clock, absl::Seconds(5));
  ConfigCache config(store, companies, clock, absl::Seconds(5));
  RoutingCore core(store, state, **redis, numbers, directory, config, clock);

  const rpc::Principal owner{.company_id = company, .user_id = "robert", .role = "owner"};
  const DemoConfig demo = PowersElectricDemo(routing::testing::PowersIds());
  Die(core.SaveSchedule(owner, demo.schedule).status(), "schedule");
  Die(core.SaveOnCallRotation(owner, demo.rotation).status(), "rotation");
  for (const auto& b : demo.boxes) Die(core.SaveVoicemailBox(owner, b).status(), "box");
  for (const auto& g : demo.groups) Die(core.SaveRingGroup(owner, g).status(), "group");
  v1::SaveFlowRequest save;
  *save.mutable_flow() = demo.main_flow;
  Die(core.SaveFlow(owner, save).status(), "flow");

  const rpc::Principal carrier{.company_id = company, .role = "service"};
  std::atomic<int> next{0};
  std::atomic<int> errors{0};
  absl::Mutex mu;
  std::vector<double> latencies_us;
  latencies_us.reserve(static_cast<size_t>(calls) * 4);
  size_t max_state = 0;
  const absl::Time start = absl::Now();
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&] {
      std::vector<double> mine;
      for (int i = next++; i < calls; i = next++) {
        const std::string sid = absl::StrCat("CA-bench-", i);
        const carrier::v1::CarrierEvent events[] = {
            routing::testing::Incoming(sid, "+12035550100"),
            routing::testing::Digits(sid, sid + "-d", "1"),
            routing::testing::Dial(sid, sid + "-r", carrier::v1::DIAL_ANSWERED, 30),
            routing::testing::Completed(sid, sid + "-c", 45)};
        for (const auto& e : events) {
          v1::HandleCallEventRequest req;
          *req.mutable_event() = e;
          const absl::Time t0 = absl::Now();
          auto out = core.HandleCallEvent(carrier, req);
          mine.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
          if (!out.ok()) ++errors;
        }
        if (i % 97 == 0) {
          auto cached = state.Get(sid);
          if (cached.has_value()) {
            absl::MutexLock l(&mu);
            max_state = std::max(max_state, cached->state.ByteSizeLong());
          }
        }
      }
      absl::MutexLock l(&mu);
      latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : workers) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<size_t>(p * static_cast<double>(latencies_us.size())))];
  };
  std::printf(
      "async_commit=%d calls=%d threads=%d events=%zu errors=%d time=%.2fs events/s=%.0f calls/s=%.0f\n"
      "per event (us): p50=%.0f p90=%.0f p99=%.0f max=%.0f; largest CallState %zu bytes\n",
      async_commit ? 1 : 0, calls, threads, latencies_us.size(), errors.load(), seconds,
      static_cast<double>(latencies_us.size()) / seconds, calls / seconds, pct(0.50), pct(0.90),
      pct(0.99), latencies_us.empty() ? 0.0 : latencies_us.back(), max_state);
  return errors.load() == 0 ? 0 : 1;
}
