// Ed25519 signatures (libsodium). Verification checks Telnyx webhook signatures; generation and
// signing serve the carrier emulator and tests. Thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace switchboard::crypto {

inline constexpr size_t kEd25519PublicKeyBytes = 32;
// libsodium's secret key layout: 32-byte seed followed by the 32-byte public key.
inline constexpr size_t kEd25519SecretKeyBytes = 64;
inline constexpr size_t kEd25519SignatureBytes = 64;

struct Ed25519KeyPair {
  std::string public_key;  // 32 raw bytes
  std::string secret_key;  // 64 raw bytes (seed || public key)
};

// A fresh random key pair.
Ed25519KeyPair Ed25519Generate();

// Detached 64-byte signature of `message`. Returns an empty string if `secret_key` is not
// kEd25519SecretKeyBytes long (callers hold keys they generated, so this is a programming error
// they can still detect).
std::string Ed25519Sign(absl::string_view secret_key, absl::string_view message);

// True only when `signature64` is a valid signature of `message` by `public_key32`. Wrong
// sizes and garbage give false, never a crash.
bool Ed25519Verify(absl::string_view public_key32, absl::string_view message,
                   absl::string_view signature64);

}  // namespace switchboard::crypto
