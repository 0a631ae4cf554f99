#include "tools/carrier-emulator/config.h"

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/config.h"
#include "libs/crypto/encoding.h"

ABSL_FLAG(std::string, listen_address, "127.0.0.1", "Address to listen on");
ABSL_FLAG(int, port, 0, "TCP port (0 = pick a free one; logged as \"emulator listening\")");
ABSL_FLAG(int, threads, 4, "HTTP io threads (a Twilio scenario holds one while it runs)");
ABSL_FLAG(std::string, public_url, "",
          "Base URL the emulator announces (recording URLs); default http://<address>:<port>");
ABSL_FLAG(std::string, twilio_account_sid, "AC00000000000000000000000000000001",
          "Twilio account SID (AC + 32 chars)");
ABSL_FLAG(std::string, twilio_auth_token, "emulator-twilio-auth-token",
          "Twilio auth token (Basic auth password; signs webhooks)");
ABSL_FLAG(std::string, telnyx_api_key, "KEYemulator-telnyx-api-key", "Telnyx API key (Bearer)");
ABSL_FLAG(std::string, telnyx_public_key, "",
          "Telnyx webhook Ed25519 public key, base64 of 32 bytes (empty with the secret: "
          "generate a pair)");
ABSL_FLAG(std::string, telnyx_secret_key, "",
          "Telnyx webhook Ed25519 secret key, base64 of libsodium's 64 bytes");
ABSL_FLAG(std::string, telnyx_public_key_file, "",
          "Write the Telnyx webhook public key (base64) to this file at start");
ABSL_FLAG(std::string, webhook_base_url, "",
          "Default webhook base URL for numbers without their own URLs");
ABSL_FLAG(std::string, failing_numbers, "",
          "Comma-separated E.164 numbers whose outbound messages fail");
ABSL_FLAG(std::string, faults, "", "JSON file with faults to inject from the start");
ABSL_FLAG(int, webhook_timeout_ms, 5000, "Timeout of one webhook exchange");
ABSL_FLAG(int, scenario_timeout_ms, 20000, "Real-time bound of a Telnyx call scenario");
ABSL_FLAG(std::string, log_level, "info", "debug|info|warn|error");

namespace switchboard::carrier_emulator {

absl::StatusOr<EmulatorConfig> LoadEmulatorConfig() {
  EmulatorConfig config;
  config.server.address = absl::GetFlag(FLAGS_listen_address);
  config.server.port = absl::GetFlag(FLAGS_port);
  config.server.threads = absl::GetFlag(FLAGS_threads);
  if (auto s = RequireInRange("port", config.server.port, 0, 65535); !s.ok()) return s;
  if (auto s = RequireInRange("threads", config.server.threads, 1, 64); !s.ok()) return s;
  EmulatorOptions& e = config.emulator;
  e.twilio_account_sid = absl::GetFlag(FLAGS_twilio_account_sid);
  e.twilio_auth_token = absl::GetFlag(FLAGS_twilio_auth_token);
  e.telnyx_api_key = absl::GetFlag(FLAGS_telnyx_api_key);
  const std::string pub = absl::GetFlag(FLAGS_telnyx_public_key);
  const std::string sec = absl::GetFlag(FLAGS_telnyx_secret_key);
  if (!pub.empty() || !sec.empty()) {
    auto p = crypto::Base64Decode(pub);
    auto s = crypto::Base64Decode(sec);
    if (!p.ok() || !s.ok()) {
      return absl::InvalidArgumentError(
          "telnyx_public_key/telnyx_secret_key: both required, standard base64");
    }
    e.telnyx_public_key = *p;
    e.telnyx_secret_key = *s;
  }
  e.webhook_base_url = absl::GetFlag(FLAGS_webhook_base_url);
  for (absl::string_view n : absl::StrSplit(absl::GetFlag(FLAGS_failing_numbers), ',',
                                            absl::SkipWhitespace())) {
    e.failing_numbers.emplace_back(n);
  }
  if (auto s = RequireInRange("webhook_timeout_ms", absl::GetFlag(FLAGS_webhook_timeout_ms), 1,
                              600000);
      !s.ok()) {
    return s;
  }
  if (auto s = RequireInRange("scenario_timeout_ms", absl::GetFlag(FLAGS_scenario_timeout_ms),
                              1, 3600000);
      !s.ok()) {
    return s;
  }
  e.webhook_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_webhook_timeout_ms));
  e.scenario_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_scenario_timeout_ms));
  config.faults_file = absl::GetFlag(FLAGS_faults);
  config.public_key_file = absl::GetFlag(FLAGS_telnyx_public_key_file);
  config.public_url = absl::GetFlag(FLAGS_public_url);
  if (!log::ParseLevel(absl::GetFlag(FLAGS_log_level), &config.log_level)) {
    return absl::InvalidArgumentError("log_level: must be debug, info, warn or error");
  }
  return config;
}

}  // namespace switchboard::carrier_emulator
