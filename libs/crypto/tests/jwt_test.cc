#include "libs/crypto/jwt.h"

#include <catch2/catch.hpp>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/common/clock.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"

namespace switchboard::crypto {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
constexpr char kIssuer[] = "https://identity.switchboard.test";

SigningKey MustGenerate(const std::string& kid) {
  absl::StatusOr<SigningKey> key = SigningKey::Generate(kid);
  REQUIRE(key.ok());
  return *key;
}

Claims SampleClaims(absl::Time issued = kNow, absl::Duration ttl = absl::Minutes(15)) {
  Claims c;
  c.issuer = kIssuer;
  c.subject = "0190f0a0-0000-7000-8000-000000000001";
  c.company_id = "0190f0a0-0000-7000-8000-0000000000c0";
  c.role = "admin";
  c.scopes = {"calls:read", "calls:write"};
  c.token_id = "jti-1";
  c.issued_at = issued;
  c.expires_at = issued + ttl;
  return c;
}

std::string MustSign(const SigningKey& key, const Claims& claims) {
  absl::StatusOr<std::string> token = SignJwt(key, claims);
  REQUIRE(token.ok());
  return *token;
}

std::vector<std::string> Segments(const std::string& token) {
  return absl::StrSplit(token, '.');
}

// Signs an arbitrary header and payload the way SignJwt does (ES256, JOSE R||S), so tests can
// produce validly signed tokens with contents SignJwt would never emit.
std::string SignRawForTest(const SigningKey& key, const std::string& header_json,
                           const std::string& payload_json) {
  const std::string pem = key.PrivatePem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(pkey != nullptr);
  const std::string input =
      absl::StrCat(Base64UrlEncode(header_json), ".", Base64UrlEncode(payload_json));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t der_len = 0;
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey) == 1);
  REQUIRE(EVP_DigestSign(ctx, nullptr, &der_len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  std::string der(der_len, '\0');
  REQUIRE(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &der_len,
                         reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len));
  REQUIRE(sig != nullptr);
  std::string jose(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(jose.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(jose.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return absl::StrCat(input, ".", Base64UrlEncode(jose));
}

void CheckRejected(const JwtVerifier& verifier, const std::string& token,
                   absl::string_view reason) {
  absl::StatusOr<Claims> claims = verifier.Verify(token);
  INFO("token: " << token);
  REQUIRE_FALSE(claims.ok());
  CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(claims.status().message() == reason);
}

JwtVerifierOptions Options(size_t cache_capacity = 1000) {
  JwtVerifierOptions options;
  options.issuer = kIssuer;
  options.cache_capacity = cache_capacity;
  return options;
}

TEST_CASE("SignJwt then Verify round-trips the claims", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  const size_t capacity = GENERATE(0, 1000);  // without and with the verified-token cache
  JwtVerifier verifier(clock, Options(capacity));
  verifier.SetKeys({key.PublicKey()});
  const std::string token = MustSign(key, SampleClaims());

  for (int round = 0; round < 2; ++round) {  // second round is a cache hit when enabled
    absl::StatusOr<Claims> claims = verifier.Verify(token);
    REQUIRE(claims.ok());
    CHECK(claims->issuer == kIssuer);
    CHECK(claims->subject == "0190f0a0-0000-7000-8000-000000000001");
    CHECK(claims->company_id == "0190f0a0-0000-7000-8000-0000000000c0");
    CHECK(claims->role == "admin");
    CHECK(claims->scopes == std::vector<std::string>{"calls:read", "calls:write"});
    CHECK(claims->token_id == "jti-1");
    CHECK(claims->issued_at == kNow);
    CHECK(claims->expires_at == kNow + absl::Minutes(15));
  }
  CHECK(verifier.CacheSizeForTest() == (capacity == 0 ? 0u : 1u));
}

TEST_CASE("SignJwt writes the documented header and payload", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("kid-42");
  const std::vector<std::string> parts = Segments(MustSign(key, SampleClaims()));
  REQUIRE(parts.size() == 3);
  const nlohmann::json header = nlohmann::json::parse(*Base64UrlDecode(parts[0]));
  CHECK(header == nlohmann::json{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "kid-42"}});
  const nlohmann::json payload = nlohmann::json::parse(*Base64UrlDecode(parts[1]));
  CHECK(payload["iss"] == kIssuer);
  CHECK(payload["cid"] == "0190f0a0-0000-7000-8000-0000000000c0");
  CHECK(payload["scope"] == "calls:read calls:write");
  CHECK(payload["iat"] == 1'700'000'000);
  CHECK(payload["exp"] == 1'700'000'900);
  // JOSE signature: raw R||S, 64 bytes, not DER.
  CHECK(Base64UrlDecode(parts[2])->size() == 64);
}

TEST_CASE("SignJwt validates the claims", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  Claims c = SampleClaims();
  SECTION("empty issuer") { c.issuer.clear(); }
  SECTION("empty subject") { c.subject.clear(); }
  SECTION("scope with a space") { c.scopes = {"a b"}; }
  SECTION("exp not after iat") { c.expires_at = c.issued_at; }
  SECTION("invalid UTF-8") { c.role = "\xff\xfe"; }
  absl::StatusOr<std::string> token = SignJwt(key, c);
  REQUIRE_FALSE(token.ok());
  CHECK(token.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Verify enforces exp and iat with leeway", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  const size_t capacity = GENERATE(0, 1000);
  JwtVerifier verifier(clock, Options(capacity));
  verifier.SetKeys({key.PublicKey()});

  SECTION("expired: accepted within leeway, rejected after, also from the cache") {
    const std::string token = MustSign(key, SampleClaims(kNow, absl::Minutes(1)));
    REQUIRE(verifier.Verify(token).ok());
    clock.Advance(absl::Minutes(1) + absl::Seconds(29));
    CHECK(verifier.Verify(token).ok());
    clock.Advance(absl::Seconds(1));
    CheckRejected(verifier, token, "token expired");
  }
  SECTION("expired before it was ever seen") {
    clock.Advance(absl::Hours(1));
    CheckRejected(verifier, MustSign(key, SampleClaims()), "token expired");
  }
  SECTION("not yet valid: issued in the future beyond the leeway") {
    CheckRejected(verifier, MustSign(key, SampleClaims(kNow + absl::Seconds(31))),
                  "token not yet valid");
    CHECK(verifier.Verify(MustSign(key, SampleClaims(kNow + absl::Seconds(30)))).ok());
  }
  CHECK(verifier.Verify(MustSign(key, SampleClaims(clock.Now()))).ok());
}

TEST_CASE("Verify rejects a wrong issuer", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({key.PublicKey()});
  Claims c = SampleClaims();
  c.issuer = "https://evil.test";
  CheckRejected(verifier, MustSign(key, c), "wrong issuer");
}

TEST_CASE("Verify rejects tampered tokens", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({key.PublicKey()});
  const std::string token = MustSign(key, SampleClaims());
  REQUIRE(verifier.Verify(token).ok());  // and now it is cached
  std::vector<std::string> parts = Segments(token);

  SECTION("payload changed (role escalated)") {
    nlohmann::json payload = nlohmann::json::parse(*Base64UrlDecode(parts[1]));
    payload["role"] = "owner";
    CheckRejected(verifier,
                  absl::StrCat(parts[0], ".", Base64UrlEncode(payload.dump()), ".", parts[2]),
                  "bad signature");
  }
  SECTION("signature changed") {
    std::string sig = *Base64UrlDecode(parts[2]);
    sig[5] = static_cast<char>(sig[5] ^ 1);
    CheckRejected(verifier, absl::StrCat(parts[0], ".", parts[1], ".", Base64UrlEncode(sig)),
                  "bad signature");
  }
  SECTION("signature truncated") {
    std::string sig = Base64UrlDecode(parts[2])->substr(0, 63);
    CheckRejected(verifier, absl::StrCat(parts[0], ".", parts[1], ".", Base64UrlEncode(sig)),
                  "bad signature");
  }
  SECTION("signature in DER form is not accepted") {
    std::string sig = *Base64UrlDecode(parts[2]);
    std::string der = absl::StrCat("\x30\x44\x02\x20", sig.substr(0, 32), "\x02\x20",
                                   sig.substr(32));
    CheckRejected(verifier, absl::StrCat(parts[0], ".", parts[1], ".", Base64UrlEncode(der)),
                  "bad signature");
  }
  SECTION("signed by another key under the same kid") {
    const SigningKey impostor = MustGenerate("k1");
    CheckRejected(verifier, MustSign(impostor, SampleClaims()), "bad signature");
  }
}

TEST_CASE("Verify rejects alg none and HS256 (alg confusion)", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({key.PublicKey()});
  const std::vector<std::string> parts = Segments(MustSign(key, SampleClaims()));
  const std::string payload = parts[1];

  SECTION("none") {
    const std::string header = Base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":"k1"})");
    CheckRejected(verifier, absl::StrCat(header, ".", payload, "."), "malformed token");
    CheckRejected(verifier, absl::StrCat(header, ".", payload, ".", parts[2]),
                  "unsupported alg");
  }
  SECTION("HS256 keyed with the public key") {
    const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})");
    const std::string input = absl::StrCat(header, ".", payload);
    const std::string mac = HmacSha256(key.PublicPem(), input);
    CheckRejected(verifier, absl::StrCat(input, ".", Base64UrlEncode(mac)), "unsupported alg");
  }
  SECTION("missing alg") {
    const std::string header = Base64UrlEncode(R"({"typ":"JWT","kid":"k1"})");
    CheckRejected(verifier, absl::StrCat(header, ".", payload, ".", parts[2]),
                  "malformed token");
  }
  SECTION("alg of the wrong case") {
    const std::string header = Base64UrlEncode(R"({"alg":"es256","kid":"k1"})");
    CheckRejected(verifier, absl::StrCat(header, ".", payload, ".", parts[2]),
                  "unsupported alg");
  }
}

TEST_CASE("Verify rejects unknown kids", "[crypto][jwt]") {
  const SigningKey trusted = MustGenerate("k1");
  const SigningKey other = MustGenerate("k2");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  CheckRejected(verifier, MustSign(trusted, SampleClaims()), "unknown kid");  // no keys yet
  verifier.SetKeys({trusted.PublicKey()});
  CheckRejected(verifier, MustSign(other, SampleClaims()), "unknown kid");
  const std::string header = Base64UrlEncode(R"({"alg":"ES256","typ":"JWT"})");
  const std::vector<std::string> parts = Segments(MustSign(trusted, SampleClaims()));
  CheckRejected(verifier, absl::StrCat(header, ".", parts[1], ".", parts[2]), "unknown kid");
}

TEST_CASE("Key rotation: both keys during overlap, old tokens die with the old key",
          "[crypto][jwt]") {
  const SigningKey old_key = MustGenerate("2024-01");
  const SigningKey new_key = MustGenerate("2024-02");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({old_key.PublicKey()});
  const std::string old_token = MustSign(old_key, SampleClaims());
  REQUIRE(verifier.Verify(old_token).ok());
  REQUIRE(verifier.CacheSizeForTest() == 1);

  verifier.SetKeys({old_key.PublicKey(), new_key.PublicKey()});
  const std::string new_token = MustSign(new_key, SampleClaims());
  CHECK(verifier.Verify(old_token).ok());
  CHECK(verifier.Verify(new_token).ok());
  CHECK(verifier.Verify(old_token).ok());  // cached again under the new generation

  verifier.SetKeys({new_key.PublicKey()});
  CheckRejected(verifier, old_token, "unknown kid");
  CHECK(verifier.Verify(new_token).ok());

  SECTION("replacing a kid's key invalidates tokens cached under the old key") {
    const SigningKey replacement = MustGenerate("2024-02");
    verifier.SetKeys({replacement.PublicKey()});
    CheckRejected(verifier, new_token, "bad signature");
  }
}

TEST_CASE("Keys round-trip through PEM and JWK", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());

  SECTION("private PEM") {
    const std::string pem = key.PrivatePem();
    CHECK(pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
    absl::StatusOr<SigningKey> reloaded = SigningKey::FromPrivatePem("k1", pem);
    REQUIRE(reloaded.ok());
    CHECK(reloaded->PublicPem() == key.PublicPem());
    verifier.SetKeys({key.PublicKey()});
    CHECK(verifier.Verify(MustSign(*reloaded, SampleClaims())).ok());
  }
  SECTION("public PEM") {
    const std::string pem = key.PublicPem();
    CHECK(pem.rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
    absl::StatusOr<VerificationKey> pub = VerificationKey::FromPublicPem("k1", pem);
    REQUIRE(pub.ok());
    CHECK(pub->PublicPem() == pem);
    verifier.SetKeys({*pub});
    CHECK(verifier.Verify(MustSign(key, SampleClaims())).ok());
  }
  SECTION("JWK fields and round trip") {
    const nlohmann::json jwk = key.PublicJwk();
    CHECK(jwk["kty"] == "EC");
    CHECK(jwk["crv"] == "P-256");
    CHECK(jwk["kid"] == "k1");
    CHECK(jwk["alg"] == "ES256");
    CHECK(jwk["use"] == "sig");
    CHECK(Base64UrlDecode(jwk["x"].get<std::string>())->size() == 32);
    CHECK(Base64UrlDecode(jwk["y"].get<std::string>())->size() == 32);
    CHECK(nlohmann::json::parse(key.PublicJwkJson()) == jwk);
    absl::StatusOr<VerificationKey> pub = VerificationKey::FromJwk(key.PublicJwkJson());
    REQUIRE(pub.ok());
    CHECK(pub->kid() == "k1");
    CHECK(pub->PublicPem() == key.PublicPem());
    verifier.SetKeys({*pub});
    CHECK(verifier.Verify(MustSign(key, SampleClaims())).ok());
  }
}

TEST_CASE("Key parsing rejects bad input with kInvalidArgument", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  CHECK(SigningKey::Generate("").status().code() == absl::StatusCode::kInvalidArgument);
  for (const std::string& pem :
       {std::string(), std::string("garbage"), key.PublicPem(),
        std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}) {
    absl::StatusOr<SigningKey> parsed = SigningKey::FromPrivatePem("k", pem);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(parsed.status().message().find("pem") != absl::string_view::npos);
  }
  CHECK(SigningKey::FromPrivatePem("", key.PrivatePem()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(VerificationKey::FromPublicPem("k", key.PrivatePem()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(VerificationKey::FromPublicPem("k", "nope").status().code() ==
        absl::StatusCode::kInvalidArgument);

  nlohmann::json jwk = key.PublicJwk();
  nlohmann::json bad_point = jwk;
  std::string x = *Base64UrlDecode(jwk["x"].get<std::string>());
  x[31] = static_cast<char>(x[31] ^ 1);  // almost certainly off the curve
  bad_point["x"] = Base64UrlEncode(x);
  nlohmann::json wrong_curve = jwk;
  wrong_curve["crv"] = "P-384";
  nlohmann::json no_kid = jwk;
  no_kid.erase("kid");
  for (const std::string& text : {std::string(""), std::string("[]"), std::string("{"),
                                  bad_point.dump(), wrong_curve.dump(), no_kid.dump()}) {
    absl::StatusOr<VerificationKey> parsed = VerificationKey::FromJwk(text);
    INFO(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(parsed.status().message().find("jwk") != absl::string_view::npos);
  }
}

TEST_CASE("Verify never crashes on garbage", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({key.PublicKey()});
  const std::vector<std::string> parts = Segments(MustSign(key, SampleClaims()));
  const std::string unsigned_header = Base64UrlEncode(R"({"alg":"ES256","kid":"k1"})");
  const std::string bad = GENERATE_COPY(
      std::string(""), std::string("."), std::string(".."), std::string("..."),
      std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
      std::string("!!!.@@@.###"), std::string(100000, 'a'),
      absl::StrCat(parts[0], ".", parts[1]), absl::StrCat(parts[0], ".", parts[1], "."),
      absl::StrCat(parts[0], "..", parts[2]), absl::StrCat(".", parts[1], ".", parts[2]),
      absl::StrCat(Base64UrlEncode("not json"), ".", parts[1], ".", parts[2]),
      absl::StrCat(Base64UrlEncode("[1,2]"), ".", parts[1], ".", parts[2]),
      absl::StrCat(Base64UrlEncode(R"({"alg":7})"), ".", parts[1], ".", parts[2]),
      absl::StrCat(Base64UrlEncode(R"({"alg":"ES256","kid":["k1"]})"), ".", parts[1], ".",
                   parts[2]),
      absl::StrCat(unsigned_header, ".", parts[1], ".", parts[2], "="),
      absl::StrCat(parts[0], ".", parts[1], ".", parts[2], "."),
      std::string("\0\0.\0.\0", 6));
  absl::StatusOr<Claims> claims = verifier.Verify(bad);
  INFO(bad.substr(0, 200));
  REQUIRE_FALSE(claims.ok());
  CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("A correctly signed but malformed payload is rejected", "[crypto][jwt]") {
  // A bug in the signer must not become an accepted token with empty or mistyped claims.
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({key.PublicKey()});
  const nlohmann::json good = {{"iss", kIssuer}, {"sub", "u1"}, {"iat", 1'700'000'000},
                               {"exp", 1'700'000'900}};
  const std::string header = R"({"alg":"ES256","typ":"JWT","kid":"k1"})";
  REQUIRE(verifier.Verify(SignRawForTest(key, header, good.dump())).ok());

  nlohmann::json bad = good;
  SECTION("not an object") { bad = nlohmann::json::array({1, 2}); }
  SECTION("missing exp") { bad.erase("exp"); }
  SECTION("exp as a string") { bad["exp"] = "1700000900"; }
  SECTION("missing sub") { bad.erase("sub"); }
  SECTION("sub as a number") { bad["sub"] = 7; }
  SECTION("missing iss") { bad.erase("iss"); }
  SECTION("scope as an array") { bad["scope"] = nlohmann::json::array({"a"}); }
  SECTION("iat as null") { bad["iat"] = nullptr; }
  SECTION("exp as an absurd float") { bad["exp"] = 1e300; }
  CheckRejected(verifier, SignRawForTest(key, header, bad.dump()), "malformed token");
  CheckRejected(verifier, SignRawForTest(key, header, "not json"), "malformed token");
}

TEST_CASE("nbf is honoured when present", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options());
  verifier.SetKeys({key.PublicKey()});
  const nlohmann::json payload = {{"iss", kIssuer}, {"sub", "u1"}, {"iat", 1'700'000'000},
                                  {"nbf", 1'700'000'100}, {"exp", 1'700'000'900}};
  const std::string token =
      SignRawForTest(key, R"({"alg":"ES256","kid":"k1"})", payload.dump());
  CheckRejected(verifier, token, "token not yet valid");
  clock.Advance(absl::Seconds(70));
  CHECK(verifier.Verify(token).ok());
}

TEST_CASE("The verified-token cache is bounded", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options(/*cache_capacity=*/32));
  verifier.SetKeys({key.PublicKey()});
  std::vector<std::string> tokens;
  for (int i = 0; i < 200; ++i) {
    Claims c = SampleClaims();
    c.token_id = absl::StrCat("jti-", i);
    tokens.push_back(MustSign(key, c));
  }
  for (const std::string& token : tokens) REQUIRE(verifier.Verify(token).ok());
  CHECK(verifier.CacheSizeForTest() <= 32);
  CHECK(verifier.CacheSizeForTest() > 0);
  for (const std::string& token : tokens) CHECK(verifier.Verify(token).ok());
}


TEST_CASE("Verify is safe from many threads while keys rotate", "[crypto][jwt]") {
  const SigningKey key = MustGenerate("k1");
  const SigningKey extra = MustGenerate("k2");
  FakeClock clock(kNow);
  JwtVerifier verifier(clock, Options(/*cache_capacity=*/64));
  verifier.SetKeys({key.PublicKey()});
  std::vector<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    Claims c = SampleClaims();
    c.token_id = absl::StrCat("jti-", i);
    tokens.push_back(MustSign(key, c));
  }
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        if (!verifier.Verify(tokens[(i * 7 + t) % tokens.size()]).ok()) ++failures;
      }
    });
  }
  // k1 stays trusted throughout, so every verification must succeed.
  std::thread rotator([&] {
    for (int i = 0; !done.load(); ++i) {
      if (i % 2 == 0) {
        verifier.SetKeys({key.PublicKey(), extra.PublicKey()});
      } else {
        verifier.SetKeys({key.PublicKey()});
      }
    }
  });
  for (std::thread& thread : threads) thread.join();
  done = true;
  rotator.join();
  CHECK(failures.load() == 0);
}

}  // namespace
}  // namespace switchboard::crypto
