// PgStore: routing's Postgres storage (schema `routing` by default, migrations in migrations/,
// row-level security per company). Flows with versions, ring groups, voicemail boxes, schedules
// and rotations (serialized protos), the call log (with the latest CallState of each live call),
// the applied carrier event keys, call notes, and the outbox (calls.v1 events written in the same
// transaction as the call log change).
//
// Errors: NOT_FOUND for an unknown (or another company's) id; FAILED_PRECONDITION for a stale
// expected_version; ABORTED when a call's state changed concurrently (the caller reloads and
// retries); UNAVAILABLE when Postgres cannot be reached; other db::StatusFromPqxx codes.
// Thread-safe (the pool is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/db/pg_pool.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

// Applies the outbox and routing migrations.
[[nodiscard]] absl::Status MigrateRouting(db::Pool& pool);

// The four company entities stored as serialized protos.
enum class EntityKind { kRingGroup, kVoicemailBox, kSchedule, kRotation };
absl::string_view EntityTable(EntityKind kind);

struct StoredEntity {
  std::string id;
  std::string name;
  std::string body;  // serialized proto
};

struct Page {
  int limit = 50;
  std::string after;  // page token: the last id of the previous page
};

// Everything of a company the engine and the validator need besides the flow.
struct CompanyConfig {
  std::vector<v1::RingGroup> ring_groups;
  std::vector<v1::VoicemailBox> voicemail_boxes;
  std::vector<v1::NamedSchedule> schedules;
  std::vector<v1::NamedRotation> rotations;
  v1::RecordingPolicy recording;  // mode OFF when never set
};

// A live call as stored: the log row id and the engine's state.
struct StoredCall {
  std::string id;
  std::string company_id;
  std::string line_id;
  std::string call_key;
  v1::CallState state;
};

// One transition of a call, written atomically.
struct CallWrite {
  bool create = false;          // insert the row (CallIncoming); else update it
  std::string id;               // call log id
  std::string company_id;
  std::string call_key;
  std::string dedupe_key;       // "" = none (not recorded)
  int32_t expected_seq = 0;     // update only: the seq the transition started from
  v1::CallState state;          // the new state (its seq is written)
  // create only
  std::string direction = "inbound";
  std::string line_id;
  absl::Time started_at;
  // both
  std::vector<v1::PathEntry> path;   // appended
  std::vector<std::string> user_ids;  // added to the row's user_ids
  std::optional<absl::Time> answered_at;
  std::optional<absl::Time> ended_at;
  std::optional<int32_t> duration_s;
  std::string status;           // "" = unchanged
  std::string answered_by;      // "" = unchanged
  std::string recording_id;     // "" = unchanged
  std::string recording_url;
  std::string voicemail_box_id;
  std::vector<events::v1::Event> events;  // to the outbox
};

struct CallFilter {
  std::optional<absl::Time> started_after;
  std::optional<absl::Time> started_before;
  std::string direction;  // "" = any
  std::string status;     // "" = any
  std::string number;     // exact from or to
  std::string user_id;    // involving
  std::string search;     // digits contained in from/to
  std::string visible_to_user;  // "" = whole company; else only calls involving this user
};

class PgStore {
 public:
  // `async_commit`: call transitions (ApplyCall) commit with synchronous_commit = off: several
  // times faster where WAL flushes are slow, but a Postgres crash (not a routing crash) can lose
  // the last few hundred milliseconds of call log changes and their calls.v1 events (the live
  // state survives in Redis). Configuration is always committed synchronously.
  PgStore(db::Pool& pool, std::string events_topic, bool async_commit = false)
      : pool_(pool), topic_(std::move(events_topic)), async_commit_(async_commit) {}

  absl::Status Ping();
  // Deletes applied event keys older than `before`, at most `limit` rows per statement until
  // none is left; returns how many. They only guard a live call against a redelivered event.
  absl::StatusOr<int64_t> PruneEventKeys(absl::Time before, int limit = 10000);

  // ---- flows
  // Stores `flow` as the next version (1 for a new id). `expected_version` > 0 must equal the
  // latest version (FAILED_PRECONDITION otherwise). Returns the stored flow (version set).
  absl::StatusOr<v1::Flow> SaveFlow(absl::string_view company_id, v1::Flow flow,
                                    int64_t expected_version, absl::Time now);
  // version 0 = latest.
  absl::StatusOr<v1::Flow> GetFlow(absl::string_view company_id, absl::string_view flow_id,
                                   int64_t version);
  absl::StatusOr<std::vector<v1::Flow>> ListFlows(absl::string_view company_id, const Page& page);
  absl::StatusOr<std::vector<v1::FlowVersionInfo>> ListFlowVersions(
      absl::string_view company_id, absl::string_view flow_id, int limit, int64_t before_version);
  // Ids of the company's flows (latest versions) that reference `id` as a ring group.
  absl::StatusOr<std::vector<std::string>> FlowsUsingGroup(absl::string_view company_id,
                                                           absl::string_view group_id);

  // ---- entities
  absl::Status PutEntity(EntityKind kind, absl::string_view company_id, const StoredEntity& e,
                         absl::Time now);
  absl::StatusOr<StoredEntity> GetEntity(EntityKind kind, absl::string_view company_id,
                                         absl::string_view id);
  absl::StatusOr<std::vector<StoredEntity>> ListEntities(EntityKind kind,
                                                         absl::string_view company_id,
                                                         const Page& page);
  absl::Status DeleteEntity(EntityKind kind, absl::string_view company_id, absl::string_view id);
  absl::StatusOr<CompanyConfig> LoadCompanyConfig(absl::string_view company_id);
  // The company's recording policy (mode OFF when never set) / upsert it.
  absl::StatusOr<v1::RecordingPolicy> GetRecordingPolicy(absl::string_view company_id);
  absl::Status PutRecordingPolicy(absl::string_view company_id, const v1::RecordingPolicy& policy,
                                  absl::Time now);

  // ---- calls
  // The call with this carrier key (any company), nullopt when unknown.
  absl::StatusOr<std::optional<StoredCall>> LoadCall(absl::string_view call_key);
  // The call with log id `call_id` of the company (live call control); NOT_FOUND
  // ("call_id: unknown call") when there is none.
  absl::StatusOr<StoredCall> LoadCallById(absl::string_view company_id,
                                          absl::string_view call_id);
  // Writes one transition: the dedupe key (ALREADY_EXISTS when it was applied before, nothing
  // written), the row (insert, or update guarded by expected_seq: ABORTED when another
  // transition won), and the events.
  absl::Status ApplyCall(const CallWrite& write, absl::Time now);

  // A click-to-call is stored under a pending key until the carrier's key is known (PlaceCall
  // returned, or the call's first webhook came, whichever is first): moves call `call_id` from
  // `pending_key` to `key` and returns it. Idempotent: a call already under `key` is returned
  // as is. NOT_FOUND for an unknown call (or another company's); FAILED_PRECONDITION when it is
  // under another key.
  absl::StatusOr<StoredCall> BindCallKey(absl::string_view company_id, absl::string_view call_id,
                                         absl::string_view pending_key, absl::string_view key);

  absl::StatusOr<std::vector<v1::CallRecord>> ListCalls(absl::string_view company_id,
                                                        const CallFilter& filter, int limit,
                                                        const std::string& page_token);
  // With notes. visible_to_user as in CallFilter (NOT_FOUND when the user is not involved).
  absl::StatusOr<v1::CallRecord> GetCall(absl::string_view company_id, absl::string_view call_id,
                                         absl::string_view visible_to_user);
  absl::StatusOr<v1::CallNote> AddCallNote(absl::string_view company_id,
                                           absl::string_view call_id,
                                           absl::string_view author_user_id,
                                           absl::string_view text, absl::Time now);

 private:
  db::Pool& pool_;
  std::string topic_;
  bool async_commit_ = false;
};

// Page tokens of ListCalls: "<started_at micros>_<id>".
std::string CallPageToken(const v1::CallRecord& last);

}  // namespace switchboard::routing
