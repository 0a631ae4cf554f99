// Real-infrastructure fixtures for integration tests (STYLE.md §2.10). Tests may read the
// environment; services may not. Each fixture isolates itself (unique schema, topic, consumer
// group, key prefix) so tests run in parallel, and cleans up in its destructor.
//
// Environment: SB_PG_DSN, SB_KAFKA_BROKERS, SB_REDIS_URL (written by `./tools/dev testenv up` to
// .run/test/endpoints.env). A missing variable is an error whose message says how to set it;
// the *OrFail() helpers turn any error into a Catch2 FAIL so a test never passes silently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/db/migrations.h"
#include "libs/db/pg_pool.h"
#include "libs/events/producer.h"

namespace switchboard::testing {

// The variable's value, or nullopt when unset or empty.
std::optional<std::string> Env(absl::string_view name);

// The variable's value, or kFailedPrecondition "<name> not set: run ./tools/dev test (or
// ./tools/dev testenv up and source .run/test/endpoints.env)".
[[nodiscard]] absl::StatusOr<std::string> RequireEnv(absl::string_view name);

// A short random lowercase suffix ([a-z0-9]{12}) for unique names.
std::string RandomSuffix();

// A loopback TCP port that was free a moment ago, for a process that must know its own address
// (a public URL, a peer's address) before it binds. Another process could take it in between;
// the service then fails to start and says so. kInternal when no socket can be bound.
absl::StatusOr<int> FreeLoopbackPort();

// Catch2 FAIL()s with the status message unless OK. Use at the top of a test.
inline void RequireOk(const absl::Status& status, absl::string_view what) {
  if (!status.ok()) FAIL(std::string(what) + ": " + status.ToString());
}

// Returns the value, or Catch2 FAIL()s naming `what` and the status. (Inline so that tools
// linking this library without a Catch2 runner, like benchmarks, do not need one.)
template <typename T>
T ValueOrFail(absl::StatusOr<T> s, absl::string_view what) {
  if (!s.ok()) FAIL(std::string(what) + ": " + s.status().ToString());
  return std::move(*s);
}

// A unique Postgres schema "t_<random>" on SB_PG_DSN with a Pool bound to it; the schema is
// dropped (CASCADE) in the destructor. Not thread-safe itself; the pool is.
class PgTestSchema {
 public:
  struct Options {
    int max_size = 8;
    absl::Duration acquire_timeout = absl::Seconds(5);
    // Run these component migrations right away (e.g. {"events", OutboxMigrations()}).
    std::vector<std::pair<std::string, std::vector<db::Migration>>> migrations;
  };
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PgTestSchema>> Create(Options options);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PgTestSchema>> Create() {
    return Create(Options{});
  }
  // Same, but Catch2 FAILs on error.
  static std::unique_ptr<PgTestSchema> CreateOrFail(Options options) {
    return ValueOrFail(Create(std::move(options)), "PgTestSchema");
  }
  static std::unique_ptr<PgTestSchema> CreateOrFail() { return CreateOrFail(Options{}); }
  ~PgTestSchema();

  db::Pool& pool() { return *pool_; }
  const std::string& dsn() const { return dsn_; }
  const std::string& schema() const { return schema_; }
  // Options for a second, independent Pool on the same schema.
  db::PoolOptions pool_options() const { return pool_->options(); }

 private:
  PgTestSchema(std::string dsn, std::string schema, std::unique_ptr<db::Pool> pool)
      : dsn_(std::move(dsn)), schema_(std::move(schema)), pool_(std::move(pool)) {}
  std::string dsn_;
  std::string schema_;
  std::unique_ptr<db::Pool> pool_;
};

// One record read back from Kafka.
struct KafkaRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// A unique topic "t_<random>" (plus "<name>.dlq" when asked) on SB_KAFKA_BROKERS, deleted in the
// destructor.
class KafkaTestTopic {
 public:
  struct Options {
    int partitions = 1;
    bool with_dlq = false;
  };
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KafkaTestTopic>> Create(Options options);
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<KafkaTestTopic>> Create() {
    return Create(Options{});
  }
  static std::unique_ptr<KafkaTestTopic> CreateOrFail(Options options) {
    return ValueOrFail(Create(options), "KafkaTestTopic");
  }
  static std::unique_ptr<KafkaTestTopic> CreateOrFail() { return CreateOrFail(Options{}); }
  ~KafkaTestTopic();

  const std::string& name() const { return name_; }
  std::string dlq_name() const { return name_ + ".dlq"; }
  const std::string& brokers() const { return brokers_; }
  // A fresh consumer group id, unique per call.
  std::string UniqueGroupId() const;

  // Reads `topic` (any topic, e.g. dlq_name()) from the beginning of every partition until
  // `expected_count` records arrived or `timeout` passed; returns what it read, ordered per
  // partition. kUnavailable only if the consumer cannot be created.
  [[nodiscard]] absl::StatusOr<std::vector<KafkaRecord>> ReadAll(absl::string_view topic,
                                                                 absl::Duration timeout,
                                                                 size_t expected_count) const;

  // A producer on the same brokers (for tests that publish directly).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<events::Producer>> NewProducer() const;

 private:
  KafkaTestTopic(std::string brokers, std::string name, bool with_dlq)
      : brokers_(std::move(brokers)), name_(std::move(name)), with_dlq_(with_dlq) {}
  std::string brokers_;
  std::string name_;
  bool with_dlq_;
};

// A unique key prefix "t_<random>:" on SB_REDIS_URL; every key matching prefix* is deleted in
// the destructor (SCAN MATCH + DEL).
class RedisTestNamespace {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RedisTestNamespace>> Create();
  static std::unique_ptr<RedisTestNamespace> CreateOrFail() {
    return ValueOrFail(Create(), "RedisTestNamespace");
  }
  ~RedisTestNamespace();

  const std::string& url() const { return url_; }  // redis://host:port[/db]
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  int db() const { return db_; }
  const std::string& prefix() const { return prefix_; }

 private:
  RedisTestNamespace() = default;
  std::string url_, host_, prefix_;
  int port_ = 0;
  int db_ = 0;
};

// kInvalidArgument unless `url` is redis://host:port[/db]; fills the outputs otherwise.
[[nodiscard]] absl::Status ParseRedisUrl(absl::string_view url, std::string* host, int* port,
                                         int* db);

// A grpc::Server on 127.0.0.1:0 serving `services` (not owned; they must outlive the server),
// shut down in the destructor. gRPC refuses to start without at least one synchronous service.
class GrpcTestServer {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<GrpcTestServer>> Create(
      std::vector<grpc::Service*> services);
  static std::unique_ptr<GrpcTestServer> CreateOrFail(std::vector<grpc::Service*> services) {
    return ValueOrFail(Create(std::move(services)), "GrpcTestServer");
  }
  ~GrpcTestServer();

  int port() const { return port_; }
  std::string address() const;  // "127.0.0.1:<port>"
  // A channel to the server (insecure), created once.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  GrpcTestServer() = default;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace switchboard::testing
