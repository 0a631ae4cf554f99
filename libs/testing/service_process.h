// Test support for e2e tests: a real service binary run as a child process, with its JSON log
// lines captured to a file, and helpers to talk to it over gRPC.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::testing {

struct ServiceProcessOptions {
  std::string binary;
  std::vector<std::string> args;
  // Added to (or overriding) the test's own environment.
  std::vector<std::pair<std::string, std::string>> env;
};

// Not thread-safe. The destructor SIGKILLs a child still running and reaps it.
class ServiceProcess {
 public:
  // kFailedPrecondition when the binary does not exist; kInternal when fork fails.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ServiceProcess>> Start(
      ServiceProcessOptions options);
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  // Polls the captured output until a line contains `needle`; returns that line.
  // kDeadlineExceeded after `timeout`; kFailedPrecondition when the process exited first.
  [[nodiscard]] absl::StatusOr<std::string> WaitForLogLine(absl::string_view needle,
                                                           absl::Duration timeout);
  // Sends `signal` (e.g. SIGTERM) and waits for the exit; returns the exit code (128 + signal
  // when killed by a signal). kDeadlineExceeded when it does not exit within `timeout`.
  [[nodiscard]] absl::StatusOr<int> SignalAndWait(int signal, absl::Duration timeout);
  // Waits for the process to exit by itself; same results as SignalAndWait.
  [[nodiscard]] absl::StatusOr<int> WaitForExit(absl::Duration timeout);
  bool running();
  // Everything the process wrote to stdout and stderr so far.
  std::string Output() const;
  pid_t pid() const { return pid_; }

 private:
  ServiceProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  int exit_code_ = -1;
};

// The string value of `"key":"value"` in one JSON log line, or kNotFound.
[[nodiscard]] absl::StatusOr<std::string> JsonLogField(absl::string_view line,
                                                       absl::string_view key);

// Polls grpc.health.v1.Health/Check ("" = whole server) until SERVING or `timeout`.
[[nodiscard]] absl::Status WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                                            absl::Duration timeout);

// One Check call: the ServingStatus number (1 = SERVING, 2 = NOT_SERVING) or the RPC error.
[[nodiscard]] absl::StatusOr<int> HealthStatus(const std::shared_ptr<grpc::Channel>& channel);

// The fully-qualified service names a server lists through gRPC server reflection (what
// `grpcurl list` prints), sorted.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ListServicesViaReflection(
    const std::shared_ptr<grpc::Channel>& channel);

}  // namespace switchboard::testing
