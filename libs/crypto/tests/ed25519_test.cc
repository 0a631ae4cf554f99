#include "libs/crypto/ed25519.h"

#include <catch2/catch.hpp>

#include <string>

#include "libs/crypto/encoding.h"

namespace switchboard::crypto {
namespace {

TEST_CASE("Ed25519 sign then verify", "[crypto][ed25519]") {
  const Ed25519KeyPair pair = Ed25519Generate();
  REQUIRE(pair.public_key.size() == kEd25519PublicKeyBytes);
  REQUIRE(pair.secret_key.size() == kEd25519SecretKeyBytes);
  const std::string message = "1700000000|{\"data\":{\"event_type\":\"call.initiated\"}}";
  const std::string sig = Ed25519Sign(pair.secret_key, message);
  REQUIRE(sig.size() == kEd25519SignatureBytes);
  CHECK(Ed25519Verify(pair.public_key, message, sig));

  SECTION("tampered message") {
    std::string tampered = message;
    tampered[0] = '2';
    CHECK_FALSE(Ed25519Verify(pair.public_key, tampered, sig));
  }
  SECTION("tampered signature") {
    std::string bad = sig;
    bad[10] = static_cast<char>(bad[10] ^ 0x40);
    CHECK_FALSE(Ed25519Verify(pair.public_key, message, bad));
  }
  SECTION("another key") {
    CHECK_FALSE(Ed25519Verify(Ed25519Generate().public_key, message, sig));
  }
  SECTION("wrong sizes are false, not a crash") {
    CHECK_FALSE(Ed25519Verify("", message, sig));
    CHECK_FALSE(Ed25519Verify(pair.public_key, message, ""));
    CHECK_FALSE(Ed25519Verify(pair.public_key, message, sig.substr(0, 63)));
    CHECK_FALSE(Ed25519Verify(pair.public_key.substr(1), message, sig));
    CHECK(Ed25519Sign("short", message).empty());
  }
}

TEST_CASE("Ed25519 matches RFC 8032 test vector 1", "[crypto][ed25519]") {
  // RFC 8032 §7.1 TEST 1: empty message. libsodium's secret key is seed || public key.
  const std::string seed_hex =
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  const std::string pub_hex =
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  auto from_hex = [](const std::string& hex) {
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) {
      out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return out;
  };
  const std::string sig = Ed25519Sign(from_hex(seed_hex + pub_hex), "");
  CHECK(HexEncode(sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  CHECK(Ed25519Verify(from_hex(pub_hex), "", sig));
}

}  // namespace
}  // namespace switchboard::crypto
