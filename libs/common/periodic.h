// Runs a function at once and then every `interval` on its own thread until stopped: the loop
// behind health watchers and background sweeps (pruning, retention).
#pragma once

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace switchboard {

// `fn` runs on the task's thread, one run at a time; `interval` counts from the end of a run.
// Stop() wakes the wait at once, lets a run in progress finish, and joins; it is idempotent and
// the destructor calls it. `fn` must stay valid until Stop() returns.
class PeriodicTask {
 public:
  PeriodicTask(std::function<void()> fn, absl::Duration interval);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Stop();

 private:
  void Loop();

  const std::function<void()> fn_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace switchboard
