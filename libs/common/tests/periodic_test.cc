#include <atomic>

#include <catch2/catch.hpp>

#include "absl/time/clock.h"
#include "libs/common/periodic.h"

namespace switchboard {
namespace {

// Polls `done` until it holds or 10 s pass.
template <typename F>
bool Eventually(F done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST_CASE("PeriodicTask runs at once, then every interval, and stops promptly", "[unit]") {
  SECTION("a short interval: several runs") {
    std::atomic<int> runs{0};
    PeriodicTask task([&] { ++runs; }, absl::Milliseconds(1));
    CHECK(Eventually([&] { return runs.load() >= 3; }));
    task.Stop();
    const int after_stop = runs.load();
    task.Stop();  // idempotent
    CHECK(runs.load() == after_stop);
  }
  SECTION("a long interval: one run, and Stop does not wait for the next") {
    std::atomic<int> runs{0};
    const absl::Time start = absl::Now();
    {
      PeriodicTask task([&] { ++runs; }, absl::Hours(1));
      CHECK(Eventually([&] { return runs.load() == 1; }));
    }  // the destructor stops it
    CHECK(runs.load() == 1);
    CHECK(absl::Now() - start < absl::Minutes(1));
  }
}

}  // namespace
}  // namespace switchboard
