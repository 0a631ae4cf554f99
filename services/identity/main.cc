// identity: wiring only (STYLE §2.4). Everything a test needs lives in identity_lib.
#include <atomic>

#include "libs/common/clock.h"
#include "libs/common/config.h"
#include "libs/common/log.h"
#include "libs/common/shutdown.h"
#include "libs/grpc/server.h"
#include "libs/metrics/admin_server.h"
#include "libs/metrics/registry.h"
#include "services/identity/config.h"
#include "services/identity/dependencies.h"
#include "services/identity/identity_service.h"

namespace sb = switchboard;
namespace identity = switchboard::identity;

int main(int argc, char** argv) {
  // --help lists only this service's flags (they live in config.cc, not in main.cc).
  sb::ParseServiceFlags(
      argc, argv,
      "Switchboard identity service: companies, users, roles, tokens, API keys, devices, "
      "presence, RBAC. Every flag can be set as IDENTITY_<FLAG> in the environment.",
      "services/identity/");
  sb::BlockTerminationSignals();  // before any thread exists
  absl::StatusOr<identity::IdentityConfig> config = identity::LoadIdentityConfig();
  if (!config.ok()) return sb::ExitWithError("config", config.status());
  sb::log::Init("identity", config->log_level);

  auto deps = identity::Dependencies::Create(*config, sb::SystemClock());
  if (!deps.ok()) return sb::ExitWithError("startup", deps.status());
  identity::IdentityService service((*deps)->core());

  sb::metrics::Registry registry;
  auto server = sb::rpc::GrpcServer::Start(
      {.address = config->grpc_address, .service_name = "identity", .metrics = &registry},
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
  sb::log::Info("identity serving", {{"grpc_port", std::to_string((*server)->port())},
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
