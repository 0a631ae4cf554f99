// Binary-to-text encodings: standard base64 (RFC 4648 §4), base64url (RFC 4648 §5, as used by
// JWT/JWK), and lowercase hex. Pure functions, thread-safe.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::crypto {

// Standard alphabet with '=' padding.
std::string Base64Encode(absl::string_view data);
// Strict standard base64: padding required, no whitespace. Returns kInvalidArgument naming
// "base64" on any other input.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// URL-safe alphabet ('-', '_'), without padding.
std::string Base64UrlEncode(absl::string_view data);
// URL-safe alphabet; padding is optional (accepted when present and correct). Returns
// kInvalidArgument naming "base64url" on bad characters or impossible lengths.
absl::StatusOr<std::string> Base64UrlDecode(absl::string_view text);

// Lowercase hex, two characters per byte.
std::string HexEncode(absl::string_view data);

}  // namespace switchboard::crypto
