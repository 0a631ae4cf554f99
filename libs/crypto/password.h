// Password hashing with Argon2id (libsodium crypto_pwhash_str_alg, ALG_ARGON2ID13). The encoded
// hash is the PHC string ("$argon2id$v=19$m=...,t=...,p=1$salt$hash") and carries its own salt
// and cost, so it is the only thing to store. Thread-safe; libsodium is initialised once per
// process on first use.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace switchboard::crypto {

enum class PasswordCost {
  // crypto_pwhash_OPSLIMIT/MEMLIMIT_INTERACTIVE (2 passes, 64 MiB): logins.
  kInteractive,
  // crypto_pwhash_OPSLIMIT/MEMLIMIT_MODERATE (3 passes, 256 MiB): rarely-used secrets.
  kModerate,
  // The libsodium minimum (1 pass, 8 KiB). Unit tests only: never for stored passwords.
  kMinimalForTests,
};

// Longest accepted password, in bytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

// Hashes `password` with a fresh random salt. Returns kInvalidArgument naming "password" when
// it is empty or longer than kMaxPasswordBytes, kResourceExhausted when the memory for the
// chosen cost cannot be allocated.
absl::StatusOr<std::string> HashPassword(absl::string_view password,
                                         PasswordCost cost = PasswordCost::kInteractive);

// True when `password` matches `encoded_hash` (a string produced by HashPassword). False for a
// mismatch and for any malformed, empty or oversized input; never throws or crashes.
bool VerifyPassword(absl::string_view encoded_hash, absl::string_view password);

// True when `encoded_hash` was made with parameters other than `cost` (or another algorithm, or
// is malformed), so the caller should re-hash the password after a successful VerifyPassword.
bool PasswordNeedsRehash(absl::string_view encoded_hash,
                         PasswordCost cost = PasswordCost::kInteractive);

}  // namespace switchboard::crypto
