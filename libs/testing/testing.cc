#include "libs/testing/testing.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "libs/common/ids.h"
#include "libs/common/log.h"
#include "libs/common/status_macros.h"
#include "libs/events/topics.h"

namespace switchboard::testing {

std::optional<std::string> Env(absl::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

absl::StatusOr<std::string> RequireEnv(absl::string_view name) {
  std::optional<std::string> v = Env(name);
  if (!v) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " not set: run ./tools/dev test (or ./tools/dev testenv up and source "
                           ".run/test/endpoints.env)"));
  }
  return *v;
}

absl::StatusOr<int> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) return absl::InternalError("cannot bind a loopback port");
  return static_cast<int>(ntohs(addr.sin_port));
}

std::string RandomSuffix() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[12];
  FillRandom(bytes, sizeof(bytes));
  std::string out;
  for (unsigned char b : bytes) out.push_back(kAlphabet[b % 36]);
  return out;
}


// ---------------------------------------------------------------- Postgres

absl::StatusOr<std::unique_ptr<PgTestSchema>> PgTestSchema::Create(Options options) {
  ASSIGN_OR_RETURN(std::string dsn, RequireEnv("SB_PG_DSN"));
  std::string schema = "t_" + RandomSuffix();
  db::PoolOptions pool_options;
  pool_options.dsn = dsn;
  pool_options.schema = schema;
  pool_options.max_size = options.max_size;
  pool_options.acquire_timeout = options.acquire_timeout;
  ASSIGN_OR_RETURN(std::unique_ptr<db::Pool> pool, db::Pool::Create(pool_options));
  std::unique_ptr<PgTestSchema> fixture(
      new PgTestSchema(std::move(dsn), std::move(schema), std::move(pool)));
  for (const auto& [component, migrations] : options.migrations) {
    RETURN_IF_ERROR(db::Migrate(fixture->pool(), component, migrations));
  }
  return fixture;
}


PgTestSchema::~PgTestSchema() {
  if (pool_ == nullptr) return;
  const std::string schema = schema_;
  absl::Status s = pool_->Plain([&](pqxx::work& tx) -> absl::Status {
    tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(schema) + " CASCADE");
    return absl::OkStatus();
  });
  if (!s.ok()) log::Warn("PgTestSchema: drop schema failed", {{"schema", schema}, {"error", s.ToString()}});
  pool_.reset();
}

// ---------------------------------------------------------------- Kafka

absl::StatusOr<std::unique_ptr<KafkaTestTopic>> KafkaTestTopic::Create(Options options) {
  ASSIGN_OR_RETURN(std::string brokers, RequireEnv("SB_KAFKA_BROKERS"));
  std::string name = "t_" + RandomSuffix();
  std::vector<std::string> topics = {name};
  if (options.with_dlq) topics.push_back(name + ".dlq");
  RETURN_IF_ERROR(events::EnsureTopics(brokers, topics, options.partitions));
  return std::unique_ptr<KafkaTestTopic>(
      new KafkaTestTopic(std::move(brokers), std::move(name), options.with_dlq));
}


KafkaTestTopic::~KafkaTestTopic() {
  std::vector<std::string> topics = {name_};
  if (with_dlq_) topics.push_back(dlq_name());
  absl::Status s = events::DeleteTopics(brokers_, topics);
  if (!s.ok()) log::Warn("KafkaTestTopic: delete failed", {{"topic", name_}, {"error", s.ToString()}});
}

std::string KafkaTestTopic::UniqueGroupId() const { return "g_" + RandomSuffix(); }

absl::StatusOr<std::unique_ptr<events::Producer>> KafkaTestTopic::NewProducer() const {
  return events::Producer::Create(
      events::ProducerOptions{brokers_, "test-" + RandomSuffix(), {}, absl::Seconds(1)});
}

absl::StatusOr<std::vector<KafkaRecord>> KafkaTestTopic::ReadAll(absl::string_view topic,
                                                                 absl::Duration timeout,
                                                                 size_t expected_count) const {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string group = UniqueGroupId();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", brokers_},   {"group.id", group},
      {"enable.auto.commit", "false"},   {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"}, {"log_level", "3"},
  };
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(absl::StrCat(k, ": ", err));
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::UnavailableError(absl::StrCat("test consumer: ", err));
  }
  rd_kafka_poll_set_consumer(rk);
  const std::string topic_name(topic);
  // Assign every partition explicitly from the beginning: no group rebalance to wait for.
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic_name.c_str(), nullptr);
  rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  rd_kafka_topic_destroy(rkt);
  if (merr != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return absl::UnavailableError(absl::StrCat("metadata for ", topic, ": ", rd_kafka_err2str(merr)));
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
    rd_kafka_topic_partition_list_add(parts, topic_name.c_str(), md->topics[0].partitions[i].id)
        ->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);

  std::vector<KafkaRecord> out;
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < expected_count && absl::Now() < deadline) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk, 100);
    if (msg == nullptr) continue;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KafkaRecord r;
      r.topic = rd_kafka_topic_name(msg->rkt);
      r.partition = msg->partition;
      r.offset = msg->offset;
      if (msg->key != nullptr) r.key.assign(static_cast<const char*>(msg->key), msg->key_len);
      if (msg->payload != nullptr) {
        r.value.assign(static_cast<const char*>(msg->payload), msg->len);
      }
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          r.headers.emplace_back(name, value != nullptr
                                           ? std::string(static_cast<const char*>(value), size)
                                           : std::string());
        }
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(msg);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

// ---------------------------------------------------------------- Redis

absl::Status ParseRedisUrl(absl::string_view url, std::string* host, int* port, int* db) {
  absl::string_view rest = url;
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        absl::StrCat("redis url '", url, "' is not redis://host:port[/db]"));
  };
  if (!absl::ConsumePrefix(&rest, "redis://")) return bad();
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) rest = rest.substr(at + 1);
  *db = 0;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    absl::string_view d = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!d.empty() && (!absl::SimpleAtoi(d, db) || *db < 0)) return bad();
  }
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return bad();
  if (!absl::SimpleAtoi(rest.substr(colon + 1), port) || *port <= 0 || *port > 65535) {
    return bad();
  }
  *host = std::string(rest.substr(0, colon));
  return absl::OkStatus();
}

namespace {

struct RedisFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using RedisPtr = std::unique_ptr<redisContext, RedisFree>;

absl::StatusOr<RedisPtr> RedisConnect(const std::string& host, int port, int db) {
  timeval tv{2, 0};
  RedisPtr ctx(redisConnectWithTimeout(host.c_str(), port, tv));
  if (ctx == nullptr || ctx->err != 0) {
    return absl::UnavailableError(absl::StrCat("redis ", host, ":", port, ": ",
                                               ctx != nullptr ? ctx->errstr : "out of memory"));
  }
  redisSetTimeout(ctx.get(), tv);
  auto* reply = static_cast<redisReply*>(redisCommand(ctx.get(), "SELECT %d", db));
  if (reply == nullptr) return absl::UnavailableError(absl::StrCat("redis SELECT: ", ctx->errstr));
  const bool ok = reply->type != REDIS_REPLY_ERROR;
  freeReplyObject(reply);
  if (!ok) return absl::InternalError(absl::StrCat("redis SELECT ", db, " failed"));
  return ctx;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisTestNamespace>> RedisTestNamespace::Create() {
  ASSIGN_OR_RETURN(std::string url, RequireEnv("SB_REDIS_URL"));
  std::unique_ptr<RedisTestNamespace> ns(new RedisTestNamespace());
  RETURN_IF_ERROR(ParseRedisUrl(url, &ns->host_, &ns->port_, &ns->db_));
  ns->url_ = std::move(url);
  ns->prefix_ = "t_" + RandomSuffix() + ":";
  ASSIGN_OR_RETURN(RedisPtr ctx, RedisConnect(ns->host_, ns->port_, ns->db_));
  auto* reply = static_cast<redisReply*>(redisCommand(ctx.get(), "PING"));
  if (reply == nullptr) return absl::UnavailableError(absl::StrCat("redis PING: ", ctx->errstr));
  freeReplyObject(reply);
  return ns;
}


RedisTestNamespace::~RedisTestNamespace() {
  absl::StatusOr<RedisPtr> ctx = RedisConnect(host_, port_, db_);
  if (!ctx.ok()) {
    log::Warn("RedisTestNamespace cleanup failed", {{"error", ctx.status().ToString()}});
    return;
  }
  const std::string pattern = prefix_ + "*";
  std::string cursor = "0";
  do {
    auto* reply = static_cast<redisReply*>(
        redisCommand(ctx->get(), "SCAN %s MATCH %s COUNT 1000", cursor.c_str(), pattern.c_str()));
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
      if (reply != nullptr) freeReplyObject(reply);
      log::Warn("RedisTestNamespace cleanup: SCAN failed");
      return;
    }
    cursor.assign(reply->element[0]->str, reply->element[0]->len);
    redisReply* keys = reply->element[1];
    for (size_t i = 0; i < keys->elements; ++i) {
      auto* del = static_cast<redisReply*>(
          redisCommand(ctx->get(), "DEL %b", keys->element[i]->str, keys->element[i]->len));
      if (del != nullptr) freeReplyObject(del);
    }
    freeReplyObject(reply);
  } while (cursor != "0");
}

// ---------------------------------------------------------------- gRPC

absl::StatusOr<std::unique_ptr<GrpcTestServer>> GrpcTestServer::Create(
    std::vector<grpc::Service*> services) {
  std::unique_ptr<GrpcTestServer> s(new GrpcTestServer());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &s->port_);
  for (grpc::Service* service : services) {
    if (service == nullptr) return absl::InvalidArgumentError("GrpcTestServer: null service");
    builder.RegisterService(service);
  }
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError("GrpcTestServer: cannot bind 127.0.0.1:0");
  }
  s->channel_ = grpc::CreateChannel(s->address(), grpc::InsecureChannelCredentials());
  return s;
}


std::string GrpcTestServer::address() const { return absl::StrCat("127.0.0.1:", port_); }

GrpcTestServer::~GrpcTestServer() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
  }
}

}  // namespace switchboard::testing
