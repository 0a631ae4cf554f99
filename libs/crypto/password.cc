#include "libs/crypto/password.h"

#include <sodium.h>

#include <cstring>

#include "absl/status/status.h"
#include "libs/crypto/sodium_init.h"

namespace switchboard::crypto {
namespace {

struct CostParams {
  unsigned long long opslimit;
  size_t memlimit;
};

CostParams ParamsFor(PasswordCost cost) {
  switch (cost) {
    case PasswordCost::kModerate:
      return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case PasswordCost::kMinimalForTests:
      return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    case PasswordCost::kInteractive:
      break;
  }
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

// libsodium wants a NUL-terminated encoded hash that fits crypto_pwhash_STRBYTES.
bool CopyEncoded(absl::string_view encoded_hash, char (&out)[crypto_pwhash_STRBYTES]) {
  if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES) return false;
  if (encoded_hash.find('\0') != absl::string_view::npos) return false;
  std::memcpy(out, encoded_hash.data(), encoded_hash.size());
  out[encoded_hash.size()] = '\0';
  return true;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password, PasswordCost cost) {
  if (password.empty()) return absl::InvalidArgumentError("password: must not be empty");
  if (password.size() > kMaxPasswordBytes) {
    return absl::InvalidArgumentError("password: longer than 1024 bytes");
  }
  internal::EnsureSodiumInitialized();
  const CostParams params = ParamsFor(cost);
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.opslimit,
                            params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    // The only documented failure is running out of memory for memlimit.
    return absl::ResourceExhaustedError("password hash: out of memory");
  }
  return std::string(out);
}

bool VerifyPassword(absl::string_view encoded_hash, absl::string_view password) {
  if (password.empty() || password.size() > kMaxPasswordBytes) return false;
  char encoded[crypto_pwhash_STRBYTES];
  if (!CopyEncoded(encoded_hash, encoded)) return false;
  // Only Argon2id hashes are ours; refuse anything else (e.g. argon2i) explicitly.
  if (std::strncmp(encoded, "$argon2id$", 10) != 0) return false;
  internal::EnsureSodiumInitialized();
  return crypto_pwhash_str_verify(encoded, password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(absl::string_view encoded_hash, PasswordCost cost) {
  char encoded[crypto_pwhash_STRBYTES];
  if (!CopyEncoded(encoded_hash, encoded)) return true;
  internal::EnsureSodiumInitialized();
  const CostParams params = ParamsFor(cost);
  // 0: matches; 1: different parameters; -1: malformed or another algorithm. Both of the
  // latter mean "re-hash with the current settings".
  return crypto_pwhash_str_needs_rehash(encoded, params.opslimit, params.memlimit) != 0;
}

}  // namespace switchboard::crypto
