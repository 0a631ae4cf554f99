// carrier-emulator: wiring only. Everything a test needs lives in carrier_emulator_lib.
#include <fstream>
#include <sstream>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "libs/common/config.h"
#include "libs/common/log.h"
#include "libs/common/shutdown.h"
#include "tools/carrier-emulator/config.h"
#include "tools/carrier-emulator/emulator.h"

namespace sb = switchboard;
namespace ce = switchboard::carrier_emulator;

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Switchboard carrier emulator: Twilio and Telnyx REST subsets, signed webhooks, call "
      "scenarios. Every flag can be set as CARRIER_EMULATOR_<FLAG> in the environment.");
  absl::ParseCommandLine(argc, argv);
  sb::BlockTerminationSignals();
  if (auto s = sb::ApplyEnvOverrides("CARRIER_EMULATOR", sb::ProcessEnv()); !s.ok()) {
    return sb::ExitWithError("config", s);
  }
  auto config = ce::LoadEmulatorConfig();
  if (!config.ok()) return sb::ExitWithError("config", config.status());
  sb::log::Init("carrier-emulator", config->log_level);

  auto client = sb::http::CurlHttpClient::Create();
  if (!client.ok()) return sb::ExitWithError("http client", client.status());
  auto emulator = ce::CarrierEmulator::Create(config->emulator, std::move(*client));
  if (!emulator.ok()) return sb::ExitWithError("config", emulator.status());

  if (!config->faults_file.empty()) {
    std::ifstream in(config->faults_file);
    std::stringstream text;
    text << in.rdbuf();
    auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (!in || json.is_discarded()) {
      return sb::ExitWithError("faults",
                               absl::InvalidArgumentError("faults: file unreadable or not JSON"));
    }
    auto faults = ce::ParseFaults(json);
    if (!faults.ok()) return sb::ExitWithError("faults", faults.status());
    (*emulator)->AddFaults(std::move(*faults));
  }
  if (!config->public_key_file.empty()) {
    std::ofstream out(config->public_key_file, std::ios::trunc);
    out << (*emulator)->TelnyxPublicKeyBase64() << "\n";
    if (!out) {
      return sb::ExitWithError("public key",
                               absl::InvalidArgumentError("telnyx_public_key_file: not writable"));
    }
  }
  if (!config->public_url.empty()) (*emulator)->SetPublicUrl(config->public_url);
  if (auto s = (*emulator)->Start(config->server); !s.ok()) return sb::ExitWithError("listen", s);
  sb::log::Info("emulator listening", {{"port", std::to_string((*emulator)->port())},
                                       {"address", config->server.address}});
  const int sig = sb::WaitForTerminationSignal();
  sb::log::Info("shutting down", {{"signal", std::to_string(sig)}});
  (*emulator)->Stop();
  return 0;
}
