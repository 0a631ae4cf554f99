// Carrier emulator configuration: absl flags, each overridable by CARRIER_EMULATOR_<FLAG>.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "libs/common/log.h"
#include "libs/http/server.h"
#include "tools/carrier-emulator/emulator.h"

namespace switchboard::carrier_emulator {

struct EmulatorConfig {
  http::ServerOptions server;
  EmulatorOptions emulator;
  std::string faults_file;       // JSON faults loaded at start ("" = none)
  std::string public_key_file;   // the Telnyx public key (base64) is written here ("" = none)
  std::string public_url;        // announced base URL ("" = http://<listen>:<port>)
  log::Level log_level = log::Level::kInfo;
};

// Reads the flags after ApplyEnvOverrides("CARRIER_EMULATOR", ...). kInvalidArgument naming
// the flag (or env variable) on a bad value. Never includes secrets in errors.
absl::StatusOr<EmulatorConfig> LoadEmulatorConfig();

}  // namespace switchboard::carrier_emulator
