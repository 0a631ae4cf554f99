#include "libs/crypto/ed25519.h"

#include <sodium.h>

#include "libs/crypto/sodium_init.h"

namespace switchboard::crypto {

static_assert(crypto_sign_PUBLICKEYBYTES == kEd25519PublicKeyBytes);
static_assert(crypto_sign_SECRETKEYBYTES == kEd25519SecretKeyBytes);
static_assert(crypto_sign_BYTES == kEd25519SignatureBytes);

Ed25519KeyPair Ed25519Generate() {
  internal::EnsureSodiumInitialized();
  Ed25519KeyPair pair;
  pair.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  pair.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(pair.public_key.data()),
                      reinterpret_cast<unsigned char*>(pair.secret_key.data()));
  return pair;
}

std::string Ed25519Sign(absl::string_view secret_key, absl::string_view message) {
  if (secret_key.size() != crypto_sign_SECRETKEYBYTES) return std::string();
  internal::EnsureSodiumInitialized();
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       reinterpret_cast<const unsigned char*>(secret_key.data()));
  return signature;
}

bool Ed25519Verify(absl::string_view public_key32, absl::string_view message,
                   absl::string_view signature64) {
  if (public_key32.size() != crypto_sign_PUBLICKEYBYTES) return false;
  if (signature64.size() != crypto_sign_BYTES) return false;
  internal::EnsureSodiumInitialized();
  return crypto_sign_verify_detached(
             reinterpret_cast<const unsigned char*>(signature64.data()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
             reinterpret_cast<const unsigned char*>(public_key32.data())) == 0;
}

}  // namespace switchboard::crypto
