#include "libs/common/config.h"

#include <cstdlib>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace switchboard {

EnvLookup ProcessEnv() {
  return [](absl::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup EnvFromMap(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](absl::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string EnvNameForFlag(absl::string_view prefix, absl::string_view flag_name) {
  return absl::AsciiStrToUpper(absl::StrCat(prefix, "_", flag_name));
}

absl::Status ApplyEnvOverrides(absl::string_view prefix, const EnvLookup& env) {
  for (auto& [name, flag] : absl::GetAllFlags()) {
    std::string env_name = EnvNameForFlag(prefix, name);
    std::optional<std::string> value = env(env_name);
    if (!value.has_value()) continue;
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", env_name, " (--", name, "): ", error));
    }
  }
  return absl::OkStatus();
}

void ParseServiceFlags(int argc, char** argv, absl::string_view usage,
                       absl::string_view source_dir) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.contains_help_flags = [dir = std::string(source_dir)](absl::string_view file) {
    return absl::StrContains(file, dir);
  };
  absl::SetFlagsUsageConfig(config);
  absl::ParseCommandLine(argc, argv);
}

absl::Status ConfigError(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("config ", key, ": ", why));
}

absl::Status RequireNonNegative(absl::string_view key, absl::Duration value) {
  if (value < absl::ZeroDuration()) return ConfigError(key, "must be >= 0");
  return absl::OkStatus();
}

absl::StatusOr<log::Level> RequireLogLevel(absl::string_view key, absl::string_view value) {
  log::Level level;
  if (!log::ParseLevel(value, &level)) {
    return ConfigError(key, absl::StrCat("'", value, "' is not debug|info|warn|error"));
  }
  return level;
}

absl::StatusOr<std::string> RequireBase64Key(absl::string_view key, absl::string_view value,
                                             size_t bytes) {
  if (value.empty()) return ConfigError(key, "must not be empty");
  std::string decoded;
  if (!absl::Base64Unescape(value, &decoded) || decoded.size() != bytes) {
    return ConfigError(key, absl::StrCat("must be the base64 encoding of exactly ", bytes, " bytes"));
  }
  return decoded;
}

absl::Status RequireNonEmpty(absl::string_view key, absl::string_view value) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat("config ", key, ": must not be empty"));
  return absl::OkStatus();
}

absl::Status RequireHostPort(absl::string_view key, absl::string_view value) {
  size_t colon = value.rfind(':');
  int port = -1;
  if (colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(value.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", key, ": '", value, "' is not host:port"));
  }
  return absl::OkStatus();
}

absl::Status RequirePositive(absl::string_view key, absl::Duration value) {
  if (value <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("config ", key, ": must be > 0"));
  }
  return absl::OkStatus();
}

absl::Status RequireInRange(absl::string_view key, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("config ", key, ": ", value, " is outside [", lo, ", ", hi, "]"));
  }
  return absl::OkStatus();
}

}  // namespace switchboard
