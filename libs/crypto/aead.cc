#include "libs/crypto/aead.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "libs/crypto/random.h"

namespace switchboard::crypto {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::StatusOr<std::string> AesGcmSeal(absl::string_view key32, absl::string_view plaintext,
                                       absl::string_view aad) {
  if (key32.size() != kAesGcmKeyBytes) {
    return absl::InvalidArgumentError("key: AES-256-GCM needs a 32-byte key");
  }
  if (plaintext.size() > static_cast<size_t>(INT32_MAX) - 64 ||
      aad.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("plaintext: too large");
  }
  const std::string nonce = RandomBytes(kAesGcmNonceBytes);
  std::string out(kAesGcmNonceBytes + plaintext.size() + kAesGcmTagBytes, '\0');
  unsigned char* dst = reinterpret_cast<unsigned char*>(out.data());
  std::copy(nonce.begin(), nonce.end(), out.begin());

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key32), Bytes(nonce)) !=
          1 ||
      (!aad.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) !=
           1)) {
    return absl::InternalError("aes-gcm seal: init failed");
  }
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), dst + kAesGcmNonceBytes, &len, Bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      return absl::InternalError("aes-gcm seal: encrypt failed");
    }
    written = len;
  }
  if (EVP_EncryptFinal_ex(ctx.get(), dst + kAesGcmNonceBytes + written, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAesGcmTagBytes),
                          dst + kAesGcmNonceBytes + plaintext.size()) != 1) {
    return absl::InternalError("aes-gcm seal: finalise failed");
  }
  return out;
}

absl::StatusOr<std::string> AesGcmOpen(absl::string_view key32, absl::string_view sealed,
                                       absl::string_view aad) {
  if (key32.size() != kAesGcmKeyBytes) {
    return absl::InvalidArgumentError("key: AES-256-GCM needs a 32-byte key");
  }
  if (sealed.size() < kAesGcmNonceBytes + kAesGcmTagBytes) {
    return absl::InvalidArgumentError("sealed: shorter than nonce and tag");
  }
  if (sealed.size() > static_cast<size_t>(INT32_MAX) ||
      aad.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError("sealed: too large");
  }
  const absl::string_view nonce = sealed.substr(0, kAesGcmNonceBytes);
  const absl::string_view ciphertext = sealed.substr(
      kAesGcmNonceBytes, sealed.size() - kAesGcmNonceBytes - kAesGcmTagBytes);
  std::string tag(sealed.substr(sealed.size() - kAesGcmTagBytes));
  std::string out(ciphertext.size(), '\0');
  unsigned char* dst = reinterpret_cast<unsigned char*>(out.data());

  CtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key32), Bytes(nonce)) !=
          1 ||
      (!aad.empty() &&
       EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) !=
           1)) {
    return absl::InternalError("aes-gcm open: init failed");
  }
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx.get(), dst, &len, Bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1) {
      return absl::InternalError("aes-gcm open: decrypt failed");
    }
    written = len;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAesGcmTagBytes),
                          tag.data()) != 1) {
    return absl::InternalError("aes-gcm open: set tag failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), dst + written, &len) != 1) {
    return absl::DataLossError("aes-gcm open: authentication failed");
  }
  return out;
}

}  // namespace switchboard::crypto
