// The playback HTTP listener's routes: GET (and HEAD-less) /v1/media/{recording,voicemail,
// greeting}?c=&id=&e=&l=&s= → MediaCore::Play. Responses: 200/206 with Accept-Ranges: bytes and
// Content-Range for ranges, 403/404/410/416/500/503 with a JSON error body. Cache-Control:
// private, no-store (links are personal and short-lived). Thread-safe (MediaCore is).
#pragma once

#include "libs/http/server.h"
#include "services/media/media_core.h"

namespace switchboard::media {

http::Router MakePlaybackRouter(MediaCore& core);

}  // namespace switchboard::media
