#include "libs/common/periodic.h"

namespace switchboard {

PeriodicTask::PeriodicTask(std::function<void()> fn, absl::Duration interval)
    : fn_(std::move(fn)), interval_(interval), thread_([this] { Loop(); }) {}

PeriodicTask::~PeriodicTask() { Stop(); }

void PeriodicTask::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void PeriodicTask::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    fn_();
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
  }
}

}  // namespace switchboard
