// The identity binary as it is deployed: started as a process with its configuration in the
// environment, reached over gRPC, stopped with SIGTERM.
#include <signal.h>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "libs/common/clock.h"
#include "libs/common/ids.h"
#include "libs/crypto/encoding.h"
#include "libs/crypto/jwt.h"
#include "libs/crypto/random.h"
#include "libs/testing/service_process.h"
#include "libs/testing/testing.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"

namespace switchboard {
namespace {

namespace v1 = switchboard::identity::v1;

std::vector<std::pair<std::string, std::string>> BaseEnv(const std::string& schema,
                                                         const std::string& topic) {
  auto env_or_empty = [](const char* name) { return testing::Env(name).value_or(""); };
  return {
      {"IDENTITY_GRPC_ADDRESS", "127.0.0.1:0"},
      {"IDENTITY_ADMIN_ADDRESS", "127.0.0.1"},
      {"IDENTITY_ADMIN_PORT", "0"},
      {"IDENTITY_PG_DSN", env_or_empty("SB_PG_DSN")},
      {"IDENTITY_PG_SCHEMA", schema},
      {"IDENTITY_REDIS_URL", env_or_empty("SB_REDIS_URL")},
      {"IDENTITY_KAFKA_BROKERS", env_or_empty("SB_KAFKA_BROKERS")},
      {"IDENTITY_EVENTS_TOPIC", topic},
      {"IDENTITY_KEY_ENCRYPTION_KEY", crypto::Base64Encode(crypto::RandomBytes(32))},
      {"IDENTITY_DRAIN_DELAY", "100ms"},
      {"IDENTITY_SHUTDOWN_GRACE", "5s"},
  };
}

std::unique_ptr<testing::ServiceProcess> StartIdentity(
    std::vector<std::pair<std::string, std::string>> env) {
  auto process = testing::ServiceProcess::Start({.binary = SB_IDENTITY_BINARY, .env = std::move(env)});
  REQUIRE(process.ok());
  return std::move(*process);
}

TEST_CASE("identity process: SERVING, reflection, signup and login, events, SIGTERM exits 0",
          "[e2e][identity]") {
  auto schema = testing::PgTestSchema::CreateOrFail();
  auto topic = testing::KafkaTestTopic::CreateOrFail();
  auto identity = StartIdentity(BaseEnv(schema->schema(), topic->name()));

  absl::StatusOr<std::string> serving = identity->WaitForLogLine("identity serving", absl::Seconds(60));
  INFO(identity->Output());
  REQUIRE(serving.ok());
  absl::StatusOr<std::string> port = testing::JsonLogField(*serving, "grpc_port");
  REQUIRE(port.ok());
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", *port),
                                     grpc::InsecureChannelCredentials());
  REQUIRE(testing::WaitUntilServing(channel, absl::Seconds(30)).ok());

  SECTION("reflection lists the identity and health services, as grpcurl list would") {
    absl::StatusOr<std::vector<std::string>> services = testing::ListServicesViaReflection(channel);
    REQUIRE(services.ok());
    CHECK(std::count(services->begin(), services->end(), "switchboard.identity.v1.Identity") == 1);
    CHECK(std::count(services->begin(), services->end(), "grpc.health.v1.Health") == 1);
  }

  SECTION("signup, login, and a token verified locally with the published keys") {
    auto stub = v1::Identity::NewStub(channel);
    const std::string email = absl::StrCat("owner-", NewUuidV7(), "@powers-electric.test");
    v1::CreateCompanyRequest create;
    create.set_name("Powers Electric");
    create.set_time_zone("America/New_York");
    create.set_plan(v1::PLAN_TEAM);
    create.set_owner_email(email);
    create.set_owner_full_name("Robert Smith");
    create.set_owner_password("correct horse battery staple");
    create.set_owner_extension("101");
    create.set_owner_forward_to("+19175558801");
    v1::CreateCompanyResponse created;
    {
      grpc::ClientContext ctx;
      grpc::Status s = stub->CreateCompany(&ctx, create, &created);
      INFO(s.error_message());
      REQUIRE(s.ok());
    }
    v1::LoginRequest login;
    login.set_email(email);
    login.set_password("correct horse battery staple");
    v1::TokenPair tokens;
    {
      grpc::ClientContext ctx;
      REQUIRE(stub->Login(&ctx, login, &tokens).ok());
    }
    login.set_password("wrong password");
    {
      grpc::ClientContext ctx;
      v1::TokenPair ignored;
      CHECK(stub->Login(&ctx, login, &ignored).error_code() == grpc::StatusCode::UNAUTHENTICATED);
    }
    v1::GetVerificationKeysResponse keys;
    {
      grpc::ClientContext ctx;
      REQUIRE(stub->GetVerificationKeys(&ctx, v1::GetVerificationKeysRequest(), &keys).ok());
    }
    std::vector<crypto::VerificationKey> trusted;
    for (const v1::VerificationKey& k : keys.keys()) {
      auto key = crypto::VerificationKey::FromPublicPem(k.kid(), k.public_pem());
      REQUIRE(key.ok());
      trusted.push_back(*key);
    }
    REQUIRE_FALSE(trusted.empty());
    crypto::JwtVerifier verifier(SystemClock(), {.issuer = keys.issuer()});
    verifier.SetKeys(trusted);
    absl::StatusOr<crypto::Claims> claims = verifier.Verify(tokens.access_token());
    REQUIRE(claims.ok());
    CHECK(claims->company_id == created.company().id());
    CHECK(claims->subject == created.owner().id());
    CHECK(claims->role == "owner");

    // The signup reached Kafka through the outbox relay.
    auto records = topic->ReadAll(topic->name(), absl::Seconds(30), 1);
    REQUIRE(records.ok());
    REQUIRE_FALSE(records->empty());
    events::v1::Event event;
    REQUIRE(event.ParseFromString(records->front().value));
    CHECK(event.company_id() == created.company().id());
    CHECK(event.has_company_created());
  }

  absl::StatusOr<int> code = identity->SignalAndWait(SIGTERM, absl::Seconds(30));
  REQUIRE(code.ok());
  CHECK(*code == 0);
  CHECK(absl::StrContains(identity->Output(), "shutting down"));
}

TEST_CASE("identity exits non-zero naming the key when a setting is malformed", "[e2e][identity]") {
  auto env = BaseEnv("unused_schema", "unused.topic");
  env.emplace_back("IDENTITY_ACCESS_TOKEN_TTL", "soon");
  auto identity = StartIdentity(env);
  absl::StatusOr<int> code = identity->WaitForExit(absl::Seconds(30));
  REQUIRE(code.ok());
  CHECK(*code != 0);
  CHECK(absl::StrContains(identity->Output(), "IDENTITY_ACCESS_TOKEN_TTL"));
}

TEST_CASE("identity exits non-zero with a clear message when PostgreSQL is unreachable",
          "[e2e][identity]") {
  auto env = BaseEnv("unused_schema", "unused.topic");
  env.emplace_back("IDENTITY_PG_DSN", "postgresql://switchboard@127.0.0.1:1/switchboard");
  auto identity = StartIdentity(env);
  absl::StatusOr<int> code = identity->WaitForExit(absl::Seconds(60));
  REQUIRE(code.ok());
  CHECK(*code != 0);
  INFO(identity->Output());
  CHECK(absl::StrContains(identity->Output(), "127.0.0.1:1"));
}

}  // namespace
}  // namespace switchboard
