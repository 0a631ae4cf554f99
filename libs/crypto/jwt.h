// ES256 JSON Web Tokens (RFC 7515/7519; ECDSA P-256 + SHA-256, signature in JOSE form R||S,
// 64 bytes, not DER). `identity` signs short-lived access tokens with a SigningKey and
// publishes the public half (PEM or JWK); `gateway` and services verify locally with a
// JwtVerifier, without a network hop.
//
// Token layout:
//   header  {"alg":"ES256","typ":"JWT","kid":"<kid>"}
//   payload {"iss","sub","cid","role","scope":"a b c","jti","iat","exp"}  (iat/exp in seconds)
#pragma once

#include <cstddef>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "nlohmann/json.hpp"

namespace switchboard::crypto {

namespace internal_jwt {
struct KeyImpl;      // wraps an OpenSSL EVP_PKEY; defined in jwt.cc
class TokenCache;    // verified-token cache; defined in jwt.cc
struct KeySet;       // the trusted keys of a JwtVerifier; defined in jwt.cc
}  // namespace internal_jwt

class VerificationKey;
struct Claims;

// An EC P-256 private key with its key id. Cheap to copy (the key is shared and immutable);
// all const methods are thread-safe.
class SigningKey {
 public:
  // A fresh random P-256 key. Returns kInvalidArgument naming "kid" when `kid` is empty,
  // kInternal if OpenSSL fails.
  static absl::StatusOr<SigningKey> Generate(std::string kid);
  // Parses a PEM private key (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY"). Returns
  // kInvalidArgument naming "kid" when empty, or naming "pem" when the PEM does not parse or is
  // not an EC P-256 key.
  static absl::StatusOr<SigningKey> FromPrivatePem(std::string kid, absl::string_view pem);

  const std::string& kid() const { return kid_; }
  // PKCS#8 PEM of the private key. Secret: never log it.
  std::string PrivatePem() const;
  // SubjectPublicKeyInfo PEM ("PUBLIC KEY") of the public half.
  std::string PublicPem() const;
  // The public half as a JWK: {"kty":"EC","crv":"P-256","x","y","kid","alg":"ES256","use":"sig"}
  // (x, y base64url without padding, 32 bytes each). Put it in a JWKS {"keys":[...]}.
  nlohmann::json PublicJwk() const;
  // PublicJwk() serialised compactly.
  std::string PublicJwkJson() const;
  // The public half, ready for a JwtVerifier.
  VerificationKey PublicKey() const;

 private:
  friend absl::StatusOr<std::string> SignJwt(const SigningKey&, const Claims&);
  SigningKey(std::string kid, std::shared_ptr<const internal_jwt::KeyImpl> key)
      : kid_(std::move(kid)), key_(std::move(key)) {}

  std::string kid_;
  std::shared_ptr<const internal_jwt::KeyImpl> key_;
};

// An EC P-256 public key with its key id. Cheap to copy; thread-safe.
class VerificationKey {
 public:
  // Parses a SubjectPublicKeyInfo PEM ("PUBLIC KEY"). Returns kInvalidArgument naming "kid"
  // when empty, or naming "pem" when it does not parse or is not an EC P-256 key.
  static absl::StatusOr<VerificationKey> FromPublicPem(std::string kid, absl::string_view pem);
  // Parses one JWK as published by SigningKey::PublicJwk (kty EC, crv P-256, x, y, kid).
  // Returns kInvalidArgument naming "jwk" when malformed or not a P-256 point.
  static absl::StatusOr<VerificationKey> FromJwk(absl::string_view jwk_json);

  const std::string& kid() const { return kid_; }
  std::string PublicPem() const;

 private:
  friend class SigningKey;
  friend class JwtVerifier;
  VerificationKey(std::string kid, std::shared_ptr<const internal_jwt::KeyImpl> key)
      : kid_(std::move(kid)), key_(std::move(key)) {}

  std::string kid_;
  std::shared_ptr<const internal_jwt::KeyImpl> key_;
};

// What an access token asserts about its bearer.
struct Claims {
  std::string issuer;               // iss
  std::string subject;              // sub: the user id
  std::string company_id;           // cid
  std::string role;                 // role: owner | admin | office | tech
  std::vector<std::string> scopes;  // scope: space-separated in the token
  std::string token_id;             // jti
  absl::Time issued_at;             // iat (whole seconds)
  absl::Time expires_at;            // exp (whole seconds)
};

// Signs `claims` with `key` (header kid = key.kid()). Times are truncated to whole seconds.
// Returns kInvalidArgument naming the field when issuer or subject is empty, when a scope is
// empty or contains a space, or when expires_at is not after issued_at; kInternal if OpenSSL
// fails.
absl::StatusOr<std::string> SignJwt(const SigningKey& key, const Claims& claims);

struct JwtVerifierOptions {
  // Required value of "iss".
  std::string issuer;
  // Tolerated clock skew for exp and iat.
  absl::Duration leeway = absl::Seconds(30);
  // Maximum number of verified tokens remembered (see JwtVerifier). 0 disables the cache.
  size_t cache_capacity = 100000;
};

// Verifies ES256 access tokens against a set of trusted keys. Thread-safe: Verify() may run on
// any number of threads concurrently with each other and with SetKeys().
//
// Verified-token cache. A raw ES256 verification costs ~70 µs, too slow for a gateway that
// sees the same few thousand live tokens over and over. Like Envoy's jwt_authn `jwt_cache`,
// the verifier remembers tokens whose SIGNATURE it has already verified: keyed by SHA-256 of
// the exact token bytes, valued by the parsed claims and the key generation that verified them.
// A cache hit skips only the signature check; expiry, not-yet-valid and issuer are checked
// against the clock on every call, and the entry is used only if the key set that verified it
// is still the current one. SetKeys() clears the cache, so tokens of a removed key stop
// verifying immediately. The cache is sharded (16 shards, each a hash map under its own
// mutex); a full shard first drops its expired entries and, if still full, is cleared. Failed
// verifications are never cached.
class JwtVerifier {
 public:
  // `clock` must outlive the verifier. Starts with no trusted keys (every token fails with
  // "unknown kid" until SetKeys()).
  JwtVerifier(const Clock& clock, JwtVerifierOptions options);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // Replaces the trusted set (keys are matched by kid; a later duplicate kid wins) and clears
  // the cache.
  void SetKeys(std::vector<VerificationKey> keys);

  // Returns the claims of a valid token, or kUnauthenticated with a short reason:
  // "malformed token", "unsupported alg" (anything but ES256, including "none" and HS256),
  // "unknown kid", "bad signature", "token expired" (exp + leeway <= now), "token not yet valid"
  // (iat - leeway > now, or nbf - leeway > now), "wrong issuer". Never crashes on garbage.
  absl::StatusOr<Claims> Verify(absl::string_view token) const;

  // Number of cached tokens (for tests and metrics).
  size_t CacheSizeForTest() const;

 private:
  std::shared_ptr<const internal_jwt::KeySet> CurrentKeys() const;

  const Clock& clock_;
  const JwtVerifierOptions options_;
  mutable absl::Mutex keys_mu_;
  std::shared_ptr<const internal_jwt::KeySet> keys_ ABSL_GUARDED_BY(keys_mu_);
  // Generation of keys_, readable without the lock on the cache-hit path. Cache entries
  // record the generation that verified them and are ignored once it changes.
  std::atomic<uint64_t> generation_{0};
  std::unique_ptr<internal_jwt::TokenCache> cache_;
};

}  // namespace switchboard::crypto
