#include "services/media/playback_range.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace switchboard::media {

absl::StatusOr<std::optional<ByteSpan>> ParseRange(absl::string_view header, uint64_t total) {
  absl::string_view spec = header;
  if (!absl::ConsumePrefix(&spec, "bytes=")) return std::optional<ByteSpan>();
  if (spec.find(',') != absl::string_view::npos) return std::optional<ByteSpan>();
  const size_t dash = spec.find('-');
  if (dash == absl::string_view::npos) return absl::OutOfRangeError("malformed range");
  const absl::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {  // suffix: the last n bytes
    uint64_t n = 0;
    if (!absl::SimpleAtoi(b, &n) || n == 0 || total == 0) {
      return absl::OutOfRangeError("unsatisfiable range");
    }
    first = n >= total ? 0 : total - n;
    last = total - 1;
  } else {
    if (!absl::SimpleAtoi(a, &first)) return absl::OutOfRangeError("malformed range");
    if (b.empty()) {
      last = total == 0 ? 0 : total - 1;
    } else if (!absl::SimpleAtoi(b, &last) || last < first) {
      return absl::OutOfRangeError("malformed range");
    }
    if (first >= total) return absl::OutOfRangeError("unsatisfiable range");
    if (last >= total) last = total - 1;
  }
  return std::optional<ByteSpan>(ByteSpan{first, last});
}

}  // namespace switchboard::media
