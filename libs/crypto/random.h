// Cryptographically secure randomness from the kernel CSPRNG (getrandom). Thread-safe. Aborts
// the process if the kernel cannot supply randomness (a broken invariant, not an error path).
#pragma once

#include <cstddef>
#include <string>

namespace switchboard::crypto {

// `n` random bytes.
std::string RandomBytes(size_t n);

// `bytes` random bytes, base64url-encoded without padding (32 bytes -> 43 characters). For
// session ids, API keys, CSRF tokens, signed-URL nonces.
std::string RandomToken(size_t bytes = 32);

}  // namespace switchboard::crypto
