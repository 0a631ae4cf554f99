#include "libs/common/health_watcher.h"

#include "absl/strings/str_cat.h"
#include "libs/common/log.h"

namespace switchboard {

HealthWatcher::HealthWatcher(std::string dependency, std::function<bool()> probe,
                             absl::Duration interval, std::function<void(bool)> on_change)
    : dependency_(std::move(dependency)),
      probe_(std::move(probe)),
      on_change_(std::move(on_change)),
      task_([this] { Probe(); }, interval) {}

HealthWatcher::~HealthWatcher() { Stop(); }

void HealthWatcher::Probe() {
  const bool healthy = probe_();
  if (last_.has_value() && *last_ == healthy) return;
  if (!healthy) log::Warn(absl::StrCat(dependency_, " unreachable: NOT_SERVING"));
  if (healthy && last_.has_value()) {
    log::Info(absl::StrCat(dependency_, " reachable again: SERVING"));
  }
  on_change_(healthy);
  last_ = healthy;
}

}  // namespace switchboard
