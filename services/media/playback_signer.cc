#include "services/media/playback_signer.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/http/url.h"

namespace switchboard::media {

const char* ItemKindName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kRecording: return "recording";
    case ItemKind::kVoicemail: return "voicemail";
    case ItemKind::kGreeting: return "greeting";
  }
  return "recording";
}

PlaybackSigner::PlaybackSigner(std::string key, std::string base_url)
    : key_(std::move(key)), base_url_(std::move(base_url)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string PlaybackSigner::PathFor(ItemKind kind) {
  return absl::StrCat("/v1/media/", ItemKindName(kind));
}

std::string PlaybackSigner::Mac(ItemKind kind, absl::string_view company, absl::string_view id,
                                int64_t expiry, absl::string_view link) const {
  return crypto::Base64UrlEncode(crypto::HmacSha256(
      key_, absl::StrCat("sb-media-v1|", ItemKindName(kind), "|", company, "|", id, "|", expiry,
                         "|", link)));
}

std::string PlaybackSigner::Sign(const LinkClaims& c) const {
  const int64_t expiry = absl::ToUnixSeconds(c.expires_at);
  return absl::StrCat(base_url_, PathFor(c.kind), "?c=", http::PercentEncode(c.company_id),
                      "&id=", http::PercentEncode(c.item_id), "&e=", expiry,
                      "&l=", http::PercentEncode(c.link_id),
                      "&s=", Mac(c.kind, c.company_id, c.item_id, expiry, c.link_id));
}

absl::StatusOr<LinkClaims> PlaybackSigner::Verify(
    ItemKind kind, const http::Params& query, absl::Time now,
    LinkClaims* expired_claims) const {
  const absl::Status invalid = absl::PermissionDeniedError("link signature invalid");
  auto one = [&](const char* name) -> const std::string* {
    const std::string* found = nullptr;
    for (const auto& [k, v] : query) {
      if (k != name) continue;
      if (found != nullptr) return nullptr;  // duplicated parameter: refuse
      found = &v;
    }
    return found;
  };
  const std::string* c = one("c");
  const std::string* id = one("id");
  const std::string* e = one("e");
  const std::string* l = one("l");
  const std::string* s = one("s");
  if (c == nullptr || id == nullptr || e == nullptr || l == nullptr || s == nullptr) return invalid;
  int64_t expiry = 0;
  if (!absl::SimpleAtoi(*e, &expiry) || c->empty() || id->empty()) return invalid;
  if (!crypto::ConstantTimeEquals(Mac(kind, *c, *id, expiry, *l), *s)) return invalid;
  LinkClaims claims{kind, *c, *id, absl::FromUnixSeconds(expiry), *l};
  if (now >= claims.expires_at) {
    if (expired_claims != nullptr) *expired_claims = claims;
    return absl::PermissionDeniedError("link expired");
  }
  return claims;
}

}  // namespace switchboard::media
