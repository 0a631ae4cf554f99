#include "libs/crypto/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/crypto/encoding.h"

namespace switchboard::crypto {
namespace internal_jwt {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct KeyImpl {
  PkeyPtr pkey;
};

struct KeySet {
  uint64_t generation = 0;
  absl::flat_hash_map<std::string, std::shared_ptr<const KeyImpl>> by_kid;
};

// One verified token: what a cache hit needs to re-check time and issuer without the
// signature.
struct CacheEntry {
  Claims claims;
  std::optional<absl::Time> not_before;
  uint64_t generation = 0;
};

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

class TokenCache {
 public:
  explicit TokenCache(size_t capacity)
      : per_shard_capacity_(capacity == 0 ? 0 : std::max<size_t>(1, capacity / kShards)) {}

  bool enabled() const { return per_shard_capacity_ > 0; }

  std::optional<CacheEntry> Find(const Digest& key) const {
    const Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return std::nullopt;
    return it->second;
  }

  // When the shard is full, entries already expired at `now` (exp + leeway) go first.
  void Insert(const Digest& key, CacheEntry entry, absl::Time now, absl::Duration leeway) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    if (shard.map.size() >= per_shard_capacity_ && !shard.map.contains(key)) {
      absl::erase_if(shard.map, [&](const auto& kv) {
        return kv.second.claims.expires_at + leeway <= now;
      });
      // All live: drop the shard (1/16 of the cache) rather than pay for LRU bookkeeping on
      // every hit; the dropped tokens are simply verified again.
      if (shard.map.size() >= per_shard_capacity_) shard.map.clear();
    }
    shard.map.insert_or_assign(key, std::move(entry));
  }

  void Clear() {
    for (Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      shard.map.clear();
    }
  }

  size_t Size() const {
    size_t n = 0;
    for (const Shard& shard : shards_) {
      absl::MutexLock lock(&shard.mu);
      n += shard.map.size();
    }
    return n;
  }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<Digest, CacheEntry> map ABSL_GUARDED_BY(mu);
  };
  // The digest is uniformly distributed, so its first byte picks the shard.
  const Shard& ShardFor(const Digest& key) const { return shards_[key[0] % kShards]; }
  Shard& ShardFor(const Digest& key) { return shards_[key[0] % kShards]; }

  const size_t per_shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace internal_jwt

namespace {

using internal_jwt::KeyImpl;
using internal_jwt::PkeyPtr;

constexpr size_t kCoordinateBytes = 32;
constexpr size_t kSignatureBytes = 64;
// Tokens larger than this are rejected before any parsing (ours are ~500 bytes).
constexpr size_t kMaxTokenBytes = 16 * 1024;

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
struct SigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using SigPtr = std::unique_ptr<ECDSA_SIG, SigDeleter>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// OpenSSL keeps a per-thread error queue; drop what a failed call left so it cannot be
// misattributed later.
absl::Status OpenSslError(absl::StatusCode code, absl::string_view what) {
  ERR_clear_error();
  return absl::Status(code, what);
}

// Refuses encrypted PEMs instead of prompting on the terminal (OpenSSL's default).
int NoPassword(char*, int, int, void*) { return 0; }

bool IsP256(EVP_PKEY* pkey) {
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &len) != 1) {
    return false;
  }
  const absl::string_view name(group, len);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

std::string BioToString(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
}

std::string PublicPemOf(EVP_PKEY* pkey) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    ERR_clear_error();
    return std::string();
  }
  return BioToString(bio.get());
}

std::optional<std::string> CoordinateOf(EVP_PKEY* pkey, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, param, &raw) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  BnPtr bn(raw);
  std::string out(kCoordinateBytes, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   static_cast<int>(kCoordinateBytes)) != static_cast<int>(kCoordinateBytes)) {
    return std::nullopt;
  }
  return out;
}

// ECDSA over SHA-256, converted from OpenSSL's DER to JOSE's fixed-width R||S.
absl::StatusOr<std::string> SignEs256(EVP_PKEY* pkey, absl::string_view input) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_len, Bytes(input), input.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "es256 sign: init failed");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     Bytes(input), input.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "es256 sign: failed");
  }
  const unsigned char* p = Bytes(der);
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (sig == nullptr) return OpenSslError(absl::StatusCode::kInternal, "es256 sign: bad DER");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(kSignatureBytes, '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(r, dst, kCoordinateBytes) != static_cast<int>(kCoordinateBytes) ||
      BN_bn2binpad(s, dst + kCoordinateBytes, kCoordinateBytes) !=
          static_cast<int>(kCoordinateBytes)) {
    return OpenSslError(absl::StatusCode::kInternal, "es256 sign: encode failed");
  }
  return out;
}

bool VerifyEs256(EVP_PKEY* pkey, absl::string_view input, absl::string_view jose_sig) {
  if (jose_sig.size() != kSignatureBytes) return false;
  BnPtr r(BN_bin2bn(Bytes(jose_sig), kCoordinateBytes, nullptr));
  BnPtr s(BN_bin2bn(Bytes(jose_sig) + kCoordinateBytes, kCoordinateBytes, nullptr));
  SigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr ||
      ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  r.release();  // now owned by sig
  s.release();
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) {
    ERR_clear_error();
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx != nullptr &&
                  EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
                  EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len), Bytes(input),
                                   input.size()) == 1;
  OPENSSL_free(der);
  if (!ok) ERR_clear_error();
  return ok;
}

// JSON numeric date (seconds since the epoch); fractions are truncated.
std::optional<absl::Time> NumericDate(const nlohmann::json& j) {
  if (j.is_number_integer()) return absl::FromUnixSeconds(j.get<int64_t>());
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) return std::nullopt;
    return absl::FromUnixSeconds(static_cast<int64_t>(d));
  }
  return std::nullopt;
}

std::optional<std::string> OptionalString(const nlohmann::json& obj, const char* name,
                                          bool required) {
  auto it = obj.find(name);
  if (it == obj.end()) return required ? std::nullopt : std::optional<std::string>("");
  if (!it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

absl::Status Unauthenticated(absl::string_view reason) {
  return absl::UnauthenticatedError(reason);
}

// Parses the payload of a token whose signature has been checked.
std::optional<internal_jwt::CacheEntry> ParsePayload(absl::string_view payload_json) {
  nlohmann::json j = nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  internal_jwt::CacheEntry entry;
  Claims& c = entry.claims;
  auto iss = OptionalString(j, "iss", true);
  auto sub = OptionalString(j, "sub", true);
  auto cid = OptionalString(j, "cid", false);
  auto role = OptionalString(j, "role", false);
  auto jti = OptionalString(j, "jti", false);
  auto scope = OptionalString(j, "scope", false);
  if (!iss || !sub || !cid || !role || !jti || !scope) return std::nullopt;
  c.issuer = std::move(*iss);
  c.subject = std::move(*sub);
  c.company_id = std::move(*cid);
  c.role = std::move(*role);
  c.token_id = std::move(*jti);
  for (absl::string_view s : absl::StrSplit(*scope, ' ', absl::SkipEmpty())) {
    c.scopes.emplace_back(s);
  }
  auto exp_it = j.find("exp");
  if (exp_it == j.end()) return std::nullopt;
  auto exp = NumericDate(*exp_it);
  if (!exp) return std::nullopt;
  c.expires_at = *exp;
  c.issued_at = absl::InfinitePast();
  if (auto iat_it = j.find("iat"); iat_it != j.end()) {
    auto iat = NumericDate(*iat_it);
    if (!iat) return std::nullopt;
    c.issued_at = *iat;
  }
  if (auto nbf_it = j.find("nbf"); nbf_it != j.end()) {
    auto nbf = NumericDate(*nbf_it);
    if (!nbf) return std::nullopt;
    entry.not_before = *nbf;
  }
  return entry;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SigningKey

absl::StatusOr<SigningKey> SigningKey::Generate(std::string kid) {
  if (kid.empty()) return absl::InvalidArgumentError("kid: must not be empty");
  PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (pkey == nullptr) return OpenSslError(absl::StatusCode::kInternal, "es256: keygen failed");
  auto impl = std::make_shared<KeyImpl>();
  impl->pkey = std::move(pkey);
  return SigningKey(std::move(kid), std::move(impl));
}

absl::StatusOr<SigningKey> SigningKey::FromPrivatePem(std::string kid, absl::string_view pem) {
  if (kid.empty()) return absl::InvalidArgumentError("kid: must not be empty");
  if (pem.empty() || pem.size() > 64 * 1024) {
    return absl::InvalidArgumentError("pem: empty or too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "pem: not a PEM private key");
  }
  if (!IsP256(pkey.get())) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "pem: not an EC P-256 key");
  }
  auto impl = std::make_shared<KeyImpl>();
  impl->pkey = std::move(pkey);
  return SigningKey(std::move(kid), std::move(impl));
}

std::string SigningKey::PrivatePem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), key_->pkey.get(), nullptr, nullptr,
                                                 0, nullptr, nullptr) != 1) {
    ERR_clear_error();
    return std::string();
  }
  return BioToString(bio.get());
}

std::string SigningKey::PublicPem() const { return PublicPemOf(key_->pkey.get()); }

nlohmann::json SigningKey::PublicJwk() const {
  const std::optional<std::string> x = CoordinateOf(key_->pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X);
  const std::optional<std::string> y = CoordinateOf(key_->pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y);
  return nlohmann::json{{"kty", "EC"},
                        {"crv", "P-256"},
                        {"x", Base64UrlEncode(x.value_or(""))},
                        {"y", Base64UrlEncode(y.value_or(""))},
                        {"kid", kid_},
                        {"alg", "ES256"},
                        {"use", "sig"}};
}

std::string SigningKey::PublicJwkJson() const {
  return PublicJwk().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

VerificationKey SigningKey::PublicKey() const {
  // Sharing the private EVP_PKEY is fine: verification only reads its public half.
  return VerificationKey(kid_, key_);
}

// ---------------------------------------------------------------------------------------------
// VerificationKey

absl::StatusOr<VerificationKey> VerificationKey::FromPublicPem(std::string kid,
                                                               absl::string_view pem) {
  if (kid.empty()) return absl::InvalidArgumentError("kid: must not be empty");
  if (pem.empty() || pem.size() > 64 * 1024) {
    return absl::InvalidArgumentError("pem: empty or too large");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassword, nullptr) : nullptr);
  if (pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "pem: not a PEM public key");
  }
  if (!IsP256(pkey.get())) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "pem: not an EC P-256 key");
  }
  auto impl = std::make_shared<KeyImpl>();
  impl->pkey = std::move(pkey);
  return VerificationKey(std::move(kid), std::move(impl));
}

absl::StatusOr<VerificationKey> VerificationKey::FromJwk(absl::string_view jwk_json) {
  nlohmann::json j = nlohmann::json::parse(jwk_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError("jwk: not a JSON object");
  auto field = [&](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (field("kty") != "EC" || field("crv") != "P-256") {
    return absl::InvalidArgumentError("jwk: kty must be EC and crv P-256");
  }
  if (auto alg = j.find("alg"); alg != j.end() && field("alg") != "ES256") {
    return absl::InvalidArgumentError("jwk: alg must be ES256");
  }
  std::string kid = field("kid");
  if (kid.empty()) return absl::InvalidArgumentError("jwk: kid missing");
  absl::StatusOr<std::string> x = Base64UrlDecode(field("x"));
  absl::StatusOr<std::string> y = Base64UrlDecode(field("y"));
  if (!x.ok() || !y.ok() || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
    return absl::InvalidArgumentError("jwk: x and y must be 32-byte base64url");
  }
  std::string point = absl::StrCat("\x04", *x, *y);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "jwk: not a P-256 point");
  }
  PkeyPtr pkey(raw);
  // fromdata does not always check the point; a public-key check does.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "jwk: not a P-256 point");
  }
  auto impl = std::make_shared<KeyImpl>();
  impl->pkey = std::move(pkey);
  return VerificationKey(std::move(kid), std::move(impl));
}

std::string VerificationKey::PublicPem() const { return PublicPemOf(key_->pkey.get()); }

// ---------------------------------------------------------------------------------------------
// SignJwt

absl::StatusOr<std::string> SignJwt(const SigningKey& key, const Claims& claims) {
  if (claims.issuer.empty()) return absl::InvalidArgumentError("issuer: must not be empty");
  if (claims.subject.empty()) return absl::InvalidArgumentError("subject: must not be empty");
  for (const std::string& scope : claims.scopes) {
    if (scope.empty() || scope.find(' ') != std::string::npos) {
      return absl::InvalidArgumentError("scopes: each must be non-empty without spaces");
    }
  }
  const int64_t iat = absl::ToUnixSeconds(claims.issued_at);
  const int64_t exp = absl::ToUnixSeconds(claims.expires_at);
  if (claims.issued_at == absl::InfinitePast() || claims.expires_at == absl::InfiniteFuture() ||
      exp <= iat) {
    return absl::InvalidArgumentError("expires_at: must be finite and after issued_at");
  }
  nlohmann::json header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", key.kid()}};
  nlohmann::json payload{{"iss", claims.issuer},
                         {"sub", claims.subject},
                         {"cid", claims.company_id},
                         {"role", claims.role},
                         {"scope", absl::StrJoin(claims.scopes, " ")},
                         {"jti", claims.token_id},
                         {"iat", iat},
                         {"exp", exp}};
  std::string header_json;
  std::string payload_json;
  try {
    header_json = header.dump();
    payload_json = payload.dump();
  } catch (const nlohmann::json::exception&) {
    // dump() throws only on invalid UTF-8 in a string.
    return absl::InvalidArgumentError("claims: strings must be valid UTF-8");
  }
  std::string signing_input =
      absl::StrCat(Base64UrlEncode(header_json), ".", Base64UrlEncode(payload_json));
  absl::StatusOr<std::string> sig = SignEs256(key.key_->pkey.get(), signing_input);
  if (!sig.ok()) return sig.status();
  return absl::StrCat(signing_input, ".", Base64UrlEncode(*sig));
}

// ---------------------------------------------------------------------------------------------
// JwtVerifier

JwtVerifier::JwtVerifier(const Clock& clock, JwtVerifierOptions options)
    : clock_(clock),
      options_(std::move(options)),
      keys_(std::make_shared<internal_jwt::KeySet>()),
      cache_(std::make_unique<internal_jwt::TokenCache>(options_.cache_capacity)) {}

JwtVerifier::~JwtVerifier() = default;

void JwtVerifier::SetKeys(std::vector<VerificationKey> keys) {
  auto set = std::make_shared<internal_jwt::KeySet>();
  for (VerificationKey& key : keys) set->by_kid[key.kid_] = std::move(key.key_);
  {
    absl::MutexLock lock(&keys_mu_);
    set->generation = keys_->generation + 1;
    keys_ = std::move(set);
    generation_.store(keys_->generation, std::memory_order_release);
  }
  // Entries of the old generation could no longer be used anyway; this frees their memory.
  cache_->Clear();
}

std::shared_ptr<const internal_jwt::KeySet> JwtVerifier::CurrentKeys() const {
  absl::ReaderMutexLock lock(&keys_mu_);
  return keys_;
}

size_t JwtVerifier::CacheSizeForTest() const { return cache_->Size(); }

namespace {

absl::Status CheckTimeAndIssuer(const internal_jwt::CacheEntry& entry,
                                const JwtVerifierOptions& options, absl::Time now) {
  if (entry.claims.expires_at + options.leeway <= now) return Unauthenticated("token expired");
  if (entry.claims.issued_at - options.leeway > now ||
      (entry.not_before && *entry.not_before - options.leeway > now)) {
    return Unauthenticated("token not yet valid");
  }
  if (entry.claims.issuer != options.issuer) return Unauthenticated("wrong issuer");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Claims> JwtVerifier::Verify(absl::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return Unauthenticated("malformed token");
  const absl::Time now = clock_.Now();

  internal_jwt::Digest digest{};
  if (cache_->enabled()) {
    SHA256(Bytes(token), token.size(), digest.data());
    if (std::optional<internal_jwt::CacheEntry> hit = cache_->Find(digest);
        hit && hit->generation == generation_.load(std::memory_order_acquire)) {
      if (absl::Status s = CheckTimeAndIssuer(*hit, options_, now); !s.ok()) return s;
      return std::move(hit->claims);
    }
  }

  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == absl::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == absl::string_view::npos || token.find('.', dot2 + 1) != absl::string_view::npos ||
      dot1 == 0 || dot2 == dot1 + 1 || dot2 + 1 == token.size()) {
    return Unauthenticated("malformed token");
  }
  const absl::string_view header_b64 = token.substr(0, dot1);
  const absl::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const absl::string_view sig_b64 = token.substr(dot2 + 1);

  absl::StatusOr<std::string> header_json = Base64UrlDecode(header_b64);
  if (!header_json.ok()) return Unauthenticated("malformed token");
  nlohmann::json header = nlohmann::json::parse(*header_json, nullptr, false);
  if (!header.is_object()) return Unauthenticated("malformed token");
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Unauthenticated("malformed token");
  // Only ES256 is ever accepted, whatever the header claims ("none", HS256 with the public key
  // as the HMAC secret, ...): the alg-confusion attacks.
  if (alg->get<std::string>() != "ES256") return Unauthenticated("unsupported alg");
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return Unauthenticated("unknown kid");

  const std::shared_ptr<const internal_jwt::KeySet> keys = CurrentKeys();
  auto key = keys->by_kid.find(kid->get<std::string>());
  if (key == keys->by_kid.end()) return Unauthenticated("unknown kid");

  absl::StatusOr<std::string> sig = Base64UrlDecode(sig_b64);
  if (!sig.ok()) return Unauthenticated("malformed token");
  if (!VerifyEs256(key->second->pkey.get(), token.substr(0, dot2), *sig)) {
    return Unauthenticated("bad signature");
  }

  absl::StatusOr<std::string> payload_json = Base64UrlDecode(payload_b64);
  if (!payload_json.ok()) return Unauthenticated("malformed token");
  std::optional<internal_jwt::CacheEntry> entry = ParsePayload(*payload_json);
  if (!entry) return Unauthenticated("malformed token");
  entry->generation = keys->generation;
  if (absl::Status s = CheckTimeAndIssuer(*entry, options_, now); !s.ok()) return s;

  Claims claims = entry->claims;
  if (cache_->enabled()) cache_->Insert(digest, *std::move(entry), now, options_.leeway);
  return claims;
}

}  // namespace switchboard::crypto
