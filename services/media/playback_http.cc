#include "services/media/playback_http.h"

#include "libs/http/url.h"

namespace switchboard::media {

namespace {

http::Response ToHttp(PlaybackResponse p) {
  http::Response r;
  r.status = p.status;
  r.body = std::move(p.body);
  if (p.stream != nullptr) {
    r.body_source = std::move(p.stream);
    r.content_length = p.content_length;
  }
  r.headers.emplace_back("Content-Type", p.content_type);
  r.headers.emplace_back("Cache-Control", "private, no-store");
  if (p.status < 400) r.headers.emplace_back("Accept-Ranges", "bytes");
  if (!p.content_range.empty()) r.headers.emplace_back("Content-Range", p.content_range);
  return r;
}

}  // namespace

http::Router MakePlaybackRouter(MediaCore& core) {
  http::Router router;
  for (ItemKind kind : {ItemKind::kRecording, ItemKind::kVoicemail, ItemKind::kGreeting}) {
    router.Add("GET", PlaybackSigner::PathFor(kind), [&core, kind](const http::Request& request) {
      PlaybackRequest p;
      p.kind = kind;
      p.query = http::ParseQuery(request.query);
      p.range = request.Header("Range");
      p.peer = request.remote_address;
      return ToHttp(core.Play(p));
    });
  }
  return router;
}

}  // namespace switchboard::media
