// Carrier webhook listener benchmark: signed Twilio voice webhooks through the carrier service's
// HTTP listener (signature check, normalisation, dedupe insert + outbox append in one Postgres
// transaction, TwiML of the number's static instructions), measured from a second process.
//
// Starts the real `carrier-emulator` and `carrier` binaries (Postgres schema and Kafka topic of
// its own; reads SB_PG_DSN / SB_KAFKA_BROKERS, ./tools/dev testenv up), seeds one company (an
// EMULATOR account with the Twilio wire format, one number ordered through the service, a static
// instruction set on it), then runs `webhook_load` (tests/bench/webhook_load.cc) as a child
// process: N distinct pre-signed webhooks at a fixed rate (default 1,000/s for 10 s), then at
// saturation. Prints webhook_load's JSON lines; exits non-zero when any step fails.
// Usage: webhook_bench [rate=1000] [seconds=10] [saturation_seconds=10] [connections=8]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/bench/bench_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/random.h"
#include "libs/grpc/principal.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"

using namespace switchboard;  // NOLINT: a standalone tool
namespace v1 = switchboard::carrier::v1;

namespace {

constexpr char kTwilioSid[] = "AC0bench000000000000000000000bench";
constexpr char kTwilioToken[] = "bench-twilio-auth-token";

absl::StatusOr<std::string> LoggedPort(testing::ServiceProcess& p, absl::string_view line,
                                       absl::string_view field) {
  absl::StatusOr<std::string> logged = p.WaitForLogLine(line, absl::Seconds(60));
  if (!logged.ok()) {
    std::fprintf(stderr, "%s\n", p.Output().c_str());
    return logged.status();
  }
  return testing::JsonLogField(*logged, field);
}

absl::Status Rpc(const grpc::Status& s, const char* what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.error_message()));
}

}  // namespace

int main(int argc, char** argv) {
  const int rate = bench::IntArg(argc, argv, 1, 1000, 1);
  const int seconds = bench::IntArg(argc, argv, 2, 10, 1);
  const int saturation_seconds = bench::IntArg(argc, argv, 3, 10, 0);
  const int connections = bench::IntArg(argc, argv, 4, 8, 1);
  auto pg = testing::RequireEnv("SB_PG_DSN");
  if (!pg.ok()) return bench::Fail("env", pg.status());
  auto brokers = testing::RequireEnv("SB_KAFKA_BROKERS");
  if (!brokers.ok()) return bench::Fail("env", brokers.status());
  auto schema = testing::PgTestSchema::Create();
  if (!schema.ok()) return bench::Fail("postgres", schema.status());
  auto topic = testing::KafkaTestTopic::Create();
  if (!topic.ok()) return bench::Fail("kafka", topic.status());
  auto webhook_port = testing::FreeLoopbackPort();
  if (!webhook_port.ok()) return bench::Fail("port", webhook_port.status());
  const std::string public_base = absl::StrCat("http://127.0.0.1:", *webhook_port);

  auto emulator = testing::ServiceProcess::Start(
      {.binary = SB_CARRIER_EMULATOR_BINARY,
       .env = {{"CARRIER_EMULATOR_PORT", "0"},
               {"CARRIER_EMULATOR_TWILIO_ACCOUNT_SID", kTwilioSid},
               {"CARRIER_EMULATOR_TWILIO_AUTH_TOKEN", kTwilioToken}}});
  if (!emulator.ok()) return bench::Fail("start emulator", emulator.status());
  auto emulator_port = LoggedPort(**emulator, "emulator listening", "port");
  if (!emulator_port.ok()) return bench::Fail("emulator", emulator_port.status());

  auto carrier = testing::ServiceProcess::Start(
      {.binary = SB_CARRIER_BINARY,
       .env = {{"CARRIER_GRPC_ADDRESS", "127.0.0.1:0"},
               {"CARRIER_ADMIN_ADDRESS", "127.0.0.1"},
               {"CARRIER_ADMIN_PORT", "0"},
               {"CARRIER_WEBHOOK_ADDRESS", absl::StrCat("127.0.0.1:", *webhook_port)},
               {"CARRIER_PUBLIC_BASE_URL", public_base},
               {"CARRIER_PG_DSN", *pg},
               {"CARRIER_PG_SCHEMA", (*schema)->schema()},
               {"CARRIER_KAFKA_BROKERS", *brokers},
               {"CARRIER_EVENTS_TOPIC", (*topic)->name()},
               {"CARRIER_KEY_ENCRYPTION_KEY", crypto::Base64Encode(crypto::RandomBytes(32))},
               {"CARRIER_EMULATOR_URL", absl::StrCat("http://127.0.0.1:", *emulator_port)},
               {"CARRIER_DRAIN_DELAY", "100ms"}}});
  if (!carrier.ok()) return bench::Fail("start carrier", carrier.status());
  auto grpc_port = LoggedPort(**carrier, "carrier serving", "grpc_port");
  if (!grpc_port.ok()) return bench::Fail("carrier", grpc_port.status());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", *grpc_port),
                                     grpc::InsecureChannelCredentials());
  if (auto s = testing::WaitUntilServing(channel, absl::Seconds(30)); !s.ok()) {
    return bench::Fail("carrier health", s);
  }
  auto stub = v1::Carrier::NewStub(channel);
  const std::string company = NewUuidV7();
  auto ctx = [&] {
    auto c = std::make_unique<grpc::ClientContext>();
    rpc::AttachPrincipal(*c, rpc::Principal{.company_id = company, .role = "service"});
    return c;
  };

  // Seed: account, one number, the static IVR the bench's webhooks render.
  v1::SetCarrierAccountRequest set;
  set.mutable_primary()->set_provider(v1::EMULATOR);
  set.mutable_primary()->mutable_twilio()->set_account_sid(kTwilioSid);
  set.mutable_primary()->mutable_twilio()->set_auth_token(kTwilioToken);
  v1::CarrierAccount account;
  if (auto s = Rpc(stub->SetCarrierAccount(ctx().get(), set, &account), "SetCarrierAccount");
      !s.ok()) {
    return bench::Fail("seed", s);
  }
  v1::SearchNumbersRequest search;
  search.set_area_code("415");
  search.set_limit(1);
  v1::SearchNumbersResponse found;
  if (auto s = Rpc(stub->SearchNumbers(ctx().get(), search, &found), "SearchNumbers"); !s.ok()) {
    return bench::Fail("seed", s);
  }
  if (found.numbers_size() == 0) return bench::Fail("seed", absl::NotFoundError("no number to order"));
  const std::string number = found.numbers(0).e164();
  v1::OrderNumberRequest order;
  order.set_e164(number);
  v1::OrderedNumber ordered;
  if (auto s = Rpc(stub->OrderNumber(ctx().get(), order, &ordered), "OrderNumber"); !s.ok()) {
    return bench::Fail("seed", s);
  }
  v1::SetStaticInstructionsRequest ivr;
  ivr.set_e164(number);
  ivr.mutable_instructions()->set_id("bench-ivr");
  ivr.mutable_instructions()->add_instructions()->mutable_say()->set_text(
      "Thanks for calling Powers Electric.");
  auto* gather = ivr.mutable_instructions()->add_instructions()->mutable_gather();
  gather->set_num_digits(1);
  gather->add_prompts()->mutable_say()->set_text("Press 1 for service.");
  ivr.mutable_instructions()->add_instructions()->mutable_dial()->add_targets()->set_number(
      "+19175550100");
  ivr.mutable_instructions()->add_instructions()->mutable_record()->set_max_length_s(120);
  ivr.mutable_instructions()->add_instructions()->mutable_hangup();
  v1::SetStaticInstructionsResponse ignored;
  if (auto s = Rpc(stub->SetStaticInstructions(ctx().get(), ivr, &ignored),
                   "SetStaticInstructions");
      !s.ok()) {
    return bench::Fail("seed", s);
  }

  std::fprintf(stderr,
               "webhook_bench: carrier webhook listener on %s; %d connections, %d req/s for %d s, "
               "then saturation for %d s\n",
               public_base.c_str(), connections, rate, seconds, saturation_seconds);
  std::fflush(stdout);
  std::vector<std::string> args = {SB_WEBHOOK_LOAD_BINARY,
                                   "--port", std::to_string(*webhook_port),
                                   "--public_base_url", public_base,
                                   "--auth_token", kTwilioToken,
                                   "--account_sid", kTwilioSid,
                                   "--to", number,
                                   "--connections", std::to_string(connections),
                                   "--rate", std::to_string(rate),
                                   "--seconds", std::to_string(seconds),
                                   "--saturation_seconds", std::to_string(saturation_seconds)};
  std::vector<char*> argv_load;
  for (auto& a : args) argv_load.push_back(a.data());
  argv_load.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return bench::Fail("fork", absl::InternalError("fork failed"));
  if (pid == 0) {
    ::execv(argv_load[0], argv_load.data());
    std::perror("execv webhook_load");
    ::_exit(127);
  }
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  const int load_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128;

  absl::StatusOr<int> code = (*carrier)->SignalAndWait(SIGTERM, absl::Seconds(30));
  (void)(*emulator)->SignalAndWait(SIGTERM, absl::Seconds(30));
  if (load_code != 0) {
    std::fprintf(stderr, "webhook_bench: load generator exited %d\n", load_code);
    return 1;
  }
  if (!code.ok() || *code != 0) {
    std::fprintf(stderr, "webhook_bench: carrier did not exit cleanly\n%s\n",
                 (*carrier)->Output().substr(0, 4000).c_str());
    return 1;
  }
  return 0;
}
