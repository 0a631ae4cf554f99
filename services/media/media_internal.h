// Row mapping and small SQL helpers shared by the media_core*.cc files. Not a public API.
// Functions taking pqxx::work may throw pqxx exceptions; callers run them inside
// Pool::InTenant/Unscoped or db::RunCatching, which convert them to Status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/common/clock.h"
#include "services/media/model.h"

namespace switchboard::media::internal {

// owner | admin | service: may see everything of the company.
bool IsManager(absl::string_view role);

inline int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }
inline std::string Str(absl::string_view s) { return std::string(s); }

// Records (or changes) which user owns a voicemail box ("" = a shared box), inside `tx`.
void PutBoxOwner(pqxx::work& tx, absl::string_view company_id, absl::string_view box_id,
                 absl::string_view owner_user_id, absl::Time now);

// Associated data binding a ciphertext to its company and blob key.
std::string Aad(absl::string_view company_id, absl::string_view blob_key);

// Column lists (with created_at as unix micros) and mappers.
extern const char kRecordingColumns[];
extern const char kVoicemailColumns[];
extern const char kGreetingColumns[];
Recording RecordingFromRow(const pqxx::row& row);
Voicemail VoicemailFromRow(const pqxx::row& row);
Greeting GreetingFromRow(const pqxx::row& row);

// kNotFound "<kind> '<id>' not found" when absent or soft-deleted (voicemail).
absl::StatusOr<Recording> LoadRecording(pqxx::work& tx, absl::string_view company_id,
                                        absl::string_view id);
absl::StatusOr<Voicemail> LoadVoicemail(pqxx::work& tx, absl::string_view company_id,
                                        absl::string_view id);
absl::StatusOr<Greeting> LoadGreeting(pqxx::work& tx, absl::string_view company_id,
                                      absl::string_view id);
absl::StatusOr<std::optional<Greeting>> FindGreetingByHash(pqxx::work& tx,
                                                           absl::string_view company_id,
                                                           absl::string_view hash);
// Inserts the greeting and its GreetingRendered event; false when the hash already exists.
absl::StatusOr<bool> InsertGreeting(pqxx::work& tx, const Greeting& g, absl::string_view source,
                                    const Clock& clock);

// Offset page tokens ("" = 0). kInvalidArgument naming page_token / page_size.
absl::StatusOr<int64_t> ParsePageToken(absl::string_view token);
absl::StatusOr<int> ClampPageSize(int page_size);

}  // namespace switchboard::media::internal
