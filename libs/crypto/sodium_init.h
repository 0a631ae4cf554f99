// Internal to sb_crypto: initialises libsodium exactly once per process.
#pragma once

namespace switchboard::crypto::internal {

// Calls sodium_init() once (std::call_once). Aborts if libsodium cannot initialise (no
// randomness source), since nothing built on it could be trusted.
void EnsureSodiumInitialized();

}  // namespace switchboard::crypto::internal
