#include <string>

#include <catch2/catch.hpp>

#include "libs/crypto/aead.h"
#include "services/identity/tests/fake_stores.h"
#include "services/identity/token_service.h"

namespace switchboard::identity {
namespace {

const std::string kKek(32, 'k');

User SomeUser() {
  return User{.id = "0190a1b2-0000-7000-8000-000000000001",
              .company_id = "0190a1b2-0000-7000-8000-0000000000c1",
              .email = "a@example.com",
              .role = Role::kAdmin,
              .status = UserStatus::kActive};
}

struct Fixture {
  testing::FakeIdentityStore store;
  FakeClock clock{absl::FromUnixSeconds(1'700'000'000)};
  std::unique_ptr<TokenService> tokens;
  Fixture() {
    auto t = TokenService::Create(store, clock,
                                  TokenOptions{.issuer = "test-issuer",
                                               .access_token_ttl = absl::Minutes(15),
                                               .key_encryption_key = kKek});
    REQUIRE(t.ok());
    tokens = std::move(*t);
    REQUIRE(tokens->EnsureSigningKey().ok());
  }
};

TEST_CASE("TokenService options are validated", "[token][identity]") {
  testing::FakeIdentityStore store;
  FakeClock clock(absl::UnixEpoch());
  auto bad_key = TokenService::Create(store, clock, TokenOptions{.key_encryption_key = "short"});
  CHECK(bad_key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad_key.status().message()).find("key_encryption_key") != std::string::npos);
  auto bad_issuer =
      TokenService::Create(store, clock, TokenOptions{.issuer = "", .key_encryption_key = kKek});
  CHECK(std::string(bad_issuer.status().message()).find("issuer") != std::string::npos);
}

TEST_CASE("TokenService issues verifiable ES256 tokens and rejects bad ones", "[token][identity]") {
  Fixture f;
  auto keys = f.store.ListSigningKeys();
  REQUIRE(keys.ok());
  REQUIRE(keys->size() == 1);
  SECTION("the private key is stored sealed, never in the clear") {
    CHECK((*keys)[0].sealed_private_pem.find("PRIVATE KEY") == std::string::npos);
    CHECK(crypto::AesGcmOpen(kKek, (*keys)[0].sealed_private_pem, (*keys)[0].kid).ok());
  }
  SECTION("EnsureSigningKey is idempotent") {
    REQUIRE(f.tokens->EnsureSigningKey().ok());
    CHECK(f.store.ListSigningKeys()->size() == 1);
  }
  auto token = f.tokens->Issue(SomeUser());
  REQUIRE(token.ok());
  CHECK(token->expires_at == f.clock.Now() + absl::Minutes(15));
  SECTION("valid token carries company, user and role") {
    auto claims = f.tokens->Verify(token->token);
    REQUIRE(claims.ok());
    CHECK(claims->subject == SomeUser().id);
    CHECK(claims->company_id == SomeUser().company_id);
    CHECK(claims->role == "admin");
    CHECK(claims->issuer == "test-issuer");
  }
  SECTION("expired token is unauthenticated") {
    f.clock.Advance(absl::Minutes(16));
    CHECK(f.tokens->Verify(token->token).status().code() == absl::StatusCode::kUnauthenticated);
  }
  SECTION("tampered token is unauthenticated") {
    std::string t = token->token;
    size_t dot = t.find('.');
    t[dot + 5] = t[dot + 5] == 'A' ? 'B' : 'A';
    CHECK(f.tokens->Verify(t).status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(f.tokens->Verify("garbage").status().code() == absl::StatusCode::kUnauthenticated);
  }
  SECTION("rotation keeps the old key valid until its tokens expire") {
    auto rot = f.tokens->Rotate();
    REQUIRE(rot.ok());
    CHECK(rot->previous_kid == (*keys)[0].kid);
    CHECK(rot->new_kid != rot->previous_kid);
    auto published = f.tokens->PublishedKeys();
    REQUIRE(published.ok());
    REQUIRE(published->size() == 2);
    CHECK((*published)[0].kid == rot->new_kid);
    CHECK((*published)[1].retired_at.has_value());
    CHECK((*published)[1].jwk_json.find("\"kty\":\"EC\"") != std::string::npos);
    // Old token still verifies; a new token uses the new kid.
    CHECK(f.tokens->Verify(token->token).ok());
    auto fresh = f.tokens->Issue(SomeUser());
    REQUIRE(fresh.ok());
    CHECK(f.tokens->Verify(fresh->token).ok());
    // After access_ttl + grace the retired key is no longer published.
    f.clock.Advance(absl::Minutes(17));
    auto later = f.tokens->PublishedKeys();
    REQUIRE(later.ok());
    CHECK(later->size() == 1);
    CHECK(f.tokens->Verify(token->token).status().code() == absl::StatusCode::kUnauthenticated);
  }
  SECTION("another replica's rotation is picked up on an unknown kid") {
    Fixture other_clockless;  // separate store: its tokens are unknown here
    auto foreign = other_clockless.tokens->Issue(SomeUser());
    REQUIRE(foreign.ok());
    CHECK(f.tokens->Verify(foreign->token).status().code() ==
          absl::StatusCode::kUnauthenticated);
    // Same store, second service instance (replica): rotates; the first verifies its tokens.
    auto replica = TokenService::Create(f.store, f.clock,
                                        TokenOptions{.issuer = "test-issuer",
                                                     .key_encryption_key = kKek});
    REQUIRE(replica.ok());
    REQUIRE((*replica)->Rotate().ok());
    auto from_replica = (*replica)->Issue(SomeUser());
    REQUIRE(from_replica.ok());
    f.clock.Advance(absl::Seconds(2));
    CHECK(f.tokens->Verify(from_replica->token).ok());
  }
  SECTION("a wrong key-encryption key cannot open stored keys") {
    auto wrong = TokenService::Create(f.store, f.clock,
                                      TokenOptions{.issuer = "test-issuer",
                                                   .key_encryption_key = std::string(32, 'x')});
    REQUIRE(wrong.ok());
    CHECK((*wrong)->Issue(SomeUser()).status().code() == absl::StatusCode::kFailedPrecondition);
  }
}

}  // namespace
}  // namespace switchboard::identity
