// Signed playback links (ARCHITECTURE.md §5): `<base>/v1/media/<kind>?c=<company>&id=<id>&e=
// <expiry unix s>&l=<link id>&s=<sig>`, sig = base64url(HMAC-SHA256(key,
// "sb-media-v1|<kind>|<company>|<id>|<expiry>|<link id>")). Whoever holds the link may fetch the
// item until it expires; changing any part invalidates it. Pure; thread-safe (immutable).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/http/url.h"
#include "services/media/model.h"

namespace switchboard::media {

struct LinkClaims {
  ItemKind kind = ItemKind::kRecording;
  std::string company_id;
  std::string item_id;
  absl::Time expires_at;
  std::string link_id;
};

class PlaybackSigner {
 public:
  // `key`: raw secret bytes (>= 32 recommended; never logged). `base_url`: scheme://host[:port],
  // no trailing slash.
  PlaybackSigner(std::string key, std::string base_url);

  // The URL path for a kind: "/v1/media/recording" etc.
  static std::string PathFor(ItemKind kind);

  std::string Sign(const LinkClaims& claims) const;

  // Verifies the query of a request to PathFor(kind). kPermissionDenied "link signature invalid"
  // for a missing/altered parameter or signature, kPermissionDenied "link expired" (with the
  // claims still returned through `expired_claims` when non-null) once `now` >= expiry.
  absl::StatusOr<LinkClaims> Verify(ItemKind kind,
                                    const http::Params& query,
                                    absl::Time now, LinkClaims* expired_claims = nullptr) const;

 private:
  std::string Mac(ItemKind kind, absl::string_view company, absl::string_view id,
                  int64_t expiry, absl::string_view link) const;
  std::string key_;
  std::string base_url_;
};

}  // namespace switchboard::media
