#include "libs/http/url.h"

#include <catch2/catch.hpp>

namespace switchboard::http {
namespace {

using P = std::pair<std::string, std::string>;

TEST_CASE("PercentDecode decodes escapes and keeps '+'", "[http][url]") {
  CHECK(PercentDecode("a%20b") == "a b");
  CHECK(PercentDecode("a+b") == "a+b");
  CHECK(PercentDecode("%2b%2B") == "++");
  CHECK(PercentDecode("%E2%9C%93") == "\xE2\x9C\x93");
  CHECK(PercentDecode("") == "");
}

TEST_CASE("Malformed percent escapes are kept literally", "[http][url]") {
  CHECK(PercentDecode("100%") == "100%");
  CHECK(PercentDecode("%4") == "%4");
  CHECK(PercentDecode("%zz") == "%zz");
  CHECK(PercentDecode("%%41") == "%A");
  CHECK(FormDecode("%g1+x") == "%g1 x");
}

TEST_CASE("ParseForm follows x-www-form-urlencoded rules", "[http][url]") {
  SECTION("plus is a space, %2B is a plus") {
    CHECK(ParseForm("To=%2B15551234567&Body=hello+world") ==
          Params{P{"To", "+15551234567"}, P{"Body", "hello world"}});
  }
  SECTION("duplicates are kept in order") {
    CHECK(ParseForm("a=1&b=2&a=3") == Params{P{"a", "1"}, P{"b", "2"}, P{"a", "3"}});
  }
  SECTION("empty values and names without '='") {
    CHECK(ParseForm("a=&b&c=3") == Params{P{"a", ""}, P{"b", ""}, P{"c", "3"}});
  }
  SECTION("empty segments are skipped") {
    CHECK(ParseForm("&a=1&&b=2&") == Params{P{"a", "1"}, P{"b", "2"}});
    CHECK(ParseForm("").empty());
  }
  SECTION("value splits on the first '=' only") {
    CHECK(ParseForm("sig=ab==&x=%3D") == Params{P{"sig", "ab=="}, P{"x", "="}});
  }
  SECTION("encoded names and a bad escape") {
    CHECK(ParseForm("Media%5B0%5D=u&p=50%") == Params{P{"Media[0]", "u"}, P{"p", "50%"}});
  }
  SECTION("empty name") { CHECK(ParseForm("=v") == Params{P{"", "v"}}); }
}

TEST_CASE("ParseQuery uses the same rules as ParseForm", "[http][url]") {
  CHECK(ParseQuery("q=a+b&q=c%26d") == Params{P{"q", "a b"}, P{"q", "c&d"}});
}

TEST_CASE("PercentEncode round-trips through PercentDecode", "[http][url]") {
  const std::string raw = "a b+c/d?e=f&g~h_i.j-k\xE2\x9C\x93";
  const std::string encoded = PercentEncode(raw);
  CHECK(encoded == "a%20b%2Bc%2Fd%3Fe%3Df%26g~h_i.j-k%E2%9C%93");
  CHECK(PercentDecode(encoded) == raw);
}

}  // namespace
}  // namespace switchboard::http
