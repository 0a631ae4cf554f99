// The Switchboard stack as deployed, for e2e tests and benchmarks: the carrier emulator,
// identity, numbers, routing, carrier (asking routing for every call event) and, optionally,
// media, each a real process configured through its environment, on the infrastructure
// `./tools/dev testenv up` provides (SB_PG_DSN, SB_REDIS_URL, SB_KAFKA_BROKERS; a Postgres
// schema, Kafka topics and a Redis key prefix of their own per stack).
//
// `SeedPowersElectric` seeds the demo company of the routing issue through the public APIs:
// the company and its five people with their forward-to numbers and a browser softphone each
// (identity), an EMULATOR carrier account on the Twilio or the
// Telnyx wire format (carrier), a main number provisioned through numbers, and the Powers
// Electric routing configuration (routing-seed, which points the main line at the flow). Media
// learns who owns a voicemail box from routing's VoicemailLeft events.
//
// Errors are Status values (never test assertions), so a benchmark can use it as well as a
// Catch2 test. Not thread-safe; the destructor stops every process (SIGKILL when still running).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "libs/grpc/principal.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"
#include "switchboard/media/v1/media.grpc.pb.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"
#include "switchboard/routing/v1/routing.grpc.pb.h"

namespace switchboard::testing {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// The credentials the emulator accepts; accounts seeded by the stack use them.
inline constexpr char kStackTwilioSid[] = "AC0e2e000000000000000000000000jrny";
inline constexpr char kStackTwilioToken[] = "e2e-journeys-twilio-auth-token";
inline constexpr char kStackTelnyxKey[] = "KEYe2e-journeys-telnyx-api-key";
inline constexpr char kStackTelnyxConnection[] = "1494404757140276705";
inline constexpr char kStackPassword[] = "correct horse battery staple";

struct StackOptions {
  // Also start media (consuming carrier.v1 and calls.v1); routing then plays flows' audio
  // greetings from it.
  bool media = true;
  // How long the carrier waits for routing before the fallback voicemail. Generous by default:
  // on a shared 2-core machine a company's first event loads its configuration and directory.
  std::string carrier_routing_deadline = "8s";
  // Added to (or overriding) each service's environment, e.g. {"ROUTING_LOG_LEVEL", "warn"}.
  EnvList emulator_env, identity_env, carrier_env, numbers_env, routing_env, media_env;
};

// The people of the demo company (user ids).
struct PowersPeople {
  std::string robert, sarah, mike, jake, tyler;
};

// One seeded company: a wire format, its people, its main number.
struct PowersTenant {
  std::string carrier;  // "twilio" | "telnyx"
  std::string company;
  rpc::Principal owner;
  PowersPeople users;
  std::map<std::string, std::string> forward;    // user id -> forward-to E.164
  std::map<std::string, std::string> softphone;  // user id -> softphone identity (a WEB device)
  std::string main_number;
  std::string main_line_id;
  std::string on_call;  // the user WhoIsOnCall names at seeding time
};

class Stack {
 public:
  // Starts every process and waits until each serves. kFailedPrecondition when the test
  // infrastructure's environment is missing; the failing process's log tail otherwise.
  static absl::StatusOr<std::unique_ptr<Stack>> Start(StackOptions options = {});
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Seeds Powers Electric on `wire` ("twilio" | "telnyx"): the main number comes from a search
  // in `area_code`; user n (1 = Robert ... 5 = Tyler) forwards to `forward_prefix` + n.
  absl::StatusOr<PowersTenant> SeedPowersElectric(absl::string_view wire,
                                                  absl::string_view area_code,
                                                  absl::string_view forward_prefix);

  // Business hours or after hours whatever the clock says: the tenant's "office_hours" schedule
  // (the demo's) with a temporary override from an hour ago to three hours ahead, then checked
  // with CheckSchedule.
  absl::Status ForceSchedule(const PowersTenant& tenant, bool open);

  // Addresses ("127.0.0.1:port") and URLs.
  const std::string& emulator_url() const { return emulator_url_; }
  const std::string& public_base_url() const { return public_base_; }  // carrier webhooks
  int webhook_port() const { return webhook_port_; }
  const std::string& identity_address() const { return identity_address_; }
  const std::string& carrier_address() const { return carrier_address_; }
  const std::string& numbers_address() const { return numbers_address_; }
  const std::string& routing_address() const { return routing_address_; }
  const std::string& media_address() const { return media_address_; }  // "" without media
  const std::string& telnyx_public_key() const { return telnyx_public_key_; }
  // Topics: calls.v1 (routing's events), carrier.v1, identity.v1, numbers.v1 (ReadAll reads
  // what the services published).
  KafkaTestTopic& calls_topic() { return *calls_topic_; }
  KafkaTestTopic& carrier_topic() { return *carrier_topic_; }
  KafkaTestTopic& identity_topic() { return *identity_topic_; }
  KafkaTestTopic& numbers_topic() { return *numbers_topic_; }
  // Routing's Redis key prefix (its live call state lives under it).
  const std::string& routing_redis_prefix() const { return routing_redis_prefix_; }
  const std::string& blob_root() const { return blob_root_; }

  ServiceProcess& emulator() { return *emulator_; }
  ServiceProcess& identity() { return *identity_; }
  ServiceProcess& carrier() { return *carrier_; }
  ServiceProcess& numbers() { return *numbers_; }
  ServiceProcess& routing() { return *routing_; }
  ServiceProcess* media() { return media_.get(); }
  // The process running `service` (as named for Metrics), or nullptr.
  ServiceProcess* Process(absl::string_view service);

  identity::v1::Identity::Stub& identity_stub() { return *identity_stub_; }
  carrier::v1::Carrier::Stub& carrier_stub() { return *carrier_stub_; }
  numbers::v1::Numbers::Stub& numbers_stub() { return *numbers_stub_; }
  routing::v1::Routing::Stub& routing_stub() { return *routing_stub_; }
  media::v1::Media::Stub* media_stub() { return media_stub_.get(); }

  // The Prometheus text of `service`'s admin /metrics ("identity", "carrier", "numbers",
  // "routing", "media"); kNotFound for a service the stack does not run.
  absl::StatusOr<std::string> Metrics(absl::string_view service);

  // The last `n` characters of every process's log, labelled, for failure messages.
  std::string LogTails(size_t n = 6000) const;

  // SIGTERM to every process (reverse start order); the first one that does not exit 0 within
  // `timeout` is reported.
  absl::Status Stop(absl::Duration timeout = absl::Seconds(30));

 private:
  Stack() = default;
  absl::Status StartAll(const StackOptions& options);

  std::unique_ptr<PgTestSchema> identity_schema_, numbers_schema_, routing_schema_,
      carrier_schema_, media_schema_;
  std::unique_ptr<KafkaTestTopic> identity_topic_, numbers_topic_, carrier_topic_, calls_topic_;
  std::string routing_redis_prefix_, numbers_redis_prefix_, blob_root_;
  int webhook_port_ = 0;
  std::string emulator_url_, public_base_, identity_address_, carrier_address_, numbers_address_,
      routing_address_, media_address_, telnyx_public_key_;
  std::unique_ptr<ServiceProcess> emulator_, identity_, carrier_, numbers_, routing_, media_;
  std::unique_ptr<identity::v1::Identity::Stub> identity_stub_;
  std::unique_ptr<carrier::v1::Carrier::Stub> carrier_stub_;
  std::unique_ptr<numbers::v1::Numbers::Stub> numbers_stub_;
  std::unique_ptr<routing::v1::Routing::Stub> routing_stub_;
  std::unique_ptr<media::v1::Media::Stub> media_stub_;
};

// One unary RPC with `who`'s metadata (none when company_id is empty) and a 30 s deadline; a
// failure becomes a Status naming `what`.
template <typename Stub, typename Method, typename Request, typename Response>
absl::Status StackRpc(Stub& stub, Method method, const rpc::Principal& who,
                      const Request& request, Response* response, absl::string_view what) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!who.company_id.empty()) rpc::AttachPrincipal(ctx, who);
  grpc::Status s = (stub.*method)(&ctx, request, response);
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace switchboard::testing
