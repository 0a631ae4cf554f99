#include "libs/events/outbox_relay.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/db/pg_errors.h"
#include "libs/events/outbox.h"

namespace switchboard::events {
namespace {

class Wakeup final : public pqxx::notification_receiver {
 public:
  Wakeup(pqxx::connection_base& conn, const std::string& channel)
      : pqxx::notification_receiver(conn, channel) {}
  void operator()(const std::string&, int) override {}
};

}  // namespace

OutboxRelay::OutboxRelay(db::Pool& pool, Producer& producer, RelayOptions options)
    : pool_(pool), producer_(producer), options_(std::move(options)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::StatusOr<int> OutboxRelay::RunOnce() {
  const int limit = options_.batch_size > 0 ? options_.batch_size : RelayOptions{}.batch_size;
  int published = 0;
  absl::Status status = pool_.Unscoped([&](pqxx::work& tx) -> absl::Status {
    // One active relay per schema keeps each key's events in order even with replicas: with
    // SKIP LOCKED alone, two relays could publish consecutive batches out of order. Others find
    // the lock taken and idle until the next wake-up (a hot standby).
    pqxx::result locked = tx.exec_params("SELECT pg_try_advisory_xact_lock(hashtext($1))",
                                         absl::StrCat("switchboard.outbox_relay.", pool_.schema()));
    if (!locked[0][0].as<bool>()) return absl::OkStatus();
    // The delete need not wait for its own WAL flush: should a crash lose it, the rows come
    // back and are republished, which consumers de-duplicate anyway. This saves an fsync per
    // batch on the hot path of every service.
    tx.exec("SET LOCAL synchronous_commit = off");
    // Claims and deletes the oldest rows in one statement. The delete only becomes durable at
    // COMMIT, which happens after Kafka acknowledged every row: a crash before that rolls it
    // back and the rows are republished. `= ANY(ARRAY(...))` (not `IN (subquery)`) keeps the
    // plan on the primary key instead of a hash join over the whole table; RETURNING has no
    // defined order, hence the ORDER BY.
    pqxx::result rows = tx.exec_params(
        "WITH claimed AS (DELETE FROM outbox WHERE seq = ANY(ARRAY("
        "SELECT seq FROM outbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)) "
        "RETURNING seq, topic, key, payload) "
        "SELECT topic, key, payload FROM claimed ORDER BY seq",
        limit);
    if (rows.empty()) return absl::OkStatus();
    for (const pqxx::row& row : rows) {
      pqxx::binarystring payload(row[2]);
      RETURN_IF_ERROR(producer_.Produce(
          row[0].c_str(), absl::string_view(row[1].c_str(), row[1].size()),
          absl::string_view(reinterpret_cast<const char*>(payload.data()), payload.size())));
    }
    // Acked by every in-sync replica before the delete commits: a crash from here on
    // republishes the batch (duplicates), it never loses it.
    RETURN_IF_ERROR(Annotate(producer_.Flush(options_.flush_timeout), "outbox relay flush"));
    if (options_.after_publish_hook_for_test) options_.after_publish_hook_for_test();
    published = static_cast<int>(rows.size());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  published_ += published;
  return published;
}

absl::Status OutboxRelay::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("outbox relay already started");
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void OutboxRelay::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Loop() {
  const std::string channel = OutboxChannel(pool_.schema());
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Wakeup> wakeup;  // declared after conn: destroyed first
  absl::Time next_listen_attempt = absl::InfinitePast();
  const int limit = options_.batch_size > 0 ? options_.batch_size : RelayOptions{}.batch_size;

  while (!stop_) {
    if (conn == nullptr && absl::Now() >= next_listen_attempt) {
      absl::StatusOr<std::unique_ptr<pqxx::connection>> c = pool_.OpenDedicatedConnection();
      absl::Status s = c.ok() ? db::RunCatching("listen", [&]() -> absl::Status {
        wakeup = std::make_unique<Wakeup>(**c, channel);
        return absl::OkStatus();
      })
                              : c.status();
      if (s.ok()) {
        conn = std::move(*c);
      } else {
        wakeup.reset();
        log::Warn("outbox relay cannot LISTEN; polling", {{"error", s.ToString()}});
        next_listen_attempt = absl::Now() + options_.poll_interval;
      }
    }

    // Writes of this process that skip the NOTIFY (OutboxNotifyThrottle) and complete after this
    // batch wake the sleep below.
    const uint64_t skipped_seen = OutboxNotifyThrottle::Default().SkippedWritesDone();
    absl::StatusOr<int> n = RunOnce();
    if (n.ok() && *n > 0 && conn != nullptr) {
      // Draining: the NOTIFYs that arrived meanwhile are read (without waiting) and dropped, so
      // the listening backend never blocks on a full socket, which would keep Postgres from
      // trimming its notification queue for every writer of the database.
      absl::Status s = db::RunCatching("read notifications", [&]() -> absl::Status {
        conn->get_notifs();
        return absl::OkStatus();
      });
      if (!s.ok()) {
        log::Warn("outbox relay LISTEN connection lost", {{"error", s.ToString()}});
        wakeup.reset();
        conn.reset();
      }
    }
    if (!n.ok()) {
      log::Error("outbox relay batch failed; retrying",
                 {{"error", n.status().ToString()}, {"schema", pool_.schema()}});
    } else if (*n >= limit) {
      continue;  // more rows are likely pending
    } else if (*n > 0) {
      // Let the next events gather into one batch, then look again: the relay sleeps only once
      // a batch comes back empty, so writes that skipped the NOTIFY (OutboxNotifyThrottle)
      // while it was busy are relayed too.
      const absl::Time linger_until = absl::Now() + options_.linger;
      while (!stop_ && absl::Now() < linger_until) {
        absl::SleepFor(std::min(absl::Milliseconds(100), linger_until - absl::Now()));
      }
      continue;
    }

    if (options_.before_sleep_hook_for_test) options_.before_sleep_hook_for_test();
    // Sleep until NOTIFY, a skipped write's completion, poll_interval or Stop(), in short slices
    // so Stop() is prompt.
    const absl::Time until = absl::Now() + options_.poll_interval;
    while (!stop_ && absl::Now() < until) {
      const absl::Duration slice = std::min(absl::Milliseconds(100), until - absl::Now());
      if (conn != nullptr) {
        int notified = 0;
        absl::Status s = db::RunCatching("await notification", [&]() -> absl::Status {
          const int64_t us = absl::ToInt64Microseconds(slice);
          notified = conn->await_notification(static_cast<long>(us / 1000000),
                                              static_cast<long>(us % 1000000));
          return absl::OkStatus();
        });
        if (!s.ok()) {
          log::Warn("outbox relay LISTEN connection lost", {{"error", s.ToString()}});
          wakeup.reset();
          conn.reset();
          break;
        }
        if (notified > 0) break;
      } else {
        absl::SleepFor(slice);
      }
      if (OutboxNotifyThrottle::Default().SkippedWritesDone() != skipped_seen) break;
    }
  }
  wakeup.reset();
  conn.reset();
}

}  // namespace switchboard::events
