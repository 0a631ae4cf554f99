#include "libs/events/topics.h"

#include <memory>

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/events/producer.h"

namespace switchboard::events {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};

absl::StatusOr<KafkaPtr> AdminClient(absl::string_view brokers) {
  if (brokers.empty()) return absl::InvalidArgumentError("kafka brokers are empty");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", std::string(brokers).c_str(), err,
                        sizeof(err)) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("bootstrap.servers: ", err));
  }
  rd_kafka_conf_set(conf, "client.id", "switchboard-admin", err, sizeof(err));
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka admin client: ", err));
  }
  return KafkaPtr(rk);
}

// Runs one admin request whose result arrives on `queue`, returning the result event.
absl::StatusOr<std::unique_ptr<rd_kafka_event_t, EventDeleter>> AwaitResult(
    rd_kafka_queue_t* queue, absl::Duration timeout, absl::string_view what) {
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (ev == nullptr) {
    return absl::UnavailableError(absl::StrCat(what, ": no answer from Kafka within ",
                                               absl::FormatDuration(timeout)));
  }
  std::unique_ptr<rd_kafka_event_t, EventDeleter> owned(ev);
  if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return StatusFromKafka(rd_kafka_event_error(ev),
                           absl::StrCat(what, ": ", rd_kafka_event_error_string(ev)));
  }
  return owned;
}

bool AllTopicsVisible(rd_kafka_t* rk, const std::vector<std::string>& topics) {
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  size_t found = 0;
  for (const std::string& t : topics) {
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (t == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
          md->topics[i].partition_cnt > 0) {
        ++found;
        break;
      }
    }
  }
  rd_kafka_metadata_destroy(md);
  return found == topics.size();
}

}  // namespace

absl::Status EnsureTopics(absl::string_view brokers, const std::vector<std::string>& topics,
                          int partitions, int replication_factor, absl::Duration timeout) {
  if (topics.empty()) return absl::InvalidArgumentError("EnsureTopics: topics is empty");
  for (const std::string& t : topics) {
    if (t.empty()) return absl::InvalidArgumentError("EnsureTopics: empty topic name");
  }
  if (partitions < 1) return absl::InvalidArgumentError("EnsureTopics: partitions must be >= 1");
  if (replication_factor < 1) {
    return absl::InvalidArgumentError("EnsureTopics: replication_factor must be >= 1");
  }
  absl::StatusOr<KafkaPtr> rk = AdminClient(brokers);
  if (!rk.ok()) return rk.status();
  const absl::Time deadline = absl::Now() + timeout;
  char err[512];
  std::vector<rd_kafka_NewTopic_t*> specs;
  for (const std::string& t : topics) {
    rd_kafka_NewTopic_t* spec =
        rd_kafka_NewTopic_new(t.c_str(), partitions, replication_factor, err, sizeof(err));
    if (spec == nullptr) {
      for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
      return absl::InvalidArgumentError(absl::StrCat("topic '", t, "': ", err));
    }
    specs.push_back(spec);
  }
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk->get()));
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk->get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(
      opts, static_cast<int>(absl::ToInt64Milliseconds(timeout)), err, sizeof(err));
  rd_kafka_CreateTopics(rk->get(), specs.data(), specs.size(), opts, queue.get());
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* s : specs) rd_kafka_NewTopic_destroy(s);

  auto ev = AwaitResult(queue.get(), timeout + absl::Seconds(5), "create topics");
  if (!ev.ok()) return ev.status();
  const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(ev->get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return StatusFromKafka(e, absl::StrCat("create topic '", rd_kafka_topic_result_name(results[i]),
                                             "': ", msg != nullptr ? msg : ""));
    }
  }
  // Creation is acknowledged by the controller before every broker knows the topic; wait for
  // the metadata so producers and consumers do not race it.
  while (!AllTopicsVisible(rk->get(), topics)) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError("create topics: not visible in metadata before the deadline");
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::OkStatus();
}

absl::Status DeleteTopics(absl::string_view brokers, const std::vector<std::string>& topics,
                          absl::Duration timeout) {
  if (topics.empty()) return absl::OkStatus();
  absl::StatusOr<KafkaPtr> rk = AdminClient(brokers);
  if (!rk.ok()) return rk.status();
  std::vector<rd_kafka_DeleteTopic_t*> specs;
  for (const std::string& t : topics) specs.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(rk->get()));
  char err[512];
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk->get(), RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(
      opts, static_cast<int>(absl::ToInt64Milliseconds(timeout)), err, sizeof(err));
  rd_kafka_DeleteTopics(rk->get(), specs.data(), specs.size(), opts, queue.get());
  rd_kafka_AdminOptions_destroy(opts);
  for (auto* s : specs) rd_kafka_DeleteTopic_destroy(s);
  auto ev = AwaitResult(queue.get(), timeout + absl::Seconds(5), "delete topics");
  if (!ev.ok()) return ev.status();
  const rd_kafka_DeleteTopics_result_t* result = rd_kafka_event_DeleteTopics_result(ev->get());
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_DeleteTopics_result_topics(result, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      return StatusFromKafka(e, absl::StrCat("delete topic '",
                                             rd_kafka_topic_result_name(results[i]), "'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace switchboard::events
