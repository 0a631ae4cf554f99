// HTTP Range (RFC 9110 §14) for the playback endpoint: one byte range against a known size.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::media {

struct ByteSpan {
  uint64_t first = 0;
  uint64_t last = 0;  // inclusive
};

// Parses "bytes=a-b", "bytes=a-" or "bytes=-n" against `total` bytes; `last` is clipped to the
// end. Returns nullopt (serve the whole item, as RFC 9110 allows) for another unit or several
// ranges; kOutOfRange (→ 416) for a malformed or unsatisfiable range (first >= total, b < a,
// a zero-length suffix, anything of an empty item).
absl::StatusOr<std::optional<ByteSpan>> ParseRange(absl::string_view header, uint64_t total);

}  // namespace switchboard::media
