#include "libs/crypto/aead.h"

#include <catch2/catch.hpp>

#include <string>

#include "libs/crypto/random.h"

namespace switchboard::crypto {
namespace {

TEST_CASE("AesGcmSeal then AesGcmOpen round-trips", "[crypto][aead]") {
  const std::string key = RandomBytes(kAesGcmKeyBytes);
  const std::string plaintext = GENERATE(std::string(), std::string("hello"),
                                         std::string(100000, 'x'), std::string("\0\1\2", 3));
  absl::StatusOr<std::string> sealed = AesGcmSeal(key, plaintext, "company-1|rec-9");
  REQUIRE(sealed.ok());
  CHECK(sealed->size() == kAesGcmNonceBytes + plaintext.size() + kAesGcmTagBytes);
  absl::StatusOr<std::string> opened = AesGcmOpen(key, *sealed, "company-1|rec-9");
  REQUIRE(opened.ok());
  CHECK(*opened == plaintext);
}

TEST_CASE("AesGcmSeal uses a fresh nonce each time", "[crypto][aead]") {
  const std::string key = RandomBytes(kAesGcmKeyBytes);
  absl::StatusOr<std::string> a = AesGcmSeal(key, "same", "");
  absl::StatusOr<std::string> b = AesGcmSeal(key, "same", "");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->substr(0, kAesGcmNonceBytes) != b->substr(0, kAesGcmNonceBytes));
  CHECK(*a != *b);
}

TEST_CASE("AesGcmOpen detects tampering with kDataLoss", "[crypto][aead]") {
  const std::string key = RandomBytes(kAesGcmKeyBytes);
  absl::StatusOr<std::string> sealed = AesGcmSeal(key, "secret voicemail transcript", "aad");
  REQUIRE(sealed.ok());

  SECTION("any flipped byte: nonce, ciphertext or tag") {
    for (size_t i = 0; i < sealed->size(); ++i) {
      std::string tampered = *sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
      absl::StatusOr<std::string> opened = AesGcmOpen(key, tampered, "aad");
      INFO("byte " << i);
      REQUIRE_FALSE(opened.ok());
      CHECK(opened.status().code() == absl::StatusCode::kDataLoss);
    }
  }
  SECTION("wrong aad") {
    absl::StatusOr<std::string> opened = AesGcmOpen(key, *sealed, "other");
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().code() == absl::StatusCode::kDataLoss);
    CHECK(AesGcmOpen(key, *sealed, "").status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("wrong key") {
    absl::StatusOr<std::string> opened = AesGcmOpen(RandomBytes(32), *sealed, "aad");
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("truncated by one byte") {
    absl::StatusOr<std::string> opened =
        AesGcmOpen(key, sealed->substr(0, sealed->size() - 1), "aad");
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().code() == absl::StatusCode::kDataLoss);
  }
}

TEST_CASE("AES-GCM rejects bad key sizes and short input with kInvalidArgument",
          "[crypto][aead]") {
  const std::string key = RandomBytes(kAesGcmKeyBytes);
  for (size_t size : {0, 16, 31, 33}) {
    absl::StatusOr<std::string> sealed = AesGcmSeal(RandomBytes(size), "x", "");
    REQUIRE_FALSE(sealed.ok());
    CHECK(sealed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(sealed.status().message().find("key") != absl::string_view::npos);
    CHECK(AesGcmOpen(RandomBytes(size), std::string(40, 'x'), "").status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  for (size_t size : {0, 1, 27}) {
    absl::StatusOr<std::string> opened = AesGcmOpen(key, std::string(size, 'x'), "");
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(opened.status().message().find("sealed") != absl::string_view::npos);
  }
  // Exactly nonce + tag: a valid length that fails authentication.
  CHECK(AesGcmOpen(key, std::string(28, 'x'), "").status().code() ==
        absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace switchboard::crypto
