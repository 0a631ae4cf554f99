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

absl::StatusOr<OutboxRows> EncodeOutboxRows(absl::Span<const v1::Event> events) {
  OutboxRows rows{.ids = "{", .keys = "{", .payloads = "{"};
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
    AppendArrayElement(&rows.ids, event.id());
    AppendArrayElement(&rows.keys, event.aggregate_id());
    AppendArrayElement(&rows.payloads, absl::StrCat("\\x", absl::BytesToHexString(payload)));
  }
  rows.ids.push_back('}');
  rows.keys.push_back('}');
  rows.payloads.push_back('}');
  return rows;
}

std::string OutboxInsertCte(absl::string_view name, int first_param, absl::string_view guard) {
  return absl::StrCat(name, " AS (INSERT INTO outbox (id, topic, key, payload) SELECT i, $",
                      first_param, ", k, p FROM unnest($", first_param + 1, "::uuid[], $",
                      first_param + 2, "::text[], $", first_param + 3,
                      "::bytea[]) AS e(i, k, p) WHERE ", guard, " RETURNING 1)");
}

std::string OutboxNotifySql(absl::string_view name, int notify_param) {
  return absl::StrCat("(SELECT count(*) FROM (SELECT pg_notify('sb_outbox_' || current_schema(), "
                      "'') FROM (SELECT 1 FROM ", name, " WHERE $", notify_param,
                      "::boolean LIMIT 1) r) n)");
}

OutboxNotifyThrottle& OutboxNotifyThrottle::Default() {
  static OutboxNotifyThrottle* const throttle = new OutboxNotifyThrottle(absl::Milliseconds(5));
  return *throttle;
}

OutboxNotifyThrottle::Ticket OutboxNotifyThrottle::Take(absl::string_view topic, absl::Time now) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = last_.try_emplace(topic, now);
  if (!inserted && now - it->second < interval_) return Ticket(this, topic, now, false);
  it->second = now;
  return Ticket(this, topic, now, true);
}

OutboxNotifyThrottle::Ticket::~Ticket() {
  if (throttle_ == nullptr) return;
  if (!notify_) {
    throttle_->skipped_done_.fetch_add(1, std::memory_order_acq_rel);
  } else if (!sent_) {
    absl::MutexLock lock(&throttle_->mu_);
    auto it = throttle_->last_.find(topic_);
    if (it != throttle_->last_.end() && it->second == at_) throttle_->last_.erase(it);
  }
}

absl::Status AppendToOutbox(pqxx::work& tx, absl::string_view topic,
                            absl::Span<const v1::Event> events) {
  if (topic.empty()) return absl::InvalidArgumentError("outbox topic is empty");
  if (events.empty()) return absl::OkStatus();
  // Three array literals for one statement, whatever the number of events: one round trip,
  // parsed and planned once per connection.
  ASSIGN_OR_RETURN(const OutboxRows rows, EncodeOutboxRows(events));
  return db::RunCatching(
      absl::StrCat("append event ", events.front().id(),
                   events.size() > 1 ? absl::StrCat(" and ", events.size() - 1, " more") : "",
                   " to outbox"),
      [&]() -> absl::Status {
        // Prepared once per connection (the same definition again is a no-op for pqxx). The
        // relay is woken at commit; Postgres folds repeated notifications of one transaction.
        static const std::string* const kSql = new std::string(absl::StrCat(
            "WITH ", OutboxInsertCte("o", 1, "true"), " SELECT ", OutboxNotifySql("o", 5)));
        tx.conn().prepare("sb_outbox_append", *kSql);
        tx.exec_prepared("sb_outbox_append", std::string(topic), rows.ids, rows.keys,
                         rows.payloads, true);
        return absl::OkStatus();
      });
}

}  // namespace switchboard::events
