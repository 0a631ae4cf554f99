#include "services/media/media_internal.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"

namespace switchboard::media::internal {

bool IsManager(absl::string_view role) {
  return role == "owner" || role == "admin" || role == "service";
}

std::string Aad(absl::string_view company_id, absl::string_view blob_key) {
  return absl::StrCat(company_id, "|", blob_key);
}

const char kRecordingColumns[] =
    "id, company_id, provider, provider_recording_id, call_id, call_key, blob_key, format, "
    "duration_ms, size_bytes, sha256, legal_hold, "
    "(extract(epoch from created_at) * 1000000)::bigint AS created_us";
const char kVoicemailColumns[] =
    "id, company_id, provider, provider_recording_id, box_id, owner_user_id, caller, call_id, "
    "blob_key, format, duration_ms, size_bytes, sha256, is_read, folder, legal_hold, "
    "coalesce(transcript, '') AS transcript, "
    "(extract(epoch from created_at) * 1000000)::bigint AS created_us";
const char kGreetingColumns[] =
    "id, company_id, content_hash, source, name, text, voice, language, blob_key, duration_ms, "
    "size_bytes, (extract(epoch from created_at) * 1000000)::bigint AS created_us";

Recording RecordingFromRow(const pqxx::row& r) {
  Recording x;
  x.id = r["id"].as<std::string>();
  x.company_id = r["company_id"].as<std::string>();
  x.provider = r["provider"].as<std::string>();
  x.provider_recording_id = r["provider_recording_id"].as<std::string>();
  x.call_id = r["call_id"].as<std::string>();
  x.call_key = r["call_key"].as<std::string>();
  x.blob_key = r["blob_key"].as<std::string>();
  x.format = r["format"].as<std::string>();
  x.duration_ms = r["duration_ms"].as<int64_t>();
  x.size_bytes = r["size_bytes"].as<int64_t>();
  x.sha256 = r["sha256"].as<std::string>();
  x.legal_hold = r["legal_hold"].as<bool>();
  x.created_at = absl::FromUnixMicros(r["created_us"].as<int64_t>());
  return x;
}

Voicemail VoicemailFromRow(const pqxx::row& r) {
  Voicemail x;
  x.id = r["id"].as<std::string>();
  x.company_id = r["company_id"].as<std::string>();
  x.provider = r["provider"].as<std::string>();
  x.provider_recording_id = r["provider_recording_id"].as<std::string>();
  x.box_id = r["box_id"].as<std::string>();
  x.owner_user_id = r["owner_user_id"].as<std::string>();
  x.caller = r["caller"].as<std::string>();
  x.call_id = r["call_id"].as<std::string>();
  x.blob_key = r["blob_key"].as<std::string>();
  x.format = r["format"].as<std::string>();
  x.duration_ms = r["duration_ms"].as<int64_t>();
  x.size_bytes = r["size_bytes"].as<int64_t>();
  x.sha256 = r["sha256"].as<std::string>();
  x.read = r["is_read"].as<bool>();
  x.folder = r["folder"].as<std::string>();
  x.legal_hold = r["legal_hold"].as<bool>();
  x.transcript = r["transcript"].as<std::string>();
  x.created_at = absl::FromUnixMicros(r["created_us"].as<int64_t>());
  return x;
}

Greeting GreetingFromRow(const pqxx::row& r) {
  Greeting x;
  x.id = r["id"].as<std::string>();
  x.company_id = r["company_id"].as<std::string>();
  x.content_hash = r["content_hash"].as<std::string>();
  x.source = r["source"].as<std::string>();
  x.name = r["name"].as<std::string>();
  x.text = r["text"].as<std::string>();
  x.voice = r["voice"].as<std::string>();
  x.language = r["language"].as<std::string>();
  x.blob_key = r["blob_key"].as<std::string>();
  x.duration_ms = r["duration_ms"].as<int64_t>();
  x.size_bytes = r["size_bytes"].as<int64_t>();
  x.created_at = absl::FromUnixMicros(r["created_us"].as<int64_t>());
  return x;
}

absl::StatusOr<Recording> LoadRecording(pqxx::work& tx, absl::string_view company_id,
                                        absl::string_view id) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kRecordingColumns,
                   " FROM recordings WHERE company_id = $1 AND id = $2 AND deleted_at IS NULL"),
      Str(company_id), Str(id));
  if (r.empty()) return absl::NotFoundError(absl::StrCat("recording '", id, "' not found"));
  return RecordingFromRow(r[0]);
}

absl::StatusOr<Voicemail> LoadVoicemail(pqxx::work& tx, absl::string_view company_id,
                                        absl::string_view id) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kVoicemailColumns,
                   " FROM voicemails WHERE company_id = $1 AND id = $2 AND deleted_at IS NULL"),
      Str(company_id), Str(id));
  if (r.empty()) return absl::NotFoundError(absl::StrCat("voicemail '", id, "' not found"));
  return VoicemailFromRow(r[0]);
}

absl::StatusOr<Greeting> LoadGreeting(pqxx::work& tx, absl::string_view company_id,
                                      absl::string_view id) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kGreetingColumns, " FROM greetings WHERE company_id = $1 AND id = $2"),
      Str(company_id), Str(id));
  if (r.empty()) return absl::NotFoundError(absl::StrCat("greeting '", id, "' not found"));
  return GreetingFromRow(r[0]);
}

absl::StatusOr<std::optional<Greeting>> FindGreetingByHash(pqxx::work& tx,
                                                           absl::string_view company_id,
                                                           absl::string_view hash) {
  pqxx::result r = tx.exec_params(
      absl::StrCat("SELECT ", kGreetingColumns,
                   " FROM greetings WHERE company_id = $1 AND content_hash = $2"),
      Str(company_id), Str(hash));
  if (r.empty()) return std::optional<Greeting>();
  return std::optional<Greeting>(GreetingFromRow(r[0]));
}

absl::StatusOr<bool> InsertGreeting(pqxx::work& tx, const Greeting& g, absl::string_view source,
                                    const Clock& clock) {
  pqxx::result r = tx.exec_params(
      "INSERT INTO greetings (id, company_id, content_hash, source, name, text, voice, language, "
      "blob_key, duration_ms, size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10, $11, to_timestamp($12::bigint / 1000000.0)) "
      "ON CONFLICT (company_id, content_hash) DO NOTHING RETURNING id",
      g.id, g.company_id, g.content_hash, g.source, g.name, g.text, g.voice, g.language,
      g.blob_key, g.duration_ms, g.size_bytes, Micros(g.created_at));
  if (r.empty()) return false;
  events::v1::Event event =
      events::NewEvent("media.greeting_rendered", g.company_id, g.id, source, clock);
  auto* p = event.mutable_greeting_rendered();
  p->set_greeting_id(g.id);
  p->set_content_hash(g.content_hash);
  p->set_voice(g.voice);
  p->set_language(g.language);
  p->set_source(g.source);
  p->set_duration_ms(g.duration_ms);
  RETURN_IF_ERROR(events::AppendToOutbox(tx, events::kMediaTopic, event));
  return true;
}

absl::StatusOr<int64_t> ParsePageToken(absl::string_view token) {
  if (token.empty()) return 0;
  int64_t offset = 0;
  if (!absl::SimpleAtoi(token, &offset) || offset < 0) {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  return offset;
}

absl::StatusOr<int> ClampPageSize(int page_size) {
  if (page_size < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (page_size == 0) return 50;
  return std::min(page_size, 200);
}

void PutBoxOwner(pqxx::work& tx, absl::string_view company_id, absl::string_view box_id,
                 absl::string_view owner_user_id, absl::Time now) {
  tx.exec_params(
      "INSERT INTO voicemail_boxes (company_id, box_id, owner_user_id, updated_at) "
      "VALUES ($1, $2, $3, to_timestamp($4::bigint / 1000000.0)) "
      "ON CONFLICT (company_id, box_id) DO UPDATE SET owner_user_id = EXCLUDED.owner_user_id, "
      "updated_at = EXCLUDED.updated_at",
      Str(company_id), Str(box_id), Str(owner_user_id), Micros(now));
}

}  // namespace switchboard::media::internal
