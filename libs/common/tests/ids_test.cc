#include <catch2/catch.hpp>

#include <set>

#include "libs/common/ids.h"

namespace switchboard {
namespace {

TEST_CASE("NewUuidV7 is a version-7 RFC 9562 UUID that sorts by time", "[common][ids]") {
  absl::Time t0 = absl::FromUnixMillis(1'700'000'000'000);
  std::string a = NewUuidV7(t0);
  std::string b = NewUuidV7(t0 + absl::Milliseconds(1));
  CHECK(IsUuid(a));
  CHECK(a[14] == '7');
  CHECK((a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b'));
  CHECK(a.substr(0, 13) == "018bcfe5-6800");  // 1'700'000'000'000 ms in hex
  CHECK(a < b);
}

TEST_CASE("NewUuidV7 does not repeat", "[common][ids]") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(NewUuidV7());
  CHECK(seen.size() == 10000);
}

TEST_CASE("IsUuid rejects malformed text", "[common][ids]") {
  CHECK_FALSE(IsUuid(""));
  CHECK_FALSE(IsUuid("018bcfe5-6800-7000-8000-00000000000"));
  CHECK_FALSE(IsUuid("018bcfe5x6800-7000-8000-000000000000"));
  CHECK_FALSE(IsUuid("018bcfe5-6800-7000-8000-00000000000g"));
  CHECK(IsUuid("018BCFE5-6800-7000-8000-000000000000"));
}

}  // namespace
}  // namespace switchboard
