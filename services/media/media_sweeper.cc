// MediaCore: retention sweeping and orphan-blob removal. Safe on several replicas: each batch
// locks its rows with FOR UPDATE SKIP LOCKED, so replicas take disjoint rows; blob deletes are
// idempotent.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "services/media/media_core.h"
#include "services/media/media_internal.h"

namespace switchboard::media {

using internal::Micros;

absl::StatusOr<SweepStats> MediaCore::SweepRetention() {
  SweepStats stats;
  const absl::Time now = clock_.Now();
  for (ItemKind kind : {ItemKind::kRecording, ItemKind::kVoicemail}) {
    const bool vm = kind == ItemKind::kVoicemail;
    const char* table = vm ? "voicemails" : "recordings";
    RETURN_IF_ERROR(pool_.Unscoped([&](pqxx::work& tx) -> absl::Status {
      // Expired by the company's retention (default when unset), or soft-deleted long enough;
      // never while on legal hold.
      pqxx::result due = tx.exec_params(
          absl::StrCat(
              "SELECT t.id, t.company_id, t.blob_key, t.deleted_at IS NOT NULL AS purged "
              "FROM ", table, " t LEFT JOIN media_settings s ON s.company_id = t.company_id "
              "WHERE NOT t.legal_hold AND (t.created_at < to_timestamp($1::bigint / 1000000.0) - "
              "make_interval(days => coalesce(s.retention_days, $2)) OR (t.deleted_at IS NOT NULL "
              "AND t.deleted_at < to_timestamp($1::bigint / 1000000.0) - make_interval(secs => "
              "$3::double precision))) ORDER BY t.created_at LIMIT $4 FOR UPDATE OF t SKIP LOCKED"),
          Micros(now), options_.default_retention_days,
          absl::ToDoubleSeconds(options_.soft_delete_purge_after), options_.sweep_batch);
      for (const auto& row : due) {
        const std::string id = row[0].as<std::string>();
        const std::string company = row[1].as<std::string>();
        const std::string blob_key = row[2].as<std::string>();
        const bool purged = row[3].as<bool>();
        // Blob first: a crash after this leaves a row without a blob, which the next sweep
        // deletes (Delete is idempotent); never a blob without a row that nothing removes.
        RETURN_IF_ERROR(Annotate(blobs_.Delete(blob_key), absl::StrCat("delete blob of ", id)));
        tx.exec_params(absl::StrCat("DELETE FROM ", table, " WHERE id = $1"), id);
        events::v1::Event event = events::NewEvent(
            vm ? "media.voicemail_deleted" : "media.recording_deleted", company, id,
            options_.source, clock_);
        const std::string reason = purged ? "purge" : "retention";
        if (vm) {
          event.mutable_voicemail_deleted()->set_voicemail_id(id);
          event.mutable_voicemail_deleted()->set_reason(reason);
          ++stats.voicemails_deleted;
        } else {
          event.mutable_recording_deleted()->set_recording_id(id);
          event.mutable_recording_deleted()->set_reason(reason);
          ++stats.recordings_deleted;
        }
        RETURN_IF_ERROR(events::AppendToOutbox(tx, events::kMediaTopic, event));
      }
      return absl::OkStatus();
    }));
  }
  return stats;
}

absl::StatusOr<int> MediaCore::SweepOrphans() {
  int deleted = 0;
  const absl::Time cutoff = clock_.Now() - options_.orphan_grace;
  std::string token;
  do {
    ASSIGN_OR_RETURN(blob::ListPage page, blobs_.List("", token, 500));
    for (const blob::BlobInfo& b : page.blobs) {
      if (b.modified >= cutoff) continue;
      ASSIGN_OR_RETURN(bool referenced, pool_.UnscopedOr<bool>([&](pqxx::work& tx) {
        return absl::StatusOr<bool>(
            !tx.exec_params("SELECT 1 FROM recordings WHERE blob_key = $1 UNION ALL "
                            "SELECT 1 FROM voicemails WHERE blob_key = $1 UNION ALL "
                            "SELECT 1 FROM greetings WHERE blob_key = $1 LIMIT 1",
                            b.key)
                 .empty());
      }));
      if (referenced) continue;
      RETURN_IF_ERROR(blobs_.Delete(b.key));
      log::Info("orphan blob deleted", {{"blob_key", b.key}});
      ++deleted;
    }
    token = page.next_page_token;
  } while (!token.empty());
  return deleted;
}

}  // namespace switchboard::media
