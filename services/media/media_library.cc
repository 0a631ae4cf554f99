// MediaCore: visual voicemail, recordings list, legal holds, retention setting, audit log.
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/common/status_macros.h"
#include "services/media/media_core.h"
#include "services/media/media_internal.h"

namespace switchboard::media {

using internal::IsManager;
using internal::Micros;
using internal::PutBoxOwner;
using internal::Str;

absl::StatusOr<Page<Voicemail>> MediaCore::ListVoicemails(const Caller& caller,
                                                          const VoicemailQuery& q) {
  ASSIGN_OR_RETURN(int limit, internal::ClampPageSize(q.page_size));
  ASSIGN_OR_RETURN(int64_t offset, internal::ParsePageToken(q.page_token));
  std::string where = "company_id = $1 AND deleted_at IS NULL";
  std::string arg;
  switch (q.scope) {
    case VoicemailQuery::Scope::kUser: {
      arg = q.user_id.empty() ? caller.user_id : q.user_id;
      if (arg.empty()) return absl::InvalidArgumentError("user_id: must not be empty");
      if (arg != caller.user_id && !IsManager(caller.role)) {
        return absl::PermissionDeniedError("another user's voicemail needs owner or admin");
      }
      where += " AND owner_user_id = $2";
      break;
    }
    case VoicemailQuery::Scope::kBox:
      if (q.box_id.empty()) return absl::InvalidArgumentError("box_id: must not be empty");
      arg = q.box_id;
      where += " AND box_id = $2";
      // Office/tech see only their own voicemail in any box.
      if (!IsManager(caller.role)) {
        where += absl::StrCat(" AND owner_user_id <> '' AND owner_user_id = $3");
      }
      break;
    case VoicemailQuery::Scope::kTeam:
      if (!IsManager(caller.role)) {
        return absl::PermissionDeniedError("the team inbox needs owner or admin");
      }
      where += " AND owner_user_id = ''";
      break;
  }
  if (q.unread_only) where += " AND NOT is_read";
  const bool by_folder = !q.folder.empty();
  return pool_.InTenantOr<Page<Voicemail>>(
      caller.company_id, [&](pqxx::work& tx) -> absl::StatusOr<Page<Voicemail>> {
        std::string sql = absl::StrCat("SELECT ", internal::kVoicemailColumns,
                                       " FROM voicemails WHERE ", where);
        // Bind the folder as the next free parameter.
        int next = 2;
        if (q.scope != VoicemailQuery::Scope::kTeam) next = 3;
        if (q.scope == VoicemailQuery::Scope::kBox && !IsManager(caller.role)) next = 4;
        if (by_folder) absl::StrAppend(&sql, " AND folder = $", next);
        absl::StrAppend(&sql, " ORDER BY created_at DESC, id DESC LIMIT ", limit + 1, " OFFSET ",
                        offset);
        pqxx::result r;
        const std::string& company = caller.company_id;
        if (q.scope == VoicemailQuery::Scope::kTeam) {
          r = by_folder ? tx.exec_params(sql, company, q.folder) : tx.exec_params(sql, company);
        } else if (next == 4) {
          r = by_folder ? tx.exec_params(sql, company, arg, caller.user_id, q.folder)
                        : tx.exec_params(sql, company, arg, caller.user_id);
        } else {
          r = by_folder ? tx.exec_params(sql, company, arg, q.folder)
                        : tx.exec_params(sql, company, arg);
        }
        Page<Voicemail> page;
        for (size_t i = 0; i < r.size() && static_cast<int>(i) < limit; ++i) {
          page.items.push_back(internal::VoicemailFromRow(r[i]));
        }
        if (static_cast<int>(r.size()) > limit) page.next_page_token = std::to_string(offset + limit);
        return page;
      });
}

absl::StatusOr<UnreadCounts> MediaCore::GetUnreadCounts(const Caller& caller) {
  return pool_.InTenantOr<UnreadCounts>(
      caller.company_id, [&](pqxx::work& tx) -> absl::StatusOr<UnreadCounts> {
        UnreadCounts counts;
        if (!caller.user_id.empty()) {
          counts.mine = tx.exec_params(
                              "SELECT count(*) FROM voicemails WHERE company_id = $1 AND "
                              "owner_user_id = $2 AND NOT is_read AND deleted_at IS NULL",
                              caller.company_id, caller.user_id)[0][0]
                            .as<int64_t>();
        }
        const bool manager = IsManager(caller.role);
        if (manager) {
          counts.team = tx.exec_params(
                              "SELECT count(*) FROM voicemails WHERE company_id = $1 AND "
                              "owner_user_id = '' AND NOT is_read AND deleted_at IS NULL",
                              caller.company_id)[0][0]
                            .as<int64_t>();
        }
        pqxx::result boxes = tx.exec_params(
            "SELECT box_id, count(*) FROM voicemails WHERE company_id = $1 AND NOT is_read AND "
            "deleted_at IS NULL AND ($2 OR (owner_user_id <> '' AND owner_user_id = $3)) "
            "GROUP BY box_id ORDER BY box_id",
            caller.company_id, manager, caller.user_id);
        for (const auto& row : boxes) {
          counts.by_box.emplace_back(row[0].as<std::string>(), row[1].as<int64_t>());
        }
        return counts;
      });
}

absl::StatusOr<Voicemail> MediaCore::MarkVoicemail(const Caller& caller, absl::string_view id,
                                                   bool read) {
  return pool_.InTenantOr<Voicemail>(caller.company_id,
                                   [&](pqxx::work& tx) -> absl::StatusOr<Voicemail> {
                                     ASSIGN_OR_RETURN(Voicemail vm,
                                                      VisibleVoicemail(tx, caller, id));
                                     tx.exec_params(
                                         "UPDATE voicemails SET is_read = $3 WHERE company_id = "
                                         "$1 AND id = $2",
                                         caller.company_id, vm.id, read);
                                     vm.read = read;
                                     return vm;
                                   });
}

absl::StatusOr<Voicemail> MediaCore::MoveVoicemail(const Caller& caller, absl::string_view id,
                                                   absl::string_view box_id,
                                                   absl::string_view folder) {
  if (box_id.empty() && folder.empty()) {
    return absl::InvalidArgumentError("box_id: give a box or a folder to move to");
  }
  if (box_id.size() > 200) return absl::InvalidArgumentError("box_id: over 200 bytes");
  if (folder.size() > 100) return absl::InvalidArgumentError("folder: over 100 bytes");
  return pool_.InTenantOr<Voicemail>(
      caller.company_id, [&](pqxx::work& tx) -> absl::StatusOr<Voicemail> {
        ASSIGN_OR_RETURN(Voicemail vm, VisibleVoicemail(tx, caller, id));
        if (!box_id.empty() && box_id != vm.box_id) {
          // Moving to another box hands it to that box's owner (or the team inbox).
          if (!IsManager(caller.role)) {
            return absl::PermissionDeniedError("moving voicemail to another box needs owner or admin");
          }
          pqxx::result box = tx.exec_params(
              "SELECT owner_user_id FROM voicemail_boxes WHERE company_id = $1 AND box_id = $2",
              caller.company_id, Str(box_id));
          vm.box_id = Str(box_id);
          vm.owner_user_id = box.empty() ? "" : box[0][0].as<std::string>();
        }
        if (!folder.empty()) vm.folder = Str(folder);
        tx.exec_params(
            "UPDATE voicemails SET box_id = $3, owner_user_id = $4, folder = $5 "
            "WHERE company_id = $1 AND id = $2",
            caller.company_id, vm.id, vm.box_id, vm.owner_user_id, vm.folder);
        return vm;
      });
}

absl::Status MediaCore::DeleteVoicemail(const Caller& caller, absl::string_view id) {
  return pool_.InTenant(caller.company_id, [&](pqxx::work& tx) -> absl::Status {
    ASSIGN_OR_RETURN(Voicemail vm, VisibleVoicemail(tx, caller, id));
    tx.exec_params(
        "UPDATE voicemails SET deleted_at = to_timestamp($3::bigint / 1000000.0) "
        "WHERE company_id = $1 AND id = $2",
        caller.company_id, vm.id, Micros(clock_.Now()));
    return absl::OkStatus();
  });
}

absl::Status MediaCore::SetVoicemailBox(const Caller& caller, absl::string_view box_id,
                                        absl::string_view owner_user_id) {
  if (!IsManager(caller.role)) {
    return absl::PermissionDeniedError("configuring voicemail boxes needs owner or admin");
  }
  if (box_id.empty() || box_id.size() > 200) {
    return absl::InvalidArgumentError("box_id: must be 1..200 bytes");
  }
  return pool_.InTenant(caller.company_id, [&](pqxx::work& tx) -> absl::Status {
    PutBoxOwner(tx, caller.company_id, box_id, owner_user_id, clock_.Now());
    return absl::OkStatus();
  });
}

absl::StatusOr<Page<Recording>> MediaCore::ListRecordings(const Caller& caller,
                                                          absl::string_view call_id,
                                                          int page_size,
                                                          absl::string_view page_token) {
  if (!IsManager(caller.role)) {
    return absl::PermissionDeniedError("recordings need owner or admin");
  }
  ASSIGN_OR_RETURN(int limit, internal::ClampPageSize(page_size));
  ASSIGN_OR_RETURN(int64_t offset, internal::ParsePageToken(page_token));
  return pool_.InTenantOr<Page<Recording>>(
      caller.company_id, [&](pqxx::work& tx) -> absl::StatusOr<Page<Recording>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", internal::kRecordingColumns,
                         " FROM recordings WHERE company_id = $1 AND deleted_at IS NULL "
                         "AND ($2 = '' OR call_id = $2) ORDER BY created_at DESC, id DESC "
                         "LIMIT ", limit + 1, " OFFSET ", offset),
            caller.company_id, Str(call_id));
        Page<Recording> page;
        for (size_t i = 0; i < r.size() && static_cast<int>(i) < limit; ++i) {
          page.items.push_back(internal::RecordingFromRow(r[i]));
        }
        if (static_cast<int>(r.size()) > limit) page.next_page_token = std::to_string(offset + limit);
        return page;
      });
}

absl::Status MediaCore::SetLegalHold(const Caller& caller, ItemKind kind, absl::string_view id,
                                     bool hold) {
  if (caller.role != "owner" && caller.role != "admin") {
    return absl::PermissionDeniedError("legal holds need owner or admin");
  }
  if (kind == ItemKind::kGreeting) return absl::InvalidArgumentError("kind: not holdable");
  if (id.empty()) return absl::InvalidArgumentError("id: must not be empty");
  return pool_.InTenant(caller.company_id, [&](pqxx::work& tx) -> absl::Status {
    const char* table = kind == ItemKind::kVoicemail ? "voicemails" : "recordings";
    pqxx::result r = tx.exec_params(
        absl::StrCat("UPDATE ", table, " SET legal_hold = $3 WHERE company_id = $1 AND id = $2 "
                     "RETURNING id"),
        caller.company_id, Str(id), hold);
    if (r.empty()) {
      return absl::NotFoundError(absl::StrCat(ItemKindName(kind), " '", id, "' not found"));
    }
    return absl::OkStatus();
  });
}

absl::Status MediaCore::SetRetention(const Caller& caller, int days) {
  if (caller.role != "owner" && caller.role != "admin") {
    return absl::PermissionDeniedError("retention needs owner or admin");
  }
  if (days < 1 || days > 3650) {
    return absl::InvalidArgumentError("retention_days: must be in 1..3650");
  }
  return pool_.InTenant(caller.company_id, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(
        "INSERT INTO media_settings (company_id, retention_days, updated_at) VALUES ($1, $2, "
        "to_timestamp($3::bigint / 1000000.0)) ON CONFLICT (company_id) DO UPDATE SET "
        "retention_days = EXCLUDED.retention_days, updated_at = EXCLUDED.updated_at",
        caller.company_id, days, Micros(clock_.Now()));
    return absl::OkStatus();
  });
}

absl::StatusOr<Page<AccessLogEntry>> MediaCore::ListAccessLog(const Caller& caller,
                                                              absl::string_view item_id,
                                                              int page_size,
                                                              absl::string_view page_token) {
  if (caller.role != "owner") return absl::PermissionDeniedError("the access log needs owner");
  ASSIGN_OR_RETURN(int limit, internal::ClampPageSize(page_size));
  ASSIGN_OR_RETURN(int64_t after, internal::ParsePageToken(page_token));
  return pool_.InTenantOr<Page<AccessLogEntry>>(
      caller.company_id, [&](pqxx::work& tx) -> absl::StatusOr<Page<AccessLogEntry>> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT seq, (extract(epoch from at) * 1000000)::bigint, actor_user_id, "
                         "actor_role, action, item_kind, item_id, link_id, peer, detail "
                         "FROM access_log WHERE company_id = $1 AND ($2 = '' OR item_id = $2) "
                         "AND seq > $3 ORDER BY seq LIMIT ", limit + 1),
            caller.company_id, Str(item_id), after);
        Page<AccessLogEntry> page;
        for (size_t i = 0; i < r.size() && static_cast<int>(i) < limit; ++i) {
          const auto& row = r[i];
          page.items.push_back({row[0].as<int64_t>(), absl::FromUnixMicros(row[1].as<int64_t>()),
                                row[2].as<std::string>(), row[3].as<std::string>(),
                                row[4].as<std::string>(), row[5].as<std::string>(),
                                row[6].as<std::string>(), row[7].as<std::string>(),
                                row[8].as<std::string>(), row[9].as<std::string>()});
        }
        if (static_cast<int>(r.size()) > limit) {
          page.next_page_token = std::to_string(page.items.back().seq);
        }
        return page;
      });
}

}  // namespace switchboard::media
