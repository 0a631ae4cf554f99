// Identifiers. UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits, so ids sort by
// creation time and index well in Postgres. Thread-safe.
#pragma once

#include "absl/strings/string_view.h"
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace switchboard {

// A new UUIDv7 in canonical lowercase text form (36 chars), time taken from `now`.
std::string NewUuidV7(absl::Time now);
// Same, with the system clock.
std::string NewUuidV7();

// True when `text` is a canonical UUID (any version): 8-4-4-4-12 hex digits.
bool IsUuid(absl::string_view text);

// `n` bytes from the kernel CSPRNG (getrandom). Aborts if the kernel cannot supply them.
void FillRandom(void* out, size_t n);

}  // namespace switchboard
