#include "libs/crypto/random.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "libs/crypto/encoding.h"

namespace switchboard::crypto {
namespace {

TEST_CASE("RandomBytes returns the requested number of distinct bytes", "[crypto][random]") {
  CHECK(RandomBytes(0).empty());
  CHECK(RandomBytes(1).size() == 1);
  CHECK(RandomBytes(1000).size() == 1000);
  // 32 random bytes colliding would mean a broken generator.
  CHECK(RandomBytes(32) != RandomBytes(32));
  // A 4 KiB buffer that is all zeros (FillRandom not called) would fail this.
  const std::string big = RandomBytes(4096);
  CHECK(big.find_first_not_of('\0') != std::string::npos);
}

TEST_CASE("RandomToken is base64url of the requested entropy", "[crypto][random]") {
  const std::string token = RandomToken();
  CHECK(token.size() == 43);
  absl::StatusOr<std::string> raw = Base64UrlDecode(token);
  REQUIRE(raw.ok());
  CHECK(raw->size() == 32);
  CHECK(RandomToken(16).size() == 22);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomToken(16));
  CHECK(seen.size() == 1000);
}

}  // namespace
}  // namespace switchboard::crypto
