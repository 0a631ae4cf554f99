#include <catch2/catch.hpp>

#include "libs/common/log.h"

namespace switchboard::log {
namespace {

TEST_CASE("JSON escaping covers quotes, backslashes and control characters", "[common][log]") {
  std::string out;
  AppendJsonEscaped(out, "a\"b\\c\nd\x01");
  CHECK(out == "a\\\"b\\\\c\\nd\\u0001");
}

TEST_CASE("ParseLevel accepts the four level names only", "[common][log]") {
  Level l;
  CHECK(ParseLevel("warn", &l));
  CHECK(l == Level::kWarn);
  CHECK_FALSE(ParseLevel("loud", &l));
}

}  // namespace
}  // namespace switchboard::log
