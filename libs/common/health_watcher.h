// Watches one dependency (Postgres, Kafka, ...) from a background thread so a service reports
// NOT_SERVING while it is unreachable and SERVING again when it returns.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "libs/common/periodic.h"

namespace switchboard {

// Calls `probe` at once and then every `interval` on its own thread; on the first result and
// whenever the result flips, logs it and calls `on_change(healthy)` (from that thread).
// Stop() is idempotent and joins; the destructor stops. `probe` and `on_change` must stay valid
// until Stop() returns.
class HealthWatcher {
 public:
  HealthWatcher(std::string dependency, std::function<bool()> probe, absl::Duration interval,
                std::function<void(bool)> on_change);
  ~HealthWatcher();
  HealthWatcher(const HealthWatcher&) = delete;
  HealthWatcher& operator=(const HealthWatcher&) = delete;

  void Stop() { task_.Stop(); }

 private:
  void Probe();

  const std::string dependency_;
  const std::function<bool()> probe_;
  const std::function<void(bool)> on_change_;
  std::optional<bool> last_;  // the task's thread only
  PeriodicTask task_;         // last: starts once the rest is built
};

}  // namespace switchboard
