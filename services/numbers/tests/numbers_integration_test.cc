// The numbers service against real PostgreSQL, Redis and Kafka, with identity and carrier
// in-process over gRPC and the carrier emulator in-process (HTTP on loopback) for both wire
// formats (EMULATOR accounts with Twilio and Telnyx credentials). One stack for the whole
// binary (built on first use, torn down when the run ends); every test uses its own companies
// and its own area codes so the emulator's shared number pool never mixes them.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

// Listeners (the teardown below) need the external interfaces.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/common/clock.h"
#include "libs/common/ids.h"
#include "libs/crypto/random.h"
#include "libs/grpc/principal.h"
#include "libs/http/client.h"
#include "libs/metrics/registry.h"
#include "libs/testing/testing.h"
#include "services/carrier/carrier_service.h"
#include "services/carrier/dependencies.h"
#include "services/identity/dependencies.h"
#include "services/identity/identity_service.h"
#include "services/numbers/dependencies.h"
#include "services/numbers/numbers_service.h"
#include "switchboard/carrier/v1/carrier_service.grpc.pb.h"
#include "switchboard/events/v1/event.pb.h"
#include "switchboard/identity/v1/identity.grpc.pb.h"
#include "switchboard/numbers/v1/numbers.grpc.pb.h"
#include "tools/carrier-emulator/emulator.h"

namespace switchboard::numbers {
namespace {

namespace cv1 = ::switchboard::carrier::v1;
namespace iv1 = ::switchboard::identity::v1;
using json = nlohmann::json;

constexpr char kTwilioSid[] = "AC0000000000000000000000000000n001";
constexpr char kTwilioToken[] = "numbers-it-twilio-token";
constexpr char kTelnyxKey[] = "KEYnumbers-it-telnyx";

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

template <typename T>
T Must(absl::StatusOr<T> v, const char* what) {
  INFO(what << ": " << v.status());
  REQUIRE(v.ok());
  return std::move(*v);
}

struct Stack {
  std::unique_ptr<switchboard::testing::PgTestSchema> identity_db, carrier_db, numbers_db;
  std::unique_ptr<switchboard::testing::KafkaTestTopic> identity_topic, carrier_topic,
      numbers_topic;
  std::unique_ptr<switchboard::testing::RedisTestNamespace> redis;
  std::unique_ptr<carrier_emulator::CarrierEmulator> emulator;
  metrics::Registry registry;
  std::unique_ptr<identity::Dependencies> identity_deps;
  std::unique_ptr<carrier::Dependencies> carrier_deps;
  std::unique_ptr<identity::IdentityService> identity_service;
  std::unique_ptr<carrier::CarrierService> carrier_service;
  std::unique_ptr<switchboard::testing::GrpcTestServer> upstream;
  std::unique_ptr<Dependencies> numbers_deps;
  std::unique_ptr<NumbersService> numbers_service;
  std::unique_ptr<switchboard::testing::GrpcTestServer> server;
  std::unique_ptr<v1::Numbers::Stub> numbers;
  std::unique_ptr<iv1::Identity::Stub> identity;
  std::unique_ptr<cv1::Carrier::Stub> carrier;
  std::unique_ptr<http::CurlHttpClient> http;

  Stack() {
    const std::string pg = switchboard::testing::Env("SB_PG_DSN").value_or("");
    const std::string kafka = switchboard::testing::Env("SB_KAFKA_BROKERS").value_or("");
    REQUIRE_FALSE(pg.empty());
    identity_db = switchboard::testing::PgTestSchema::CreateOrFail();
    carrier_db = switchboard::testing::PgTestSchema::CreateOrFail();
    numbers_db = switchboard::testing::PgTestSchema::CreateOrFail();
    identity_topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
    carrier_topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
    numbers_topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
    redis = switchboard::testing::RedisTestNamespace::CreateOrFail();
    http = Must(http::CurlHttpClient::Create(), "curl");

    const int webhook_port = FreeLoopbackPort();
    const std::string public_base = absl::StrCat("http://127.0.0.1:", webhook_port);
    emulator = Must(carrier_emulator::CarrierEmulator::Create(
                        carrier_emulator::EmulatorOptions{.twilio_account_sid = kTwilioSid,
                                                          .twilio_auth_token = kTwilioToken,
                                                          .telnyx_api_key = kTelnyxKey,
                                                          .webhook_base_url = public_base},
                        Must(http::CurlHttpClient::Create(), "curl")),
                    "emulator");
    REQUIRE(emulator->Start(http::ServerOptions{.port = 0}).ok());

    identity_deps = Must(
        identity::Dependencies::Create(
            identity::IdentityConfig{.pg_dsn = pg,
                                     .pg_schema = identity_db->schema(),
                                     .pg_pool_size = 4,
                                     .redis_url = redis->url(),
                                     .kafka_brokers = kafka,
                                     .events_topic = identity_topic->name(),
                                     .key_encryption_key = crypto::RandomBytes(32),
                                     .issuer = "numbers-it",
                                     .access_token_ttl = absl::Minutes(15),
                                     .refresh_token_ttl = absl::Hours(24),
                                     .invitation_ttl = absl::Hours(24)},
            SystemClock()),
        "identity");
    carrier_deps = Must(
        carrier::Dependencies::Create(
            carrier::CarrierConfig{
                .webhook_address = absl::StrCat("127.0.0.1:", webhook_port),
                .public_base_url = public_base,
                .pg_dsn = pg,
                .pg_schema = carrier_db->schema(),
                .pg_pool_size = 4,
                .kafka_brokers = kafka,
                .events_topic = carrier_topic->name(),
                .key_encryption_key = crypto::RandomBytes(32),
                .emulator_url = absl::StrCat("http://127.0.0.1:", emulator->port()),
                .twilio_api_base_url = "https://api.twilio.com",
                .telnyx_base_url = "https://api.telnyx.com/v2",
                .http_timeout = absl::Seconds(10),
                .lookup_cache_ttl = absl::Seconds(0),
                .webhook_threads = 2,
                .command_workers = 1},
            SystemClock(), registry),
        "carrier");
    identity_service = std::make_unique<identity::IdentityService>(identity_deps->core());
    carrier_service = std::make_unique<carrier::CarrierService>(carrier_deps->core());
    upstream = switchboard::testing::GrpcTestServer::CreateOrFail(
        {identity_service.get(), carrier_service.get()});

    numbers_deps = Must(
        Dependencies::Create(
            NumbersConfig{.pg_dsn = pg,
                          .pg_schema = numbers_db->schema(),
                          .pg_pool_size = 8,
                          .redis_url = redis->url(),
                          .redis_key_prefix = redis->prefix(),
                          .kafka_brokers = kafka,
                          .events_topic = numbers_topic->name(),
                          .identity_topic = identity_topic->name(),
                          .carrier_topic = carrier_topic->name(),
                          .consumer_group = identity_topic->UniqueGroupId(),
                          .carrier_address = upstream->address(),
                          .identity_address = upstream->address(),
                          .rpc_timeout = absl::Seconds(20),
                          .key_encryption_key = crypto::RandomBytes(32),
                          .resolve_cache_ttl = absl::Minutes(10),
                          .search_cache_ttl = absl::Seconds(60)},
            SystemClock()),
        "numbers");
    numbers_service = std::make_unique<NumbersService>(numbers_deps->core());
    server = switchboard::testing::GrpcTestServer::CreateOrFail({numbers_service.get()});
    numbers = v1::Numbers::NewStub(server->channel());
    identity = iv1::Identity::NewStub(upstream->channel());
    carrier = cv1::Carrier::NewStub(upstream->channel());
  }

  ~Stack() {
    server.reset();
    numbers_deps->Stop();
    upstream.reset();
    carrier_deps->Stop();
    identity_deps->Stop();
    emulator->Stop();
  }

  json EmulatorState() {
    http::HttpRequest req{.method = "GET",
                          .url = absl::StrCat("http://127.0.0.1:", emulator->port(),
                                              "/emulator/state"),
                          .timeout = absl::Seconds(10)};
    auto resp = http->Send(req);
    REQUIRE(resp.ok());
    return json::parse(resp->body);
  }
  int OwnedCount(const std::string& e164) {
    const json state = EmulatorState();  // named: the range below must not dangle
    int n = 0;
    for (const json& x : state["numbers"]) n += x.value("phone_number", "") == e164;
    return n;
  }
};

Stack* g_stack = nullptr;
Stack& S() {
  if (g_stack == nullptr) g_stack = new Stack();
  return *g_stack;
}

struct Teardown : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testRunEnded(const Catch::TestRunStats&) override {
    delete g_stack;
    g_stack = nullptr;
  }
};
CATCH_REGISTER_LISTENER(Teardown)

// A company with an owner, set up through identity and carrier like a signup would.
struct Company {
  std::string id;
  std::string owner_id;
  std::string wire;  // twilio | telnyx
};

void Owner(grpc::ClientContext& ctx, const Company& c) {
  rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = c.id, .user_id = c.owner_id,
                                           .role = "owner"});
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
}

Company NewCompany(const std::string& wire, iv1::Plan plan = iv1::PLAN_BUSINESS) {
  Stack& s = S();
  iv1::CreateCompanyRequest req;
  req.set_name(absl::StrCat("Numbers IT ", switchboard::testing::RandomSuffix()));
  req.set_time_zone("America/New_York");
  req.set_plan(plan);
  req.set_owner_email(absl::StrCat("owner-", switchboard::testing::RandomSuffix(), "@example.com"));
  req.set_owner_full_name("Robert Smith");
  req.set_owner_password("correct-horse-battery");
  iv1::CreateCompanyResponse resp;
  grpc::ClientContext ctx;
  grpc::Status st = s.identity->CreateCompany(&ctx, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  Company c{resp.company().id(), resp.owner().id(), wire};

  cv1::SetCarrierAccountRequest set;
  set.mutable_primary()->set_provider(cv1::EMULATOR);
  if (wire == "twilio") {
    set.mutable_primary()->mutable_twilio()->set_account_sid(kTwilioSid);
    set.mutable_primary()->mutable_twilio()->set_auth_token(kTwilioToken);
  } else {
    auto* t = set.mutable_primary()->mutable_telnyx();
    t->set_api_key(kTelnyxKey);
    t->set_public_key(s.emulator->TelnyxPublicKeyBase64());
    // Unique per company so the carrier resolves number-order webhooks by connection.
    t->set_connection_id(absl::StrCat(1000000000 + (absl::ToUnixNanos(absl::Now()) % 999999999)));
  }
  cv1::CarrierAccount account;
  grpc::ClientContext cctx;
  Owner(cctx, c);
  st = s.carrier->SetCarrierAccount(&cctx, set, &account);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return c;
}

// An active user of the company (invited by the owner, invitation accepted).
std::string NewUser(const Company& c, const std::string& name) {
  Stack& s = S();
  iv1::InviteUserRequest inv;
  inv.set_email(absl::StrCat("u-", switchboard::testing::RandomSuffix(), "@example.com"));
  inv.set_full_name(name);
  inv.set_role(iv1::ROLE_TECH);
  iv1::InviteUserResponse invited;
  grpc::ClientContext ctx;
  Owner(ctx, c);
  grpc::Status st = s.identity->InviteUser(&ctx, inv, &invited);
  INFO(st.error_message());
  REQUIRE(st.ok());
  iv1::AcceptInvitationRequest acc;
  acc.set_invitation_token(invited.invitation_token());
  acc.set_password("another-long-password");
  iv1::AcceptInvitationResponse accepted;
  grpc::ClientContext actx;
  st = s.identity->AcceptInvitation(&actx, acc, &accepted);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return accepted.user().id();
}

// Calls a Numbers RPC as the company's owner; returns the status, fills `response`.
template <typename Req, typename Resp>
grpc::Status Call(const Company& c,
                  grpc::Status (v1::Numbers::Stub::*method)(grpc::ClientContext*, const Req&,
                                                            Resp*),
                  const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  Owner(ctx, c);
  return ((*S().numbers).*method)(&ctx, req, resp);
}

v1::Number Provision(const Company& c, const std::string& e164,
                     v1::LineType type = v1::LINE_DIRECT) {
  v1::ProvisionNumberRequest req;
  req.set_e164(e164);
  req.set_line_type(type);
  v1::Number n;
  grpc::Status st = Call(c, &v1::Numbers::Stub::ProvisionNumber, req, &n);
  INFO(e164 << ": " << st.error_message());
  REQUIRE(st.ok());
  return n;
}

v1::Number GetNumber(const Company& c, const std::string& id) {
  v1::GetNumberRequest req;
  req.set_number_id(id);
  v1::Number n;
  grpc::Status st = Call(c, &v1::Numbers::Stub::GetNumber, req, &n);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return n;
}

// Polls `pred` until true or 60 s pass.
template <typename Pred>
bool Eventually(Pred pred) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (pred()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return pred();
}

struct Wire {
  const char* name;
  const char* area;  // a pool of 100 numbers per test and wire
};

TEST_CASE("search by area code and by vanity pattern, both wire formats", "[integration]") {
  for (const Wire& w : {Wire{"twilio", "212"}, Wire{"telnyx", "415"}}) {
    DYNAMIC_SECTION(w.name) {
      Company c = NewCompany(w.name);
      v1::SearchNumbersRequest req;
      req.set_area_code(w.area);
      req.set_limit(5);
      v1::SearchNumbersResponse resp;
      REQUIRE(Call(c, &v1::Numbers::Stub::SearchNumbers, req, &resp).ok());
      REQUIRE(resp.numbers_size() == 5);
      CHECK_FALSE(resp.cached());
      for (const auto& n : resp.numbers()) {
        CHECK(absl::StartsWith(n.e164(), absl::StrCat("+1", w.area)));
        // Telnyx reports a monthly cost with each result; Twilio's search API has none.
        if (std::string(w.name) == "telnyx") CHECK_FALSE(n.monthly_cost().empty());
      }
      v1::SearchNumbersResponse again;
      REQUIRE(Call(c, &v1::Numbers::Stub::SearchNumbers, req, &again).ok());
      CHECK(again.cached());
      CHECK(again.numbers_size() == 5);

      // Vanity: "KKL-0199" is 5550199 on the keypad.
      v1::SearchNumbersRequest vanity;
      vanity.set_area_code(w.area);
      vanity.set_contains("KKL-0199");
      v1::SearchNumbersResponse found;
      grpc::Status st = Call(c, &v1::Numbers::Stub::SearchNumbers, vanity, &found);
      INFO(st.error_message());
      REQUIRE(st.ok());
      REQUIRE(found.numbers_size() == 1);
      CHECK(found.numbers(0).e164() == absl::StrCat("+1", w.area, "5550199"));

      v1::SearchNumbersRequest bad;
      bad.set_area_code("20");
      st = Call(c, &v1::Numbers::Stub::SearchNumbers, bad, &found);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(st.error_message(), "area_code: "));
      bad.set_area_code(w.area);
      bad.set_contains("55#");
      st = Call(c, &v1::Numbers::Stub::SearchNumbers, bad, &found);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(st.error_message(), "contains: "));
      bad.set_contains("");
      bad.set_country("FR");
      st = Call(c, &v1::Numbers::Stub::SearchNumbers, bad, &found);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(st.error_message(), "country: "));
    }
  }
}

TEST_CASE("provision instantly, resolve it, events on numbers.v1; plan limit", "[integration]") {
  for (const Wire& w : {Wire{"twilio", "646"}, Wire{"telnyx", "917"}}) {
    DYNAMIC_SECTION(w.name) {
      Stack& s = S();
      Company c = NewCompany(w.name, iv1::PLAN_TEAM);
      const std::string first = absl::StrCat("+1", w.area, "5550110");
      v1::Number n = Provision(c, first, v1::LINE_MAIN);
      CHECK(n.status() == v1::NUMBER_ACTIVE);
      CHECK(n.area_code() == w.area);
      CHECK(n.provider() == w.name);  // the wire format the EMULATOR account speaks
      CHECK(n.company_id() == c.id);
      CHECK(s.OwnedCount(first) == 1);

      v1::ResolveNumberRequest rr;
      rr.set_e164(first);
      v1::ResolvedNumber resolved;
      grpc::ClientContext rctx;
      rpc::AttachPrincipal(rctx, rpc::Principal{.company_id = c.id, .role = "service"});
      REQUIRE(s.numbers->ResolveNumber(&rctx, rr, &resolved).ok());
      CHECK(resolved.company_id() == c.id);
      CHECK(resolved.line_id() == n.line_id());
      CHECK(resolved.line_type() == v1::LINE_MAIN);

      Provision(c, absl::StrCat("+1", w.area, "5550111"));
      Provision(c, absl::StrCat("+1", w.area, "5550112"));
      v1::ProvisionNumberRequest over;
      over.set_e164(absl::StrCat("+1", w.area, "5550113"));
      v1::Number out;
      grpc::Status st = Call(c, &v1::Numbers::Stub::ProvisionNumber, over, &out);
      CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      CHECK(absl::StrContains(st.error_message(), "plan 'team'"));
      CHECK(absl::StrContains(st.error_message(), "at most 3"));
      CHECK(s.OwnedCount(over.e164()) == 0);

      v1::CountNumbersRequest cr;
      v1::NumberCounts counts;
      REQUIRE(Call(c, &v1::Numbers::Stub::CountNumbers, cr, &counts).ok());
      CHECK(counts.local() == 3);
      CHECK(counts.limit() == 3);

      // Another company's number is NOT_FOUND; a number taken elsewhere is ALREADY_EXISTS.
      Company other = NewCompany(w.name);
      v1::GetNumberRequest get;
      get.set_number_id(n.id());
      st = Call(other, &v1::Numbers::Stub::GetNumber, get, &out);
      CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
      v1::ProvisionNumberRequest taken;
      taken.set_e164(first);
      st = Call(other, &v1::Numbers::Stub::ProvisionNumber, taken, &out);
      CHECK(st.error_code() == grpc::StatusCode::ALREADY_EXISTS);
      taken.set_e164("+1555");
      st = Call(other, &v1::Numbers::Stub::ProvisionNumber, taken, &out);
      CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
      CHECK(absl::StartsWith(st.error_message(), "e164: "));

      // NumberProvisioned for this company's three numbers reached numbers.v1.
      CHECK(Eventually([&] {
        auto records = s.numbers_topic->ReadAll(s.numbers_topic->name(), absl::Seconds(2), 1000);
        if (!records.ok()) return false;
        int mine = 0;
        for (const auto& r : *records) {
          events::v1::Event e;
          if (e.ParseFromString(r.value) && e.company_id() == c.id && e.has_number_provisioned()) {
            ++mine;
          }
        }
        return mine == 3;
      }));
    }
  }
}

TEST_CASE("a carrier that answers pending: pending until the order-status webhook",
          "[integration]") {
  Stack& s = S();
  Company c = NewCompany("telnyx");
  s.emulator->SetNumberOrderMode(true, "success", absl::Milliseconds(300));
  v1::Number n = Provision(c, "+13125550120");
  CHECK(n.status() == v1::NUMBER_PENDING);
  s.emulator->SetNumberOrderMode(true, "failure", absl::Milliseconds(300));
  v1::Number failing = Provision(c, "+13125550121");
  CHECK(failing.status() == v1::NUMBER_PENDING);
  s.emulator->SetNumberOrderMode(false, "success", absl::Milliseconds(0));
  CHECK(Eventually([&] { return GetNumber(c, n.id()).status() == v1::NUMBER_ACTIVE; }));
  CHECK(Eventually([&] { return GetNumber(c, failing.id()).status() == v1::NUMBER_FAILED; }));
  CHECK(s.OwnedCount("+13125550120") == 1);
  CHECK(s.OwnedCount("+13125550121") == 0);
}

TEST_CASE("concurrent orders of one number: exactly one wins, the winner keeps it",
          "[integration]") {
  Stack& s = S();
  for (const Wire& w : {Wire{"twilio", "718"}, Wire{"telnyx", "347"}}) {
    DYNAMIC_SECTION(w.name) {
      std::vector<Company> companies;
      for (int i = 0; i < 4; ++i) companies.push_back(NewCompany(w.name));
      const std::string e164 = absl::StrCat("+1", w.area, "5550130");
      std::vector<grpc::Status> results(companies.size());
      std::vector<std::thread> threads;
      for (size_t i = 0; i < companies.size(); ++i) {
        threads.emplace_back([&, i] {
          v1::ProvisionNumberRequest req;
          req.set_e164(e164);
          v1::Number out;
          results[i] = Call(companies[i], &v1::Numbers::Stub::ProvisionNumber, req, &out);
        });
      }
      for (auto& t : threads) t.join();
      int wins = 0;
      for (const grpc::Status& st : results) {
        INFO(st.error_message());
        if (st.ok()) {
          ++wins;
        } else {
          CHECK(st.error_code() == grpc::StatusCode::ALREADY_EXISTS);
        }
      }
      CHECK(wins == 1);
      CHECK(s.OwnedCount(e164) == 1);  // the losers released nothing
    }
  }
}

TEST_CASE("a failed record after the order releases the number; nothing is half-provisioned",
          "[integration]") {
  Stack& s = S();
  for (const Wire& w : {Wire{"twilio", "505"}, Wire{"telnyx", "602"}}) {
    DYNAMIC_SECTION(w.name) {
      Company c = NewCompany(w.name);
      const std::string e164 = absl::StrCat("+1", w.area, "5550140");
      // Postgres refuses the record step (the update after the carrier order) for this number.
      REQUIRE(s.numbers_db->pool()
                  .Plain([&](pqxx::work& tx) {
                    tx.exec(absl::StrCat(
                        "CREATE OR REPLACE FUNCTION ", s.numbers_db->schema(),
                        ".refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        "RAISE EXCEPTION 'injected record failure'; "
                        "END $$"));
                    tx.exec(absl::StrCat("CREATE TRIGGER refuse_", w.name, " BEFORE UPDATE ON ",
                                         s.numbers_db->schema(), ".numbers FOR EACH ROW WHEN "
                                         "(OLD.e164 = '", e164, "') EXECUTE FUNCTION ",
                                         s.numbers_db->schema(), ".refuse_record()"));
                    return absl::OkStatus();
                  })
                  .ok());
      v1::ProvisionNumberRequest req;
      req.set_e164(e164);
      v1::Number out;
      grpc::Status st = Call(c, &v1::Numbers::Stub::ProvisionNumber, req, &out);
      INFO(st.error_message());
      CHECK_FALSE(st.ok());
      CHECK(s.OwnedCount(e164) == 0);  // released at the carrier
      v1::ListNumbersRequest list;
      list.set_include_released(true);
      v1::ListNumbersResponse listed;
      REQUIRE(Call(c, &v1::Numbers::Stub::ListNumbers, list, &listed).ok());
      CHECK(listed.numbers_size() == 0);  // and nothing recorded
      REQUIRE(s.numbers_db->pool()
                  .Plain([&](pqxx::work& tx) {
                    tx.exec(absl::StrCat("DROP TRIGGER refuse_", w.name, " ON ",
                                         s.numbers_db->schema(), ".numbers"));
                    return absl::OkStatus();
                  })
                  .ok());
      // The number is free again: it can be provisioned for real.
      v1::Number again = Provision(c, e164);
      CHECK(again.status() == v1::NUMBER_ACTIVE);
    }
  }
}

TEST_CASE("the carrier fails after ordering: the order is undone, nothing recorded",
          "[integration]") {
  Stack& s = S();
  for (const Wire& w : {Wire{"twilio", "907"}, Wire{"telnyx", "808"}}) {
    DYNAMIC_SECTION(w.name) {
      Company c = NewCompany(w.name);
      const std::string e164 = absl::StrCat("+1", w.area, "5550145");
      // The emulator buys the number, then answers 503 as if it had failed.
      carrier_emulator::Fault fault;
      fault.method = "POST";
      fault.path_prefix = std::string(w.name) == "twilio"
                              ? absl::StrCat("/2010-04-01/Accounts/", kTwilioSid,
                                             "/IncomingPhoneNumbers.json")
                              : "/v2/number_orders";
      fault.status = 503;
      fault.after = true;
      s.emulator->AddFaults({fault});
      v1::ProvisionNumberRequest req;
      req.set_e164(e164);
      v1::Number out;
      grpc::Status st = Call(c, &v1::Numbers::Stub::ProvisionNumber, req, &out);
      INFO(st.error_message());
      CHECK(st.error_code() == grpc::StatusCode::UNAVAILABLE);
      CHECK(s.OwnedCount(e164) == 0);  // the carrier gave the bought number back
      v1::ListNumbersRequest list;
      list.set_include_released(true);
      v1::ListNumbersResponse listed;
      REQUIRE(Call(c, &v1::Numbers::Stub::ListNumbers, list, &listed).ok());
      CHECK(listed.numbers_size() == 0);
      CHECK(Provision(c, e164).status() == v1::NUMBER_ACTIVE);  // and it can be ordered again
      CHECK(s.OwnedCount(e164) == 1);
    }
  }
}

TEST_CASE("assign, reassign, unassign; a deactivated user's line is unassigned by the event",
          "[integration]") {
  Stack& s = S();
  Company c = NewCompany("twilio");
  const std::string mike = NewUser(c, "Mike Torres");
  const std::string jake = NewUser(c, "Jake Williams");
  v1::Number line = Provision(c, "+16175550150");
  v1::AssignLineRequest assign;
  assign.set_line_id(line.line_id());
  assign.set_user_id(mike);
  v1::Number out;
  REQUIRE(Call(c, &v1::Numbers::Stub::AssignLine, assign, &out).ok());
  CHECK(out.assigned_user_id() == mike);
  assign.set_user_id(jake);
  REQUIRE(Call(c, &v1::Numbers::Stub::AssignLine, assign, &out).ok());
  CHECK(out.assigned_user_id() == jake);
  v1::UnassignLineRequest un;
  un.set_line_id(line.line_id());
  REQUIRE(Call(c, &v1::Numbers::Stub::UnassignLine, un, &out).ok());
  CHECK(out.assigned_user_id().empty());
  assign.set_user_id(NewUuidV7());
  CHECK(Call(c, &v1::Numbers::Stub::AssignLine, assign, &out).error_code() ==
        grpc::StatusCode::NOT_FOUND);

  // Outbound caller ID: the user's own direct line once chosen.
  assign.set_user_id(mike);
  REQUIRE(Call(c, &v1::Numbers::Stub::AssignLine, assign, &out).ok());
  v1::SetCallerIdPreferenceRequest pref;
  pref.set_user_id(mike);
  pref.set_choice(v1::CALLER_ID_DIRECT);
  v1::CallerIdPreference saved;
  REQUIRE(Call(c, &v1::Numbers::Stub::SetCallerIdPreference, pref, &saved).ok());
  v1::GetOutboundCallerIdRequest get;
  get.set_user_id(mike);
  v1::OutboundCallerId cid;
  REQUIRE(Call(c, &v1::Numbers::Stub::GetOutboundCallerId, get, &cid).ok());
  CHECK(cid.e164() == "+16175550150");

  // Deactivation in identity → identity.v1 UserDeactivated → the line is unassigned, kept.
  iv1::DeactivateUserRequest deact;
  deact.set_user_id(mike);
  iv1::User deactivated;
  grpc::ClientContext ctx;
  Owner(ctx, c);
  grpc::Status st = s.identity->DeactivateUser(&ctx, deact, &deactivated);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(Eventually([&] { return GetNumber(c, line.line_id()).assigned_user_id().empty(); }));
  v1::Number kept = GetNumber(c, line.line_id());
  CHECK(kept.status() == v1::NUMBER_ACTIVE);
  CHECK(kept.e164() == "+16175550150");
  // A deactivated user cannot be assigned again.
  CHECK(Call(c, &v1::Numbers::Stub::AssignLine, assign, &out).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("release with and without a live flow", "[integration]") {
  Stack& s = S();
  for (const Wire& w : {Wire{"twilio", "702"}, Wire{"telnyx", "503"}}) {
    DYNAMIC_SECTION(w.name) {
      Company c = NewCompany(w.name);
      const std::string main_e164 = absl::StrCat("+1", w.area, "5550160");
      v1::Number main = Provision(c, main_e164, v1::LINE_MAIN);
      v1::SetLineFlowRequest flow;
      flow.set_line_id(main.line_id());
      flow.set_flow_id("flow-after-hours");
      v1::Number out;
      REQUIRE(Call(c, &v1::Numbers::Stub::SetLineFlow, flow, &out).ok());

      v1::ReleaseNumberRequest rel;
      rel.set_line_id(main.line_id());
      grpc::Status st = Call(c, &v1::Numbers::Stub::ReleaseNumber, rel, &out);
      CHECK(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      CHECK(absl::StrContains(st.error_message(), "flow-after-hours"));
      CHECK(s.OwnedCount(main_e164) == 1);
      rel.set_force(true);
      REQUIRE(Call(c, &v1::Numbers::Stub::ReleaseNumber, rel, &out).ok());
      CHECK(out.status() == v1::NUMBER_RELEASED);
      CHECK(out.has_released_at());
      CHECK(s.OwnedCount(main_e164) == 0);

      // A direct line without a flow goes without force.
      v1::Number direct = Provision(c, absl::StrCat("+1", w.area, "5550161"));
      v1::ReleaseNumberRequest rel2;
      rel2.set_line_id(direct.line_id());
      REQUIRE(Call(c, &v1::Numbers::Stub::ReleaseNumber, rel2, &out).ok());
      CHECK(s.OwnedCount(direct.e164()) == 0);

      // The records stay (history resolves); routing no longer finds them.
      CHECK(GetNumber(c, main.id()).status() == v1::NUMBER_RELEASED);
      v1::ListNumbersRequest list;
      list.set_include_released(true);
      v1::ListNumbersResponse listed;
      REQUIRE(Call(c, &v1::Numbers::Stub::ListNumbers, list, &listed).ok());
      CHECK(listed.numbers_size() == 2);
      v1::ResolveNumberRequest rr;
      rr.set_e164(main_e164);
      v1::ResolvedNumber resolved;
      grpc::ClientContext rctx;
      rpc::AttachPrincipal(rctx, rpc::Principal{.company_id = c.id, .role = "service"});
      CHECK(s.numbers->ResolveNumber(&rctx, rr, &resolved).error_code() ==
            grpc::StatusCode::NOT_FOUND);
    }
  }
}

TEST_CASE("port-in from draft to ported, the temporary number swapped out", "[integration]") {
  Stack& s = S();
  for (const Wire& w : {Wire{"twilio", "404"}, Wire{"telnyx", "305"}}) {
    DYNAMIC_SECTION(w.name) {
      Company c = NewCompany(w.name);
      const std::string ported = absl::StrCat("+1", w.area, "7770100");  // not in any pool
      const std::string temp = absl::StrCat("+1", w.area, "5550170");
      v1::CreatePortRequestRequest create;
      create.add_numbers(ported);
      create.set_current_carrier("Frontier");
      create.set_account_number("ACCT-44-7788");
      create.set_pin("9931");
      create.set_authorized_name("Robert Smith");
      create.mutable_service_address()->set_street("12 Elm St");
      create.mutable_service_address()->set_locality("New Haven");
      create.mutable_service_address()->set_region("CT");
      create.mutable_service_address()->set_postal_code("06510");
      create.set_desired_foc_date("2026-12-15");
      create.set_temporary_e164(temp);
      create.set_nickname("Main");
      v1::PortRequest port;
      grpc::Status st = Call(c, &v1::Numbers::Stub::CreatePortRequest, create, &port);
      INFO(st.error_message());
      REQUIRE(st.ok());
      CHECK(port.status() == v1::PORT_DRAFT);
      CHECK(port.has_account_number());
      CHECK(port.has_pin());
      CHECK(port.temporary_e164() == temp);
      CHECK(s.OwnedCount(temp) == 1);
      // The secrets are sealed at rest.
      REQUIRE(s.numbers_db->pool()
                  .Unscoped([&](pqxx::work& tx) {
                    pqxx::row r = tx.exec_params1(
                        absl::StrCat("SELECT account_number_sealed || pin_sealed FROM ",
                                     s.numbers_db->schema(), ".port_requests WHERE id = $1"),
                        port.id());
                    CHECK_FALSE(absl::StrContains(r[0].as<std::string>(), "7788"));
                    return absl::OkStatus();
                  })
                  .ok());

      v1::Number temp_line = GetNumber(c, port.temporary_line_id());
      v1::SetLineFlowRequest flow;
      flow.set_line_id(temp_line.line_id());
      flow.set_flow_id("flow-main");
      v1::Number out;
      REQUIRE(Call(c, &v1::Numbers::Stub::SetLineFlow, flow, &out).ok());

      v1::SubmitPortRequestRequest submit;
      submit.set_port_request_id(port.id());
      st = Call(c, &v1::Numbers::Stub::SubmitPortRequest, submit, &port);
      INFO(st.error_message());
      REQUIRE(st.ok());
      CHECK(port.status() == v1::PORT_SUBMITTED);
      REQUIRE_FALSE(port.carrier_port_order_id().empty());

      v1::GetPortRequestRequest get;
      get.set_port_request_id(port.id());
      REQUIRE(Call(c, &v1::Numbers::Stub::GetPortRequest, get, &port).ok());
      CHECK(port.status() == v1::PORT_SUBMITTED);

      REQUIRE(s.emulator
                  ->SetPortOrderStatus(port.carrier_port_order_id(),
                                       std::string(w.name) == "twilio" ? "completed" : "ported")
                  .ok());
      REQUIRE(Call(c, &v1::Numbers::Stub::GetPortRequest, get, &port).ok());
      CHECK(port.status() == v1::PORT_PORTED);

      v1::Number line = GetNumber(c, temp_line.line_id());
      CHECK(line.e164() == ported);
      CHECK(line.line_id() == temp_line.line_id());
      CHECK(line.flow_id() == "flow-main");
      CHECK(line.line_type() == v1::LINE_MAIN);
      CHECK(line.status() == v1::NUMBER_ACTIVE);
      CHECK(GetNumber(c, temp_line.id()).status() == v1::NUMBER_RELEASED);
      CHECK(s.OwnedCount(temp) == 0);
      CHECK(s.OwnedCount(ported) == 1);

      v1::ResolveNumberRequest rr;
      rr.set_e164(ported);
      v1::ResolvedNumber resolved;
      grpc::ClientContext rctx;
      rpc::AttachPrincipal(rctx, rpc::Principal{.company_id = c.id, .role = "service"});
      REQUIRE(s.numbers->ResolveNumber(&rctx, rr, &resolved).ok());
      CHECK(resolved.line_id() == temp_line.line_id());
      CHECK(resolved.flow_id() == "flow-main");

      // The ported number is the carrier account's now: releasing it gives it up there too.
      v1::ReleaseNumberRequest rel;
      rel.set_line_id(line.line_id());
      rel.set_force(true);
      st = Call(c, &v1::Numbers::Stub::ReleaseNumber, rel, &out);
      INFO(st.error_message());
      REQUIRE(st.ok());
      CHECK(out.e164() == ported);
      CHECK(s.OwnedCount(ported) == 0);
    }
  }
}

TEST_CASE("ResolveNumber: Redis-cached, invalidated on change, service role only",
          "[integration]") {
  Stack& s = S();
  Company c = NewCompany("twilio");
  v1::Number n = Provision(c, "+18165550180");
  auto resolve = [&](const std::string& role, v1::ResolvedNumber* out) {
    v1::ResolveNumberRequest rr;
    rr.set_e164("+18165550180");
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = c.id, .user_id = c.owner_id,
                                             .role = role});
    return s.numbers->ResolveNumber(&ctx, rr, out);
  };
  v1::ResolvedNumber r1, r2, r3;
  CHECK(resolve("owner", &r1).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  REQUIRE(resolve("service", &r1).ok());
  REQUIRE(resolve("service", &r2).ok());
  CHECK(r2.cached());
  v1::SetLineFlowRequest flow;
  flow.set_line_id(n.line_id());
  flow.set_flow_id("flow-x");
  v1::Number out;
  REQUIRE(Call(c, &v1::Numbers::Stub::SetLineFlow, flow, &out).ok());
  REQUIRE(resolve("service", &r3).ok());
  CHECK_FALSE(r3.cached());
  CHECK(r3.flow_id() == "flow-x");
  CHECK(r3.active());
  v1::UpdateLineRequest off;
  off.set_line_id(n.line_id());
  off.add_update_mask("active");
  off.set_active(false);
  REQUIRE(Call(c, &v1::Numbers::Stub::UpdateLine, off, &out).ok());
  v1::ResolvedNumber r4, r5;
  REQUIRE(resolve("service", &r4).ok());
  CHECK_FALSE(r4.cached());
  CHECK_FALSE(r4.active());
  REQUIRE(resolve("service", &r5).ok());
  CHECK(r5.cached());
  CHECK_FALSE(r5.active());
}

}  // namespace
}  // namespace switchboard::numbers
