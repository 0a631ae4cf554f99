// Signal handling and ordered shutdown. main() blocks SIGTERM/SIGINT before any thread starts
// (so every thread inherits the mask), then waits for one with sigwait(): no code runs in a
// signal handler.
#pragma once

#include "absl/strings/string_view.h"
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace switchboard {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread; call first thing in main.
void BlockTerminationSignals();
// Waits until SIGTERM/SIGINT/SIGHUP arrives; returns the signal number.
int WaitForTerminationSignal();
// Logs `status` for `stage` ("config", "startup", "listen") and returns the exit code (1).
int ExitWithError(absl::string_view stage, const absl::Status& status);

// Steps run in the order they were added (NOT_SERVING, drain, stop server, close consumer,
// flush producer), each logged with its duration. Not thread-safe; used from main only.
class ShutdownSequence {
 public:
  void Add(std::string name, std::function<void()> step);
  void Run();

 private:
  std::vector<std::pair<std::string, std::function<void()>>> steps_;
};

}  // namespace switchboard
