// AES-256-GCM authenticated encryption (OpenSSL EVP). Used for envelope encryption of stored
// audio, transcripts and message bodies (ARCHITECTURE.md §5). Thread-safe.
//
// Sealed format: nonce (12 bytes, random) || ciphertext (same length as plaintext) || tag (16).
// A random 96-bit nonce is safe for up to 2^32 messages per key; rotate data keys well before.
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::crypto {

inline constexpr size_t kAesGcmKeyBytes = 32;
inline constexpr size_t kAesGcmNonceBytes = 12;
inline constexpr size_t kAesGcmTagBytes = 16;

// Encrypts `plaintext` and authenticates it together with `aad` (additional data bound to the
// ciphertext but not encrypted, e.g. "company_id|object_id"). Returns kInvalidArgument naming
// "key" unless `key32` is exactly 32 bytes; kInternal if OpenSSL fails.
absl::StatusOr<std::string> AesGcmSeal(absl::string_view key32, absl::string_view plaintext,
                                       absl::string_view aad);

// Decrypts and authenticates the output of AesGcmSeal. Returns kInvalidArgument naming "key"
// for a wrong key size or naming "sealed" when shorter than nonce + tag; kDataLoss when
// authentication fails (wrong key, wrong aad, or tampered data). Never returns unauthenticated
// plaintext.
absl::StatusOr<std::string> AesGcmOpen(absl::string_view key32, absl::string_view sealed,
                                       absl::string_view aad);

}  // namespace switchboard::crypto
