#include "libs/common/health_watcher.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"

namespace switchboard {

HealthWatcher::HealthWatcher(std::string dependency, std::function<bool()> probe,
                             absl::Duration interval, std::function<void(bool)> on_change)
    : dependency_(std::move(dependency)),
      probe_(std::move(probe)),
      interval_(interval),
      on_change_(std::move(on_change)),
      thread_([this] { Loop(); }) {}

HealthWatcher::~HealthWatcher() { Stop(); }

void HealthWatcher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HealthWatcher::Loop() {
  std::optional<bool> last;
  while (true) {
    const bool healthy = probe_();
    if (!last.has_value() || *last != healthy) {
      if (!healthy) log::Warn(absl::StrCat(dependency_, " unreachable: NOT_SERVING"));
      if (healthy && last.has_value()) {
        log::Info(absl::StrCat(dependency_, " reachable again: SERVING"));
      }
      on_change_(healthy);
      last = healthy;
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), interval_)) return;
  }
}

}  // namespace switchboard
