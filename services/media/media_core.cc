#include "services/media/media_core.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/audio/audio.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/hash.h"
#include "libs/db/pg_errors.h"
#include "libs/envelope/chunked_aead.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "services/media/media_internal.h"

namespace switchboard::media {

using internal::IsManager;
using internal::Micros;
using internal::Str;

MediaCore::MediaCore(db::Pool& pool, blob::BlobStore& blobs, envelope::DataKeyManager& keys,
                     const envelope::MasterKeyRing& ring, RecordingFetcher* fetcher,
                     const PlaybackSigner& signer, const Clock& clock, MediaCoreOptions options)
    : pool_(pool),
      blobs_(blobs),
      keys_(keys),
      ring_(ring),
      fetcher_(fetcher),
      signer_(signer),
      clock_(clock),
      options_(std::move(options)) {}

absl::StatusOr<MediaCore::Stored> MediaCore::StoreEncrypted(absl::string_view company_id,
                                                            absl::string_view blob_key,
                                                            absl::string_view audio) {
  ASSIGN_OR_RETURN(envelope::DataKey dk, keys_.GetOrCreateDataKey(company_id));
  ASSIGN_OR_RETURN(std::unique_ptr<envelope::StreamEncryptor> enc,
                   envelope::StreamEncryptor::Create(dk.key->bytes(), dk.version,
                                                     internal::Aad(company_id, blob_key)));
  ASSIGN_OR_RETURN(std::unique_ptr<blob::BlobWriter> writer, blobs_.NewWriter(blob_key));
  envelope::ByteSink to_blob = [&](absl::string_view p) { return writer->Append(p); };
  // Feed the encryptor in 256 KiB pieces so the blob writer streams (S3 multipart, FS appends).
  constexpr size_t kPiece = 256 << 10;
  absl::Status status;
  for (size_t at = 0; at < audio.size() && status.ok(); at += kPiece) {
    status = enc->Update(audio.substr(at, kPiece), to_blob);
  }
  if (status.ok()) status = enc->Finish(to_blob);
  if (status.ok()) status = writer->Commit();
  if (!status.ok()) {
    writer->Abort();
    return Annotate(status, absl::StrCat("store blob ", blob_key));
  }
  return Stored{std::string(blob_key), crypto::HexEncode(crypto::Sha256(audio)),
                static_cast<uint64_t>(audio.size())};
}

absl::StatusOr<std::string> MediaCore::ReadPlaintextForTest(absl::string_view company_id,
                                                            absl::string_view blob_key) {
  ASSIGN_OR_RETURN(blob::BlobInfo info, blobs_.Stat(blob_key));
  std::string out;
  envelope::RangeReader read = [&](uint64_t off, uint64_t len, const envelope::ByteSink& sink) {
    return blobs_.Get(blob_key, blob::ByteRange{off, len}, sink);
  };
  RETURN_IF_ERROR(envelope::DecryptRange(info.size, read, keys_.LookupFor(std::string(company_id)),
                                         internal::Aad(company_id, blob_key), std::nullopt,
                                         [&](absl::string_view p) {
                                           out.append(p.data(), p.size());
                                           return absl::OkStatus();
                                         }));
  return out;
}

namespace {

absl::Status ValidateIngest(const IngestRequest& r) {
  if (r.kind == ItemKind::kGreeting) return absl::InvalidArgumentError("kind: must be recording or voicemail");
  if (r.company_id.empty()) return absl::InvalidArgumentError("company_id: must not be empty");
  if (r.provider_recording_id.empty() || r.provider_recording_id.size() > 200) {
    return absl::InvalidArgumentError("provider_recording_id: must be 1..200 bytes");
  }
  if (r.kind == ItemKind::kVoicemail && (r.box_id.empty() || r.box_id.size() > 200)) {
    return absl::InvalidArgumentError("box_id: must be 1..200 bytes");
  }
  return absl::OkStatus();
}

// Existing item id for (company, provider_recording_id), or "".
std::string ExistingId(pqxx::work& tx, const IngestRequest& r) {
  const char* table = r.kind == ItemKind::kVoicemail ? "voicemails" : "recordings";
  pqxx::result res = tx.exec_params(
      absl::StrCat("SELECT id FROM ", table,
                   " WHERE company_id = $1 AND provider_recording_id = $2"),
      r.company_id, r.provider_recording_id);
  return res.empty() ? "" : res[0][0].as<std::string>();
}

// The owner of a voicemail's box: the one the event names (which also updates media's record
// of the box), else the recorded one, else "" (a shared box).
std::string BoxOwner(pqxx::work& tx, const IngestRequest& r, absl::Time now) {
  if (r.box_owner.has_value()) {
    internal::PutBoxOwner(tx, r.company_id, r.box_id, *r.box_owner, now);
    return *r.box_owner;
  }
  pqxx::result box = tx.exec_params(
      "SELECT owner_user_id FROM voicemail_boxes WHERE company_id = $1 AND box_id = $2",
      r.company_id, r.box_id);
  return box.empty() ? "" : box[0][0].as<std::string>();
}

}  // namespace

absl::StatusOr<IngestResult> MediaCore::Ingest(pqxx::work& tx, const IngestRequest& request) {
  RETURN_IF_ERROR(ValidateIngest(request));
  ASSIGN_OR_RETURN(std::string existing,
                   db::RunCatchingOr<std::string>("find ingested item",
                                                  [&] { return ExistingId(tx, request); }));
  if (!existing.empty()) return IngestResult{existing, false};
  // A voicemail is also announced as a plain carrier recording (the Record verb): store the
  // audio once, as the voicemail.
  IngestRequest other = request;
  other.kind = request.kind == ItemKind::kVoicemail ? ItemKind::kRecording : ItemKind::kVoicemail;
  ASSIGN_OR_RETURN(std::string counterpart,
                   db::RunCatchingOr<std::string>("find ingested item",
                                                  [&] { return ExistingId(tx, other); }));
  if (!counterpart.empty()) {
    if (request.kind == ItemKind::kRecording) return IngestResult{counterpart, false};
    return AdoptRecording(tx, request, counterpart);
  }
  if (fetcher_ == nullptr) return absl::FailedPreconditionError("no recording fetcher configured");
  if (request.fetch_ref.empty()) return absl::InvalidArgumentError("fetch_ref: must not be empty");
  std::string audio;
  RETURN_IF_ERROR(fetcher_->Fetch(request.company_id, request.fetch_ref,
                                  options_.max_audio_bytes, [&](absl::string_view p) {
                                    if (audio.size() + p.size() > options_.max_audio_bytes) {
                                      return absl::InvalidArgumentError(absl::StrCat(
                                          "audio: larger than ", options_.max_audio_bytes,
                                          " bytes"));
                                    }
                                    audio.append(p.data(), p.size());
                                    return absl::OkStatus();
                                  }));
  return InsertItem(tx, request, audio);
}

absl::StatusOr<IngestResult> MediaCore::IngestBytes(const IngestRequest& request,
                                                    absl::string_view audio) {
  RETURN_IF_ERROR(ValidateIngest(request));
  return pool_.InTenantOr<IngestResult>(
      request.company_id, [&](pqxx::work& tx) -> absl::StatusOr<IngestResult> {
        std::string existing = ExistingId(tx, request);
        if (!existing.empty()) return IngestResult{existing, false};
        return InsertItem(tx, request, audio);
      });
}

absl::StatusOr<IngestResult> MediaCore::InsertItem(pqxx::work& tx, const IngestRequest& r,
                                                   absl::string_view audio) {
  if (audio.size() > options_.max_audio_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("audio: larger than ", options_.max_audio_bytes, " bytes"));
  }
  ASSIGN_OR_RETURN(audio::AudioInfo info, audio::DetectAudio(audio));
  const std::string id = NewUuidV7(clock_.Now());
  const bool vm = r.kind == ItemKind::kVoicemail;
  const std::string blob_key =
      absl::StrCat(r.company_id, vm ? "/voicemails/" : "/recordings/", id, ".sbe");
  ASSIGN_OR_RETURN(Stored stored, StoreEncrypted(r.company_id, blob_key, audio));
  const int64_t duration_ms = absl::ToInt64Milliseconds(info.duration);
  const absl::Time now = clock_.Now();
  absl::StatusOr<IngestResult> result = db::RunCatchingOr<IngestResult>(
      "insert media item", [&]() -> absl::StatusOr<IngestResult> {
        events::v1::Event event;
        pqxx::result inserted;
        if (vm) {
          const std::string owner = BoxOwner(tx, r, now);
          inserted = tx.exec_params(
              "INSERT INTO voicemails (id, company_id, provider, provider_recording_id, box_id, "
              "owner_user_id, caller, call_id, blob_key, format, duration_ms, size_bytes, sha256, "
              "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
              "to_timestamp($14::bigint / 1000000.0)) "
              "ON CONFLICT (company_id, provider_recording_id) DO NOTHING RETURNING id",
              id, r.company_id, r.provider, r.provider_recording_id, r.box_id, owner, r.caller,
              r.call_id, blob_key, std::string(audio::FormatName(info.format)), duration_ms,
              static_cast<int64_t>(stored.size), stored.sha256_hex, Micros(now));
          event = events::NewEvent("media.voicemail_stored", r.company_id, id, options_.source,
                                   clock_);
          auto* p = event.mutable_voicemail_stored();
          p->set_voicemail_id(id);
          p->set_box_id(r.box_id);
          p->set_owner_user_id(owner);
          p->set_caller(r.caller);
          p->set_call_id(r.call_id);
          p->set_format(audio::FormatName(info.format));
          p->set_duration_ms(duration_ms);
          p->set_size_bytes(static_cast<int64_t>(stored.size));
          p->set_sha256(stored.sha256_hex);
          p->set_provider_recording_id(r.provider_recording_id);
        } else {
          inserted = tx.exec_params(
              "INSERT INTO recordings (id, company_id, provider, provider_recording_id, call_id, "
              "call_key, blob_key, format, duration_ms, size_bytes, sha256, created_at) VALUES "
              "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, to_timestamp($12::bigint / "
              "1000000.0)) ON CONFLICT (company_id, provider_recording_id) DO NOTHING "
              "RETURNING id",
              id, r.company_id, r.provider, r.provider_recording_id, r.call_id, r.call_key,
              blob_key, std::string(audio::FormatName(info.format)), duration_ms,
              static_cast<int64_t>(stored.size), stored.sha256_hex, Micros(now));
          event = events::NewEvent("media.recording_stored", r.company_id, id, options_.source,
                                   clock_);
          auto* p = event.mutable_recording_stored();
          p->set_recording_id(id);
          p->set_call_id(r.call_id);
          p->set_call_key(r.call_key);
          p->set_provider(r.provider);
          p->set_provider_recording_id(r.provider_recording_id);
          p->set_format(audio::FormatName(info.format));
          p->set_duration_ms(duration_ms);
          p->set_size_bytes(static_cast<int64_t>(stored.size));
          p->set_sha256(stored.sha256_hex);
        }
        if (inserted.empty()) {
          // A concurrent ingest of the same recording won: ours is an orphan now.
          return IngestResult{ExistingId(tx, r), false};
        }
        RETURN_IF_ERROR(events::AppendToOutbox(tx, events::kMediaTopic, event));
        return IngestResult{id, true};
      });
  if (!result.ok() || !result->created) {
    // Nothing points at the blob: remove it now (the orphan sweeper would, later).
    blobs_.Delete(blob_key).IgnoreError();  // best effort; the sweeper covers failures
  }
  return result;
}

absl::StatusOr<IngestResult> MediaCore::AdoptRecording(pqxx::work& tx, const IngestRequest& r,
                                                        absl::string_view recording_id) {
  return db::RunCatchingOr<IngestResult>("adopt recording as voicemail", [&]()
                                             -> absl::StatusOr<IngestResult> {
    pqxx::result rec = tx.exec_params(
        "DELETE FROM recordings WHERE company_id = $1 AND id = $2 "
        "RETURNING blob_key, format, duration_ms, size_bytes, sha256",
        r.company_id, internal::Str(recording_id));
    if (rec.empty()) return absl::AbortedError("recording changed concurrently; retry");
    const std::string owner = BoxOwner(tx, r, clock_.Now());
    const std::string id = NewUuidV7(clock_.Now());
    const std::string format = rec[0][1].as<std::string>();
    const int64_t duration_ms = rec[0][2].as<int64_t>(), size = rec[0][3].as<int64_t>();
    const std::string sha = rec[0][4].as<std::string>();
    // The blob stays where it is: its associated data is bound to its key, kept in the row.
    tx.exec_params(
        "INSERT INTO voicemails (id, company_id, provider, provider_recording_id, box_id, "
        "owner_user_id, caller, call_id, blob_key, format, duration_ms, size_bytes, sha256, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
        "to_timestamp($14::bigint / 1000000.0))",
        id, r.company_id, r.provider, r.provider_recording_id, r.box_id, owner, r.caller,
        r.call_id, rec[0][0].as<std::string>(), format, duration_ms, size, sha,
        Micros(clock_.Now()));
    events::v1::Event deleted = events::NewEvent("media.recording_deleted", r.company_id,
                                                 recording_id, options_.source, clock_);
    deleted.mutable_recording_deleted()->set_recording_id(std::string(recording_id));
    deleted.mutable_recording_deleted()->set_reason("voicemail");
    RETURN_IF_ERROR(events::AppendToOutbox(tx, events::kMediaTopic, deleted));
    events::v1::Event stored =
        events::NewEvent("media.voicemail_stored", r.company_id, id, options_.source, clock_);
    auto* p = stored.mutable_voicemail_stored();
    p->set_voicemail_id(id);
    p->set_box_id(r.box_id);
    p->set_owner_user_id(owner);
    p->set_caller(r.caller);
    p->set_call_id(r.call_id);
    p->set_format(format);
    p->set_duration_ms(duration_ms);
    p->set_size_bytes(size);
    p->set_sha256(sha);
    p->set_provider_recording_id(r.provider_recording_id);
    RETURN_IF_ERROR(events::AppendToOutbox(tx, events::kMediaTopic, stored));
    return IngestResult{id, true};
  });
}

absl::StatusOr<Voicemail> MediaCore::ImportVoicemail(const Caller& caller,
                                                     const IngestRequest& request,
                                                     absl::string_view audio) {
  if (!IsManager(caller.role)) {
    return absl::PermissionDeniedError("importing voicemail needs owner or admin");
  }
  IngestRequest r = request;
  r.kind = ItemKind::kVoicemail;
  r.company_id = caller.company_id;
  r.provider = "upload";
  if (r.provider_recording_id.empty()) {
    return absl::InvalidArgumentError("import_id: must not be empty");
  }
  r.provider_recording_id = absl::StrCat("import:", r.provider_recording_id);
  ASSIGN_OR_RETURN(IngestResult result, IngestBytes(r, audio));
  return pool_.InTenantOr<Voicemail>(caller.company_id, [&](pqxx::work& tx) {
    return internal::LoadVoicemail(tx, caller.company_id, result.id);
  });
}

// --- Greetings ------------------------------------------------------------------------------

absl::StatusOr<std::pair<Greeting, SignedUrl>> MediaCore::SignGreeting(const Caller& caller,
                                                                       Greeting greeting) {
  (void)caller;
  SignedUrl url;
  url.link_id = NewUuidV7(clock_.Now());
  url.expires_at = absl::FromUnixSeconds(
      absl::ToUnixSeconds(clock_.Now() + options_.greeting_url_ttl));
  url.url = signer_.Sign({ItemKind::kGreeting, greeting.company_id, greeting.id, url.expires_at,
                          url.link_id});
  return std::make_pair(std::move(greeting), std::move(url));
}

absl::StatusOr<std::pair<Greeting, SignedUrl>> MediaCore::GreetingUrlForText(
    const Caller& caller, absl::string_view text, absl::string_view voice,
    absl::string_view language) {
  if (text.empty()) return absl::InvalidArgumentError("text: must not be empty");
  if (voice.size() > 64) return absl::InvalidArgumentError("voice: over 64 bytes");
  if (language.size() > 64) return absl::InvalidArgumentError("language: over 64 bytes");
  const std::string hash = crypto::HexEncode(
      crypto::Sha256(absl::StrCat("tts|", voice, "|", language, "|", text)));
  auto find = [&]() -> absl::StatusOr<std::optional<Greeting>> {
    return pool_.InTenantOr<std::optional<Greeting>>(
        caller.company_id, [&](pqxx::work& tx) -> absl::StatusOr<std::optional<Greeting>> {
          return internal::FindGreetingByHash(tx, caller.company_id, hash);
        });
  };
  ASSIGN_OR_RETURN(std::optional<Greeting> cached, find());
  if (cached.has_value()) return SignGreeting(caller, std::move(*cached));

  ASSIGN_OR_RETURN(std::string wav,
                   audio::Synthesize(text, {.voice = std::string(voice),
                                            .language = std::string(language)}));
  ASSIGN_OR_RETURN(audio::AudioInfo info, audio::DetectAudio(wav));
  Greeting g;
  g.id = NewUuidV7(clock_.Now());
  g.company_id = caller.company_id;
  g.content_hash = hash;
  g.source = "tts";
  g.text = std::string(text);
  g.voice = std::string(voice);
  g.language = std::string(language);
  g.blob_key = absl::StrCat(caller.company_id, "/greetings/", g.id, ".sbe");
  g.duration_ms = absl::ToInt64Milliseconds(info.duration);
  g.size_bytes = static_cast<int64_t>(wav.size());
  g.created_at = clock_.Now();
  RETURN_IF_ERROR(StoreEncrypted(caller.company_id, g.blob_key, wav).status());
  ASSIGN_OR_RETURN(bool inserted, pool_.InTenantOr<bool>(caller.company_id, [&](pqxx::work& tx) {
    return internal::InsertGreeting(tx, g, options_.source, clock_);
  }));
  if (!inserted) {
    // Rendered concurrently by another request: use theirs.
    blobs_.Delete(g.blob_key).IgnoreError();  // best effort; the sweeper covers failures
    ASSIGN_OR_RETURN(std::optional<Greeting> other, find());
    if (!other.has_value()) return absl::AbortedError("greeting vanished while rendering; retry");
    return SignGreeting(caller, std::move(*other));
  }
  return SignGreeting(caller, std::move(g));
}

absl::StatusOr<std::pair<Greeting, SignedUrl>> MediaCore::GreetingUrlForId(
    const Caller& caller, absl::string_view greeting_id) {
  if (greeting_id.empty()) return absl::InvalidArgumentError("greeting_id: must not be empty");
  ASSIGN_OR_RETURN(Greeting g, pool_.InTenantOr<Greeting>(caller.company_id, [&](pqxx::work& tx) {
    return internal::LoadGreeting(tx, caller.company_id, greeting_id);
  }));
  return SignGreeting(caller, std::move(g));
}

absl::StatusOr<Greeting> MediaCore::UploadGreeting(const Caller& caller, absl::string_view name,
                                                   absl::string_view audio) {
  if (!IsManager(caller.role)) {
    return absl::PermissionDeniedError("uploading greetings needs owner or admin");
  }
  if (name.size() > 200) return absl::InvalidArgumentError("name: over 200 bytes");
  if (audio.size() > options_.max_audio_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("audio: larger than ", options_.max_audio_bytes, " bytes"));
  }
  ASSIGN_OR_RETURN(std::string wav, audio::NormalizeToTelephoneWav(audio));
  ASSIGN_OR_RETURN(audio::AudioInfo info, audio::DetectAudio(wav));
  Greeting g;
  g.id = NewUuidV7(clock_.Now());
  g.company_id = caller.company_id;
  g.content_hash = crypto::HexEncode(crypto::Sha256(absl::StrCat("upload|", wav)));
  g.source = "upload";
  g.name = std::string(name);
  g.blob_key = absl::StrCat(caller.company_id, "/greetings/", g.id, ".sbe");
  g.duration_ms = absl::ToInt64Milliseconds(info.duration);
  g.size_bytes = static_cast<int64_t>(wav.size());
  g.created_at = clock_.Now();
  ASSIGN_OR_RETURN(std::optional<Greeting> same,
                   pool_.InTenantOr<std::optional<Greeting>>(
                       caller.company_id,
                       [&](pqxx::work& tx) -> absl::StatusOr<std::optional<Greeting>> {
                         return internal::FindGreetingByHash(tx, caller.company_id,
                                                             g.content_hash);
                       }));
  if (same.has_value()) return *same;
  RETURN_IF_ERROR(StoreEncrypted(caller.company_id, g.blob_key, wav).status());
  absl::StatusOr<bool> inserted = pool_.InTenantOr<bool>(caller.company_id, [&](pqxx::work& tx) {
    return internal::InsertGreeting(tx, g, options_.source, clock_);
  });
  if (!inserted.ok() || !*inserted) {
    blobs_.Delete(g.blob_key).IgnoreError();  // best effort; the sweeper covers failures
    if (!inserted.ok()) return inserted.status();
    return absl::AbortedError("the same greeting was uploaded concurrently; retry");
  }
  return g;
}

// --- Keys -------------------------------------------------------------------------------------

absl::StatusOr<envelope::RewrapStats> MediaCore::RotateMasterKey(const Caller& caller) {
  if (caller.role != "owner" && caller.role != "service") {
    return absl::PermissionDeniedError("master key rotation needs owner or service");
  }
  ASSIGN_OR_RETURN(envelope::RewrapStats stats, keys_.RewrapAll(ring_.active_id()));
  log::Info("master key rotation", {{"master_key_id", ring_.active_id()},
                                    {"rewrapped", std::to_string(stats.rewrapped)},
                                    {"skipped", std::to_string(stats.skipped)}});
  return stats;
}

absl::Status MediaCore::ShredCompanyKey(const Caller& caller, absl::string_view confirm) {
  if (caller.role != "owner") {
    return absl::PermissionDeniedError("crypto-shredding needs the owner role");
  }
  if (confirm != caller.company_id) {
    return absl::InvalidArgumentError(
        "confirm_company_id: must equal the caller's company id");
  }
  RETURN_IF_ERROR(keys_.ShredCompanyKey(caller.company_id));
  log::Warn("company data key shredded", {{"company_id", caller.company_id},
                                          {"user_id", caller.user_id}});
  return absl::OkStatus();
}

}  // namespace switchboard::media
