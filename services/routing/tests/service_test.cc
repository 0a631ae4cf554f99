// Unit tests of the routing service's adapters with fakes: configuration, the call key, the
// Redis value format, the directory and config caches, the schedule glue, the demo configuration.
#include <functional>

#include <catch2/catch.hpp>

#include <grpcpp/create_channel.h>

#include "absl/flags/reflection.h"
#include "libs/grpc/principal.h"
#include "libs/testing/testing.h"
#include "libs/common/clock.h"
#include "services/routing/clients.h"
#include "services/routing/config.h"
#include "services/routing/flow_validate.h"
#include "services/routing/live_ports.h"
#include "services/routing/routing_core.h"
#include "services/routing/schedule.h"
#include "services/routing/tests/service_fakes.h"

namespace switchboard::routing {
namespace {

namespace cv1 = ::switchboard::carrier::v1;
using testing::FakeCompanies;
using testing::FakeDirectorySource;

TEST_CASE("config: defaults need pg_dsn and kafka_brokers; env overrides apply", "[unit]") {
  absl::FlagSaver saver;
  auto missing = LoadRoutingConfig(EnvFromMap({}));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(missing.status().message()).find("pg_dsn") != std::string::npos);

  auto ok = LoadRoutingConfig(EnvFromMap({{"ROUTING_PG_DSN", "postgresql://u@h/db"},
                                          {"ROUTING_KAFKA_BROKERS", "127.0.0.1:9092"},
                                          {"ROUTING_CALL_STATE_TTL", "30m"}}));
  REQUIRE(ok.ok());
  CHECK(ok->grpc_address == "0.0.0.0:50054");
  CHECK(ok->admin_port == 9104);
  CHECK(ok->events_topic == "calls.v1");
  CHECK(ok->call_state_ttl == absl::Minutes(30));
  CHECK(ok->numbers_address == "127.0.0.1:50053");
  CHECK(ok->carrier_address == "127.0.0.1:50052");
  CHECK(ok->carrier_timeout == absl::Seconds(10));
  CHECK(ok->identity_topic == "identity.v1");
  CHECK(ok->numbers_topic == "numbers.v1");
  CHECK(ok->number_cache_ttl == absl::Seconds(30));
  auto numbers = LoadRoutingConfig(EnvFromMap({{"ROUTING_PG_DSN", "postgresql://u@h/db"},
                                               {"ROUTING_KAFKA_BROKERS", "k:1"},
                                               {"ROUTING_NUMBERS_TOPIC", "t_numbers"},
                                               {"ROUTING_NUMBER_CACHE_TTL", "0s"}}));
  REQUIRE(numbers.ok());
  CHECK(numbers->numbers_topic == "t_numbers");
  CHECK(numbers->number_cache_ttl == absl::ZeroDuration());
  auto negative = LoadRoutingConfig(EnvFromMap({{"ROUTING_PG_DSN", "postgresql://u@h/db"},
                                                {"ROUTING_KAFKA_BROKERS", "k:1"},
                                                {"ROUTING_NUMBER_CACHE_TTL", "-1s"}}));
  REQUIRE_FALSE(negative.ok());
  CHECK(std::string(negative.status().message()).find("number_cache_ttl") != std::string::npos);
  auto bad_carrier = LoadRoutingConfig(EnvFromMap({{"ROUTING_PG_DSN", "postgresql://u@h/db"},
                                                   {"ROUTING_KAFKA_BROKERS", "k:1"},
                                                   {"ROUTING_CARRIER_ADDRESS", "nowhere"}}));
  REQUIRE_FALSE(bad_carrier.ok());
  CHECK(std::string(bad_carrier.status().message()).find("carrier_address") != std::string::npos);

  auto bad = LoadRoutingConfig(EnvFromMap({{"ROUTING_PG_DSN", "postgresql://u@h/db"},
                                           {"ROUTING_KAFKA_BROKERS", "k:1"},
                                           {"ROUTING_REDIS_URL", "http://x"}}));
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("redis_url") != std::string::npos);
}

TEST_CASE("CallKeyOf: Twilio parent leg, Twilio call, Telnyx session", "[unit]") {
  cv1::CarrierEvent e;
  e.set_provider(cv1::TWILIO);
  e.mutable_ids()->set_call_sid("CA-child");
  CHECK(CallKeyOf(e) == "CA-child");
  e.mutable_ids()->set_parent_call_sid("CA-parent");
  CHECK(CallKeyOf(e) == "CA-parent");

  cv1::CarrierEvent t;
  t.set_provider(cv1::TELNYX);
  t.mutable_ids()->set_call_control_id("v3:leg");
  CHECK(CallKeyOf(t) == "v3:leg");
  t.mutable_ids()->set_call_session_id("session-1");
  CHECK(CallKeyOf(t) == "session-1");

  CHECK(CallKeyOf(cv1::CarrierEvent()).empty());
}

TEST_CASE("CallStateCache value round trip, and garbage is a miss", "[unit]") {
  CachedCall c;
  c.call_id = "0190aaaa-0000-7000-8000-000000000001";
  c.line_id = "line-1";
  c.state.set_call_id(c.call_id);
  c.state.set_seq(7);
  c.state.set_from("+12035550199");
  auto back = CallStateCache::Decode(CallStateCache::Encode(c));
  REQUIRE(back.has_value());
  CHECK(back->call_id == c.call_id);
  CHECK(back->line_id == "line-1");
  CHECK(back->state.seq() == 7);
  CHECK(back->state.from() == "+12035550199");
  CHECK_FALSE(CallStateCache::Decode("no separators").has_value());
  CHECK_FALSE(CallStateCache::Decode("id|line|\xff\xff\xff").has_value());
}

TEST_CASE("all-party consent states", "[unit]") {
  for (const char* s : {"CA", "CT", "DE", "FL", "IL", "MD", "MA", "MI", "MT", "NV", "NH", "PA",
                        "WA", "ca", " wa "}) {
    INFO(s);
    CHECK(RequiresAllPartyConsent(s));
  }
  for (const char* s : {"NY", "TX", "OR", "NJ", "", "California"}) {
    INFO(s);
    CHECK_FALSE(RequiresAllPartyConsent(s));
  }
}

// numbers.Numbers with only ResolveNumber, checking the caller is a service.
class FakeNumbersService final : public numbers::v1::Numbers::Service {
 public:
  grpc::Status ResolveNumber(grpc::ServerContext* context,
                             const numbers::v1::ResolveNumberRequest* request,
                             numbers::v1::ResolvedNumber* response) override {
    auto p = rpc::PrincipalFromContext(*context);
    if (!p.ok() || p->role != "service") {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "service only");
    }
    if (request->e164() != "+12035550100") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "not an active line");
    }
    response->set_company_id("c1");
    response->set_line_id("line-main");
    response->set_flow_id("main_line");
    response->set_department("office");
    return grpc::Status::OK;
  }
};

TEST_CASE("NumbersClient: ResolveNumber as a service, NOT_FOUND and UNAVAILABLE kept", "[unit]") {
  FakeNumbersService service;
  auto server = switchboard::testing::GrpcTestServer::CreateOrFail({&service});
  NumbersClient client(server->channel(), absl::Seconds(2));
  auto line = client.Resolve("+12035550100");
  REQUIRE(line.ok());
  CHECK(line->company_id == "c1");
  CHECK(line->line_id == "line-main");
  CHECK(line->flow_id == "main_line");
  CHECK(line->department == "office");
  CHECK(client.Resolve("+19995550000").status().code() == absl::StatusCode::kNotFound);
  NumbersClient down(grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
                     absl::Milliseconds(200));
  const absl::StatusCode code = down.Resolve("+12035550100").status().code();
  CHECK((code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded));
}

TEST_CASE("SplitFullName", "[unit]") {
  CHECK(SplitFullName("Mike Torres") == std::make_pair(std::string("Mike"), std::string("Torres")));
  CHECK(SplitFullName("  Mary Ann Smith ") ==
        std::make_pair(std::string("Mary Ann"), std::string("Smith")));
  CHECK(SplitFullName("Cher") == std::make_pair(std::string(), std::string("Cher")));
}

TEST_CASE("DirectoryCache reuses a list for its TTL and keeps the last one when the source fails",
          "[unit]") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  FakeDirectorySource source;
  source.users["c1"] = testing::PowersPeople();
  DirectoryCache cache(source, clock, absl::Seconds(5));
  auto first = cache.Get("c1");
  REQUIRE(first.ok());
  CHECK((*first)->size() == 5);
  REQUIRE(cache.Get("c1").ok());
  CHECK(source.loads == 1);
  clock.Advance(absl::Seconds(6));
  source.fail = true;
  auto stale = cache.Get("c1");
  REQUIRE(stale.ok());  // the last list
  CHECK((*stale)->size() == 5);
  CHECK(source.loads == 2);
  CHECK(cache.Get("c2").status().code() == absl::StatusCode::kUnavailable);
  CHECK(source.loads == 3);
  // The failure is remembered briefly: no second wait on identity within 2 s.
  CHECK(cache.Get("c2").status().code() == absl::StatusCode::kUnavailable);
  CHECK(source.loads == 3);
  clock.Advance(absl::Seconds(3));
  CHECK(cache.Get("c2").status().code() == absl::StatusCode::kUnavailable);
  CHECK(source.loads == 4);
  source.fail = false;
  cache.Invalidate("c1");
  source.users["c1"].pop_back();
  CHECK((*cache.Get("c1"))->size() == 4);
}

namespace {
// A directory source that, while loading, lets the test act as a second, concurrent caller.
class ReentrantDirectory final : public DirectorySource {
 public:
  absl::StatusOr<std::vector<DirectoryUser>> LoadUsers(absl::string_view company_id) override {
    ++loads;
    if (during_load) during_load();
    if (fail) return absl::UnavailableError("identity down");
    return testing::PowersPeople();
  }
  int loads = 0;
  bool fail = false;
  std::function<void()> during_load;
};
}  // namespace

TEST_CASE("DirectoryCache: one caller reloads an expired list, the others keep the old one",
          "[unit]") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  ReentrantDirectory source;
  DirectoryCache cache(source, clock, absl::Seconds(5));
  REQUIRE(cache.Get("c1").ok());
  REQUIRE(source.loads == 1);
  clock.Advance(absl::Seconds(6));
  int concurrent_loads = -1;
  source.during_load = [&] {
    const int before = source.loads;
    auto meanwhile = cache.Get("c1");  // another call while the reload runs
    CHECK(meanwhile.ok());
    concurrent_loads = source.loads - before;
  };
  REQUIRE(cache.Get("c1").ok());
  CHECK(source.loads == 2);
  CHECK(concurrent_loads == 0);  // it got the previous list, no second reload
  // A failed reload does not leave the entry stuck: the next expiry reloads again.
  source.during_load = nullptr;
  clock.Advance(absl::Seconds(6));
  source.fail = true;
  CHECK(cache.Get("c1").ok());  // the last list
  CHECK(source.loads == 3);
  source.fail = false;
  CHECK(cache.Get("c1").ok());
  CHECK(source.loads == 4);
}

namespace {
class FakeGreetings final : public GreetingSource {
 public:
  absl::StatusOr<GreetingUrl> Fetch(absl::string_view company_id,
                                    absl::string_view greeting_id) override {
    ++fetches;
    if (fail) return absl::UnavailableError("media is down");
    if (greeting_id != "g1") return absl::NotFoundError("no such greeting");
    return GreetingUrl{.url = absl::StrCat("https://media/", company_id, "/g1?v=", fetches),
                       .expires_at = expires_at};
  }
  int fetches = 0;
  bool fail = false;
  absl::Time expires_at = absl::InfiniteFuture();
};
}  // namespace

TEST_CASE("GreetingUrlCache: per company, until shortly before expiry; failures briefly",
          "[unit]") {
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  FakeGreetings media;
  media.expires_at = clock.Now() + absl::Minutes(30);
  GreetingUrlCache cache(media, clock, absl::Seconds(30));
  CompanyGreetingUrls c1(&cache, "c1"), c2(&cache, "c2");
  CHECK(*c1.Url("g1") == "https://media/c1/g1?v=1");
  CHECK(*c1.Url("g1") == "https://media/c1/g1?v=1");
  CHECK(*c2.Url("g1") == "https://media/c2/g1?v=2");  // companies never share an entry
  CHECK(media.fetches == 2);
  clock.Advance(absl::Minutes(21));  // within 10 minutes of the expiry: fetched again
  CHECK(*c1.Url("g1") == "https://media/c1/g1?v=3");
  CHECK(c1.Url("nope").status().code() == absl::StatusCode::kNotFound);
  media.fail = true;
  media.expires_at = absl::InfiniteFuture();
  clock.Advance(absl::Hours(2));
  CHECK(c1.Url("g1").status().code() == absl::StatusCode::kUnavailable);
  const int after_failure = media.fetches;
  CHECK(c1.Url("g1").status().code() == absl::StatusCode::kUnavailable);  // remembered
  CHECK(media.fetches == after_failure);
  media.fail = false;
  clock.Advance(absl::Seconds(31));
  CHECK(c1.Url("g1").ok());
  CHECK(media.fetches == after_failure + 1);
  CompanyGreetingUrls none(nullptr, "c1");
  CHECK(none.Url("g1").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("CallDirectory gives each user their own voicemail box", "[unit]") {
  auto users = std::make_shared<const UserList>(testing::PowersPeople());
  const DemoConfig demo = PowersElectricDemo(testing::PowersIds());
  CallDirectory dir(users, demo.boxes);
  auto mike = dir.FindUser("mike");
  REQUIRE(mike.ok());
  REQUIRE(mike->has_value());
  CHECK((*mike)->voicemail_box_id == "vm_mike");
  CHECK((*mike)->softphone == "sp-mike");
  CHECK_FALSE(dir.FindUser("nobody")->has_value());
  CHECK(dir.ListUsers()->size() == 5);
  CallDirectory down(nullptr, demo.boxes);
  CHECK(down.FindUser("mike").status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("SnapshotScheduleOracle: demo hours in New York and the weekly rotation", "[unit]") {
  const DemoConfig demo = PowersElectricDemo(testing::PowersIds());
  auto snap = std::make_shared<CompanySnapshot>();
  snap->company_id = "c1";
  snap->zone = *LoadZone("America/New_York");
  snap->schedules.emplace("office_hours", *CompiledSchedule::Compile(demo.schedule.schedule()));
  snap->rotations.emplace("oncall_techs", demo.rotation.rotation());
  SnapshotScheduleOracle oracle(snap);
  const absl::TimeZone ny = snap->zone;
  // Tuesday 2026-11-17 10:00 EST: open; 18:30: closed; Thanksgiving 2026-11-26 10:00: holiday.
  auto open = oracle.At("office_hours", absl::FromCivil(absl::CivilSecond(2026, 11, 17, 10, 0, 0), ny));
  REQUIRE(open.ok());
  CHECK(open->open);
  auto evening =
      oracle.At("office_hours", absl::FromCivil(absl::CivilSecond(2026, 11, 17, 18, 30, 0), ny));
  CHECK_FALSE(evening->open);
  auto thanksgiving =
      oracle.At("office_hours", absl::FromCivil(absl::CivilSecond(2026, 11, 26, 10, 0, 0), ny));
  CHECK_FALSE(thanksgiving->open);
  CHECK(thanksgiving->reason == "holiday");
  CHECK(oracle.At("nope", absl::Now()).status().code() == absl::StatusCode::kNotFound);
  // Anchor Monday 2026-01-05 = Mike; 45 weeks later (Mon 2026-11-16 07:00) Mike again, then Jake.
  CHECK(*oracle.OnCall("oncall_techs",
                       absl::FromCivil(absl::CivilSecond(2026, 11, 17, 10, 0, 0), ny)) == "mike");
  CHECK(*oracle.OnCall("oncall_techs",
                       absl::FromCivil(absl::CivilSecond(2026, 11, 23, 6, 59, 0), ny)) == "mike");
  CHECK(*oracle.OnCall("oncall_techs",
                       absl::FromCivil(absl::CivilSecond(2026, 11, 23, 7, 0, 0), ny)) == "jake");
}

TEST_CASE("The demo configuration is a valid flow", "[unit]") {
  const DemoConfig demo = PowersElectricDemo(testing::PowersIds());
  v1::FlowBundle bundle;
  *bundle.mutable_flow() = demo.main_flow;
  bundle.mutable_flow()->set_company_id("c1");
  for (const auto& g : demo.groups) *bundle.add_ring_groups() = g;
  for (const auto& b : demo.boxes) *bundle.add_voicemail_boxes() = b;
  ValidationContext ctx;
  ctx.user_ids = {"robert", "sarah", "mike", "jake", "tyler"};
  ctx.schedule_ids = {"office_hours"};
  ctx.rotation_ids = {"oncall_techs"};
  std::vector<ValidationProblem> problems = ValidateFlow(bundle, ctx);
  for (const auto& p : problems) INFO(p.ToString());
  CHECK(problems.empty());
}

}  // namespace
}  // namespace switchboard::routing
