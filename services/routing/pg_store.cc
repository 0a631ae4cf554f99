#include "services/routing/pg_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/db/migrations.h"
#include "libs/events/outbox.h"
#include "routing_migrations.h"

namespace switchboard::routing {
namespace {

int64_t Us(absl::Time t) { return absl::ToUnixMicros(t); }
std::string OptUs(const std::optional<absl::Time>& t) {
  return t.has_value() ? std::to_string(Us(*t)) : std::string();
}
std::string Ts(int n) {
  return absl::StrCat("(timestamptz 'epoch' + ($", n, ")::bigint * interval '1 microsecond')");
}
std::string OptTs(int n) {
  return absl::StrCat("(timestamptz 'epoch' + NULLIF($", n,
                      "::text, '')::bigint * interval '1 microsecond')");
}
std::string Col(absl::string_view c) {
  return absl::StrCat("(extract(epoch from ", c, ") * 1000000)::bigint AS ", c);
}
void SetTs(const pqxx::field& f, google::protobuf::Timestamp* out) {
  const int64_t us = f.as<int64_t>();
  out->set_seconds(us / 1000000);
  out->set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
}

std::string Bytes(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return b.str();
}

template <typename Msg>
absl::StatusOr<Msg> Parse(const std::string& bytes, absl::string_view what) {
  Msg m;
  if (!m.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " cannot be parsed"));
  }
  return m;
}

absl::string_view EntityName(EntityKind kind) {
  switch (kind) {
    case EntityKind::kRingGroup:
      return "ring group";
    case EntityKind::kVoicemailBox:
      return "voicemail box";
    case EntityKind::kSchedule:
      return "schedule";
    case EntityKind::kRotation:
      return "on-call rotation";
  }
  return "entity";
}

const std::string& CallCols() {
  static const std::string* s = new std::string(absl::StrCat(
      "id::text AS id, company_id, call_key, direction, from_number, to_number, line_id, "
      "flow_id, flow_version, path, answered_by, ",
      Col("started_at"), ", ", Col("answered_at"), ", ", Col("ended_at"),
      ", duration_s, status, recording_id, recording_url, voicemail_box_id, "
      "array_to_string(user_ids, ',') AS user_ids"));
  return *s;
}

v1::CallLogDirection DirectionFrom(absl::string_view s) {
  if (s == "outbound") return v1::DIRECTION_OUTBOUND;
  if (s == "internal") return v1::DIRECTION_INTERNAL;
  return v1::DIRECTION_INBOUND;
}
v1::CallStatus StatusFrom(absl::string_view s) {
  if (s == "completed") return v1::COMPLETED;
  if (s == "missed") return v1::MISSED;
  if (s == "voicemail") return v1::VOICEMAIL;
  if (s == "failed") return v1::FAILED;
  if (s == "busy") return v1::BUSY;
  return v1::CALL_STATUS_UNSPECIFIED;
}

std::string ModeName(v1::RecordingMode m) {
  switch (m) {
    case v1::RECORDING_ALL:
      return "all";
    case v1::RECORDING_INBOUND_ONLY:
      return "inbound_only";
    case v1::RECORDING_ON_DEMAND:
      return "on_demand";
    default:
      return "off";
  }
}
v1::RecordingMode ModeFrom(absl::string_view s) {
  if (s == "all") return v1::RECORDING_ALL;
  if (s == "inbound_only") return v1::RECORDING_INBOUND_ONLY;
  if (s == "on_demand") return v1::RECORDING_ON_DEMAND;
  return v1::RECORDING_OFF;
}
v1::RecordingPolicy ReadPolicy(pqxx::work& tx, absl::string_view company_id) {
  v1::RecordingPolicy p;
  p.set_mode(v1::RECORDING_OFF);
  pqxx::result r = tx.exec_params(
      "SELECT recording_mode, consent_announcement FROM company_settings WHERE company_id = $1",
      std::string(company_id));
  if (!r.empty()) {
    p.set_mode(ModeFrom(r[0][0].as<std::string>()));
    p.set_consent_announcement(r[0][1].as<std::string>());
  }
  return p;
}

absl::StatusOr<v1::CallRecord> CallFrom(const pqxx::row& r) {
  v1::CallRecord c;
  c.set_id(r["id"].as<std::string>());
  c.set_company_id(r["company_id"].as<std::string>());
  c.set_call_key(r["call_key"].as<std::string>());
  c.set_direction(DirectionFrom(r["direction"].as<std::string>()));
  c.set_from(r["from_number"].as<std::string>());
  c.set_to(r["to_number"].as<std::string>());
  c.set_line_id(r["line_id"].as<std::string>());
  c.set_flow_id(r["flow_id"].as<std::string>());
  c.set_flow_version(r["flow_version"].as<int64_t>());
  ASSIGN_OR_RETURN(v1::CallPath path, Parse<v1::CallPath>(Bytes(r["path"]), "call path"));
  *c.mutable_path() = std::move(*path.mutable_entries());
  c.set_answered_by(r["answered_by"].as<std::string>());
  SetTs(r["started_at"], c.mutable_started_at());
  if (!r["answered_at"].is_null()) SetTs(r["answered_at"], c.mutable_answered_at());
  if (!r["ended_at"].is_null()) SetTs(r["ended_at"], c.mutable_ended_at());
  c.set_duration_s(r["duration_s"].as<int32_t>());
  c.set_status(StatusFrom(r["status"].as<std::string>()));
  c.set_recording_id(r["recording_id"].as<std::string>());
  c.set_recording_url(r["recording_url"].as<std::string>());
  c.set_voicemail_box_id(r["voicemail_box_id"].as<std::string>());
  for (absl::string_view u :
       absl::StrSplit(r["user_ids"].as<std::string>(), ',', absl::SkipEmpty())) {
    c.add_user_ids(std::string(u));
  }
  return c;
}

}  // namespace

absl::Status MigrateRouting(db::Pool& pool) {
  RETURN_IF_ERROR(events::MigrateOutbox(pool));
  return db::Migrate(pool, "routing", sql::Migrations());
}

absl::string_view EntityTable(EntityKind kind) {
  switch (kind) {
    case EntityKind::kRingGroup:
      return "ring_groups";
    case EntityKind::kVoicemailBox:
      return "voicemail_boxes";
    case EntityKind::kSchedule:
      return "schedules";
    case EntityKind::kRotation:
      return "rotations";
  }
  return "ring_groups";
}

absl::StatusOr<int64_t> PgStore::PruneEventKeys(absl::Time before, int limit) {
  return db::DeleteOlderThan(pool_, "call_event_keys", "applied_at", before, limit);
}

absl::Status PgStore::Ping() {
  return pool_.Plain([](pqxx::work& tx) -> absl::Status {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

// ---- flows ------------------------------------------------------------------------------------

absl::StatusOr<v1::Flow> PgStore::SaveFlow(absl::string_view company_id, v1::Flow flow,
                                           int64_t expected_version, absl::Time now) {
  return pool_.InTenantOr<v1::Flow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<v1::Flow> {
    // One writer per flow id at a time.
    tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                   absl::StrCat("routing.flow:", company_id, ":", flow.id()));
    pqxx::result r = tx.exec_params(
        "SELECT COALESCE(max(version), 0) FROM flows WHERE company_id = $1 AND id = $2",
        std::string(company_id), flow.id());
    const int64_t latest = r[0][0].as<int64_t>();
    if (expected_version > 0 && expected_version != latest) {
      return absl::FailedPreconditionError(
          absl::StrCat("expected_version: flow ", flow.id(), " is at version ", latest, ", not ",
                       expected_version));
    }
    flow.set_version(latest + 1);
    flow.set_company_id(std::string(company_id));
    flow.mutable_created_at()->set_seconds(absl::ToUnixSeconds(now));
    std::string body;
    flow.SerializeToString(&body);
    pqxx::binarystring bytes(body.data(), body.size());
    tx.exec_params(absl::StrCat("INSERT INTO flows (company_id, id, version, name, body, "
                                "created_at, created_by) VALUES ($1, $2, $3, $4, $5, ",
                                Ts(6), ", $7)"),
                   std::string(company_id), flow.id(), flow.version(), flow.name(), bytes, Us(now),
                   flow.created_by());
    return flow;
  });
}

absl::StatusOr<v1::Flow> PgStore::GetFlow(absl::string_view company_id, absl::string_view flow_id,
                                          int64_t version) {
  return pool_.InTenantOr<v1::Flow>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<v1::Flow> {
    pqxx::result r =
        version > 0
            ? tx.exec_params("SELECT body FROM flows WHERE company_id = $1 AND id = $2 AND "
                             "version = $3",
                             std::string(company_id), std::string(flow_id), version)
            : tx.exec_params("SELECT body FROM flows WHERE company_id = $1 AND id = $2 ORDER BY "
                             "version DESC LIMIT 1",
                             std::string(company_id), std::string(flow_id));
    if (r.empty()) {
      return absl::NotFoundError(
          version > 0 ? absl::StrCat("flow ", flow_id, " version ", version, " not found")
                      : absl::StrCat("flow ", flow_id, " not found"));
    }
    return Parse<v1::Flow>(Bytes(r[0][0]), "flow");
  });
}

absl::StatusOr<std::vector<v1::Flow>> PgStore::ListFlows(absl::string_view company_id,
                                                         const Page& page) {
  using Out = std::vector<v1::Flow>;
  return pool_.InTenantOr<Out>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Out> {
    pqxx::result r = tx.exec_params(
        "SELECT DISTINCT ON (id) body FROM flows WHERE company_id = $1 AND id > $2 "
        "ORDER BY id, version DESC LIMIT $3",
        std::string(company_id), page.after, page.limit);
    Out out;
    for (const auto& row : r) {
      ASSIGN_OR_RETURN(v1::Flow f, Parse<v1::Flow>(Bytes(row[0]), "flow"));
      out.push_back(std::move(f));
    }
    return out;
  });
}

absl::StatusOr<std::vector<v1::FlowVersionInfo>> PgStore::ListFlowVersions(
    absl::string_view company_id, absl::string_view flow_id, int limit, int64_t before_version) {
  using Out = std::vector<v1::FlowVersionInfo>;
  return pool_.InTenantOr<Out>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Out> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT version, created_by, ", Col("created_at"),
                     " FROM flows WHERE company_id = $1 AND id = $2 AND ($3 = 0 OR version < $3) "
                     "ORDER BY version DESC LIMIT $4"),
        std::string(company_id), std::string(flow_id), before_version, limit);
    if (r.empty() && before_version == 0) {
      return absl::NotFoundError(absl::StrCat("flow ", flow_id, " not found"));
    }
    Out out;
    for (const auto& row : r) {
      v1::FlowVersionInfo v;
      v.set_version(row["version"].as<int64_t>());
      v.set_created_by(row["created_by"].as<std::string>());
      SetTs(row["created_at"], v.mutable_created_at());
      out.push_back(std::move(v));
    }
    return out;
  });
}

// ---- entities ---------------------------------------------------------------------------------

absl::Status PgStore::PutEntity(EntityKind kind, absl::string_view company_id,
                                const StoredEntity& e, absl::Time now) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::binarystring bytes(e.body.data(), e.body.size());
    tx.exec_params(absl::StrCat("INSERT INTO ", EntityTable(kind),
                                " (company_id, id, name, body, updated_at) VALUES ($1, $2, $3, $4, ",
                                Ts(5),
                                ") ON CONFLICT (company_id, id) DO UPDATE SET name = "
                                "EXCLUDED.name, body = EXCLUDED.body, updated_at = "
                                "EXCLUDED.updated_at"),
                   std::string(company_id), e.id, e.name, bytes, Us(now));
    return absl::OkStatus();
  });
}

absl::StatusOr<StoredEntity> PgStore::GetEntity(EntityKind kind, absl::string_view company_id,
                                                absl::string_view id) {
  return pool_.InTenantOr<StoredEntity>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<StoredEntity> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT id, name, body FROM ", EntityTable(kind),
                         " WHERE company_id = $1 AND id = $2"),
            std::string(company_id), std::string(id));
        if (r.empty()) return absl::NotFoundError(absl::StrCat(EntityName(kind), " ", id, " not found"));
        return StoredEntity{r[0][0].as<std::string>(), r[0][1].as<std::string>(), Bytes(r[0][2])};
      });
}

absl::StatusOr<std::vector<StoredEntity>> PgStore::ListEntities(EntityKind kind,
                                                                absl::string_view company_id,
                                                                const Page& page) {
  using Out = std::vector<StoredEntity>;
  return pool_.InTenantOr<Out>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Out> {
    pqxx::result r = tx.exec_params(
        absl::StrCat("SELECT id, name, body FROM ", EntityTable(kind),
                     " WHERE company_id = $1 AND id > $2 ORDER BY id LIMIT $3"),
        std::string(company_id), page.after, page.limit);
    Out out;
    for (const auto& row : r) {
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), Bytes(row[2])});
    }
    return out;
  });
}

absl::Status PgStore::DeleteEntity(EntityKind kind, absl::string_view company_id,
                                   absl::string_view id) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_params(
        absl::StrCat("DELETE FROM ", EntityTable(kind), " WHERE company_id = $1 AND id = $2"),
        std::string(company_id), std::string(id));
    if (r.affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat(EntityName(kind), " ", id, " not found"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<CompanyConfig> PgStore::LoadCompanyConfig(absl::string_view company_id) {
  return pool_.InTenantOr<CompanyConfig>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<CompanyConfig> {
        CompanyConfig c;
        auto rows = [&](EntityKind kind) {
          return tx.exec_params(absl::StrCat("SELECT body FROM ", EntityTable(kind),
                                             " WHERE company_id = $1 ORDER BY id"),
                                std::string(company_id));
        };
        for (const auto& row : rows(EntityKind::kRingGroup)) {
          ASSIGN_OR_RETURN(auto g, Parse<v1::RingGroup>(Bytes(row[0]), "ring group"));
          c.ring_groups.push_back(std::move(g));
        }
        for (const auto& row : rows(EntityKind::kVoicemailBox)) {
          ASSIGN_OR_RETURN(auto b, Parse<v1::VoicemailBox>(Bytes(row[0]), "voicemail box"));
          c.voicemail_boxes.push_back(std::move(b));
        }
        for (const auto& row : rows(EntityKind::kSchedule)) {
          ASSIGN_OR_RETURN(auto s, Parse<v1::NamedSchedule>(Bytes(row[0]), "schedule"));
          c.schedules.push_back(std::move(s));
        }
        for (const auto& row : rows(EntityKind::kRotation)) {
          ASSIGN_OR_RETURN(auto r, Parse<v1::NamedRotation>(Bytes(row[0]), "rotation"));
          c.rotations.push_back(std::move(r));
        }
        c.recording = ReadPolicy(tx, company_id);
        return c;
      });
}

absl::StatusOr<v1::RecordingPolicy> PgStore::GetRecordingPolicy(absl::string_view company_id) {
  return pool_.InTenantOr<v1::RecordingPolicy>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<v1::RecordingPolicy> {
        return ReadPolicy(tx, company_id);
      });
}

absl::Status PgStore::PutRecordingPolicy(absl::string_view company_id,
                                         const v1::RecordingPolicy& policy, absl::Time now) {
  return pool_.InTenant(company_id, [&](pqxx::work& tx) -> absl::Status {
    tx.exec_params(absl::StrCat("INSERT INTO company_settings (company_id, recording_mode, "
                                "consent_announcement, updated_at) VALUES ($1, $2, $3, ",
                                Ts(4),
                                ") ON CONFLICT (company_id) DO UPDATE SET recording_mode = "
                                "EXCLUDED.recording_mode, consent_announcement = "
                                "EXCLUDED.consent_announcement, updated_at = EXCLUDED.updated_at"),
                   std::string(company_id), ModeName(policy.mode()),
                   policy.consent_announcement(), Us(now));
    return absl::OkStatus();
  });
}

// ---- calls ------------------------------------------------------------------------------------

absl::StatusOr<std::optional<StoredCall>> PgStore::LoadCall(absl::string_view call_key) {
  using Out = std::optional<StoredCall>;
  return pool_.UnscopedOr<Out>([&](pqxx::work& tx) -> absl::StatusOr<Out> {
    pqxx::result r = tx.exec_params(
        "SELECT id::text, company_id, line_id, state FROM calls WHERE call_key = $1",
        std::string(call_key));
    if (r.empty()) return Out();
    StoredCall c;
    c.id = r[0][0].as<std::string>();
    c.company_id = r[0][1].as<std::string>();
    c.line_id = r[0][2].as<std::string>();
    c.call_key = std::string(call_key);
    ASSIGN_OR_RETURN(c.state, Parse<v1::CallState>(Bytes(r[0][3]), "call state"));
    return Out(std::move(c));
  });
}

absl::StatusOr<StoredCall> PgStore::LoadCallById(absl::string_view company_id,
                                                 absl::string_view call_id) {
  if (!IsUuid(call_id)) return absl::NotFoundError("call_id: unknown call");
  return pool_.InTenantOr<StoredCall>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<StoredCall> {
    pqxx::result r = tx.exec_params(
        "SELECT id::text, company_id, line_id, call_key, state FROM calls "
        "WHERE company_id = $1 AND id = $2::uuid",
        std::string(company_id), std::string(call_id));
    if (r.empty()) return absl::NotFoundError("call_id: unknown call");
    StoredCall c;
    c.id = r[0][0].as<std::string>();
    c.company_id = r[0][1].as<std::string>();
    c.line_id = r[0][2].as<std::string>();
    c.call_key = r[0][3].as<std::string>();
    ASSIGN_OR_RETURN(c.state, Parse<v1::CallState>(Bytes(r[0][4]), "call state"));
    return c;
  });
}

absl::Status PgStore::ApplyCall(const CallWrite& w, absl::Time now) {
  std::string state;
  w.state.SerializeToString(&state);
  v1::CallPath path;
  for (const v1::PathEntry& e : w.path) *path.add_entries() = e;
  std::string path_bytes;
  path.SerializeToString(&path_bytes);
  const std::string user_ids = absl::StrJoin(w.user_ids, ",");
  if (w.create) {
    // The event that creates the call has no event key: the unique call_key already refuses a
    // second creation (a redelivered CallIncoming), and later duplicates of it find the call and
    // leave it unchanged. Row and events are ONE statement (the events only when the row was
    // inserted), so without async commits it is its own transaction: one round trip.
    // Prepared once per connection (the same definition again is a no-op for pqxx): the hot
    // path is parsed and planned once, not on every call.
    static const std::string* const kCreateSql = new std::string(absl::StrCat(
        "WITH c AS (INSERT INTO calls (id, company_id, call_key, direction, from_number, "
        "to_number, line_id, flow_id, flow_version, path, answered_by, started_at, answered_at, "
        "ended_at, duration_s, status, recording_id, recording_url, voicemail_box_id, user_ids, "
        "state, seq) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ",
        Ts(12), ", ", OptTs(13), ", ", OptTs(14),
        ", $15, $16, $17, $18, $19, ARRAY(SELECT DISTINCT unnest(string_to_array($20, ','))), "
        "$21, $22) ON CONFLICT (call_key) DO NOTHING RETURNING 1), ",
        events::OutboxInsertCte("o", 23, "EXISTS (SELECT 1 FROM c)"),
        " SELECT (SELECT count(*) FROM c), ", events::OutboxNotifySql("o", 27)));
    ASSIGN_OR_RETURN(const events::OutboxRows outbox,
                     events::EncodeOutboxRows(absl::MakeConstSpan(w.events)));
    events::OutboxNotifyThrottle::Ticket wake =
        events::OutboxNotifyThrottle::Default().Take(topic_);
    auto create = [&](pqxx::transaction_base& tx) -> absl::Status {
      tx.conn().prepare("routing_create_call", *kCreateSql);
      pqxx::binarystring state_b(state.data(), state.size());
      pqxx::binarystring path_b(path_bytes.data(), path_bytes.size());
      pqxx::result r = tx.exec_prepared(
          "routing_create_call", w.id, w.company_id, w.call_key, w.direction, w.state.from(),
          w.state.to(), w.line_id, w.state.flow_id(), w.state.flow_version(), path_b,
          w.answered_by, Us(w.started_at), OptUs(w.answered_at), OptUs(w.ended_at),
          w.duration_s.value_or(0), w.status, w.recording_id, w.recording_url,
          w.voicemail_box_id, user_ids, state_b, w.state.seq(), topic_, outbox.ids, outbox.keys,
          outbox.payloads, wake.notify());
      if (r[0][1].as<int64_t>() > 0) wake.MarkSent();
      if (r[0][0].as<int64_t>() == 0) {
        return absl::AbortedError(absl::StrCat("call ", w.call_key, " was created concurrently"));
      }
      return absl::OkStatus();
    };
    if (!async_commit_) return pool_.InTenantAutocommit(w.company_id, create);
    return pool_.InTenant(w.company_id, [&](pqxx::work& tx) -> absl::Status {
      tx.exec("SET LOCAL synchronous_commit = off");
      return create(tx);
    });
  }
  return pool_.InTenant(w.company_id, [&](pqxx::work& tx) -> absl::Status {
    if (async_commit_) tx.exec("SET LOCAL synchronous_commit = off");
    // The statements are prepared once per connection (the same definition again is a no-op
    // for pqxx): a call's events are the hot path, parsed and planned once, not every time.
    pqxx::binarystring state_b(state.data(), state.size());
    pqxx::binarystring path_b(path_bytes.data(), path_bytes.size());
    if (!w.dedupe_key.empty()) {
      tx.conn().prepare(
          "routing_event_key",
          absl::StrCat("INSERT INTO call_event_keys (company_id, call_key, dedupe_key, "
                       "applied_at) VALUES ($1, $2, $3, ",
                       Ts(4), ") ON CONFLICT DO NOTHING"));
      pqxx::result r = tx.exec_prepared("routing_event_key", w.company_id, w.call_key,
                                        w.dedupe_key, Us(now));
      if (r.affected_rows() == 0) {
        return absl::AlreadyExistsError(
            absl::StrCat("event ", w.dedupe_key, " was already applied to call ", w.call_key));
      }
    }
    tx.conn().prepare(
        "routing_update_call",
        absl::StrCat(
            "UPDATE calls SET path = path || $3, "
            "answered_by = COALESCE(NULLIF($4, ''), answered_by), "
            "answered_at = COALESCE(answered_at, ",
            OptTs(5), "), ended_at = COALESCE(", OptTs(6),
            ", ended_at), duration_s = COALESCE(NULLIF($7, '')::integer, duration_s), "
            "status = COALESCE(NULLIF($8, ''), status), "
            "recording_id = COALESCE(NULLIF($9, ''), recording_id), "
            "recording_url = COALESCE(NULLIF($10, ''), recording_url), "
            "voicemail_box_id = COALESCE(NULLIF($11, ''), voicemail_box_id), "
            "user_ids = ARRAY(SELECT DISTINCT unnest(user_ids || string_to_array($12, ','))), "
            "state = $13, seq = $14 WHERE call_key = $1 AND seq = $2"));
    pqxx::result r = tx.exec_prepared(
        "routing_update_call", w.call_key, w.expected_seq, path_b, w.answered_by,
        OptUs(w.answered_at), OptUs(w.ended_at),
        w.duration_s.has_value() ? std::to_string(*w.duration_s) : "", w.status,
        w.recording_id, w.recording_url, w.voicemail_box_id, user_ids, state_b,
        w.state.seq());
    if (r.affected_rows() == 0) {
      return absl::AbortedError(
          absl::StrCat("call ", w.call_key, " changed concurrently (seq ", w.expected_seq, ")"));
    }
    return events::AppendToOutbox(tx, topic_, absl::MakeConstSpan(w.events));
  });
}

absl::StatusOr<StoredCall> PgStore::BindCallKey(absl::string_view company_id,
                                                absl::string_view call_id,
                                                absl::string_view pending_key,
                                                absl::string_view key) {
  return pool_.InTenantOr<StoredCall>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<StoredCall> {
        pqxx::result r = tx.exec_params(
            "UPDATE calls SET call_key = $3 WHERE id = $1::uuid AND call_key = $2 "
            "RETURNING id::text, company_id, line_id, state, call_key",
            std::string(call_id), std::string(pending_key), std::string(key));
        if (r.empty()) {
          r = tx.exec_params(
              "SELECT id::text, company_id, line_id, state, call_key FROM calls "
              "WHERE id = $1::uuid",
              std::string(call_id));
        }
        if (r.empty()) return absl::NotFoundError(absl::StrCat("call ", call_id, " not found"));
        if (r[0][4].as<std::string>() != key) {
          return absl::FailedPreconditionError(
              absl::StrCat("call ", call_id, " is bound to another carrier call"));
        }
        StoredCall c;
        c.id = r[0][0].as<std::string>();
        c.company_id = r[0][1].as<std::string>();
        c.line_id = r[0][2].as<std::string>();
        ASSIGN_OR_RETURN(c.state, Parse<v1::CallState>(Bytes(r[0][3]), "call state"));
        return c;
      });
}

std::string CallPageToken(const v1::CallRecord& last) {
  const int64_t us = last.started_at().seconds() * 1000000 + last.started_at().nanos() / 1000;
  return absl::StrCat(us, "_", last.id());
}

absl::StatusOr<std::vector<v1::CallRecord>> PgStore::ListCalls(absl::string_view company_id,
                                                               const CallFilter& f, int limit,
                                                               const std::string& page_token) {
  std::string token_us, token_id;
  if (!page_token.empty()) {
    std::vector<std::string> parts = absl::StrSplit(page_token, absl::MaxSplits('_', 1));
    int64_t us = 0;
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &us) || !IsUuid(parts[1])) {
      return absl::InvalidArgumentError("page_token: not a token ListCalls returned");
    }
    token_us = parts[0];
    token_id = parts[1];
  }
  using Out = std::vector<v1::CallRecord>;
  return pool_.InTenantOr<Out>(company_id, [&](pqxx::work& tx) -> absl::StatusOr<Out> {
    pqxx::result r = tx.exec_params(
        absl::StrCat(
            "SELECT ", CallCols(), " FROM calls WHERE company_id = $1",
            " AND ($2 = '' OR started_at >= ", OptTs(2), ")",
            " AND ($3 = '' OR started_at < ", OptTs(3), ")",
            " AND ($4 = '' OR direction = $4) AND ($5 = '' OR status = $5)",
            " AND ($6 = '' OR from_number = $6 OR to_number = $6)",
            " AND ($7 = '' OR $7 = ANY(user_ids)) AND ($8 = '' OR $8 = ANY(user_ids))",
            " AND ($9 = '' OR strpos(from_number, $9) > 0 OR strpos(to_number, $9) > 0)",
            " AND ($10 = '' OR (started_at, id) < (", OptTs(10), ", NULLIF($11, '')::uuid))",
            " ORDER BY started_at DESC, id DESC LIMIT $12"),
        std::string(company_id), OptUs(f.started_after), OptUs(f.started_before), f.direction,
        f.status, f.number, f.user_id, f.visible_to_user, f.search, token_us, token_id, limit);
    Out out;
    for (const auto& row : r) {
      ASSIGN_OR_RETURN(v1::CallRecord c, CallFrom(row));
      out.push_back(std::move(c));
    }
    return out;
  });
}

absl::StatusOr<v1::CallRecord> PgStore::GetCall(absl::string_view company_id,
                                                absl::string_view call_id,
                                                absl::string_view visible_to_user) {
  if (!IsUuid(call_id)) return absl::NotFoundError(absl::StrCat("call ", call_id, " not found"));
  return pool_.InTenantOr<v1::CallRecord>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<v1::CallRecord> {
        pqxx::result r = tx.exec_params(
            absl::StrCat("SELECT ", CallCols(),
                         " FROM calls WHERE company_id = $1 AND id = $2::uuid AND "
                         "($3 = '' OR $3 = ANY(user_ids))"),
            std::string(company_id), std::string(call_id), std::string(visible_to_user));
        if (r.empty()) return absl::NotFoundError(absl::StrCat("call ", call_id, " not found"));
        ASSIGN_OR_RETURN(v1::CallRecord c, CallFrom(r[0]));
        pqxx::result notes = tx.exec_params(
            absl::StrCat("SELECT id::text, author_user_id, text, ", Col("created_at"),
                         " FROM call_notes WHERE call_id = $1::uuid ORDER BY created_at, id"),
            c.id());
        for (const auto& n : notes) {
          v1::CallNote* note = c.add_notes();
          note->set_id(n[0].as<std::string>());
          note->set_call_id(c.id());
          note->set_author_user_id(n[1].as<std::string>());
          note->set_text(n[2].as<std::string>());
          SetTs(n["created_at"], note->mutable_created_at());
        }
        return c;
      });
}

absl::StatusOr<v1::CallNote> PgStore::AddCallNote(absl::string_view company_id,
                                                  absl::string_view call_id,
                                                  absl::string_view author_user_id,
                                                  absl::string_view text, absl::Time now) {
  if (!IsUuid(call_id)) return absl::NotFoundError(absl::StrCat("call ", call_id, " not found"));
  return pool_.InTenantOr<v1::CallNote>(
      company_id, [&](pqxx::work& tx) -> absl::StatusOr<v1::CallNote> {
        pqxx::result found = tx.exec_params(
            "SELECT 1 FROM calls WHERE company_id = $1 AND id = $2::uuid",
            std::string(company_id), std::string(call_id));
        if (found.empty()) return absl::NotFoundError(absl::StrCat("call ", call_id, " not found"));
        v1::CallNote note;
        note.set_id(NewUuidV7(now));
        note.set_call_id(std::string(call_id));
        note.set_author_user_id(std::string(author_user_id));
        note.set_text(std::string(text));
        note.mutable_created_at()->set_seconds(absl::ToUnixSeconds(now));
        tx.exec_params(absl::StrCat("INSERT INTO call_notes (id, company_id, call_id, "
                                    "author_user_id, text, created_at) VALUES ($1::uuid, $2, "
                                    "$3::uuid, $4, $5, ",
                                    Ts(6), ")"),
                       note.id(), std::string(company_id), note.call_id(), note.author_user_id(),
                       note.text(), Us(now));
        return note;
      });
}

}  // namespace switchboard::routing
