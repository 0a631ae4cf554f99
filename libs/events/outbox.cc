#include "libs/events/outbox.h"

#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/common/status_macros.h"
#include "libs/db/pg_errors.h"
#include "sb_events_migrations.h"

namespace switchboard::events {

const std::vector<db::Migration>& OutboxMigrations() { return outbox_sql::Migrations(); }

absl::Status MigrateOutbox(db::Pool& pool) {
  return db::Migrate(pool, kOutboxComponent, OutboxMigrations());
}

std::string OutboxChannel(absl::string_view schema) { return absl::StrCat("sb_outbox_", schema); }

absl::Status AppendToOutbox(pqxx::work& tx, absl::string_view topic, const v1::Event& event) {
  if (topic.empty()) return absl::InvalidArgumentError("outbox topic is empty");
  if (!IsUuid(event.id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("event.id '", event.id(), "' is not a UUID (use NewEvent())"));
  }
  std::string payload;
  if (!event.SerializeToString(&payload)) {
    return absl::InvalidArgumentError(absl::StrCat("event ", event.id(), " cannot be serialized"));
  }
  return db::RunCatching(absl::StrCat("append event ", event.id(), " to outbox"),
                         [&]() -> absl::Status {
                           pqxx::binarystring bytes(payload.data(), payload.size());
                           tx.exec_params(
                               "INSERT INTO outbox (id, topic, key, payload) "
                               "VALUES ($1::uuid, $2, $3, $4)",
                               event.id(), std::string(topic), event.aggregate_id(), bytes);
                           // Delivered at commit; de-duplicated by Postgres within a transaction.
                           tx.exec("SELECT pg_notify('sb_outbox_' || current_schema(), '')");
                           return absl::OkStatus();
                         });
}

}  // namespace switchboard::events
