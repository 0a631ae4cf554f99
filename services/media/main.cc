// media: wiring only (STYLE §2.4). Everything a test needs lives in media_lib.
#include <atomic>

#include "libs/common/clock.h"
#include "libs/common/config.h"
#include "libs/common/log.h"
#include "libs/common/shutdown.h"
#include "libs/grpc/server.h"
#include "libs/metrics/admin_server.h"
#include "libs/metrics/registry.h"
#include "services/media/config.h"
#include "services/media/dependencies.h"
#include "services/media/media_service.h"

namespace sb = switchboard;
namespace media = switchboard::media;

int main(int argc, char** argv) {
  sb::ParseServiceFlags(
      argc, argv,
      "Switchboard media service: encrypted recordings, voicemail and greetings, signed "
      "playback. Every flag can be set as MEDIA_<FLAG> in the environment.",
      "services/media/");
  sb::BlockTerminationSignals();  // before any thread exists
  absl::StatusOr<media::MediaConfig> config = media::LoadMediaConfig();
  if (!config.ok()) return sb::ExitWithError("config", config.status());
  sb::log::Init("media", config->log_level);

  sb::metrics::Registry registry;
  auto deps = media::Dependencies::Create(*config, sb::SystemClock(), &registry);
  if (!deps.ok()) return sb::ExitWithError("startup", deps.status());
  media::MediaService service((*deps)->core());

  auto server = sb::rpc::GrpcServer::Start(
      {.address = config->grpc_address, .service_name = "media", .metrics = &registry,
       .max_receive_bytes = 8 << 20},
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
  sb::log::Info("media serving", {{"grpc_port", std::to_string((*server)->port())},
                                  {"admin_port", std::to_string((*admin)->port())},
                                  {"playback_port", std::to_string((*deps)->playback_port())}});

  const int sig = sb::WaitForTerminationSignal();
  sb::ShutdownSequence shutdown;
  shutdown.Add("NOT_SERVING", [&] {
    (*deps)->StopHealthWatcher();
    ready = false;
    (*server)->SetServing(false);
  });
  shutdown.Add("drain", [&] { absl::SleepFor(config->drain_delay); });
  shutdown.Add("grpc shutdown", [&] { (*server)->Shutdown(config->shutdown_grace); });
  shutdown.Add("stop consumer, sweeper, playback, relay; flush producer",
               [&] { (*deps)->Stop(); });
  shutdown.Add("admin stop", [&] { (*admin)->Stop(); });
  sb::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  shutdown.Run();
  return 0;
}
