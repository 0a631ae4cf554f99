#include "libs/events/producer.h"
#include "libs/events/kafka_conf.h"
#include "libs/common/status_macros.h"

#include <librdkafka/rdkafka.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/log.h"

namespace switchboard::events {

absl::Status StatusFromKafka(int code, absl::string_view context) {
  const auto err = static_cast<rd_kafka_resp_err_t>(code);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  std::string msg = absl::StrCat(context, context.empty() ? "" : ": ", rd_kafka_err2str(err),
                                 " (", rd_kafka_err2name(err), ")");
  switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
      return absl::UnavailableError(msg);
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
      return absl::ResourceExhaustedError(msg);
    case RD_KAFKA_RESP_ERR__FATAL:
      return absl::InternalError(msg);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
      return absl::InvalidArgumentError(msg);
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::NotFoundError(msg);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      return absl::PermissionDeniedError(msg);
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return absl::AlreadyExistsError(msg);
    default:
      return absl::InternalError(msg);
  }
}

struct ProducerCallbacks {
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    auto* producer = static_cast<Producer*>(opaque);
    producer->RecordError(StatusFromKafka(
        msg->err, absl::StrCat("deliver to ", rd_kafka_topic_name(msg->rkt))));
  }
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    // Transport errors are retried by librdkafka and reported per message when they exhaust
    // message.timeout.ms; only fatal errors are recorded here.
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(rk, buf, sizeof(buf));
      static_cast<Producer*>(opaque)->RecordError(
          absl::InternalError(absl::StrCat("fatal producer error ", rd_kafka_err2name(fatal),
                                           ": ", buf, "; restart the producer")));
    }
  }
};

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(ProducerOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("ProducerOptions.brokers is empty");
  if (options.client_id.empty()) {
    return absl::InvalidArgumentError("ProducerOptions.client_id is empty");
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"compression.type", "lz4"},
      {"queue.buffering.max.messages", "200000"},
      {"message.timeout.ms", "30000"},
      {"log_level", "4"},
  };
  RETURN_IF_ERROR(internal::ApplyKafkaSettings(conf, settings, options.config, "producer"));
  rd_kafka_conf_set_dr_msg_cb(conf, &ProducerCallbacks::OnDelivery);
  rd_kafka_conf_set_error_cb(conf, &ProducerCallbacks::OnError);
  // The opaque must point at the Producer, which does not exist yet: allocate it first.
  std::unique_ptr<Producer> producer(new Producer(nullptr, std::move(options)));
  rd_kafka_conf_set_opaque(conf, producer.get());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka producer: ", err));
  }
  producer->rk_ = rk;
  return producer;
}

Producer::Producer(rd_kafka_t* rk, ProducerOptions options)
    : options_(std::move(options)), rk_(rk) {}

Producer::~Producer() {
  absl::Status s = Close();
  if (!s.ok()) log::Warn("kafka producer closed with undelivered messages", {{"error", s.ToString()}});
}

void Producer::RecordError(absl::Status status) {
  absl::MutexLock lock(&error_mu_);
  if (first_error_.ok()) first_error_ = std::move(status);
}

absl::Status Producer::Produce(absl::string_view topic, absl::string_view key,
                               absl::string_view value, const Headers& headers) {
  if (topic.empty()) return absl::InvalidArgumentError("produce: topic is empty");
  absl::ReaderMutexLock lock(&close_mu_);
  if (closed_ || rk_ == nullptr) return absl::FailedPreconditionError("producer is closed");
  const std::string topic_name(topic);
  const absl::Time deadline = absl::Now() + options_.queue_full_wait;
  while (true) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (!headers.empty()) {
      hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& [name, val] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), val.data(),
                            static_cast<ssize_t>(val.size()));
      }
    }
    // key/value are copied (F_COPY); on success librdkafka owns `hdrs`.
    rd_kafka_resp_err_t err =
        hdrs == nullptr
            ? rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic_name.c_str()),
                                RD_KAFKA_V_KEY(key.data(), key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
            : rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(topic_name.c_str()),
                                RD_KAFKA_V_KEY(key.data(), key.size()),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_poll(rk_, 0);  // serve delivery reports
      return absl::OkStatus();
    }
    if (hdrs != nullptr) rd_kafka_headers_destroy(hdrs);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && absl::Now() < deadline) {
      rd_kafka_poll(rk_, 50);
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(rk_, buf, sizeof(buf));
      return absl::InternalError(absl::StrCat("produce to ", topic, ": fatal: ", buf));
    }
    return StatusFromKafka(err, absl::StrCat("produce to ", topic));
  }
}

absl::Status Producer::Flush(absl::Duration timeout) {
  {
    absl::ReaderMutexLock lock(&close_mu_);
    if (rk_ == nullptr) return absl::FailedPreconditionError("producer is closed");
    rd_kafka_resp_err_t err =
        rd_kafka_flush(rk_, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      absl::Status pending = absl::UnavailableError(
          absl::StrCat("kafka flush: ", rd_kafka_outq_len(rk_),
                       " messages still unacknowledged after ", absl::FormatDuration(timeout)));
      RecordError(pending);
    }
  }
  absl::MutexLock lock(&error_mu_);
  absl::Status first = std::move(first_error_);
  first_error_ = absl::OkStatus();
  return first;
}

absl::Status Producer::Close(absl::Duration timeout) {
  absl::Status status;
  {
    absl::ReaderMutexLock lock(&close_mu_);
    if (closed_ || rk_ == nullptr) return absl::OkStatus();
  }
  status = Flush(timeout);
  absl::MutexLock lock(&close_mu_);
  if (closed_) return status;
  closed_ = true;
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
  return status;
}

int Producer::OutstandingForTest() const {
  return rk_ == nullptr ? 0 : rd_kafka_outq_len(rk_);
}

}  // namespace switchboard::events
