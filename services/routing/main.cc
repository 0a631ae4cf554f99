// routing: wiring only (STYLE §2.4). Everything a test needs lives in routing_lib.
#include <atomic>

#include "libs/common/clock.h"
#include "libs/common/config.h"
#include "libs/common/log.h"
#include "libs/common/shutdown.h"
#include "libs/grpc/server.h"
#include "libs/metrics/admin_server.h"
#include "libs/metrics/registry.h"
#include "services/routing/config.h"
#include "services/routing/dependencies.h"
#include "services/routing/routing_service.h"

namespace sb = switchboard;
namespace routing = switchboard::routing;

int main(int argc, char** argv) {
  // --help lists only this service's flags (they live in config.cc, not in main.cc).
  sb::ParseServiceFlags(
      argc, argv,
      "Switchboard routing service: call flows, ring groups, voicemail boxes, schedules, "
      "on-call rotations, the live call engine and the call log. Every flag can be set as "
      "ROUTING_<FLAG> in the environment.",
      "services/routing/");
  sb::BlockTerminationSignals();  // before any thread exists
  absl::StatusOr<routing::RoutingConfig> config = routing::LoadRoutingConfig();
  if (!config.ok()) return sb::ExitWithError("config", config.status());
  sb::log::Init("routing", config->log_level);

  sb::metrics::Registry registry;
  auto deps = routing::Dependencies::Create(*config, sb::SystemClock(), &registry);
  if (!deps.ok()) return sb::ExitWithError("startup", deps.status());
  routing::RoutingService service((*deps)->core());

  auto server = sb::rpc::GrpcServer::Start(
      {.address = config->grpc_address, .service_name = "routing", .metrics = &registry},
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
  sb::log::Info("routing serving", {{"grpc_port", std::to_string((*server)->port())},
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
  shutdown.Add("stop relay and flush producer", [&] { (*deps)->Stop(); });
  shutdown.Add("admin stop", [&] { (*admin)->Stop(); });
  sb::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  shutdown.Run();
  return 0;
}
