// Access tokens and signing keys: issues ES256 JWTs with the newest signing key, verifies them
// against every published key, rotates keys. Keys live in the IdentityStore (private PEM
// sealed with AES-256-GCM under the key-encryption key, aad = kid) so every replica signs and
// verifies with the same set. Part of the domain core: no I/O beyond the store interface.
//
// Key lifetime: the newest unretired key signs. Rotation retires the previous key; a retired
// key stays published (GetVerificationKeys) and trusted until retired_at + access_token_ttl +
// 1 minute, so tokens it signed stay valid until they expire.
//
// Replicas: the key set is cached and reloaded from the store every `key_cache_ttl`, and at
// once (at most once a second) when a token names an unknown kid.
//
// Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "libs/crypto/jwt.h"
#include "services/identity/model.h"
#include "services/identity/store.h"

namespace switchboard::identity {

struct TokenOptions {
  std::string issuer = "switchboard-identity";
  absl::Duration access_token_ttl = absl::Minutes(15);
  // Raw 32-byte AES-256 key sealing the private keys at rest.
  std::string key_encryption_key;
  absl::Duration key_cache_ttl = absl::Seconds(30);
};

struct AccessToken {
  std::string token;
  std::string token_id;
  absl::Time expires_at;
};

struct PublishedKey {
  std::string kid;
  std::string algorithm;
  std::string public_pem;
  std::string jwk_json;
  absl::Time created_at;
  std::optional<absl::Time> retired_at;
};

struct KeyRotation {
  std::string new_kid;
  std::string previous_kid;
};

class TokenService {
 public:
  // kInvalidArgument naming "key_encryption_key" unless it is 32 bytes, "issuer" when empty.
  static absl::StatusOr<std::unique_ptr<TokenService>> Create(IdentityStore& store,
                                                              const Clock& clock,
                                                              TokenOptions options);

  // Creates the first signing key when the store has none (startup). Store errors pass through.
  [[nodiscard]] absl::Status EnsureSigningKey();

  // A token for `user` (sub = user id, cid, role) with an optional scope list.
  // kFailedPrecondition when no signing key exists; store errors pass through.
  absl::StatusOr<AccessToken> Issue(const User& user, const std::vector<std::string>& scopes = {});

  // kUnauthenticated (reason from crypto::JwtVerifier) for malformed, tampered, expired,
  // wrongly-issued tokens or unknown keys.
  absl::StatusOr<crypto::Claims> Verify(absl::string_view token);

  // Generates a new key, stores it (sealed) and retires the current one.
  absl::StatusOr<KeyRotation> Rotate();

  // The keys tokens may currently be verified with, newest first.
  absl::StatusOr<std::vector<PublishedKey>> PublishedKeys();

  const TokenOptions& options() const { return options_; }

 private:
  struct KeyCache {
    absl::Time loaded_at = absl::InfinitePast();
    std::optional<crypto::SigningKey> active;
    std::vector<PublishedKey> published;
  };

  TokenService(IdentityStore& store, const Clock& clock, TokenOptions options);
  // Reloads when stale (or `force` and the last load is older than a second).
  [[nodiscard]] absl::Status Reload(bool force) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<crypto::SigningKey> NewKey();
  // Generates a key, stores it sealed under the master key (retiring the others when asked),
  // and reloads the key set. Returns the new kid.
  absl::StatusOr<std::string> StoreNewKey(bool retire_others);
  void Invalidate() ABSL_LOCKS_EXCLUDED(mu_);

  IdentityStore& store_;
  const Clock& clock_;
  const TokenOptions options_;
  crypto::JwtVerifier verifier_;
  absl::Mutex mu_;
  KeyCache cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace switchboard::identity
