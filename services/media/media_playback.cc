// MediaCore: signed playback links and the playback endpoint (HTTP Range over decrypted audio).
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/envelope/chunked_aead.h"
#include "libs/http/server.h"
#include "services/media/media_core.h"
#include "services/media/media_internal.h"
#include "services/media/playback_range.h"

namespace switchboard::media {

using internal::IsManager;
using internal::Micros;
using internal::Str;

namespace {

// Streams a decrypted range to the HTTP server; logs the reason when the stream fails (the
// server then aborts the connection, since the headers are already sent).
class DecryptingSource : public http::BodySource {
 public:
  DecryptingSource(std::unique_ptr<envelope::RangeDecryptor> decryptor, std::string blob_key)
      : decryptor_(std::move(decryptor)), blob_key_(std::move(blob_key)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    absl::StatusOr<size_t> got = decryptor_->Read(buf, n);
    if (!got.ok() && !logged_) {
      logged_ = true;
      log::Error("playback stream aborted mid-body",
                 {{"blob_key", blob_key_},
                  {"bytes_left", std::to_string(decryptor_->remaining())},
                  {"error", got.status().ToString()}});
    }
    return got;
  }

 private:
  std::unique_ptr<envelope::RangeDecryptor> decryptor_;
  const std::string blob_key_;
  bool logged_ = false;
};

PlaybackResponse Error(int status, absl::string_view code, absl::string_view message) {
  http::Response r = http::Response::JsonError(status, code, message);
  PlaybackResponse out;
  out.status = status;
  out.content_type = "application/json";
  out.body = std::move(r.body);
  return out;
}

}  // namespace

absl::Status MediaCore::Audit(pqxx::work& tx, absl::string_view company_id,
                              const AccessLogEntry& e) {
  tx.exec_params(
      "INSERT INTO access_log (company_id, at, actor_user_id, actor_role, action, item_kind, "
      "item_id, link_id, peer, detail) VALUES ($1, to_timestamp($2::bigint / 1000000.0), $3, $4, "
      "$5, $6, $7, $8, $9, $10)",
      Str(company_id), Micros(clock_.Now()), e.actor_user_id, e.actor_role, e.action,
      e.item_kind, e.item_id, e.link_id, e.peer, e.detail);
  return absl::OkStatus();
}

absl::StatusOr<Voicemail> MediaCore::VisibleVoicemail(pqxx::work& tx, const Caller& caller,
                                                      absl::string_view id) {
  ASSIGN_OR_RETURN(Voicemail vm, internal::LoadVoicemail(tx, caller.company_id, id));
  if (!IsManager(caller.role) && (caller.user_id.empty() || vm.owner_user_id != caller.user_id)) {
    return absl::PermissionDeniedError("a voicemail of another user needs owner or admin");
  }
  return vm;
}

absl::StatusOr<SignedUrl> MediaCore::PlaybackUrl(const Caller& caller, ItemKind kind,
                                                 absl::string_view item_id) {
  if (item_id.empty()) {
    return absl::InvalidArgumentError(kind == ItemKind::kVoicemail
                                          ? "voicemail_id: must not be empty"
                                          : "recording_id: must not be empty");
  }
  if (kind == ItemKind::kGreeting) {
    return absl::InvalidArgumentError("kind: greetings use GetGreetingUrl");
  }
  SignedUrl url;
  url.link_id = NewUuidV7(clock_.Now());
  url.expires_at =
      absl::FromUnixSeconds(absl::ToUnixSeconds(clock_.Now() + options_.playback_url_ttl));
  RETURN_IF_ERROR(pool_.InTenant(caller.company_id, [&](pqxx::work& tx) -> absl::Status {
    if (kind == ItemKind::kRecording) {
      RETURN_IF_ERROR(internal::LoadRecording(tx, caller.company_id, item_id).status());
      if (!IsManager(caller.role)) {
        return absl::PermissionDeniedError("listening to recordings needs owner or admin");
      }
    } else {
      RETURN_IF_ERROR(VisibleVoicemail(tx, caller, item_id).status());
    }
    return Audit(tx, caller.company_id,
                 {.actor_user_id = caller.user_id, .actor_role = caller.role,
                  .action = "url_issued", .item_kind = ItemKindName(kind),
                  .item_id = Str(item_id), .link_id = url.link_id,
                  .detail = absl::StrCat("expires ", absl::ToUnixSeconds(url.expires_at))});
  }));
  url.url = signer_.Sign({kind, caller.company_id, Str(item_id), url.expires_at, url.link_id});
  return url;
}

PlaybackResponse MediaCore::Play(const PlaybackRequest& request) {
  LinkClaims expired;
  absl::StatusOr<LinkClaims> claims =
      signer_.Verify(request.kind, request.query, clock_.Now(), &expired);
  if (!claims.ok()) {
    if (!expired.company_id.empty() && request.kind != ItemKind::kGreeting) {
      // A genuine link past its expiry: worth a line in the company's audit log.
      absl::Status audited = pool_.InTenant(expired.company_id, [&](pqxx::work& tx) {
        return Audit(tx, expired.company_id,
                     {.action = "http_denied", .item_kind = ItemKindName(request.kind),
                      .item_id = expired.item_id, .link_id = expired.link_id,
                      .peer = request.peer, .detail = "link expired"});
      });
      if (!audited.ok()) log::Warn("audit of denied access failed", {{"error", audited.ToString()}});
    } else {
      log::Warn("playback link refused", {{"peer", request.peer},
                                           {"reason", std::string(claims.status().message())}});
    }
    return Error(403, "forbidden", claims.status().message());
  }
  return PlayVerified(*claims, request);
}

PlaybackResponse MediaCore::PlayVerified(const LinkClaims& claims,
                                         const PlaybackRequest& request) {
  std::string blob_key, format;
  absl::Status found = pool_.InTenant(claims.company_id, [&](pqxx::work& tx) -> absl::Status {
    switch (claims.kind) {
      case ItemKind::kRecording: {
        ASSIGN_OR_RETURN(Recording r, internal::LoadRecording(tx, claims.company_id,
                                                              claims.item_id));
        blob_key = r.blob_key;
        format = r.format;
        break;
      }
      case ItemKind::kVoicemail: {
        ASSIGN_OR_RETURN(Voicemail v, internal::LoadVoicemail(tx, claims.company_id,
                                                              claims.item_id));
        blob_key = v.blob_key;
        format = v.format;
        break;
      }
      case ItemKind::kGreeting: {
        ASSIGN_OR_RETURN(Greeting g, internal::LoadGreeting(tx, claims.company_id,
                                                            claims.item_id));
        blob_key = g.blob_key;
        format = "wav";
        return absl::OkStatus();  // greetings are not audited: the carrier fetches them often
      }
    }
    // The issuing user, from the url_issued entry of this link.
    pqxx::result issuer = tx.exec_params(
        "SELECT actor_user_id, actor_role FROM access_log WHERE company_id = $1 AND link_id = $2 "
        "AND action = 'url_issued' LIMIT 1",
        claims.company_id, claims.link_id);
    AccessLogEntry e{.action = "http_access", .item_kind = ItemKindName(claims.kind),
                     .item_id = claims.item_id, .link_id = claims.link_id, .peer = request.peer,
                     .detail = request.range.value_or("")};
    if (!issuer.empty()) {
      e.actor_user_id = issuer[0][0].as<std::string>();
      e.actor_role = issuer[0][1].as<std::string>();
    }
    return Audit(tx, claims.company_id, e);
  });
  if (!found.ok()) {
    if (found.code() == absl::StatusCode::kNotFound) return Error(404, "not_found", "not found");
    log::Error("playback lookup failed", {{"error", found.ToString()}});
    return Error(503, "unavailable", "try again");
  }

  absl::StatusOr<blob::BlobInfo> info = blobs_.Stat(blob_key);
  if (!info.ok()) {
    if (info.status().code() == absl::StatusCode::kNotFound) {
      return Error(404, "not_found", "not found");
    }
    log::Error("playback stat failed", {{"blob_key", blob_key}, {"error", info.status().ToString()}});
    return Error(503, "unavailable", "try again");
  }
  // Kept by the stream: copies the key, refers to the store (which outlives the HTTP server).
  envelope::RangeReader read = [blobs = &blobs_, blob_key](uint64_t off, uint64_t len,
                                                           const envelope::ByteSink& sink) {
    return blobs->Get(blob_key, blob::ByteRange{off, len}, sink);
  };
  absl::StatusOr<envelope::StreamInfo> stream = envelope::ReadStreamInfo(info->size, read);
  const std::string aad = internal::Aad(claims.company_id, blob_key);
  PlaybackResponse out;
  out.content_type = format == "mp3" ? "audio/mpeg" : "audio/wav";
  std::optional<envelope::PlainRange> range;
  absl::Status status = stream.status();
  if (status.ok()) {
    const uint64_t total = stream->plaintext_bytes;
    out.status = 200;
    if (request.range.has_value()) {
      absl::StatusOr<std::optional<ByteSpan>> span = ParseRange(*request.range, total);
      if (!span.ok()) {
        PlaybackResponse bad = Error(416, "range_not_satisfiable", span.status().message());
        bad.content_range = absl::StrCat("bytes */", total);
        return bad;
      }
      if (span->has_value()) {
        range = envelope::PlainRange{(*span)->first, (*span)->last - (*span)->first + 1};
        out.status = 206;
        out.content_range = absl::StrCat("bytes ", (*span)->first, "-", (*span)->last, "/", total);
      }
    }
    if (total == 0) {
      return out;  // nothing to decrypt (never stored: audio is validated non-empty)
    }
    // Only the chunks covering the range are read, a batch at a time as the client takes
    // them. The first batch is read and authenticated now, so tampering there (or a shredded
    // key, or a store failure) is still an error status rather than a cut-off body.
    absl::StatusOr<std::unique_ptr<envelope::RangeDecryptor>> decryptor =
        envelope::RangeDecryptor::Create(info->size, *stream, read,
                                         keys_.LookupFor(claims.company_id), aad, range,
                                         kChunksPerPlaybackRead);
    status = decryptor.status();
    if (status.ok()) status = (*decryptor)->Prefetch();
    if (status.ok()) {
      out.content_length = (*decryptor)->remaining();
      out.stream = std::make_shared<DecryptingSource>(std::move(*decryptor), blob_key);
    }
  }
  if (!status.ok()) {
    log::Error("playback decrypt failed", {{"blob_key", blob_key}, {"error", status.ToString()}});
    if (status.code() == absl::StatusCode::kFailedPrecondition) {
      return Error(410, "gone", "the company's audio was deleted (key shredded)");
    }
    if (status.code() == absl::StatusCode::kDataLoss) {
      return Error(500, "data_loss", "stored audio failed its integrity check");
    }
    return Error(503, "unavailable", "try again");
  }
  return out;
}

}  // namespace switchboard::media
