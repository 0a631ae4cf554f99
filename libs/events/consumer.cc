#include "libs/events/consumer.h"
#include "libs/events/kafka_conf.h"

#include <algorithm>

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/event.h"

namespace switchboard::events {
namespace {

void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                 void*) {
  const bool cooperative = std::string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, parts);
      if (e != nullptr) rd_kafka_error_destroy(e);
    } else {
      rd_kafka_assign(rk, parts);
    }
    return;
  }
  // Revoked: commit what was processed so the next owner does not redo it.
  rd_kafka_resp_err_t c = rd_kafka_commit(rk, nullptr, 0);
  if (c != RD_KAFKA_RESP_ERR_NO_ERROR && c != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    log::Warn("kafka commit on revoke failed", {{"error", rd_kafka_err2str(c)}});
  }
  if (cooperative) {
    rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
    if (e != nullptr) rd_kafka_error_destroy(e);
  } else {
    rd_kafka_assign(rk, nullptr);
  }
}

std::string TopicOf(const rd_kafka_message_t& msg) {
  return msg.rkt != nullptr ? rd_kafka_topic_name(msg.rkt) : std::string();
}

}  // namespace

absl::StatusOr<std::unique_ptr<IdempotentConsumer>> IdempotentConsumer::Create(
    db::Pool& pool, ConsumerOptions options, Handler handler) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("ConsumerOptions.brokers is empty");
  if (options.group_id.empty()) {
    return absl::InvalidArgumentError("ConsumerOptions.group_id is empty");
  }
  if (options.topics.empty()) return absl::InvalidArgumentError("ConsumerOptions.topics is empty");
  if (options.consumer_name.empty()) {
    return absl::InvalidArgumentError("ConsumerOptions.consumer_name is empty");
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("ConsumerOptions.max_attempts must be >= 1");
  }
  if (options.initial_backoff < absl::ZeroDuration() || options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "ConsumerOptions.initial_backoff must be >= 0 and <= max_backoff");
  }
  if (options.processed_retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ConsumerOptions.processed_retention must be >= 0");
  }
  if (options.processed_retention > absl::ZeroDuration() &&
      options.prune_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "ConsumerOptions.prune_interval must be > 0 when processed_retention is set");
  }
  if (!handler) return absl::InvalidArgumentError("IdempotentConsumer handler is empty");

  std::unique_ptr<Producer> own_dlq;
  if (options.dlq_producer == nullptr) {
    absl::StatusOr<std::unique_ptr<Producer>> p = Producer::Create(
        ProducerOptions{options.brokers, options.consumer_name + "-dlq", {}, absl::Seconds(1)});
    if (!p.ok()) return Annotate(p.status(), "dead-letter producer");
    own_dlq = std::move(*p);
  }

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"client.id", options.consumer_name},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"log_level", "4"},
  };
  RETURN_IF_ERROR(internal::ApplyKafkaSettings(conf, settings, options.config, "consumer"));
  rd_kafka_conf_set_rebalance_cb(conf, &OnRebalance);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka consumer: ", err));
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(options.topics.size()));
  for (const std::string& t : options.topics) {
    rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t sub = rd_kafka_subscribe(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (sub != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(rk);
    return StatusFromKafka(sub, "subscribe");
  }
  return std::unique_ptr<IdempotentConsumer>(new IdempotentConsumer(
      pool, std::move(options), std::move(handler), rk, std::move(own_dlq)));
}

absl::StatusOr<int64_t> PruneProcessedEvents(db::Pool& pool, absl::Time before, int limit) {
  return db::DeleteOlderThan(pool, "processed_events", "processed_at", before, limit);
}

IdempotentConsumer::IdempotentConsumer(db::Pool& pool, ConsumerOptions options, Handler handler,
                                       rd_kafka_t* rk, std::unique_ptr<Producer> own_dlq)
    : pool_(pool),
      options_(std::move(options)),
      handler_(std::move(handler)),
      rk_(rk),
      own_dlq_(std::move(own_dlq)),
      dlq_(options_.dlq_producer != nullptr ? options_.dlq_producer : own_dlq_.get()) {}

IdempotentConsumer::~IdempotentConsumer() {
  absl::Status s = Stop();
  if (!s.ok()) log::Warn("consumer stopped with an error", {{"error", s.ToString()}});
}

bool IdempotentConsumer::SleepUnlessStopped(absl::Duration d) {
  const absl::Time until = absl::Now() + d;
  while (!stop_) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return true;
    absl::SleepFor(std::min(left, absl::Milliseconds(20)));
  }
  return false;
}

absl::StatusOr<int> IdempotentConsumer::PollOnce(absl::Duration timeout) {
  if (closed_ || rk_ == nullptr) return absl::FailedPreconditionError("consumer is closed");
  rd_kafka_message_t* msg =
      rd_kafka_consumer_poll(rk_, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (msg == nullptr) return 0;
  std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> owned(
      msg, &rd_kafka_message_destroy);
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return 0;
    if (msg->err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(rk_, buf, sizeof(buf));
      return absl::InternalError(absl::StrCat("fatal kafka consumer error: ", buf));
    }
    // Transient (broker down, topic not yet created): librdkafka keeps retrying.
    log::Warn("kafka consumer error", {{"error", rd_kafka_message_errstr(msg)},
                                       {"consumer", options_.consumer_name}});
    return 0;
  }
  absl::Status status = Process(*msg);
  if (!status.ok()) {
    // Not stored: rewind so this message is delivered again instead of skipped.
    rd_kafka_seek(msg->rkt, msg->partition, msg->offset, 5000);
    return status;
  }
  rd_kafka_offset_store(msg->rkt, msg->partition, msg->offset);  // stores offset + 1
  uncommitted_ = true;
  if (absl::Now() - last_commit_ >= options_.commit_interval) {
    rd_kafka_commit(rk_, nullptr, /*async=*/1);
    last_commit_ = absl::Now();
    uncommitted_ = false;
  }
  return 1;
}

absl::Status IdempotentConsumer::Process(const rd_kafka_message_t& msg) {
  v1::Event event;
  if (!event.ParseFromArray(msg.payload, static_cast<int>(msg.len)) || !IsUuid(event.id())) {
    return DeadLetter(msg, absl::InvalidArgumentError("payload is not an Event with a UUID id"),
                      0);
  }
  if (options_.accepts && !options_.accepts(event)) {
    ++not_accepted_;
    return absl::OkStatus();
  }
  log::ScopedContext context({{"event_id", event.id()},
                              {"company_id", event.company_id()},
                              {"consumer", options_.consumer_name}});
  absl::Duration backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    bool duplicate = false;
    auto run = [&](pqxx::work& tx) -> absl::Status {
      pqxx::result r = tx.exec_params(
          "INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2::uuid) "
          "ON CONFLICT DO NOTHING",
          options_.consumer_name, event.id());
      if (r.affected_rows() == 0) {
        duplicate = true;
        return absl::OkStatus();
      }
      ++handler_calls_;
      return handler_(tx, event);
    };
    absl::Status status = event.company_id().empty() ? pool_.Unscoped(run)
                                                     : pool_.InTenant(event.company_id(), run);
    if (status.ok()) {
      ++(duplicate ? duplicates_ : handled_);
      return absl::OkStatus();
    }
    if (attempt >= options_.max_attempts) return DeadLetter(msg, status, attempt);
    log::Warn("event handler failed; retrying",
              {{"error", status.ToString()}, {"attempt", absl::StrCat(attempt)}});
    if (!SleepUnlessStopped(backoff)) {
      return absl::CancelledError("consumer stopping during retry backoff");
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::Status IdempotentConsumer::DeadLetter(const rd_kafka_message_t& msg,
                                            const absl::Status& error, int attempts) {
  const std::string topic = TopicOf(msg);
  Headers headers = {
      {"sb-error", error.ToString()},
      {"sb-attempts", absl::StrCat(attempts)},
      {"sb-original-topic", topic},
      {"sb-original-partition", absl::StrCat(msg.partition)},
      {"sb-original-offset", absl::StrCat(msg.offset)},
      {"sb-consumer", options_.consumer_name},
  };
  absl::string_view key(static_cast<const char*>(msg.key), msg.key != nullptr ? msg.key_len : 0);
  absl::string_view value(static_cast<const char*>(msg.payload),
                          msg.payload != nullptr ? msg.len : 0);
  absl::Status status = dlq_->Produce(DlqTopic(topic), key, value, headers);
  if (status.ok()) status = dlq_->Flush(absl::Seconds(30));
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("dead-letter to ", DlqTopic(topic), " failed: ", status.message()));
  }
  ++dead_lettered_;
  log::Error("event dead-lettered", {{"topic", topic},
                                     {"partition", absl::StrCat(msg.partition)},
                                     {"offset", absl::StrCat(msg.offset)},
                                     {"attempts", absl::StrCat(attempts)},
                                     {"error", error.ToString()}});
  return absl::OkStatus();
}

absl::Status IdempotentConsumer::Start() {
  if (thread_.joinable()) return absl::FailedPreconditionError("consumer already started");
  if (closed_) return absl::FailedPreconditionError("consumer is closed");
  thread_ = std::thread([this] {
    absl::Time next_prune = absl::Now() + options_.prune_interval;
    while (!stop_) {
      if (options_.processed_retention > absl::ZeroDuration() && absl::Now() >= next_prune) {
        next_prune = absl::Now() + options_.prune_interval;
        absl::StatusOr<int64_t> pruned =
            PruneProcessedEvents(pool_, absl::Now() - options_.processed_retention);
        if (!pruned.ok()) {
          log::Warn("pruning processed events failed", {{"error", pruned.status().ToString()},
                                                        {"consumer", options_.consumer_name}});
        } else if (*pruned > 0) {
          log::Info("pruned processed events", {{"rows", absl::StrCat(*pruned)},
                                                {"consumer", options_.consumer_name}});
        }
      }
      absl::StatusOr<int> n = PollOnce(absl::Milliseconds(100));
      if (!n.ok() && n.status().code() != absl::StatusCode::kCancelled) {
        log::Error("consumer poll failed", {{"error", n.status().ToString()},
                                            {"consumer", options_.consumer_name}});
        SleepUnlessStopped(options_.initial_backoff);
      }
    }
  });
  return absl::OkStatus();
}

absl::Status IdempotentConsumer::CommitSync() {
  rd_kafka_resp_err_t err = rd_kafka_commit(rk_, nullptr, /*async=*/0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    uncommitted_ = false;
    return absl::OkStatus();
  }
  return StatusFromKafka(err, "commit offsets");
}

absl::Status IdempotentConsumer::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (closed_.exchange(true) || rk_ == nullptr) return absl::OkStatus();
  absl::Status status = CommitSync();
  rd_kafka_consumer_close(rk_);  // leaves the group (revoke callback commits again: harmless)
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  return status;
}

}  // namespace switchboard::events
