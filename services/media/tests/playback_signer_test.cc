#include "services/media/playback_signer.h"

#include <catch2/catch.hpp>

#include "libs/http/url.h"

namespace switchboard::media {
namespace {

http::Params QueryOf(const std::string& url) {
  return http::ParseQuery(url.substr(url.find('?') + 1));
}

TEST_CASE("PlaybackSigner signs links that verify until they expire", "[media][signer]") {
  PlaybackSigner signer(std::string(32, 'k'), "http://media.test:8081/");
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  const LinkClaims claims{ItemKind::kVoicemail, "company-1", "vm-1", now + absl::Hours(1), "link-1"};
  const std::string url = signer.Sign(claims);
  CHECK(url.rfind("http://media.test:8081/v1/media/voicemail?c=company-1&id=vm-1&e=", 0) == 0);

  SECTION("valid") {
    absl::StatusOr<LinkClaims> got = signer.Verify(ItemKind::kVoicemail, QueryOf(url), now);
    REQUIRE(got.ok());
    CHECK(got->company_id == "company-1");
    CHECK(got->item_id == "vm-1");
    CHECK(got->link_id == "link-1");
    CHECK(got->expires_at == claims.expires_at);
  }
  SECTION("expired, with the claims reported") {
    LinkClaims expired;
    absl::StatusOr<LinkClaims> got =
        signer.Verify(ItemKind::kVoicemail, QueryOf(url), now + absl::Hours(1), &expired);
    REQUIRE_FALSE(got.ok());
    CHECK(got.status().code() == absl::StatusCode::kPermissionDenied);
    CHECK(got.status().message() == "link expired");
    CHECK(expired.item_id == "vm-1");
  }
  SECTION("every altered part is refused") {
    for (const char* param : {"c", "id", "e", "l", "s"}) {
      http::Params q = QueryOf(url);
      for (auto& [k, v] : q) {
        if (k == param) v += "0";
      }
      absl::StatusOr<LinkClaims> got = signer.Verify(ItemKind::kVoicemail, q, now);
      INFO(param);
      REQUIRE_FALSE(got.ok());
      CHECK(got.status().message() == "link signature invalid");
    }
  }
  SECTION("another kind, a missing or duplicated parameter, another key") {
    CHECK_FALSE(signer.Verify(ItemKind::kRecording, QueryOf(url), now).ok());
    http::Params missing = QueryOf(url);
    missing.pop_back();
    CHECK_FALSE(signer.Verify(ItemKind::kVoicemail, missing, now).ok());
    http::Params dup = QueryOf(url);
    dup.emplace_back("id", "vm-2");
    CHECK_FALSE(signer.Verify(ItemKind::kVoicemail, dup, now).ok());
    PlaybackSigner other(std::string(32, 'x'), "http://media.test:8081");
    CHECK_FALSE(other.Verify(ItemKind::kVoicemail, QueryOf(url), now).ok());
  }
}

}  // namespace
}  // namespace switchboard::media
