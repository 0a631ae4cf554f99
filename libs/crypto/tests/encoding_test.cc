#include "libs/crypto/encoding.h"

#include <catch2/catch.hpp>

#include <string>

namespace switchboard::crypto {
namespace {

TEST_CASE("Base64 matches the RFC 4648 test vectors", "[crypto][encoding]") {
  const auto [plain, encoded] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  }));
  CHECK(Base64Encode(plain) == encoded);
  absl::StatusOr<std::string> decoded = Base64Decode(encoded);
  REQUIRE(decoded.ok());
  CHECK(*decoded == plain);
}

TEST_CASE("Base64url is unpadded and uses the URL alphabet", "[crypto][encoding]") {
  const auto [plain, encoded] = GENERATE(table<std::string, std::string>({
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      {std::string("\xfb\xff\xbf", 3), "-_-_"},
  }));
  CHECK(Base64UrlEncode(plain) == encoded);
  absl::StatusOr<std::string> decoded = Base64UrlDecode(encoded);
  REQUIRE(decoded.ok());
  CHECK(*decoded == plain);
}

TEST_CASE("Base64 and base64url differ on bytes 62 and 63", "[crypto][encoding]") {
  const std::string bytes("\xfb\xff", 2);
  CHECK(Base64Encode(bytes) == "+/8=");
  CHECK(Base64UrlEncode(bytes) == "-_8");
}

TEST_CASE("Base64UrlDecode accepts correct padding", "[crypto][encoding]") {
  CHECK(*Base64UrlDecode("Zg==") == "f");
  CHECK(*Base64UrlDecode("Zm8=") == "fo");
}

TEST_CASE("Decoders reject bad input with kInvalidArgument", "[crypto][encoding]") {
  SECTION("standard base64") {
    const std::string bad = GENERATE(as<std::string>{}, "Zg", "Zg=", "Z===", "Zm9v!A==",
                                     "Zm 9v", "-_8=", "Zh==", "=Zg=", "Zg==Zg==");
    absl::StatusOr<std::string> r = Base64Decode(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("base64") != absl::string_view::npos);
  }
  SECTION("base64url") {
    const std::string bad = GENERATE(as<std::string>{}, "Z", "Zg=", "Zm9=", "+/8", "Zh",
                                     "Zg===", "Zm9v\n", std::string("Zm\0v", 4));
    absl::StatusOr<std::string> r = Base64UrlDecode(bad);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("Base64url round-trips every byte value and length", "[crypto][encoding]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t len = 0; len <= all.size(); len += 7) {
    const std::string data = all.substr(0, len);
    CHECK(*Base64UrlDecode(Base64UrlEncode(data)) == data);
    CHECK(*Base64Decode(Base64Encode(data)) == data);
  }
}

TEST_CASE("HexEncode is lowercase, two digits per byte", "[crypto][encoding]") {
  CHECK(HexEncode("") == "");
  CHECK(HexEncode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
}

}  // namespace
}  // namespace switchboard::crypto
