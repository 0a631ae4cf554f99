// The full hot path of an incoming call: a signed Twilio voice webhook reaches the carrier's
// listener (signature check, normalisation, dedupe + outbox in Postgres), the carrier asks
// routing.HandleCallEvent over gRPC (number resolved through numbers' cache, the company's flow,
// business hours, call state written to Redis, call-log row + calls.v1 outbox in Postgres), and
// the TwiML routing chose (the Powers Electric greeting and menu) is the webhook's answer.
//
// Starts the real stack as processes (tests/support/stack.h: emulator, identity, numbers,
// routing, carrier; ./tools/dev testenv up), seeds Powers Electric on the Twilio wire format,
// then runs `webhook_load` (a second process) against the main line: one new call per webhook,
// each from its own caller number, at a fixed rate, then at saturation. An answer that is not
// the company's greeting (e.g. the carrier's fallback voicemail) is an error, and the carrier's
// carrier_routing_fallbacks_total must stay 0. Afterwards every call is still live (no hang-up
// was sent), so the Redis memory of routing's call keys divided by their count is the memory per
// live call.
// Usage: hot_path_bench [rate=1000] [seconds=60] [saturation_seconds=20] [connections=64]
//                       [carrier_webhook_threads=0 (the service default)]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/status_macros.h"
#include "libs/testing/testing.h"
#include "tests/support/stack.h"

using namespace switchboard;  // NOLINT: a standalone tool

namespace {

// Sum of a Prometheus counter's samples (all label sets) in `text`.
double CounterSum(const std::string& text, absl::string_view name) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size() ||
        (line[name.size()] != ' ' && line[name.size()] != '{')) {
      continue;
    }
    const size_t space = line.rfind(' ');
    double v = 0;
    if (space != absl::string_view::npos && absl::SimpleAtod(line.substr(space + 1), &v)) sum += v;
  }
  return sum;
}

struct LiveCallMemory {
  int64_t calls = 0;
  int64_t redis_bytes = 0;  // MEMORY USAGE (key, value and Redis overhead)
  int64_t state_bytes = 0;  // STRLEN (the serialized CallState)
  int64_t max_state_bytes = 0;
};

absl::StatusOr<LiveCallMemory> MeasureLiveCalls(const std::string& redis_url,
                                                const std::string& prefix) {
  ASSIGN_OR_RETURN(auto redis, cache::RedisPool::Create({.url = redis_url}));
  LiveCallMemory m;
  std::string cursor = "0";
  do {
    ASSIGN_OR_RETURN(cache::Reply page,
                     redis->Command({"SCAN", cursor, "MATCH", prefix + "call:*", "COUNT", "1000"}));
    if (page.type != cache::Reply::Type::kArray || page.elements.size() != 2) {
      return absl::InternalError("unexpected SCAN reply");
    }
    cursor = page.elements[0].str;
    for (const cache::Reply& key : page.elements[1].elements) {
      ASSIGN_OR_RETURN(cache::Reply usage,
                       redis->Command({"MEMORY", "USAGE", key.str, "SAMPLES", "0"}));
      ASSIGN_OR_RETURN(cache::Reply len, redis->Command({"STRLEN", key.str}));
      ++m.calls;
      m.redis_bytes += usage.integer;
      m.state_bytes += len.integer;
      m.max_state_bytes = std::max(m.max_state_bytes, len.integer);
    }
  } while (cursor != "0");
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const int rate = bench::IntArg(argc, argv, 1, 1000, 1);
  const int seconds = bench::IntArg(argc, argv, 2, 60, 1);
  const int saturation_seconds = bench::IntArg(argc, argv, 3, 20, 0);
  const int connections = bench::IntArg(argc, argv, 4, 64, 1);
  const int webhook_threads = bench::IntArg(argc, argv, 5, 0, 0);  // 0 = the carrier's default
  auto redis_url = testing::RequireEnv("SB_REDIS_URL");
  if (!redis_url.ok()) return bench::Fail("env", redis_url.status());

  // The carrier waits for routing as long as it does in production (its default deadline).
  testing::StackOptions options{.media = false, .carrier_routing_deadline = "1500ms"};
  if (webhook_threads > 0) {
    options.carrier_env = {{"CARRIER_WEBHOOK_THREADS", std::to_string(webhook_threads)}};
  }
  auto stack = testing::Stack::Start(options);
  if (!stack.ok()) return bench::Fail("start the stack", stack.status());
  auto tenant = (*stack)->SeedPowersElectric("twilio", "415", "+1917555880");
  if (!tenant.ok()) return bench::Fail("seed", tenant.status());

  std::fprintf(stderr,
               "hot_path_bench: carrier webhooks on %s -> routing %s; main line %s; %d "
               "connections, %d calls/s for %d s, then saturation for %d s\n",
               (*stack)->public_base_url().c_str(), (*stack)->routing_address().c_str(),
               tenant->main_number.c_str(), connections, rate, seconds, saturation_seconds);
  std::vector<std::string> args = {SB_WEBHOOK_LOAD_BINARY,
                                   "--port", std::to_string((*stack)->webhook_port()),
                                   "--public_base_url", (*stack)->public_base_url(),
                                   "--auth_token", testing::kStackTwilioToken,
                                   "--account_sid", testing::kStackTwilioSid,
                                   "--to", tenant->main_number,
                                   "--expect", "Powers Electric",
                                   "--connections", std::to_string(connections),
                                   "--rate", std::to_string(rate),
                                   "--seconds", std::to_string(seconds),
                                   "--saturation_seconds", std::to_string(saturation_seconds),
                                   "--warmup", "500"};
  std::vector<char*> argv_load;
  for (auto& a : args) argv_load.push_back(a.data());
  argv_load.push_back(nullptr);
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) return bench::Fail("fork", absl::InternalError("fork failed"));
  if (pid == 0) {
    ::execv(argv_load[0], argv_load.data());
    std::perror("execv webhook_load");
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  const int load_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128;

  // The carrier's own count of calls it had to answer without routing, and where the time went.
  double fallbacks = -1;
  if (auto m = (*stack)->Metrics("carrier"); m.ok()) {
    fallbacks = CounterSum(*m, "carrier_routing_fallbacks_total");
  }
  std::printf("{\"phase\":\"server_side_means_ms\"");
  const std::pair<const char*, const char*> histograms[] = {
      {"routing", "routing_call_event_seconds"},
      {"routing", "grpc_server_handling_seconds"},
      {"numbers", "grpc_server_handling_seconds"}};
  for (const auto& [service, name] : histograms) {
    absl::StatusOr<std::string> m = (*stack)->Metrics(service);
    if (!m.ok()) continue;
    const double sum = CounterSum(*m, absl::StrCat(name, "_sum"));
    const double count = CounterSum(*m, absl::StrCat(name, "_count"));
    std::printf(",\"%s %s\":%.3f", service, name, count > 0 ? 1000 * sum / count : 0.0);
  }
  std::printf("}\n");
  auto memory = MeasureLiveCalls(*redis_url, (*stack)->routing_redis_prefix());
  if (!memory.ok()) return bench::Fail("measure live calls", memory.status());
  const double per_call =
      memory->calls > 0 ? static_cast<double>(memory->redis_bytes) / memory->calls : 0;
  std::printf(
      "{\"phase\":\"live_calls\",\"calls\":%lld,\"redis_bytes_per_call\":%.0f,"
      "\"state_bytes_avg\":%.0f,\"state_bytes_max\":%lld,\"carrier_routing_fallbacks\":%.0f}\n",
      static_cast<long long>(memory->calls), per_call,
      memory->calls > 0 ? static_cast<double>(memory->state_bytes) / memory->calls : 0.0,
      static_cast<long long>(memory->max_state_bytes), fallbacks);
  std::fflush(stdout);

  const absl::Status stopped = (*stack)->Stop();
  if (load_code != 0) {
    std::fprintf(stderr, "hot_path_bench: load generator exited %d\n%s\n", load_code,
                 (*stack)->LogTails(3000).c_str());
    return 1;
  }
  if (fallbacks != 0) {
    std::fprintf(stderr, "hot_path_bench: carrier fell back %.0f times (-1 = unknown)\n",
                 fallbacks);
    return 1;
  }
  if (!stopped.ok()) return bench::Fail("stop", stopped);
  return 0;
}
