#include "libs/crypto/password.h"

#include <catch2/catch.hpp>

#include <string>

namespace switchboard::crypto {
namespace {

constexpr PasswordCost kFast = PasswordCost::kMinimalForTests;

TEST_CASE("HashPassword produces an Argon2id PHC string that verifies", "[crypto][password]") {
  absl::StatusOr<std::string> hash = HashPassword("correct horse battery staple", kFast);
  REQUIRE(hash.ok());
  CHECK(hash->rfind("$argon2id$", 0) == 0);
  CHECK(VerifyPassword(*hash, "correct horse battery staple"));
  CHECK_FALSE(VerifyPassword(*hash, "correct horse battery stapler"));
  CHECK_FALSE(VerifyPassword(*hash, "Correct horse battery staple"));
}

TEST_CASE("HashPassword salts every hash", "[crypto][password]") {
  absl::StatusOr<std::string> a = HashPassword("same password", kFast);
  absl::StatusOr<std::string> b = HashPassword("same password", kFast);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a != *b);
  CHECK(VerifyPassword(*a, "same password"));
  CHECK(VerifyPassword(*b, "same password"));
}

TEST_CASE("HashPassword rejects empty and oversized passwords", "[crypto][password]") {
  for (const std::string& bad : {std::string(), std::string(kMaxPasswordBytes + 1, 'x')}) {
    absl::StatusOr<std::string> hash = HashPassword(bad, kFast);
    REQUIRE_FALSE(hash.ok());
    CHECK(hash.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(hash.status().message().find("password") != absl::string_view::npos);
  }
  CHECK(HashPassword(std::string(kMaxPasswordBytes, 'x'), kFast).ok());
}

TEST_CASE("Passwords are binary-safe", "[crypto][password]") {
  const std::string with_nul("pa\0ss", 5);
  absl::StatusOr<std::string> hash = HashPassword(with_nul, kFast);
  REQUIRE(hash.ok());
  CHECK(VerifyPassword(*hash, with_nul));
  CHECK_FALSE(VerifyPassword(*hash, "pa"));
}

TEST_CASE("VerifyPassword returns false for garbage hashes", "[crypto][password]") {
  const std::string bad = GENERATE(as<std::string>{}, "", "$argon2id$", "not a hash",
                                   "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
                                   std::string(1000, '$'), std::string("$argon2id$\0", 11));
  CHECK_FALSE(VerifyPassword(bad, "password"));
}

TEST_CASE("PasswordNeedsRehash detects other costs and malformed hashes",
          "[crypto][password]") {
  absl::StatusOr<std::string> hash = HashPassword("pw", kFast);
  REQUIRE(hash.ok());
  CHECK_FALSE(PasswordNeedsRehash(*hash, kFast));
  CHECK(PasswordNeedsRehash(*hash, PasswordCost::kInteractive));
  CHECK(PasswordNeedsRehash("garbage", kFast));
  CHECK(PasswordNeedsRehash("", kFast));
}

}  // namespace
}  // namespace switchboard::crypto
