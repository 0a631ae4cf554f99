#include "libs/testing/service_process.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <grpcpp/impl/codegen/rpc_method.h>
#include <grpcpp/impl/codegen/sync_stream.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "switchboard/testing/v1/reflection_mirror.pb.h"

namespace switchboard::testing {
namespace {

constexpr absl::Duration kPollEvery = absl::Milliseconds(20);

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceProcess>> ServiceProcess::Start(
    ServiceProcessOptions options) {
  if (access(options.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("service binary ", options.binary, " is missing: build it first"));
  }
  char dir_template[] = "/tmp/sb-service-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return absl::InternalError("mkdtemp failed");
  std::string log_path = absl::StrCat(dir_template, "/output.log");
  int log_fd = open(log_path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("cannot open ", log_path));

  std::vector<std::string> argv_storage = {options.binary};
  argv_storage.insert(argv_storage.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    // Child: only async-signal-safe work plus setenv before exec.
    for (const auto& [k, v] : options.env) setenv(k.c_str(), v.c_str(), 1);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    // The test may block signals for its own threads; the service must start with none blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  return std::unique_ptr<ServiceProcess>(new ServiceProcess(pid, std::move(log_path)));
}

ServiceProcess::~ServiceProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

bool ServiceProcess::running() {
  if (exit_code_ >= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  return r == 0;
}

std::string ServiceProcess::Output() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::StatusOr<std::string> ServiceProcess::WaitForLogLine(absl::string_view needle,
                                                           absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    // Check liveness before reading so a line written just before exiting is still seen.
    bool alive = running();
    for (absl::string_view line : absl::StrSplit(Output(), '\n')) {
      if (absl::StrContains(line, needle)) return std::string(line);
    }
    if (!alive) {
      return absl::FailedPreconditionError(absl::StrCat(
          "process exited with code ", exit_code_, " before logging '", needle, "'"));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("no log line with '", needle, "'"));
    }
    absl::SleepFor(kPollEvery);
  }
}

absl::StatusOr<int> ServiceProcess::WaitForExit(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (running()) {
    if (absl::Now() > deadline) return absl::DeadlineExceededError("process still running");
    absl::SleepFor(kPollEvery);
  }
  return exit_code_;
}

absl::StatusOr<int> ServiceProcess::SignalAndWait(int signal, absl::Duration timeout) {
  if (running()) kill(pid_, signal);
  return WaitForExit(timeout);
}

absl::StatusOr<std::string> JsonLogField(absl::string_view line, absl::string_view key) {
  std::string pattern = absl::StrCat("\"", key, "\":\"");
  size_t at = line.find(pattern);
  if (at == absl::string_view::npos) return absl::NotFoundError(absl::StrCat("no field ", key));
  size_t start = at + pattern.size();
  size_t end = line.find('"', start);
  if (end == absl::string_view::npos) return absl::NotFoundError(absl::StrCat("bad field ", key));
  return std::string(line.substr(start, end - start));
}

absl::StatusOr<int> HealthStatus(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status s = stub->Check(&context, request, &response);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return static_cast<int>(response.status());
}

absl::Status WaitUntilServing(const std::shared_ptr<grpc::Channel>& channel,
                              absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::UnavailableError("not checked");
  while (absl::Now() < deadline) {
    absl::StatusOr<int> status = HealthStatus(channel);
    if (status.ok() && *status == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    last = status.ok() ? absl::UnavailableError(absl::StrCat("health status ", *status))
                       : status.status();
    absl::SleepFor(kPollEvery);
  }
  return absl::DeadlineExceededError(absl::StrCat("not SERVING: ", last.ToString()));
}

absl::StatusOr<std::vector<std::string>> ListServicesViaReflection(
    const std::shared_ptr<grpc::Channel>& channel) {
  using Request = switchboard::testing::v1::ServerReflectionRequest;
  using Response = switchboard::testing::v1::ServerReflectionResponse;
  // The generated reflection stub is not installed; drive the bidi method with wire-compatible
  // mirror messages instead.
  grpc::internal::RpcMethod method(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::BIDI_STREAMING, channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::unique_ptr<grpc::ClientReaderWriter<Request, Response>> stream(
      grpc::internal::ClientReaderWriterFactory<Request, Response>::Create(channel.get(), method,
                                                                           &context));
  Request request;
  request.set_list_services("*");
  Response response;
  if (!stream->Write(request) || !stream->Read(&response)) {
    grpc::Status s = stream->Finish();
    return absl::UnavailableError(absl::StrCat("reflection stream: ", s.error_message()));
  }
  stream->WritesDone();
  grpc::Status finished = stream->Finish();
  if (!finished.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(finished.error_code()),
                        finished.error_message());
  }
  std::vector<std::string> names;
  for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace switchboard::testing
