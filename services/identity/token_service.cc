#include "services/identity/token_service.h"

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/aead.h"

namespace switchboard::identity {
namespace {

// A retired key stays trusted this long after its last token could have expired.
constexpr absl::Duration kRetiredKeyGrace = absl::Minutes(1);

}  // namespace

absl::StatusOr<std::unique_ptr<TokenService>> TokenService::Create(IdentityStore& store,
                                                                   const Clock& clock,
                                                                   TokenOptions options) {
  if (options.key_encryption_key.size() != crypto::kAesGcmKeyBytes) {
    return absl::InvalidArgumentError("key_encryption_key: must be 32 bytes");
  }
  if (options.issuer.empty()) return absl::InvalidArgumentError("issuer: must not be empty");
  if (options.access_token_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("access_token_ttl: must be > 0");
  }
  return std::unique_ptr<TokenService>(new TokenService(store, clock, std::move(options)));
}

TokenService::TokenService(IdentityStore& store, const Clock& clock, TokenOptions options)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      verifier_(clock, crypto::JwtVerifierOptions{.issuer = options_.issuer}) {}

void TokenService::Invalidate() {
  absl::MutexLock lock(&mu_);
  cache_.loaded_at = absl::InfinitePast();
}

absl::StatusOr<crypto::SigningKey> TokenService::NewKey() {
  return crypto::SigningKey::Generate(absl::StrCat("k-", NewUuidV7(clock_.Now())));
}

absl::StatusOr<std::string> TokenService::StoreNewKey(bool retire_others) {
  ASSIGN_OR_RETURN(crypto::SigningKey key, NewKey());
  ASSIGN_OR_RETURN(std::string sealed,
                   crypto::AesGcmSeal(options_.key_encryption_key, key.PrivatePem(), key.kid()));
  SigningKeyRecord record{.kid = key.kid(),
                          .algorithm = "ES256",
                          .public_pem = key.PublicPem(),
                          .sealed_private_pem = std::move(sealed),
                          .created_at = clock_.Now(),
                          .retired_at = std::nullopt};
  RETURN_IF_ERROR(Annotate(store_.InsertSigningKey(record, retire_others), "store signing key"));
  Invalidate();
  RETURN_IF_ERROR(Reload(/*force=*/true));
  return key.kid();
}

absl::Status TokenService::EnsureSigningKey() {
  ASSIGN_OR_RETURN(std::vector<SigningKeyRecord> keys, store_.ListSigningKeys());
  for (const SigningKeyRecord& k : keys) {
    if (!k.retired_at.has_value()) return Reload(/*force=*/true);
  }
  return StoreNewKey(/*retire_others=*/false).status();
}

absl::Status TokenService::Reload(bool force) {
  const absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mu_);
    const absl::Duration age = now - cache_.loaded_at;
    if (force ? age < absl::Seconds(1) : age < options_.key_cache_ttl) return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::vector<SigningKeyRecord> records, store_.ListSigningKeys());
  KeyCache fresh;
  fresh.loaded_at = now;
  std::vector<crypto::VerificationKey> trusted;
  for (const SigningKeyRecord& r : records) {  // newest first
    if (r.retired_at.has_value() &&
        *r.retired_at + options_.access_token_ttl + kRetiredKeyGrace <= now) {
      continue;
    }
    absl::StatusOr<std::string> pem =
        crypto::AesGcmOpen(options_.key_encryption_key, r.sealed_private_pem, r.kid);
    if (!pem.ok()) {
      // Wrong key_encryption_key or a tampered row: an operator's fault, never a client's.
      return absl::FailedPreconditionError(absl::StrCat(
          "signing key ", r.kid, " cannot be decrypted with key_encryption_key: ",
          pem.status().message()));
    }
    ASSIGN_OR_RETURN(crypto::SigningKey key, crypto::SigningKey::FromPrivatePem(r.kid, *pem));
    trusted.push_back(key.PublicKey());
    fresh.published.push_back(PublishedKey{.kid = r.kid,
                                           .algorithm = r.algorithm,
                                           .public_pem = r.public_pem,
                                           .jwk_json = key.PublicJwkJson(),
                                           .created_at = r.created_at,
                                           .retired_at = r.retired_at});
    if (!fresh.active.has_value() && !r.retired_at.has_value()) fresh.active = std::move(key);
  }
  absl::MutexLock lock(&mu_);
  cache_ = std::move(fresh);
  verifier_.SetKeys(std::move(trusted));
  return absl::OkStatus();
}

absl::StatusOr<AccessToken> TokenService::Issue(const User& user,
                                                const std::vector<std::string>& scopes) {
  RETURN_IF_ERROR(Reload(/*force=*/false));
  std::optional<crypto::SigningKey> key;
  {
    absl::MutexLock lock(&mu_);
    key = cache_.active;
  }
  if (!key.has_value()) return absl::FailedPreconditionError("no signing key configured");
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now()));
  crypto::Claims claims{.issuer = options_.issuer,
                        .subject = user.id,
                        .company_id = user.company_id,
                        .role = std::string(RoleName(user.role)),
                        .scopes = scopes,
                        .token_id = NewUuidV7(now),
                        .issued_at = now,
                        .expires_at = now + options_.access_token_ttl};
  ASSIGN_OR_RETURN(std::string token, crypto::SignJwt(*key, claims));
  return AccessToken{std::move(token), claims.token_id, claims.expires_at};
}

absl::StatusOr<crypto::Claims> TokenService::Verify(absl::string_view token) {
  RETURN_IF_ERROR(Reload(/*force=*/false));
  absl::StatusOr<crypto::Claims> claims = verifier_.Verify(token);
  if (!claims.ok() && claims.status().message() == "unknown kid") {
    // Another replica may have rotated: look again before refusing.
    RETURN_IF_ERROR(Reload(/*force=*/true));
    claims = verifier_.Verify(token);
  }
  return claims;
}

absl::StatusOr<KeyRotation> TokenService::Rotate() {
  ASSIGN_OR_RETURN(std::vector<SigningKeyRecord> existing, store_.ListSigningKeys());
  std::string previous;
  for (const SigningKeyRecord& k : existing) {  // newest first
    if (!k.retired_at.has_value()) {
      previous = k.kid;
      break;
    }
  }
  ASSIGN_OR_RETURN(std::string kid, StoreNewKey(/*retire_others=*/true));
  return KeyRotation{kid, previous};
}

absl::StatusOr<std::vector<PublishedKey>> TokenService::PublishedKeys() {
  RETURN_IF_ERROR(Reload(/*force=*/false));
  absl::MutexLock lock(&mu_);
  return cache_.published;
}

}  // namespace switchboard::identity
