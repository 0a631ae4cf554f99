#include "libs/crypto/hash.h"

#include <catch2/catch.hpp>

#include <string>

#include "libs/crypto/encoding.h"

namespace switchboard::crypto {
namespace {

TEST_CASE("Sha256 matches the FIPS 180-2 vectors", "[crypto][hash]") {
  CHECK(HexEncode(Sha256("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(HexEncode(Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256("abc").size() == 32);
}

TEST_CASE("HmacSha1 matches RFC 2202", "[crypto][hash]") {
  CHECK(HexEncode(HmacSha1(std::string(20, '\x0b'), "Hi There")) ==
        "b617318655057264e28bc0b6fb378c8ef146be00");
  CHECK(HexEncode(HmacSha1("Jefe", "what do ya want for nothing?")) ==
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  CHECK(HexEncode(HmacSha1(std::string(20, '\xaa'), std::string(50, '\xdd'))) ==
        "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
  CHECK(HexEncode(HmacSha1(std::string(80, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST_CASE("HmacSha256 matches RFC 4231", "[crypto][hash]") {
  CHECK(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(HexEncode(HmacSha256(std::string(20, '\xaa'), std::string(50, '\xdd'))) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  CHECK(HexEncode(HmacSha256(std::string(131, '\xaa'),
                             "Test Using Larger Than Block-Size Key - Hash Key First")) ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("HMAC with an empty key is still a keyed MAC", "[crypto][hash]") {
  CHECK(HmacSha256("", "data").size() == 32);
  CHECK(HmacSha256("", "data") != HmacSha256("k", "data"));
}

TEST_CASE("ConstantTimeEquals compares contents and lengths", "[crypto][hash]") {
  CHECK(ConstantTimeEquals("", ""));
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
  CHECK_FALSE(ConstantTimeEquals("abc", "ab"));
  CHECK_FALSE(ConstantTimeEquals("", "a"));
  CHECK(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0b", 3)));
  CHECK_FALSE(ConstantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
}  // namespace switchboard::crypto
