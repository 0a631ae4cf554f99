#include "libs/common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace switchboard::log {
namespace {

std::string& ServiceName() {
  static std::string* name = new std::string("switchboard");
  return *name;
}
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

struct OwnedField {
  std::string key;
  std::string value;
};
thread_local std::vector<OwnedField> t_context;

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

void Init(absl::string_view service, Level min_level) {
  ServiceName() = std::string(service);
  g_min_level = static_cast<int>(min_level);
}

bool ParseLevel(absl::string_view text, Level* out) {
  if (text == "debug") *out = Level::kDebug;
  else if (text == "info") *out = Level::kInfo;
  else if (text == "warn") *out = Level::kWarn;
  else if (text == "error") *out = Level::kError;
  else return false;
  return true;
}

void AppendJsonEscaped(std::string& out, absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

void Write(Level level, absl::string_view msg, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  std::string line;
  line.reserve(160 + msg.size());
  line += "{\"ts\":\"";
  line += absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"service\":\"";
  AppendJsonEscaped(line, ServiceName());
  line += "\",\"msg\":\"";
  AppendJsonEscaped(line, msg);
  line += '"';
  auto append = [&line](absl::string_view k, absl::string_view v) {
    line += ",\"";
    AppendJsonEscaped(line, k);
    line += "\":\"";
    AppendJsonEscaped(line, v);
    line += '"';
  };
  for (const OwnedField& f : t_context) append(f.key, f.value);
  for (const Field& f : fields) append(f.key, f.value);
  line += "}\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // Nowhere to report a failing stderr.
    p += n;
    left -= static_cast<size_t>(n);
  }
}

ScopedContext::ScopedContext(std::initializer_list<Field> fields) : previous_size_(t_context.size()) {
  for (const Field& f : fields) {
    if (!f.value.empty()) t_context.push_back({std::string(f.key), f.value});
  }
}

ScopedContext::~ScopedContext() { t_context.resize(previous_size_); }

}  // namespace switchboard::log
