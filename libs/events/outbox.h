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

// The outbox insert as part of a caller's own statement, for a write that is ONE statement (a
// data-modifying WITH; see db::Pool::InTenantAutocommit): the events travel as three array
// parameters, the insert is a CTE and the NOTIFY a scalar subquery of the final SELECT.
struct OutboxRows {
  std::string ids;       // uuid[] literal
  std::string keys;      // text[] literal (aggregate ids)
  std::string payloads;  // bytea[] literal (serialized events, hex)
};
// Errors as AppendToOutbox's for invalid events; an empty span gives empty arrays.
[[nodiscard]] absl::StatusOr<OutboxRows> EncodeOutboxRows(absl::Span<const v1::Event> events);
// `<name> AS (INSERT INTO outbox ... SELECT ... FROM unnest($ids, $keys, $payloads) WHERE
// <guard> RETURNING 1)`. The statement's parameters $first..$first+3 are the topic, then
// OutboxRows' ids, keys and payloads. `guard` is an SQL condition ("true" for none), e.g.
// "EXISTS (SELECT 1 FROM d)" to append only when the statement's own insert `d` happened.
std::string OutboxInsertCte(absl::string_view name, int first_param, absl::string_view guard);
// A scalar subquery notifying the outbox channel of the current schema once per row of the CTE
// `name` (Postgres folds them into one NOTIFY at commit); its value is the number of rows.
std::string OutboxNotifySql(absl::string_view name);

// NOTIFY channel of the outbox in `schema` ("sb_outbox_<schema>").
std::string OutboxChannel(absl::string_view schema);

}  // namespace switchboard::events
