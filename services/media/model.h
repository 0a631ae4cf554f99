// Value types of the media service: stored items, callers, ingest requests, audit entries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace switchboard::media {

enum class ItemKind { kRecording, kVoicemail, kGreeting };

// "recording" | "voicemail" | "greeting".
const char* ItemKindName(ItemKind kind);

// Who is calling (from the gRPC principal). role: owner | admin | office | tech | service.
struct Caller {
  std::string company_id;
  std::string user_id;
  std::string role;
};

struct Recording {
  std::string id;
  std::string company_id;
  std::string provider;
  std::string provider_recording_id;
  std::string call_id;
  std::string call_key;
  std::string blob_key;
  std::string format;
  int64_t duration_ms = 0;
  int64_t size_bytes = 0;
  std::string sha256;
  bool legal_hold = false;
  absl::Time created_at;
};

struct Voicemail {
  std::string id;
  std::string company_id;
  std::string provider;
  std::string provider_recording_id;
  std::string box_id;
  std::string owner_user_id;
  std::string caller;
  std::string call_id;
  std::string blob_key;
  std::string format;
  int64_t duration_ms = 0;
  int64_t size_bytes = 0;
  std::string sha256;
  bool read = false;
  std::string folder = "inbox";
  bool legal_hold = false;
  std::string transcript;
  absl::Time created_at;
};

struct Greeting {
  std::string id;
  std::string company_id;
  std::string content_hash;
  std::string source;  // tts | upload
  std::string name;
  std::string text;
  std::string voice;
  std::string language;
  std::string blob_key;
  int64_t duration_ms = 0;
  int64_t size_bytes = 0;
  absl::Time created_at;
};

// A recording or voicemail to fetch from the carrier (or given as bytes on import).
struct IngestRequest {
  ItemKind kind = ItemKind::kRecording;  // kRecording or kVoicemail
  std::string company_id;
  std::string provider;               // "twilio" | "telnyx" | "upload"
  std::string provider_recording_id;  // idempotency key within the company
  std::string fetch_ref;              // what FetchRecording takes: recording id or URL
  std::string call_id;
  std::string call_key;
  std::string box_id;  // voicemail
  // Voicemail: the box's owner as routing knows it ("" = shared box); it also updates media's
  // box -> owner record. Unset: the owner media was told (SetVoicemailBox), if any.
  std::optional<std::string> box_owner;
  std::string caller;  // voicemail: caller's number
};

struct IngestResult {
  std::string id;
  bool created = false;  // false: already stored (idempotent re-ingest)
};

struct SignedUrl {
  std::string url;
  std::string link_id;
  absl::Time expires_at;
};

struct AccessLogEntry {
  int64_t seq = 0;
  absl::Time at;
  std::string actor_user_id;
  std::string actor_role;
  std::string action;
  std::string item_kind;
  std::string item_id;
  std::string link_id;
  std::string peer;
  std::string detail;
};

struct VoicemailQuery {
  enum class Scope { kUser, kBox, kTeam };
  Scope scope = Scope::kUser;
  std::string user_id;  // kUser: "" = the caller
  std::string box_id;   // kBox
  bool unread_only = false;
  std::string folder;   // "" = every folder
  int page_size = 50;
  std::string page_token;
};

struct UnreadCounts {
  int64_t mine = 0;
  int64_t team = 0;
  std::vector<std::pair<std::string, int64_t>> by_box;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

}  // namespace switchboard::media
