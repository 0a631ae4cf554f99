// numbers: wiring only (STYLE §2.4). Everything a test needs lives in numbers_lib.
#include <atomic>

#include "libs/common/clock.h"
#include "libs/common/config.h"
#include "libs/common/log.h"
#include "libs/common/shutdown.h"
#include "libs/grpc/server.h"
#include "libs/metrics/admin_server.h"
#include "libs/metrics/registry.h"
#include "services/numbers/config.h"
#include "services/numbers/dependencies.h"
#include "services/numbers/numbers_service.h"

namespace sb = switchboard;
namespace numbers = switchboard::numbers;

int main(int argc, char** argv) {
  // --help lists only this service's flags (they live in config.cc, not in main.cc).
  sb::ParseServiceFlags(
      argc, argv,
      "Switchboard numbers service: search, provision, lines, release, port-in and the "
      "routing lookup of business numbers. Every flag can be set as NUMBERS_<FLAG> in the "
      "environment.",
      "services/numbers/");
  sb::BlockTerminationSignals();  // before any thread exists
  absl::StatusOr<numbers::NumbersConfig> config = numbers::LoadNumbersConfig();
  if (!config.ok()) return sb::ExitWithError("config", config.status());
  sb::log::Init("numbers", config->log_level);

  auto deps = numbers::Dependencies::Create(*config, sb::SystemClock());
  if (!deps.ok()) return sb::ExitWithError("startup", deps.status());
  numbers::NumbersService service((*deps)->core());

  sb::metrics::Registry registry;
  auto server = sb::rpc::GrpcServer::Start(
      {.address = config->grpc_address, .service_name = "numbers", .metrics = &registry},
      {&service});
  if (!server.ok()) return sb::ExitWithError("listen", server.status());
  std::atomic<bool> ready{false};
  auto admin = sb::metrics::AdminServer::Start(
      {.address = config->admin_address, .port = config->admin_port}, registry,
      [&ready] { return ready.load(); });
  if (!admin.ok()) return sb::ExitWithError("admin", admin.status());

  // Serving follows Postgres reachability (a cheap SELECT 1 every 3 s); the first ping flips
  // it on.
  (*deps)->StartHealthWatcher(absl::Seconds(3), [&](bool healthy) {
    ready = healthy;
    (*server)->SetServing(healthy);
  });
  sb::log::Info("numbers serving", {{"grpc_port", std::to_string((*server)->port())},
                                    {"admin_port", std::to_string((*admin)->port())}});

  const int sig = sb::WaitForTerminationSignal();
  sb::ShutdownSequence shutdown;
  shutdown.Add("NOT_SERVING", [&] {
    (*deps)->StopHealthWatcher();  // so nothing flips it back to SERVING
    ready = false;
    (*server)->SetServing(false);
  });
  shutdown.Add("drain", [&] { absl::SleepFor(config->drain_delay); });
  shutdown.Add("grpc shutdown", [&] { (*server)->Shutdown(config->shutdown_grace); });
  shutdown.Add("stop consumers, relay and flush producer", [&] { (*deps)->Stop(); });
  shutdown.Add("admin stop", [&] { (*admin)->Stop(); });
  sb::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  shutdown.Run();
  return 0;
}
