#include "libs/events/outbox.h"

#include "absl/strings/escaping.h"
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

namespace {

// One element of a Postgres array literal, double-quoted with `\` and `"` escaped.
void AppendArrayElement(std::string* out, absl::string_view v) {
  if (out->size() > 1) out->push_back(',');
  out->push_back('"');
  for (char c : v) {
    if (c == '\\' || c == '"') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

absl::Status AppendToOutbox(pqxx::work& tx, absl::string_view topic, const v1::Event& event) {
  return AppendToOutbox(tx, topic, absl::MakeConstSpan(&event, 1));
}

absl::Status AppendToOutbox(pqxx::work& tx, absl::string_view topic,
                            absl::Span<const v1::Event> events) {
  if (topic.empty()) return absl::InvalidArgumentError("outbox topic is empty");
  if (events.empty()) return absl::OkStatus();
  // Three array literals (ids, keys, payloads as bytea hex) for one statement, whatever the
  // number of events: one round trip, parsed and planned once per connection.
  std::string ids = "{", keys = "{", payloads = "{";
  std::string payload;
  for (const v1::Event& event : events) {
    if (!IsUuid(event.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("event.id '", event.id(), "' is not a UUID (use NewEvent())"));
    }
    payload.clear();
    if (!event.SerializeToString(&payload)) {
      return absl::InvalidArgumentError(
          absl::StrCat("event ", event.id(), " cannot be serialized"));
    }
    AppendArrayElement(&ids, event.id());
    AppendArrayElement(&keys, event.aggregate_id());
    AppendArrayElement(&payloads, absl::StrCat("\\x", absl::BytesToHexString(payload)));
  }
  ids.push_back('}');
  keys.push_back('}');
  payloads.push_back('}');
  return db::RunCatching(
      absl::StrCat("append event ", events.front().id(),
                   events.size() > 1 ? absl::StrCat(" and ", events.size() - 1, " more") : "",
                   " to outbox"),
      [&]() -> absl::Status {
        // Prepared once per connection (the same definition again is a no-op for pqxx). The
        // relay is woken at commit; Postgres folds repeated notifications of one transaction.
        tx.conn().prepare(
            "sb_outbox_append",
            "WITH o AS (INSERT INTO outbox (id, topic, key, payload) "
            "SELECT i, $1, k, p FROM unnest($2::uuid[], $3::text[], $4::bytea[]) AS e(i, k, p) "
            "RETURNING 1) "
            "SELECT count(*) FROM (SELECT pg_notify('sb_outbox_' || current_schema(), '') "
            "FROM o) n");
        tx.exec_prepared("sb_outbox_append", std::string(topic), ids, keys, payloads);
        return absl::OkStatus();
      });
}

}  // namespace switchboard::events
