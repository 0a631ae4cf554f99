#include "services/media/playback_range.h"

#include <catch2/catch.hpp>

namespace switchboard::media {
namespace {

TEST_CASE("ParseRange follows RFC 9110 single byte ranges", "[media][range]") {
  auto span = [](absl::string_view h, uint64_t total) {
    absl::StatusOr<std::optional<ByteSpan>> r = ParseRange(h, total);
    REQUIRE(r.ok());
    REQUIRE(r->has_value());
    return std::make_pair((*r)->first, (*r)->last);
  };
  CHECK(span("bytes=0-99", 1000) == std::make_pair(uint64_t{0}, uint64_t{99}));
  CHECK(span("bytes=990-2000", 1000) == std::make_pair(uint64_t{990}, uint64_t{999}));  // clipped
  CHECK(span("bytes=500-", 1000) == std::make_pair(uint64_t{500}, uint64_t{999}));
  CHECK(span("bytes=-100", 1000) == std::make_pair(uint64_t{900}, uint64_t{999}));
  CHECK(span("bytes=-5000", 1000) == std::make_pair(uint64_t{0}, uint64_t{999}));
  CHECK(span("bytes=999-999", 1000) == std::make_pair(uint64_t{999}, uint64_t{999}));

  SECTION("other units and multiple ranges: serve everything") {
    CHECK_FALSE(ParseRange("items=0-5", 1000)->has_value());
    CHECK_FALSE(ParseRange("bytes=0-5,10-20", 1000)->has_value());
  }
  SECTION("malformed or unsatisfiable: 416") {
    for (const char* h : {"bytes=1000-", "bytes=5-3", "bytes=-0", "bytes=abc-", "bytes=5",
                          "bytes=1-x", "bytes=-"}) {
      INFO(h);
      CHECK(ParseRange(h, 1000).status().code() == absl::StatusCode::kOutOfRange);
    }
    CHECK(ParseRange("bytes=0-", 0).status().code() == absl::StatusCode::kOutOfRange);
    CHECK(ParseRange("bytes=-1", 0).status().code() == absl::StatusCode::kOutOfRange);
  }
}

}  // namespace
}  // namespace switchboard::media
