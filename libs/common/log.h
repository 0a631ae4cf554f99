// Structured logs: one JSON object per line on stderr with ts, level, service, msg and any
// fields ("request_id", "company_id", "call_id", ...). Thread-safe; each line is one write(2) so
// lines from several threads never interleave. Never pass secrets or message bodies.
#pragma once

#include "absl/strings/string_view.h"
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchboard::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  absl::string_view key;
  std::string value;
};

// Sets the service name and the lowest level written. Call once in main before threads start.
void Init(absl::string_view service, Level min_level = Level::kInfo);
// Parses "debug" | "info" | "warn" | "error". Returns false for anything else.
bool ParseLevel(absl::string_view text, Level* out);

void Write(Level level, absl::string_view msg, std::initializer_list<Field> fields = {});
inline void Debug(absl::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(absl::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(absl::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(absl::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

// Adds fields to every line this thread writes while the object lives (the gRPC layer sets
// request_id and company_id for the duration of a call). Nests; not movable.
class ScopedContext {
 public:
  explicit ScopedContext(std::initializer_list<Field> fields);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  size_t previous_size_;
};

// Appends `s` to `out` as a JSON string body (without quotes), escaping as RFC 8259 requires.
void AppendJsonEscaped(std::string& out, absl::string_view s);

}  // namespace switchboard::log
