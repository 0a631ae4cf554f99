#include "libs/common/shutdown.h"

#include <csignal>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/log.h"

namespace switchboard {
namespace {
sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer closing a socket must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  log::Info("termination signal received", {{"signal", absl::StrCat(sig)}});
  return sig;
}

int ExitWithError(absl::string_view stage, const absl::Status& status) {
  log::Error(absl::StrCat(stage, " failed: ", status.ToString()), {{"stage", std::string(stage)}});
  return 1;
}

void ShutdownSequence::Add(std::string name, std::function<void()> step) {
  steps_.emplace_back(std::move(name), std::move(step));
}

void ShutdownSequence::Run() {
  for (auto& [name, step] : steps_) {
    absl::Time start = absl::Now();
    step();
    log::Info("shutdown step done",
              {{"step", name}, {"ms", absl::StrCat(absl::ToInt64Milliseconds(absl::Now() - start))}});
  }
  steps_.clear();
}

}  // namespace switchboard
