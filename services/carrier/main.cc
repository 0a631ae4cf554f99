// carrier: wiring only (STYLE §2.4). Everything a test needs lives in carrier_lib.
#include <atomic>

#include "libs/common/clock.h"
#include "libs/common/config.h"
#include "libs/common/log.h"
#include "libs/common/shutdown.h"
#include "libs/grpc/server.h"
#include "libs/metrics/admin_server.h"
#include "libs/metrics/registry.h"
#include "services/carrier/carrier_service.h"
#include "services/carrier/config.h"
#include "services/carrier/dependencies.h"

namespace sb = switchboard;
namespace carrier = switchboard::carrier;

int main(int argc, char** argv) {
  // --help lists only this service's flags (they live in config.cc, not in main.cc).
  sb::ParseServiceFlags(
      argc, argv,
      "Switchboard carrier service: Twilio/Telnyx/emulator operations, webhooks, failover. "
      "Every flag can be set as CARRIER_<FLAG> in the environment.",
      "services/carrier/");
  sb::BlockTerminationSignals();  // before any thread exists
  absl::StatusOr<carrier::CarrierConfig> config = carrier::LoadCarrierConfig();
  if (!config.ok()) return sb::ExitWithError("config", config.status());
  sb::log::Init("carrier", config->log_level);

  sb::metrics::Registry registry;
  auto deps = carrier::Dependencies::Create(*config, sb::SystemClock(), registry);
  if (!deps.ok()) return sb::ExitWithError("startup", deps.status());
  carrier::CarrierService service((*deps)->core());

  auto server = sb::rpc::GrpcServer::Start(
      {.address = config->grpc_address, .service_name = "carrier", .metrics = &registry},
      {&service});
  if (!server.ok()) return sb::ExitWithError("listen", server.status());
  std::atomic<bool> ready{false};
  auto admin = sb::metrics::AdminServer::Start(
      {.address = config->admin_address, .port = config->admin_port}, registry,
      [&ready] { return ready.load(); });
  if (!admin.ok()) return sb::ExitWithError("admin", admin.status());

  (*deps)->StartHealthWatcher(absl::Seconds(3), [&](bool healthy) {
    ready = healthy;
    (*server)->SetServing(healthy);
  });
  sb::log::Info("carrier serving", {{"grpc_port", std::to_string((*server)->port())},
                                    {"admin_port", std::to_string((*admin)->port())},
                                    {"webhook_port", std::to_string((*deps)->webhook_port())}});

  const int sig = sb::WaitForTerminationSignal();
  sb::ShutdownSequence shutdown;
  shutdown.Add("NOT_SERVING", [&] {
    (*deps)->StopHealthWatcher();
    ready = false;
    (*server)->SetServing(false);
  });
  shutdown.Add("drain", [&] { absl::SleepFor(config->drain_delay); });
  shutdown.Add("grpc shutdown", [&] { (*server)->Shutdown(config->shutdown_grace); });
  shutdown.Add("stop webhooks, relay and producer", [&] { (*deps)->Stop(); });
  shutdown.Add("admin stop", [&] { (*admin)->Stop(); });
  sb::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  shutdown.Run();
  return 0;
}
