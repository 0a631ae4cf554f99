// Configuration: every setting is an ABSL_FLAG with a safe default; an environment variable
// <PREFIX>_<FLAG NAME IN UPPER CASE> overrides it (Helm sets env). Called once from a service's
// Load<Service>Config(), never below main.
#pragma once

#include "absl/strings/string_view.h"
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "libs/common/log.h"

namespace switchboard {

using EnvLookup = std::function<std::optional<std::string>(absl::string_view name)>;

// Reads the process environment.
EnvLookup ProcessEnv();

// Looks names up in a fixed map (tests, and tools that assemble a configuration themselves).
EnvLookup EnvFromMap(std::map<std::string, std::string> vars);

// The environment variable that overrides `flag_name`: ("identity", "pg_dsn") -> IDENTITY_PG_DSN.
std::string EnvNameForFlag(absl::string_view prefix, absl::string_view flag_name);

// For every registered absl flag, applies <PREFIX>_<FLAG> from `env` when set. Returns
// InvalidArgument naming the variable and the flag when a value does not parse.
[[nodiscard]] absl::Status ApplyEnvOverrides(absl::string_view prefix, const EnvLookup& env);

// Parses the command line for a service binary: `usage` is the --help text, and --help lists
// only the flags defined in files whose path contains `source_dir` ("services/identity/").
// Call first thing in main.
void ParseServiceFlags(int argc, char** argv, absl::string_view usage,
                       absl::string_view source_dir);

// kInvalidArgument "config <key>: <why>".
[[nodiscard]] absl::Status ConfigError(absl::string_view key, absl::string_view why);

// Validation helpers for Load*Config(); each error names `key`.
[[nodiscard]] absl::Status RequireNonEmpty(absl::string_view key, absl::string_view value);
// "host:port" with a port in 0..65535 (0 = pick a free port).
[[nodiscard]] absl::Status RequireHostPort(absl::string_view key, absl::string_view value);
[[nodiscard]] absl::Status RequirePositive(absl::string_view key, absl::Duration value);
[[nodiscard]] absl::Status RequireNonNegative(absl::string_view key, absl::Duration value);
// "debug" | "info" | "warn" | "error".
[[nodiscard]] absl::StatusOr<log::Level> RequireLogLevel(absl::string_view key,
                                                         absl::string_view value);
// A non-empty base64 value decoding to exactly `bytes` bytes (an AES-256 key: 32). The error
// never echoes the value: it is a secret.
[[nodiscard]] absl::StatusOr<std::string> RequireBase64Key(absl::string_view key,
                                                           absl::string_view value, size_t bytes);
[[nodiscard]] absl::Status RequireInRange(absl::string_view key, int64_t value, int64_t lo, int64_t hi);

}  // namespace switchboard
