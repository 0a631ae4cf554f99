// The transactional outbox: services append events in the same transaction as the state change;
// OutboxRelay publishes them to Kafka. The outbox lives in each service's own schema.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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

// Which outbox writes carry the NOTIFY that wakes the relay, for writes that are one statement
// of their own (see OutboxNotifySql). A NOTIFY is not free: at commit, Postgres signals EVERY
// listening backend of the database (each service's relay listens), and each wakes to read the
// queue; one per write cost more CPU than the write itself under load. So a process notifies a
// topic at most once per `interval`. The relay, woken, drains until a batch comes back empty,
// lingering between batches, and the writes that skipped the NOTIFY are in a later batch; a
// skipped write that completes after the relay found the outbox empty (a slow commit, or one
// that followed a write which took the NOTIFY and did not commit) is seen by the relay of the
// same process within ~100 ms (SkippedWritesDone), by a relay of another replica at its next
// NOTIFY or poll_interval. AppendToOutbox (inside a caller's transaction) always notifies.
class OutboxNotifyThrottle {
 public:
  // Held by a write while it runs. Move-only; destroy it once the write is committed (or has
  // failed): a skipped write then counts in SkippedWritesDone().
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept
        : throttle_(other.throttle_),
          topic_(std::move(other.topic_)),
          at_(other.at_),
          notify_(other.notify_),
          sent_(other.sent_) {
      other.throttle_ = nullptr;
    }
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket();
    // Whether this write carries the NOTIFY.
    bool notify() const { return notify_; }
    // The write committed its NOTIFY (OutboxNotifySql's value was 1). A notifying ticket
    // destroyed without it (a duplicate that inserted nothing, a failed write) gives the
    // topic's turn back, so the next write notifies.
    void MarkSent() { sent_ = true; }

   private:
    friend class OutboxNotifyThrottle;
    Ticket(OutboxNotifyThrottle* throttle, absl::string_view topic, absl::Time at, bool notify)
        : throttle_(throttle), topic_(notify ? topic : ""), at_(at), notify_(notify) {}
    OutboxNotifyThrottle* throttle_;
    std::string topic_;  // notifying tickets only
    absl::Time at_;
    bool notify_;
    bool sent_ = false;
  };

  explicit OutboxNotifyThrottle(absl::Duration interval) : interval_(interval) {}
  // The process's throttle (interval 5 ms); OutboxRelay watches it.
  static OutboxNotifyThrottle& Default();
  // A ticket that notifies when no write of `topic` took one within the interval; `now` is for
  // tests.
  Ticket Take(absl::string_view topic, absl::Time now = absl::Now());
  // How many writes that skipped the NOTIFY have completed so far (only ever grows).
  uint64_t SkippedWritesDone() const { return skipped_done_.load(std::memory_order_acquire); }

 private:
  const absl::Duration interval_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::Time> last_ ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> skipped_done_{0};
};

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
// A scalar subquery (for the final SELECT) notifying the outbox channel of the current schema
// when the CTE `name` inserted rows and the boolean parameter $notify_param is true (pass
// a ticket's notify() of OutboxNotifyThrottle::Default().Take(topic)). Its value is 1 when it
// notified, else 0.
std::string OutboxNotifySql(absl::string_view name, int notify_param);

// NOTIFY channel of the outbox in `schema` ("sb_outbox_<schema>").
std::string OutboxChannel(absl::string_view schema);

}  // namespace switchboard::events
