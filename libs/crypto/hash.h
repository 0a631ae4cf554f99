// Message digests and MACs (OpenSSL). All outputs are RAW bytes; wrap with HexEncode or
// Base64Encode for text. Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace switchboard::crypto {

// SHA-256 digest, 32 raw bytes.
std::string Sha256(absl::string_view data);

// HMAC-SHA1 (20 raw bytes). Used for Twilio's X-Twilio-Signature; do not use for new designs.
std::string HmacSha1(absl::string_view key, absl::string_view data);

// HMAC-SHA256 (32 raw bytes).
std::string HmacSha256(absl::string_view key, absl::string_view data);

// Compares in time that depends only on the lengths, never on the contents (use for MACs,
// signatures and tokens). Different lengths compare unequal.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace switchboard::crypto
