#include "libs/envelope/master_key_ring.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "libs/crypto/encoding.h"

namespace switchboard::envelope {
namespace {

std::string K(char fill) { return crypto::Base64Encode(std::string(32, fill)); }

TEST_CASE("MasterKeyRing parses ids and keys and finds the active one", "[envelope][keyring]") {
  auto ring = MasterKeyRing::Parse(" k1:" + K('a') + " , k-2_b:" + K('b') + " ", "k-2_b");
  REQUIRE(ring.ok());
  CHECK(ring->active_id() == "k-2_b");
  CHECK(ring->ids() == std::vector<std::string>{"k-2_b", "k1"});
  CHECK(*ring->Key("k1") == std::string(32, 'a'));
  CHECK(*ring->Key("k-2_b") == std::string(32, 'b'));
  absl::Status unknown = ring->Key("k3").status();
  CHECK(unknown.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(unknown.message() == "master key 'k3' is not configured (configured: k-2_b, k1)");
}

TEST_CASE("MasterKeyRing rejects bad configuration naming the field, never the key",
          "[envelope][keyring]") {
  struct Case {
    std::string spec, active, field;
  };
  const std::string short_key = crypto::Base64Encode(std::string(16, 's'));
  std::vector<Case> cases = {
      {"", "k1", "master_keys"},
      {"k1", "k1", "master_keys"},
      {"k1:not*base64", "k1", "master_keys"},
      {"k1:" + short_key, "k1", "master_keys"},
      {"bad id:" + K('a'), "bad id", "master_keys"},
      {"k1:" + K('a') + ",k1:" + K('b'), "k1", "master_keys"},
      {"k1:" + K('a'), "", "active_master_key_id"},
      {"k1:" + K('a'), "k2", "active_master_key_id"},
  };
  for (const Case& c : cases) {
    INFO(c.spec << " / " << c.active);
    auto ring = MasterKeyRing::Parse(c.spec, c.active);
    REQUIRE_FALSE(ring.ok());
    CHECK(ring.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(ring.status().message(), c.field));
    CHECK_FALSE(absl::StrContains(ring.status().message(), K('a')));
    CHECK_FALSE(absl::StrContains(ring.status().message(), short_key));
  }
}

}  // namespace
}  // namespace switchboard::envelope
