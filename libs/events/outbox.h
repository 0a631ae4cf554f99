// The transactional outbox: services append events in the same transaction as the state change;
// OutboxRelay publishes them to Kafka. The outbox lives in each service's own schema.
#pragma once

#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "absl/strings/string_view.h"
#include "libs/db/migrations.h"
#include "libs/db/pg_pool.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::events {

// Migration component name of the outbox tables.
inline constexpr char kOutboxComponent[] = "events";

// Migrations (component "events") creating
//   outbox(seq bigserial pk, id uuid unique, topic, key, payload bytea, created_at): every row is
//     pending; OutboxRelay deletes rows once Kafka acknowledged them
//   processed_events(consumer, event_id, processed_at, pk(consumer, event_id))
// Apply with db::Migrate(pool, kOutboxComponent, OutboxMigrations()) or MigrateOutbox(pool).
const std::vector<db::Migration>& OutboxMigrations();
[[nodiscard]] absl::Status MigrateOutbox(db::Pool& pool);

// Appends `event` (serialized; key = event.aggregate_id()) for `topic` inside `tx`, and
// pg_notify()s OutboxChannel(current schema) so a listening relay wakes at commit.
// Errors: kInvalidArgument if topic is empty or event.id() is not a UUID; kAlreadyExists if the
// event id is already in the outbox; other StatusFromPqxx() codes. Uses `tx` only; the caller
// commits or rolls back (the outbox row goes with it).
[[nodiscard]] absl::Status AppendToOutbox(pqxx::work& tx, absl::string_view topic,
                                          const v1::Event& event);
// The same for several events in one statement (one round trip); none is appended when any is
// invalid. An empty span is a no-op.
[[nodiscard]] absl::Status AppendToOutbox(pqxx::work& tx, absl::string_view topic,
                                          absl::Span<const v1::Event> events);

// NOTIFY channel of the outbox in `schema` ("sb_outbox_<schema>").
std::string OutboxChannel(absl::string_view schema);

}  // namespace switchboard::events
