#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "libs/common/health_watcher.h"

namespace switchboard {
namespace {

// Collects on_change calls; WaitFor blocks (with a deadline) until n have arrived.
struct Recorder {
  absl::Mutex mu;
  std::vector<bool> changes ABSL_GUARDED_BY(mu);
  size_t want ABSL_GUARDED_BY(mu) = 0;

  bool Enough() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return changes.size() >= want; }
  void Add(bool healthy) {
    absl::MutexLock lock(&mu);
    changes.push_back(healthy);
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu);
    want = n;
    return mu.AwaitWithTimeout(absl::Condition(this, &Recorder::Enough), absl::Seconds(10));
  }
};

TEST_CASE("HealthWatcher reports the first state and every flip, then stops", "[common][health]") {
  std::atomic<bool> up{true};
  Recorder recorder;
  HealthWatcher watcher("postgres", [&] { return up.load(); }, absl::Milliseconds(1),
                        [&](bool healthy) { recorder.Add(healthy); });
  REQUIRE(recorder.WaitFor(1));
  up = false;
  REQUIRE(recorder.WaitFor(2));
  up = true;
  REQUIRE(recorder.WaitFor(3));
  watcher.Stop();
  watcher.Stop();  // idempotent
  absl::MutexLock lock(&recorder.mu);
  CHECK(recorder.changes == std::vector<bool>{true, false, true});
}

}  // namespace
}  // namespace switchboard
