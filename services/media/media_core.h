// The media service's domain: ingest (fetch → validate → encrypt → blob → row + event),
// greetings (espeak-ng, cached by hash), signed playback with HTTP Range, visual voicemail,
// retention and orphan sweeping, key rotation and crypto-shredding.
//
// Storage: rows in Postgres (schema from services/media/migrations; every per-company statement
// runs in Pool::InTenant, so row-level security backs the company checks), audio encrypted with
// the company's data key (libs/envelope chunked AES-256-GCM, aad "<company>|<blob key>") in a
// BlobStore under "<company>/<recordings|voicemails|greetings>/<id>.sbe". A blob is committed
// before the row that points at it; a failed transaction therefore leaves at worst an orphan
// blob, which SweepOrphans() removes after `orphan_grace`.
//
// Permissions (ARCHITECTURE.md §5): recordings need owner/admin (or a sibling service);
// voicemail: owner/admin any in the company, office/tech only their own (owner_user_id); the
// team inbox and other users' boxes need owner/admin. Another company's item is kNotFound;
// a visible company item the role may not touch is kPermissionDenied.
//
// Thread-safe (all state is in Postgres and the blob store; the collaborators are thread-safe).
// The pool, blob store, key manager, key ring, fetcher and clock must outlive the core.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/blob/blob_store.h"
#include "libs/common/clock.h"
#include "libs/db/pg_pool.h"
#include "libs/envelope/data_key_manager.h"
#include "libs/envelope/master_key_ring.h"
#include "libs/http/server.h"
#include "libs/http/url.h"
#include "services/media/model.h"
#include "services/media/playback_signer.h"

namespace switchboard::media {

inline constexpr uint64_t kMaxAudioBytes = 50ull << 20;
// Encrypted chunks read (and authenticated) per blob read while streaming playback.
inline constexpr size_t kChunksPerPlaybackRead = 4;

// Fetches a recording's audio from wherever the provider keeps it (the carrier service).
// Thread-safe implementations.
class RecordingFetcher {
 public:
  virtual ~RecordingFetcher() = default;
  // Streams the audio of `ref` (recording id or URL) for `company_id` to `sink`. Stops with
  // kInvalidArgument "audio: larger than <max> bytes" once more than `max_bytes` arrived.
  // kNotFound when the carrier does not know the recording; kUnavailable to retry.
  [[nodiscard]] virtual absl::Status Fetch(absl::string_view company_id, absl::string_view ref,
                                           uint64_t max_bytes,
                                           const std::function<absl::Status(absl::string_view)>&
                                               sink) = 0;
};

struct MediaCoreOptions {
  uint64_t max_audio_bytes = kMaxAudioBytes;
  absl::Duration playback_url_ttl = absl::Hours(1);
  // Greeting links are fetched by the carrier whenever a flow plays them: long-lived.
  absl::Duration greeting_url_ttl = absl::Hours(24 * 365);
  int default_retention_days = 90;
  // Soft-deleted voicemails are purged this long after deletion (retention may come first).
  absl::Duration soft_delete_purge_after = absl::Hours(24 * 30);
  // Blobs without a row younger than this are left alone (an ingest may be mid-transaction).
  absl::Duration orphan_grace = absl::Hours(1);
  int sweep_batch = 100;
  std::string source = "media";  // Event.source
};

// What the playback HTTP endpoint answers.
struct PlaybackRequest {
  ItemKind kind = ItemKind::kRecording;
  http::Params query;
  std::optional<std::string> range;  // the Range header
  std::string peer;                  // remote IP
};

struct PlaybackResponse {
  int status = 200;  // 200, 206, 403, 404, 410, 416, 500, 503
  std::string content_type;
  std::string content_range;  // "bytes a-b/total" (206) or "bytes */total" (416)
  std::string body;           // a JSON error body for statuses >= 400 (empty for audio)
  // Audio (200/206 with a non-empty body): `content_length` bytes decrypted as they are pulled,
  // a few chunks at a time (the first batch is already authenticated when Play returns). A
  // chunk failing authentication later makes Read fail (logged), which aborts the response.
  std::shared_ptr<http::BodySource> stream;
  uint64_t content_length = 0;
};

struct SweepStats {
  int recordings_deleted = 0;
  int voicemails_deleted = 0;
  int orphans_deleted = 0;
};

class MediaCore {
 public:
  // `fetcher` may be null when nothing ingests from the carrier (tests, tools): Ingest() then
  // fails with kFailedPrecondition.
  MediaCore(db::Pool& pool, blob::BlobStore& blobs, envelope::DataKeyManager& keys,
            const envelope::MasterKeyRing& ring, RecordingFetcher* fetcher,
            const PlaybackSigner& signer, const Clock& clock, MediaCoreOptions options = {});

  // --- Ingest ---------------------------------------------------------------------------------
  // Inside the caller's transaction `tx` (scoped to request.company_id): returns the stored item
  // when provider_recording_id is already known (no fetch). A voicemail whose recording was
  // already stored as a plain recording (the carrier announces both) takes over that recording's
  // blob and row; a recording whose id is already a voicemail is not stored again. Otherwise it
  // fetches, validates, encrypts
  // into the blob store, inserts the row and appends RecordingStored/VoicemailStored to the
  // outbox. kInvalidArgument for bad audio or request fields (nothing stored); blob/fetch errors
  // unchanged (nothing stored).
  [[nodiscard]] absl::StatusOr<IngestResult> Ingest(pqxx::work& tx, const IngestRequest& request);
  // Same with the audio given (gRPC import); runs its own transaction.
  [[nodiscard]] absl::StatusOr<IngestResult> IngestBytes(const IngestRequest& request,
                                                         absl::string_view audio);
  [[nodiscard]] absl::StatusOr<Voicemail> ImportVoicemail(const Caller& caller,
                                                          const IngestRequest& request,
                                                          absl::string_view audio);

  // --- Greetings ------------------------------------------------------------------------------
  // Renders (or reuses, by sha256 of voice|language|text) a text greeting and signs a long-lived
  // link. Any role of the company may ask (routing asks as "service").
  [[nodiscard]] absl::StatusOr<std::pair<Greeting, SignedUrl>> GreetingUrlForText(
      const Caller& caller, absl::string_view text, absl::string_view voice,
      absl::string_view language);
  [[nodiscard]] absl::StatusOr<std::pair<Greeting, SignedUrl>> GreetingUrlForId(
      const Caller& caller, absl::string_view greeting_id);
  // Validates and normalises an uploaded WAV to 8 kHz mono 16-bit (owner/admin/service).
  [[nodiscard]] absl::StatusOr<Greeting> UploadGreeting(const Caller& caller,
                                                        absl::string_view name,
                                                        absl::string_view audio);

  // --- Playback -------------------------------------------------------------------------------
  // A signed link (playback_url_ttl) after the permission check; the issue is audited.
  [[nodiscard]] absl::StatusOr<SignedUrl> PlaybackUrl(const Caller& caller, ItemKind kind,
                                                      absl::string_view item_id);
  // Serves GET /v1/media/<kind>: verifies the link, audits the access, then streams the range:
  // only the encrypted chunks covering it are read (kChunksPerPlaybackRead at a time), so memory
  // per request is a few chunks whatever the file size. Tampering found in the first batch (or
  // a missing object, shredded key, bad range) is an error status with a JSON body; tampering
  // found later fails the stream. Never throws. The returned stream refers to the blob store
  // and must not outlive it.
  PlaybackResponse Play(const PlaybackRequest& request);

  // --- Visual voicemail -----------------------------------------------------------------------
  [[nodiscard]] absl::StatusOr<Page<Voicemail>> ListVoicemails(const Caller& caller,
                                                               const VoicemailQuery& query);
  [[nodiscard]] absl::StatusOr<UnreadCounts> GetUnreadCounts(const Caller& caller);
  [[nodiscard]] absl::StatusOr<Voicemail> MarkVoicemail(const Caller& caller,
                                                        absl::string_view id, bool read);
  [[nodiscard]] absl::StatusOr<Voicemail> MoveVoicemail(const Caller& caller,
                                                        absl::string_view id,
                                                        absl::string_view box_id,
                                                        absl::string_view folder);
  [[nodiscard]] absl::Status DeleteVoicemail(const Caller& caller, absl::string_view id);
  // Owner/admin/service. owner_user_id "" = a shared box.
  [[nodiscard]] absl::Status SetVoicemailBox(const Caller& caller, absl::string_view box_id,
                                             absl::string_view owner_user_id);

  // --- Recordings, holds, retention, audit ----------------------------------------------------
  [[nodiscard]] absl::StatusOr<Page<Recording>> ListRecordings(const Caller& caller,
                                                               absl::string_view call_id,
                                                               int page_size,
                                                               absl::string_view page_token);
  [[nodiscard]] absl::Status SetLegalHold(const Caller& caller, ItemKind kind,
                                          absl::string_view id, bool hold);
  [[nodiscard]] absl::Status SetRetention(const Caller& caller, int days);
  // Owner only.
  [[nodiscard]] absl::StatusOr<Page<AccessLogEntry>> ListAccessLog(const Caller& caller,
                                                                   absl::string_view item_id,
                                                                   int page_size,
                                                                   absl::string_view page_token);

  // --- Keys -----------------------------------------------------------------------------------
  // Owner or service: re-wraps every data key under the ring's active master key.
  [[nodiscard]] absl::StatusOr<envelope::RewrapStats> RotateMasterKey(const Caller& caller);
  // Owner only, confirm must equal the caller's company: crypto-shreds the company's audio.
  [[nodiscard]] absl::Status ShredCompanyKey(const Caller& caller, absl::string_view confirm);
  const std::string& active_master_key_id() const { return ring_.active_id(); }

  // --- Sweeping (safe on several replicas: FOR UPDATE SKIP LOCKED) ---------------------------
  // Deletes expired (retention) and purged (soft-deleted long enough) items not on legal hold:
  // blob first, then the row, with a deleted event. Up to sweep_batch of each kind per call.
  [[nodiscard]] absl::StatusOr<SweepStats> SweepRetention();
  // Deletes blobs that no row references and that are older than orphan_grace.
  [[nodiscard]] absl::StatusOr<int> SweepOrphans();

  // Reads a stored item's plaintext (tests, tools): kDataLoss on tampering.
  [[nodiscard]] absl::StatusOr<std::string> ReadPlaintextForTest(absl::string_view company_id,
                                                                 absl::string_view blob_key);

 private:
  struct Stored {
    std::string blob_key;
    std::string sha256_hex;
    uint64_t size = 0;
  };
  // Encrypts `audio` under the company's data key into `blob_key` (committed on success,
  // nothing left on failure).
  absl::StatusOr<Stored> StoreEncrypted(absl::string_view company_id, absl::string_view blob_key,
                                        absl::string_view audio);
  absl::StatusOr<IngestResult> InsertItem(pqxx::work& tx, const IngestRequest& request,
                                          absl::string_view audio);
  // Turns the recording already stored for a voicemail's recording id into the voicemail (same
  // blob), with RecordingDeleted(reason "voicemail") and VoicemailStored events.
  absl::StatusOr<IngestResult> AdoptRecording(pqxx::work& tx, const IngestRequest& request,
                                              absl::string_view recording_id);
  absl::StatusOr<std::pair<Greeting, SignedUrl>> SignGreeting(const Caller& caller,
                                                               Greeting greeting);
  absl::Status Audit(pqxx::work& tx, absl::string_view company_id, const AccessLogEntry& entry);
  PlaybackResponse PlayVerified(const LinkClaims& claims, const PlaybackRequest& request);
  absl::StatusOr<Voicemail> VisibleVoicemail(pqxx::work& tx, const Caller& caller,
                                             absl::string_view id);

  db::Pool& pool_;
  blob::BlobStore& blobs_;
  envelope::DataKeyManager& keys_;
  const envelope::MasterKeyRing& ring_;
  RecordingFetcher* fetcher_;
  const PlaybackSigner& signer_;
  const Clock& clock_;
  const MediaCoreOptions options_;
};

}  // namespace switchboard::media
