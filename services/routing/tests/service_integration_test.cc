// RoutingCore and RoutingService against real Postgres and Redis (./tools/dev testenv up), with
// fake identity / numbers ports: call state round trip, duplicates, Redis lost mid-call, round
// robin shared by two instances, validation and RBAC over gRPC, history filters and pagination,
// the cache consumer of identity.v1 and numbers.v1 (Kafka).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>

#include <grpcpp/client_context.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/cache/redis_pool.h"
#include "libs/common/clock.h"
#include "libs/common/ids.h"
#include "libs/events/consumer.h"
#include "libs/grpc/principal.h"
#include "libs/testing/testing.h"
#include "services/routing/demo_flow.h"
#include "services/routing/dependencies.h"
#include "services/routing/live_ports.h"
#include "services/routing/pg_store.h"
#include "services/routing/routing_core.h"
#include "services/routing/routing_service.h"
#include "services/routing/tests/service_fakes.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::routing {
namespace {

namespace cv1 = ::switchboard::carrier::v1;
namespace t = ::switchboard::routing::testing;
namespace ev = ::switchboard::events::v1;

const absl::TimeZone kNy = [] { return *LoadZone("America/New_York"); }();
const absl::Time kTuesday10am = absl::FromCivil(absl::CivilSecond(2026, 11, 17, 10, 0, 0), kNy);
const absl::Time kTuesday630pm = absl::FromCivil(absl::CivilSecond(2026, 11, 17, 18, 30, 0), kNy);
constexpr char kMain[] = "+12035550100";
constexpr char kMikeLine[] = "+12035550103";
constexpr char kTechs[] = "+12035550150";

// One routing process: its caches and core over shared Postgres / Redis.
struct Instance {
  Instance(db::Pool& pool, cache::RedisPool& redis, t::FakeNumbers& numbers,
           t::FakeDirectorySource& dir, t::FakeCompanies& companies, const Clock& clock,
           bool async_commit = false, CallControl* call_control = nullptr)
      : store(pool, "calls.v1", async_commit),
        calls(redis, absl::Hours(2)),
        directory(dir, clock, absl::Seconds(5)),
        config(store, companies, clock, absl::Seconds(5)),
        core(store, calls, redis, numbers, directory, config, clock,
             RoutingCoreOptions{.call_control = call_control}) {}
  PgStore store;
  CallStateCache calls;
  DirectoryCache directory;
  ConfigCache config;
  RoutingCore core;
};

struct Env {
  std::unique_ptr<switchboard::testing::PgTestSchema> pg =
      switchboard::testing::PgTestSchema::CreateOrFail();
  std::unique_ptr<switchboard::testing::RedisTestNamespace> ns =
      switchboard::testing::RedisTestNamespace::CreateOrFail();
  std::unique_ptr<cache::RedisPool> redis;
  FakeClock clock{kTuesday10am};
  t::FakeNumbers numbers;
  t::FakeDirectorySource dir;
  t::FakeCompanies companies;
  t::FakeCallControl carrier_ops;
  std::string company = "c-" + switchboard::testing::RandomSuffix();
  rpc::Principal owner{.company_id = company, .user_id = "robert", .role = "owner"};
  rpc::Principal carrier{.company_id = company, .role = "service"};
  std::unique_ptr<Instance> a;

  Env() {
    REQUIRE(MigrateRouting(pg->pool()).ok());
    auto r = cache::RedisPool::Create({.url = ns->url(), .key_prefix = ns->prefix()});
    REQUIRE(r.ok());
    redis = std::move(*r);
    dir.users[company] = t::PowersPeople();
    companies.zones[company] = "America/New_York";
    a = NewInstance(*redis);
    numbers.Add(kMain, ResolvedLine{.company_id = company, .line_id = "line-main",
                                    .flow_id = "main_line"});
    numbers.Add(kMikeLine, ResolvedLine{.company_id = company, .line_id = "line-mike",
                                        .assigned_user_id = "mike"});
    numbers.Add(kTechs, ResolvedLine{.company_id = company, .line_id = "line-techs",
                                     .flow_id = "techs"});
    SeedDemo();
  }
  std::unique_ptr<Instance> NewInstance(cache::RedisPool& r, bool async_commit = false) {
    return std::make_unique<Instance>(pg->pool(), r, numbers, dir, companies, clock,
                                      async_commit, &carrier_ops);
  }

  void SeedDemo() {
    const DemoConfig demo = PowersElectricDemo(t::PowersIds());
    RoutingCore& core = a->core;
    REQUIRE(core.SaveSchedule(owner, demo.schedule).ok());
    REQUIRE(core.SaveOnCallRotation(owner, demo.rotation).ok());
    for (const auto& b : demo.boxes) REQUIRE(core.SaveVoicemailBox(owner, b).ok());
    for (const auto& g : demo.groups) REQUIRE(core.SaveRingGroup(owner, g).ok());
    v1::SaveFlowRequest req;
    *req.mutable_flow() = demo.main_flow;
    auto saved = core.SaveFlow(owner, req);
    REQUIRE(saved.ok());
    CHECK(saved->version() == 1);
    // A flow whose only choice is the round-robin "All techs" group.
    v1::SaveFlowRequest techs;
    v1::Flow* f = techs.mutable_flow();
    f->set_id("techs");
    f->set_name("Techs line");
    f->set_default_voicemail_box_id("vm_company");
    v1::Menu* m = f->mutable_menus()->add_menus();
    f->mutable_menus()->set_business_hours_menu_id("m");
    m->set_id("m");
    m->mutable_greeting()->set_text("Technicians. Press 1.");
    m->set_max_attempts(1);
    v1::KeyBinding* k = m->add_keys();
    k->set_key("1");
    k->mutable_action()->set_ring_group_id("all_techs");
    m->mutable_default_action()->set_ring_group_id("all_techs");
    auto saved_techs = core.SaveFlow(owner, techs);
    INFO(saved_techs.status().ToString());
    REQUIRE(saved_techs.ok());
  }

  cv1::CallInstructions Send(const cv1::CarrierEvent& e, Instance* via = nullptr) {
    v1::HandleCallEventRequest req;
    *req.mutable_event() = e;
    auto out = (via != nullptr ? via : a.get())->core.HandleCallEvent(carrier, req);
    INFO(out.status().ToString());
    REQUIRE(out.ok());
    return out->instructions();
  }

  // The calls.v1 events in the outbox, oldest first.
  std::vector<events::v1::Event> OutboxEvents() {
    std::vector<events::v1::Event> out;
    REQUIRE(pg->pool()
                .Unscoped([&](pqxx::work& tx) -> absl::Status {
                  for (const auto& row : tx.exec("SELECT payload FROM outbox ORDER BY seq")) {
                    pqxx::binarystring b(row[0]);
                    REQUIRE(out.emplace_back().ParseFromString(b.str()));
                  }
                  return absl::OkStatus();
                })
                .ok());
    return out;
  }
  // The voicemail_left event (there must be exactly one).
  events::v1::VoicemailLeft OnlyVoicemailLeft() {
    std::vector<events::v1::VoicemailLeft> found;
    for (const events::v1::Event& e : OutboxEvents()) {
      if (e.has_voicemail_left()) found.push_back(e.voicemail_left());
    }
    REQUIRE(found.size() == 1);
    return found[0];
  }
  std::vector<std::string> OutboxTypes() {
    std::vector<std::string> types;
    REQUIRE(pg->pool()
                .Unscoped([&](pqxx::work& tx) -> absl::Status {
                  for (const auto& row : tx.exec("SELECT payload FROM outbox ORDER BY seq")) {
                    pqxx::binarystring b(row[0]);
                    events::v1::Event e;
                    REQUIRE(e.ParseFromString(b.str()));
                    types.push_back(e.type());
                  }
                  return absl::OkStatus();
                })
                .ok());
    return types;
  }

  v1::CallRecord OnlyCall() {
    auto list = a->core.ListCalls(owner, v1::ListCallsRequest());
    REQUIRE(list.ok());
    REQUIRE(list->calls_size() == 1);
    auto call = a->core.GetCall(owner, [&] {
      v1::GetCallRequest r;
      r.set_call_id(list->calls(0).id());
      return r;
    }());
    REQUIRE(call.ok());
    return *call;
  }
};

bool HasGather(const cv1::CallInstructions& set) {
  for (const auto& i : set.instructions()) {
    if (i.has_gather()) return true;
  }
  return false;
}
std::vector<std::string> DialNumbers(const cv1::CallInstructions& set) {
  std::vector<std::string> out;
  for (const auto& i : set.instructions()) {
    if (!i.has_dial()) continue;
    for (const auto& target : i.dial().targets()) {
      if (target.target_case() == cv1::DialTarget::kNumber) out.push_back(target.number());
    }
  }
  return out;
}
bool HasRecord(const cv1::CallInstructions& set) {
  for (const auto& i : set.instructions()) {
    if (i.has_record()) return true;
  }
  return false;
}
std::string PathText(const v1::CallRecord& row) {
  std::string out;
  for (const v1::PathEntry& p : row.path()) absl::StrAppend(&out, p.text(), " | ");
  return out;
}
size_t Count(const std::vector<std::string>& v, const std::string& x) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), x));
}

TEST_CASE("a call to the main line: press 1, Sarah answers; call log row and calls.v1 events",
          "[integration]") {
  Env env;
  cv1::CallInstructions greeting = env.Send(t::Incoming("CA1", kMain));
  CHECK(HasGather(greeting));
  CHECK_FALSE(greeting.id().empty());
  cv1::CallInstructions dial = env.Send(t::Digits("CA1", "d1", "1"));
  CHECK(dial.id() != greeting.id());
  CHECK(DialNumbers(dial) == std::vector<std::string>{"+19175558802"});
  env.clock.Advance(absl::Seconds(40));
  env.Send(t::Dial("CA1", "r1", cv1::DIAL_ANSWERED, 30));
  env.Send(t::Completed("CA1", "c1", 45));

  v1::CallRecord call = env.OnlyCall();
  CHECK(call.status() == v1::COMPLETED);
  CHECK(call.answered_by() == "sarah");
  CHECK(call.direction() == v1::DIRECTION_INBOUND);
  CHECK(call.to() == kMain);
  CHECK(call.line_id() == "line-main");
  CHECK(call.flow_id() == "main_line");
  CHECK(call.flow_version() == 1);
  CHECK(call.call_key() == "CA1");
  CHECK(call.has_ended_at());
  CHECK(call.has_answered_at());
  CHECK(call.path_size() >= 4);
  CHECK(std::find(call.user_ids().begin(), call.user_ids().end(), "sarah") !=
        call.user_ids().end());

  const std::vector<std::string> types = env.OutboxTypes();
  CHECK(Count(types, "calls.call_started") == 1);
  CHECK(Count(types, "calls.call_ringing") == 1);
  CHECK(Count(types, "calls.call_answered") == 1);
  CHECK(Count(types, "calls.call_ended") == 1);
  CHECK(types.front() == "calls.call_started");
  CHECK(types.back() == "calls.call_ended");

  // After the end: an empty set, and nothing changes.
  cv1::CallInstructions late = env.Send(t::Digits("CA1", "late", "2"));
  CHECK(late.instructions().empty());
  CHECK(env.OutboxTypes().size() == types.size());
}

TEST_CASE("a duplicate event changes nothing, with or without its Redis copy", "[integration]") {
  Env env;
  env.Send(t::Incoming("CA2", kMain));
  cv1::CallInstructions first = env.Send(t::Digits("CA2", "d1", "1"));
  const size_t events = env.OutboxTypes().size();
  cv1::CallInstructions again = env.Send(t::Digits("CA2", "d1", "1"));
  CHECK(again.id() == first.id());
  CHECK(again.SerializeAsString() == first.SerializeAsString());
  // A redelivered CallIncoming and a status callback (PromptEnded) answer the current set.
  CHECK(env.Send(t::Incoming("CA2", kMain)).id() == first.id());
  cv1::CarrierEvent prompt = t::TwilioEvent("CA2", "p1");
  prompt.mutable_prompt_ended();
  CHECK(env.Send(prompt).id() == first.id());
  // Redis loses the state; the duplicate is still recognised (Postgres has the state and key).
  REQUIRE(env.redis->Del({"call:CA2"}).ok());
  CHECK(env.Send(t::Digits("CA2", "d1", "1")).id() == first.id());
  CHECK(env.OutboxTypes().size() == events);
  CHECK(Count(env.OutboxTypes(), "calls.call_ringing") == 1);
  // A redelivered CallIncoming after Redis lost the state: the stored call answers it (no new
  // call, no events), and the state is cached again.
  REQUIRE(env.redis->Del({"call:CA2"}).ok());
  CHECK(env.Send(t::Incoming("CA2", kMain)).id() == first.id());
  CHECK(env.OutboxTypes().size() == events);
  CHECK(env.a->calls.Get("CA2").has_value());
}

TEST_CASE("applied event keys older than the retention are pruned", "[integration]") {
  Env env;
  env.Send(t::Incoming("CA7", kMain));
  env.Send(t::Digits("CA7", "d1", "1"));
  env.Send(t::Digits("CA7", "d1", "1"));  // a duplicate: still one key
  auto keys = [&] {
    auto n = env.pg->pool().UnscopedOr<int64_t>([](pqxx::work& tx) -> absl::StatusOr<int64_t> {
      return tx.exec1("SELECT count(*) FROM call_event_keys")[0].as<int64_t>();
    });
    REQUIRE(n.ok());
    return *n;
  };
  REQUIRE(keys() == 1);
  auto none = env.a->store.PruneEventKeys(env.clock.Now() - absl::Hours(1));
  REQUIRE(none.ok());
  CHECK(*none == 0);
  CHECK(keys() == 1);
  // In batches smaller than the table: every old row goes.
  env.clock.Advance(absl::Minutes(1));
  env.Send(t::Dial("CA7", "x1", cv1::DIAL_ANSWERED, 30));
  REQUIRE(keys() == 2);
  auto pruned = env.a->store.PruneEventKeys(env.clock.Now() + absl::Seconds(1), /*limit=*/1);
  REQUIRE(pruned.ok());
  CHECK(*pruned == 2);
  CHECK(keys() == 0);
}

TEST_CASE("Redis flushed mid-call: the call continues from Postgres", "[integration]") {
  Env env;
  env.Send(t::Incoming("CA3", kMain));
  REQUIRE(env.redis->Del({"call:CA3"}).ok());
  cv1::CallInstructions dial = env.Send(t::Digits("CA3", "d1", "0"));  // operator: Office group
  std::vector<std::string> numbers = DialNumbers(dial);
  std::sort(numbers.begin(), numbers.end());
  CHECK(numbers == std::vector<std::string>{"+19175558801", "+19175558802"});
  // And with Redis unreachable altogether (another instance on a dead Redis).
  auto dead = cache::RedisPool::Create({.url = "redis://127.0.0.1:1",
                                        .connect_timeout = absl::Milliseconds(50)});
  REQUIRE(dead.ok());
  auto b = env.NewInstance(**dead);
  cv1::CallInstructions after = env.Send(t::Dial("CA3", "r1", cv1::DIAL_NO_ANSWER), b.get());
  CHECK(HasRecord(after));  // nobody answered: the company voicemail box
  env.Send(t::Recording("CA3", "rec1"), b.get());
  env.Send(t::Completed("CA3", "c1"), b.get());
  v1::CallRecord call = env.OnlyCall();
  CHECK(call.status() == v1::VOICEMAIL);
  CHECK(call.voicemail_box_id() == "vm_company");
  CHECK(call.recording_id() == "RECA3");
  CHECK(Count(env.OutboxTypes(), "calls.voicemail_left") == 1);
  const events::v1::VoicemailLeft left = env.OnlyVoicemailLeft();
  REQUIRE(left.has_box_owner_user_id());
  CHECK(left.box_owner_user_id().empty());  // the company box: the team inbox
}

TEST_CASE("round robin rotates across calls handled by two instances", "[integration]") {
  Env env;
  auto b = env.NewInstance(*env.redis, /*async_commit=*/true);  // the other commit mode too
  std::vector<std::string> first_rung;
  for (int i = 0; i < 3; ++i) {
    Instance* via = i % 2 == 0 ? env.a.get() : b.get();
    const std::string sid = absl::StrCat("CA-rr-", i);
    env.Send(t::Incoming(sid, kTechs), via);
    cv1::CallInstructions dial = env.Send(t::Digits(sid, "d1", "1"), via);
    std::vector<std::string> numbers = DialNumbers(dial);
    REQUIRE(numbers.size() == 1);  // round robin rings one member at a time
    first_rung.push_back(numbers[0]);
  }
  CHECK(first_rung ==
        std::vector<std::string>{"+19175558822", "+19175558804", "+19175558805"});
}

TEST_CASE("after hours: the after-hours menu, then voicemail; press 1 rings the on-call tech",
          "[integration]") {
  Env env;
  env.clock.Set(kTuesday630pm);
  cv1::CallInstructions greeting = env.Send(t::Incoming("CA4", kMain));
  bool after_hours_text = false;
  for (const auto& i : greeting.instructions()) {
    if (i.has_gather()) {
      for (const auto& p : i.gather().prompts()) {
        if (absl::StrContains(p.say().text(), "Our office hours")) after_hours_text = true;
      }
    }
    if (i.has_say() && absl::StrContains(i.say().text(), "Our office hours")) {
      after_hours_text = true;
    }
  }
  CHECK(after_hours_text);
  CHECK(HasRecord(env.Send(t::Digits("CA4", "d1", ""))));

  cv1::CallInstructions on_call = [&] {
    env.Send(t::Incoming("CA5", kMain));
    return env.Send(t::Digits("CA5", "d1", "1"));
  }();
  CHECK(DialNumbers(on_call) == std::vector<std::string>{"+19175558822"});  // Mike's week
}

TEST_CASE("a direct line without a flow rings its user, then the user's box", "[integration]") {
  Env env;
  cv1::CallInstructions ring = env.Send(t::Incoming("CA6", kMikeLine));
  CHECK(DialNumbers(ring) == std::vector<std::string>{"+19175558822"});
  CHECK(HasRecord(env.Send(t::Dial("CA6", "r1", cv1::DIAL_NO_ANSWER))));
  env.Send(t::Recording("CA6", "rec"));
  env.Send(t::Completed("CA6", "c"));
  v1::CallRecord call = env.OnlyCall();
  CHECK(call.status() == v1::VOICEMAIL);
  CHECK(call.voicemail_box_id() == "vm_mike");
  CHECK(call.line_id() == "line-mike");
  // Media learns from the event whose inbox the message belongs to.
  const events::v1::VoicemailLeft left = env.OnlyVoicemailLeft();
  CHECK(left.voicemail_box_id() == "vm_mike");
  REQUIRE(left.has_box_owner_user_id());
  CHECK(left.box_owner_user_id() == "mike");
}

TEST_CASE("unknown calls and numbers are answered, never silent", "[integration]") {
  Env env;
  cv1::CallInstructions unknown = env.Send(t::Digits("CA-x", "d", "1"));
  REQUIRE(unknown.instructions_size() == 2);
  CHECK(unknown.instructions(1).has_hangup());
  CHECK(env.Send(t::Completed("CA-y", "c")).instructions().empty());
  v1::HandleCallEventRequest req;
  *req.mutable_event() = t::Incoming("CA-z", "+19995550000");
  // Not a line: NOT_FOUND, and the carrier answers the call itself.
  CHECK(env.a->core.HandleCallEvent(env.carrier, req).status().code() ==
        absl::StatusCode::kNotFound);
  env.numbers.fail = true;
  *req.mutable_event() = t::Incoming("CA-w", kMain);
  CHECK(env.a->core.HandleCallEvent(env.carrier, req).status().code() ==
        absl::StatusCode::kUnavailable);
}

TEST_CASE("call history: filters, pagination, a tech's own calls, notes", "[integration]") {
  Env env;
  // 1: completed with Sarah; 2: voicemail after hours; 3: Mike's line, voicemail.
  env.Send(t::Incoming("H1", kMain));
  env.Send(t::Digits("H1", "d", "1"));
  env.Send(t::Dial("H1", "r", cv1::DIAL_ANSWERED, 20));
  env.Send(t::Completed("H1", "c"));
  env.clock.Advance(absl::Minutes(1));
  env.Send(t::Incoming("H2", kMain));
  env.Send(t::Digits("H2", "d", "4"));  // hours info, back to the menu
  env.Send(t::Digits("H2", "d2", "0"));
  env.Send(t::Dial("H2", "r", cv1::DIAL_NO_ANSWER));
  env.Send(t::Recording("H2", "rec"));
  env.Send(t::Completed("H2", "c"));
  env.clock.Advance(absl::Minutes(1));
  env.Send(t::Incoming("H3", kMikeLine));
  env.Send(t::Dial("H3", "r", cv1::DIAL_NO_ANSWER));
  env.Send(t::Recording("H3", "rec"));
  env.Send(t::Completed("H3", "c"));

  v1::ListCallsRequest page;
  page.set_page_size(2);
  auto p1 = env.a->core.ListCalls(env.owner, page);
  REQUIRE(p1.ok());
  REQUIRE(p1->calls_size() == 2);
  CHECK(p1->calls(0).call_key() == "H3");  // newest first
  CHECK(p1->calls(1).call_key() == "H2");
  REQUIRE_FALSE(p1->next_page_token().empty());
  page.set_page_token(p1->next_page_token());
  auto p2 = env.a->core.ListCalls(env.owner, page);
  REQUIRE(p2.ok());
  REQUIRE(p2->calls_size() == 1);
  CHECK(p2->calls(0).call_key() == "H1");
  CHECK(p2->next_page_token().empty());

  v1::ListCallsRequest vm;
  vm.set_status(v1::VOICEMAIL);
  CHECK(env.a->core.ListCalls(env.owner, vm)->calls_size() == 2);
  v1::ListCallsRequest by_line;
  by_line.set_number(kMikeLine);
  CHECK(env.a->core.ListCalls(env.owner, by_line)->calls_size() == 1);
  v1::ListCallsRequest search;
  search.set_search("555-0199");
  CHECK(env.a->core.ListCalls(env.owner, search)->calls_size() == 3);
  v1::ListCallsRequest sarah;
  sarah.set_user_id("sarah");
  CHECK(env.a->core.ListCalls(env.owner, sarah)->calls_size() == 2);  // H1 answered, H2 rung
  v1::ListCallsRequest window;
  *window.mutable_started_after() = p1->calls(1).started_at();
  CHECK(env.a->core.ListCalls(env.owner, window)->calls_size() == 2);
  v1::ListCallsRequest bad;
  bad.set_page_token("garbage");
  CHECK(env.a->core.ListCalls(env.owner, bad).status().code() ==
        absl::StatusCode::kInvalidArgument);

  rpc::Principal mike{.company_id = env.company, .user_id = "mike", .role = "tech"};
  rpc::Principal jake{.company_id = env.company, .user_id = "jake", .role = "tech"};
  auto mine = env.a->core.ListCalls(mike, v1::ListCallsRequest());
  REQUIRE(mine.ok());
  REQUIRE(mine->calls_size() == 1);
  CHECK(mine->calls(0).call_key() == "H3");
  CHECK(env.a->core.ListCalls(jake, v1::ListCallsRequest())->calls_size() == 0);

  v1::AddCallNoteRequest note;
  note.set_call_id(mine->calls(0).id());
  note.set_text("Customer wants a quote for a panel upgrade.");
  REQUIRE(env.a->core.AddCallNote(mike, note).ok());
  CHECK(env.a->core.AddCallNote(jake, note).status().code() == absl::StatusCode::kNotFound);
  v1::GetCallRequest get;
  get.set_call_id(mine->calls(0).id());
  auto got = env.a->core.GetCall(env.owner, get);
  REQUIRE(got.ok());
  REQUIRE(got->notes_size() == 1);
  CHECK(got->notes(0).author_user_id() == "mike");
  CHECK(env.a->core.GetCall(jake, get).status().code() == absl::StatusCode::kNotFound);
  rpc::Principal other{.company_id = "another", .user_id = "x", .role = "owner"};
  CHECK(env.a->core.GetCall(other, get).status().code() == absl::StatusCode::kNotFound);
}

bool DialRecords(const cv1::CallInstructions& set) {
  for (const auto& i : set.instructions()) {
    if (i.has_dial()) return i.dial().record();
  }
  return false;
}

TEST_CASE("recording policy: owner only, recorded dials, consent announcement in CT",
          "[integration]") {
  Env env;
  env.companies.states[env.company] = "CT";
  env.a->config.Invalidate(env.company);
  rpc::Principal admin{.company_id = env.company, .user_id = "x", .role = "admin"};
  rpc::Principal tech{.company_id = env.company, .user_id = "mike", .role = "tech"};
  v1::RecordingPolicy all;
  all.set_mode(v1::RECORDING_ALL);
  CHECK(env.a->core.SetRecordingPolicy(admin, all).status().code() ==
        absl::StatusCode::kPermissionDenied);
  v1::RecordingPolicy bogus;
  bogus.set_mode(static_cast<v1::RecordingMode>(42));
  CHECK(env.a->core.SetRecordingPolicy(env.owner, bogus).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto view = env.a->core.SetRecordingPolicy(env.owner, all);
  REQUIRE(view.ok());
  CHECK(view->policy().mode() == v1::RECORDING_ALL);
  CHECK(view->company_state() == "CT");
  CHECK(view->consent_announcement_required());
  CHECK(env.a->core.GetRecordingPolicy(tech).status().code() ==
        absl::StatusCode::kPermissionDenied);

  cv1::CallInstructions first = env.Send(t::Incoming("CR1", kMain));
  REQUIRE(first.instructions_size() >= 2);
  CHECK(first.instructions(0).say().text() == kDefaultConsentAnnouncement);
  // A redelivery replays the same set, announcement included.
  CHECK(env.Send(t::Incoming("CR1", kMain)).SerializeAsString() == first.SerializeAsString());
  CHECK(DialRecords(env.Send(t::Digits("CR1", "d", "1"))));

  v1::RecordingPolicy off;
  off.set_mode(v1::RECORDING_OFF);
  REQUIRE(env.a->core.SetRecordingPolicy(env.owner, off).ok());
  cv1::CallInstructions plain = env.Send(t::Incoming("CR2", kMain));
  CHECK(plain.instructions(0).say().text() != kDefaultConsentAnnouncement);
  cv1::CallInstructions dial = env.Send(t::Digits("CR2", "d", "1"));
  CHECK_FALSE(DialNumbers(dial).empty());
  CHECK_FALSE(DialRecords(dial));

  // New York (one-party consent): recorded, no announcement.
  env.companies.states[env.company] = "NY";
  v1::RecordingPolicy inbound;
  inbound.set_mode(v1::RECORDING_INBOUND_ONLY);
  auto ny = env.a->core.SetRecordingPolicy(env.owner, inbound);
  REQUIRE(ny.ok());
  CHECK_FALSE(ny->consent_announcement_required());
  cv1::CallInstructions ny_first = env.Send(t::Incoming("CR3", kMain));
  CHECK(ny_first.instructions(0).say().text() != kDefaultConsentAnnouncement);
  CHECK(DialRecords(env.Send(t::Digits("CR3", "d", "1"))));
}

// The caller ID of every Dial in a set ("" when none).
std::string DialCallerId(const cv1::CallInstructions& set) {
  for (const auto& i : set.instructions()) {
    if (i.has_dial()) return i.dial().caller_id();
  }
  return "";
}

// A transfer or recording request for `call_id`.
v1::TransferCallRequest TransferTo(const std::string& call_id, const std::string& user_id) {
  v1::TransferCallRequest r;
  r.set_call_id(call_id);
  r.set_user_id(user_id);
  return r;
}
v1::CallRecordingRequest RecordingOf(const std::string& call_id) {
  v1::CallRecordingRequest r;
  r.set_call_id(call_id);
  return r;
}

TEST_CASE("blind transfer: stored, then the carrier instructed; stale results of the dropped "
          "leg change nothing; the carrier's failure is undone", "[integration]") {
  Env env;
  rpc::Principal sarah{.company_id = env.company, .user_id = "sarah", .role = "office"};
  rpc::Principal mike{.company_id = env.company, .user_id = "mike", .role = "tech"};
  rpc::Principal jake{.company_id = env.company, .user_id = "jake", .role = "tech"};
  env.Send(t::Incoming("CT1", kMain));
  cv1::CallInstructions to_sarah = env.Send(t::Digits("CT1", "d1", "1"));
  v1::CallRecord call = env.OnlyCall();
  // Not connected yet.
  CHECK(env.a->core.TransferCall(sarah, TransferTo(call.id(), "mike")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  env.Send(t::Dial("CT1", "r1", cv1::DIAL_ANSWERED, 0));

  // Bad input and access.
  v1::TransferCallRequest none;
  none.set_call_id(call.id());
  CHECK(env.a->core.TransferCall(sarah, none).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(env.a->core.TransferCall(sarah, TransferTo("", "mike")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(env.a->core.TransferCall(sarah, TransferTo("0190a1b2-0000-7000-8000-000000000000", "mike"))
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(env.a->core.TransferCall(jake, TransferTo(call.id(), "mike")).status().code() ==
        absl::StatusCode::kPermissionDenied);  // a tech who is not on the call
  CHECK(env.a->core.TransferCall(sarah, TransferTo(call.id(), "nobody")).status().code() ==
        absl::StatusCode::kNotFound);
  rpc::Principal other{.company_id = "c-other", .user_id = "x", .role = "owner"};
  CHECK(env.a->core.TransferCall(other, TransferTo(call.id(), "mike")).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(env.carrier_ops.instructed.empty());

  // The carrier fails: the call stays connected to Sarah, the failure is on the path.
  env.carrier_ops.fail = absl::UnavailableError("carrier down");
  CHECK(env.a->core.TransferCall(sarah, TransferTo(call.id(), "mike")).status().code() ==
        absl::StatusCode::kUnavailable);
  env.carrier_ops.fail = absl::OkStatus();
  REQUIRE(env.carrier_ops.instructed.size() == 1);
  call = env.OnlyCall();
  CHECK(call.path(call.path_size() - 1).text() == "transfer failed: carrier down");
  // Still connected: a retry goes through.
  absl::StatusOr<v1::CallRecord> moved = env.a->core.TransferCall(sarah, TransferTo(call.id(), "mike"));
  INFO(moved.status().ToString());
  REQUIRE(moved.ok());
  REQUIRE(env.carrier_ops.instructed.size() == 2);
  const auto& sent = env.carrier_ops.instructed[1];
  CHECK(sent.company_id == env.company);
  CHECK(sent.call_id == "CT1");  // the caller's leg
  CHECK(DialNumbers(sent.instructions) == std::vector<std::string>{"+19175558822"});
  bool transfer_entry = false;
  for (const v1::PathEntry& e : moved->path()) {
    if (e.kind() == v1::PATH_TRANSFER) {
      transfer_entry = true;
      CHECK(e.text() == "transferred by Sarah Johnson to Mike Torres");
    }
  }
  CHECK(transfer_entry);

  // The dropped leg's result (the old set) is stale: the transfer's set is replayed.
  v1::HandleCallEventRequest stale;
  *stale.mutable_event() = t::Dial("CT1", "r-old", cv1::DIAL_ANSWERED, 20);
  stale.set_current_instructions_id(to_sarah.id());
  auto replay = env.a->core.HandleCallEvent(env.carrier, stale);
  REQUIRE(replay.ok());
  CHECK(replay->replayed());
  CHECK(replay->instructions().id() == sent.instructions.id());
  CHECK(env.OnlyCall().answered_by() == "sarah");

  // Mike answers the transfer; he may now control the call himself.
  v1::HandleCallEventRequest answered;
  *answered.mutable_event() = t::Dial("CT1", "r2", cv1::DIAL_ANSWERED, 0);
  answered.set_current_instructions_id(sent.instructions.id());
  auto took = env.a->core.HandleCallEvent(env.carrier, answered);
  REQUIRE(took.ok());
  CHECK_FALSE(took->replayed());
  CHECK(env.OnlyCall().answered_by() == "mike");
  CHECK(env.a->core.TransferCall(sarah, TransferTo(call.id(), "mike")).status().code() ==
        absl::StatusCode::kFailedPrecondition);  // already connected to Mike
  v1::TransferCallRequest to_box;
  to_box.set_call_id(call.id());
  to_box.set_voicemail_box_id("vm_company");
  REQUIRE(env.a->core.TransferCall(mike, to_box).ok());
  env.Send(t::Recording("CT1", "rec1"));
  env.Send(t::Completed("CT1", "c1", 90));
  call = env.OnlyCall();
  CHECK(call.status() == v1::COMPLETED);
  CHECK(call.answered_by() == "mike");
  CHECK(call.voicemail_box_id() == "vm_company");
  CHECK(std::find(call.user_ids().begin(), call.user_ids().end(), "mike") != call.user_ids().end());
  const std::vector<std::string> types = env.OutboxTypes();
  CHECK(Count(types, "calls.call_answered") == 2);  // Sarah, then Mike
  CHECK(Count(types, "calls.voicemail_left") == 1);
  // The flow; the failed transfer and its failure; the two transfers.
  CHECK(Count(types, "calls.call_routed") == 5);
  bool failure_told = false;
  for (const events::v1::Event& e : env.OutboxEvents()) {
    failure_told = failure_told || (e.has_call_routed() &&
                                    e.call_routed().detail() == "transfer failed: carrier down");
  }
  CHECK(failure_told);
  // An ended call cannot be transferred.
  CHECK(env.a->core.TransferCall(sarah, TransferTo(call.id(), "jake")).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

cv1::CarrierEvent ConferenceEvent(const std::string& conference, const std::string& key,
                                  cv1::ConferenceUpdate::Kind kind, const std::string& leg) {
  cv1::CarrierEvent e = t::TwilioEvent(leg, key);
  e.mutable_conference_update()->set_conference(conference);
  e.mutable_conference_update()->set_kind(kind);
  e.mutable_conference_update()->set_leg(leg);
  return e;
}

TEST_CASE("conference: hold moves the call into it; warm transfer to Mike; participants on the "
          "log; events found by the conference name", "[integration]") {
  Env env;
  rpc::Principal sarah{.company_id = env.company, .user_id = "sarah", .role = "office"};
  rpc::Principal mike{.company_id = env.company, .user_id = "mike", .role = "tech"};
  env.Send(t::Incoming("CF1", kMain));
  env.Send(t::Digits("CF1", "d1", "1"));
  cv1::CarrierEvent answered = t::Dial("CF1", "r1", cv1::DIAL_ANSWERED, 0);
  answered.mutable_dial_result()->set_dialed_call_id("CAsarah");
  env.Send(answered);
  const std::string id = env.OnlyCall().id();
  v1::LiveCallRequest live;
  live.set_call_id(id);

  auto held = env.a->core.HoldCall(sarah, live, true);
  INFO(held.status().ToString());
  REQUIRE(held.ok());
  REQUIRE(env.carrier_ops.conference_ops.size() == 2);
  const auto& move = env.carrier_ops.conference_ops[0].request;
  CHECK(move.action() == cv1::ConferenceControlRequest::MOVE_BRIDGE);
  CHECK(move.call_id() == "CF1");
  const std::string conference = "sb-" + id;
  CHECK(move.conference() == conference);
  const auto& hold = env.carrier_ops.conference_ops[1].request;
  CHECK(hold.action() == cv1::ConferenceControlRequest::HOLD);
  CHECK(hold.leg() == "CF1");
  REQUIRE(held->participants_size() == 2);
  CHECK(held->participants(0).on_hold());
  CHECK(held->participants(1).user_id() == "sarah");

  // Twilio asks for the caller's instructions when Sarah's leg leaves the Dial: the conference.
  v1::HandleCallEventRequest dial_end;
  *dial_end.mutable_event() = t::Dial("CF1", "r-end", cv1::DIAL_ANSWERED, 10);
  dial_end.set_current_instructions_id("stale-set");
  auto joined = env.a->core.HandleCallEvent(env.carrier, dial_end);
  REQUIRE(joined.ok());
  REQUIRE(joined->instructions().instructions_size() == 1);
  CHECK(joined->instructions().instructions(0).dial().targets(0).conference().name() ==
        conference);
  // The conference Dial is never recorded through Dial.record (recording is per call).

  REQUIRE(env.a->core.HoldCall(sarah, live, false).ok());
  v1::AddParticipantRequest to_mike;
  to_mike.set_call_id(id);
  to_mike.set_user_id("mike");
  auto consulting = env.a->core.AddParticipant(sarah, to_mike, /*warm_transfer=*/true);
  INFO(consulting.status().ToString());
  REQUIRE(consulting.ok());
  const auto& add = env.carrier_ops.conference_ops.back().request;
  CHECK(add.action() == cv1::ConferenceControlRequest::ADD);
  CHECK(add.to() == "client:sp-mike");
  CHECK(add.from() == kMain);
  const std::string mike_leg = "CAadd" + std::to_string(env.carrier_ops.conference_ops.size());
  REQUIRE(consulting->participants_size() == 3);
  CHECK(consulting->participants(2).leg() == mike_leg);
  CHECK(consulting->participants(2).status() == v1::Participant::RINGING);
  // Completing before Mike joined is refused.
  CHECK(env.a->core.FinishWarmTransfer(sarah, live, true).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // The carrier reports Mike joining; the call is found by the conference's name.
  env.Send(ConferenceEvent(conference, "j1", cv1::ConferenceUpdate::JOINED, mike_leg));
  // An event of a conference that is not a call's changes nothing.
  env.Send(ConferenceEvent("other", "j2", cv1::ConferenceUpdate::JOINED, mike_leg));
  // Mike is a participant now: he may control the call (a tech).
  auto done = env.a->core.FinishWarmTransfer(mike, live, true);
  INFO(done.status().ToString());
  REQUIRE(done.ok());
  CHECK(done->answered_by() == "mike");
  const auto& ops = env.carrier_ops.conference_ops;
  CHECK(ops[ops.size() - 2].request.action() == cv1::ConferenceControlRequest::REMOVE);
  CHECK(ops[ops.size() - 2].request.leg() == "CAsarah");
  CHECK(ops.back().request.action() == cv1::ConferenceControlRequest::UNHOLD);
  env.Send(ConferenceEvent(conference, "l1", cv1::ConferenceUpdate::LEFT, "CAsarah"));
  env.Send(t::Completed("CF1", "c1", 120));
  v1::CallRecord call = env.OnlyCall();
  CHECK(call.status() == v1::COMPLETED);
  CHECK(call.answered_by() == "mike");
  CHECK(call.participants_size() == 0);  // ended: no live participants
  CHECK(absl::StrContains(PathText(call), "warm transfer by Sarah Johnson completed: Mike Torres "
                                          "takes the call"));
  CHECK(absl::StrContains(PathText(call), "Mike Torres joined"));
  const std::vector<std::string> types = env.OutboxTypes();
  CHECK(Count(types, "calls.call_answered") == 2);
}

TEST_CASE("on-demand recording: policy, start/stop at the carrier, the recording on the log",
          "[integration]") {
  Env env;
  rpc::Principal sarah{.company_id = env.company, .user_id = "sarah", .role = "office"};
  env.Send(t::Incoming("CR9", kMain));
  env.Send(t::Digits("CR9", "d1", "1"));
  env.Send(t::Dial("CR9", "r1", cv1::DIAL_ANSWERED, 0));
  const std::string id = env.OnlyCall().id();
  // The policy is off: nothing may be recorded.
  CHECK(env.a->core.SetCallRecording(sarah, RecordingOf(id), true).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  v1::RecordingPolicy on_demand;
  on_demand.set_mode(v1::RECORDING_ON_DEMAND);
  REQUIRE(env.a->core.SetRecordingPolicy(env.owner, on_demand).ok());
  CHECK(env.a->core.SetCallRecording(sarah, RecordingOf(id), false).status().code() ==
        absl::StatusCode::kFailedPrecondition);  // not being recorded

  auto started = env.a->core.SetCallRecording(sarah, RecordingOf(id), true);
  INFO(started.status().ToString());
  REQUIRE(started.ok());
  CHECK(started->path(started->path_size() - 1).text() == "recording started by Sarah Johnson");
  CHECK(env.a->core.SetCallRecording(sarah, RecordingOf(id), true).status().code() ==
        absl::StatusCode::kFailedPrecondition);  // already
  REQUIRE(env.a->core.SetCallRecording(sarah, RecordingOf(id), false).ok());
  REQUIRE(env.carrier_ops.recordings.size() == 2);
  CHECK(env.carrier_ops.recordings[0].op == "start");
  CHECK(env.carrier_ops.recordings[0].call_id == "CR9");
  CHECK(env.carrier_ops.recordings[1].op == "stop");

  // The carrier's recording arrives while the call goes on; then the call ends.
  cv1::CallInstructions running = env.OnlyCall().path_size() > 0
                                      ? env.Send(t::Recording("CR9", "rec1"))
                                      : cv1::CallInstructions();
  CHECK(running.instructions(0).has_hangup());  // the set after the answer, unchanged
  env.Send(t::Completed("CR9", "c1", 60));
  v1::CallRecord call = env.OnlyCall();
  CHECK(call.status() == v1::COMPLETED);
  CHECK(call.recording_id() == "RECR9");
  CHECK(call.recording_url() == "https://media.example/CR9.wav");
  CHECK(call.voicemail_box_id().empty());
  CHECK(Count(env.OutboxTypes(), "calls.voicemail_left") == 0);
}

TEST_CASE("click-to-call: stored before the carrier places it; its first webhook may come first",
          "[integration]") {
  Env env;
  env.numbers.AddCallerId("main", CallerIdLine{.e164 = kMain, .line_id = "line-main"});
  env.numbers.AddCallerId("direct:mike", CallerIdLine{.e164 = kMikeLine, .line_id = "line-mike"});
  rpc::Principal mike{.company_id = env.company, .user_id = "mike", .role = "tech"};
  constexpr char kCustomer[] = "+13125550142";

  // The carrier's webhook for the new call reaches routing before PlaceCall has returned.
  cv1::CallInstructions early;
  env.carrier_ops.on_place = [&](const std::string& sid, const std::string& client_state) {
    cv1::CarrierEvent answered = t::TwilioEvent(sid, "twilio:voice:" + sid);
    answered.set_direction(cv1::OUTBOUND);
    answered.set_client_state(client_state);
    answered.mutable_call_answered();
    early = env.Send(answered);
  };
  v1::PlaceCallRequest req;
  req.set_to(kCustomer);
  req.set_caller_id(v1::CALLER_ID_DIRECT_LINE);
  auto placed = env.a->core.PlaceCall(mike, req);  // user_id "" = the caller
  INFO(placed.status().ToString());
  REQUIRE(placed.ok());
  CHECK(placed->caller_id() == kMikeLine);
  CHECK(placed->device() == "client:sp-mike");  // online: the softphone rings first
  REQUIRE(env.carrier_ops.placed.size() == 1);
  const auto& sent = env.carrier_ops.placed[0];
  CHECK(sent.company_id == env.company);
  CHECK(sent.from == kMikeLine);
  CHECK(sent.to == "client:sp-mike");
  CHECK(sent.client_state == "sbcall:" + placed->call_id());
  CHECK(sent.idempotency_key == placed->call_id());
  CHECK(DialNumbers(early) == std::vector<std::string>{kCustomer});
  CHECK(DialCallerId(early) == kMikeLine);

  // The rest of the call under the carrier's key.
  const std::string sid = "CAplaced1";
  CHECK(env.Send(t::Dial(sid, "r1", cv1::DIAL_ANSWERED, 0)).instructions(0).has_hangup());
  env.clock.Advance(absl::Seconds(65));
  env.Send(t::Completed(sid, "c1", 60));
  v1::CallRecord call = env.OnlyCall();
  CHECK(call.id() == placed->call_id());
  CHECK(call.call_key() == sid);
  CHECK(call.direction() == v1::DIRECTION_OUTBOUND);
  CHECK(call.from() == kMikeLine);
  CHECK(call.to() == kCustomer);
  CHECK(call.line_id() == "line-mike");
  CHECK(call.status() == v1::COMPLETED);
  CHECK(call.answered_by() == kCustomer);
  CHECK(call.has_answered_at());
  CHECK(call.has_ended_at());
  CHECK(call.duration_s() == 60);
  CHECK(std::find(call.user_ids().begin(), call.user_ids().end(), "mike") !=
        call.user_ids().end());
  // Mike sees his own call.
  v1::GetCallRequest get;
  get.set_call_id(call.id());
  CHECK(env.a->core.GetCall(mike, get).ok());
  const std::vector<std::string> types = env.OutboxTypes();
  CHECK(types.front() == "calls.call_started");
  CHECK(Count(types, "calls.call_ringing") == 2);  // Mike, then the customer
  CHECK(Count(types, "calls.call_answered") == 1);
  CHECK(types.back() == "calls.call_ended");
}

TEST_CASE("click-to-call: the carrier's key bound when PlaceCall returns (Telnyx session id)",
          "[integration]") {
  Env env;
  env.numbers.AddCallerId("main", CallerIdLine{.e164 = kMain, .line_id = "line-main"});
  env.carrier_ops.session_id = "v3:session-1";
  rpc::Principal office{.company_id = env.company, .user_id = "sarah", .role = "office"};
  v1::PlaceCallRequest req;
  req.set_user_id("robert");
  req.set_to("+13125550143");
  auto placed = env.a->core.PlaceCall(office, req);
  INFO(placed.status().ToString());
  REQUIRE(placed.ok());
  CHECK(placed->caller_id() == kMain);
  cv1::CarrierEvent answered;
  answered.set_provider(cv1::TELNYX);
  answered.mutable_ids()->set_call_control_id("v3:leg-1");
  answered.mutable_ids()->set_call_session_id("v3:session-1");
  answered.set_dedupe_key("telnyx:ev1");
  answered.mutable_call_answered();  // client_state replaced already: the key alone finds it
  cv1::CallInstructions dial = env.Send(answered);
  CHECK(DialNumbers(dial) == std::vector<std::string>{"+13125550143"});
  CHECK(DialCallerId(dial) == kMain);
  CHECK(env.OnlyCall().call_key() == "v3:session-1");
}

TEST_CASE("click-to-call: RBAC, bad input, no device, no caller ID, the carrier down",
          "[integration]") {
  Env env;
  env.numbers.AddCallerId("main", CallerIdLine{.e164 = kMain, .line_id = "line-main"});
  rpc::Principal mike{.company_id = env.company, .user_id = "mike", .role = "tech"};
  auto code = [&](const rpc::Principal& who, const std::string& user, const std::string& to,
                  v1::CallerIdSource source = v1::CALLER_ID_MAIN_LINE) {
    v1::PlaceCallRequest req;
    req.set_user_id(user);
    req.set_to(to);
    req.set_caller_id(source);
    return env.a->core.PlaceCall(who, req).status();
  };
  CHECK(code(mike, "jake", "+13125550142").code() == absl::StatusCode::kPermissionDenied);
  absl::Status bad_to = code(env.owner, "jake", "3125550142");
  CHECK(bad_to.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(bad_to.message(), "to:"));
  absl::Status bad_source =
      code(env.owner, "jake", "+13125550142", static_cast<v1::CallerIdSource>(7));
  CHECK(bad_source.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(bad_source.message(), "caller_id:"));
  absl::Status no_user = code(rpc::Principal{.company_id = env.company, .role = "service"}, "",
                              "+13125550142");
  CHECK(no_user.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(no_user.message(), "user_id:"));
  CHECK(code(env.owner, "nobody", "+13125550142").code() == absl::StatusCode::kNotFound);
  CHECK(code(env.owner, "jake", "+13125550142", v1::CALLER_ID_DIRECT_LINE).code() ==
        absl::StatusCode::kFailedPrecondition);
  // A user with neither a connected softphone nor a forward-to number.
  auto people = t::PowersPeople();
  for (auto& u : people) {
    if (u.id == "tyler") {
      u.forward_to.clear();
      u.softphone.clear();
    }
  }
  env.dir.users[env.company] = people;
  env.a->directory.Invalidate(env.company);
  absl::Status no_device = code(env.owner, "tyler", "+13125550142");
  CHECK(no_device.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StartsWith(no_device.message(), "user_id:"));
  CHECK(env.carrier_ops.placed.empty());

  // The carrier cannot place it: its error, and the call log row ends failed.
  env.carrier_ops.fail = absl::UnavailableError("carrier down");
  CHECK(code(mike, "mike", "+13125550142").code() == absl::StatusCode::kUnavailable);
  v1::CallRecord failed = env.OnlyCall();
  CHECK(failed.status() == v1::FAILED);
  CHECK(failed.direction() == v1::DIRECTION_OUTBOUND);
  CHECK(failed.has_ended_at());
  const std::vector<std::string> types = env.OutboxTypes();
  CHECK(Count(types, "calls.call_ended") == 1);
}

TEST_CASE("an identity event drops the company's cached directory and config", "[integration]") {
  Env env;
  auto first = env.a->directory.Get(env.company);
  REQUIRE(first.ok());
  const int loads = env.dir.loads;
  REQUIRE(env.a->directory.Get(env.company).ok());
  CHECK(env.dir.loads == loads);  // cached
  InvalidateOnIdentityEvent("", env.a->directory, env.a->config);  // platform event: ignored
  REQUIRE(env.a->directory.Get(env.company).ok());
  CHECK(env.dir.loads == loads);
  env.companies.zones[env.company] = "Europe/London";
  InvalidateOnIdentityEvent(env.company, env.a->directory, env.a->config);
  REQUIRE(env.a->directory.Get(env.company).ok());
  CHECK(env.dir.loads == loads + 1);
  auto snap = env.a->config.Get(env.company);
  REQUIRE(snap.ok());
  CHECK((*snap)->zone_name == "Europe/London");
  // Identity unreachable when the snapshot expires: the last known zone is kept.
  env.clock.Advance(absl::Seconds(6));
  env.companies.zones.erase(env.company);
  auto later = env.a->config.Get(env.company);
  REQUIRE(later.ok());
  CHECK((*later)->zone_name == "Europe/London");
  CHECK(later->get() != snap->get());  // reloaded (groups, boxes, ...), not the old snapshot
}

TEST_CASE("one cache consumer of identity.v1 and numbers.v1: a line update reaches the number "
          "cache, a user change the directory",
          "[integration]") {
  Env env;
  auto identity_topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
  auto numbers_topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
  auto producer = switchboard::testing::ValueOrFail(identity_topic->NewProducer(), "producer");
  CachingNumberResolver number_cache(env.numbers, env.clock, absl::Minutes(1));
  RoutingConfig config;
  config.kafka_brokers = identity_topic->brokers();
  config.identity_topic = identity_topic->name();
  config.numbers_topic = numbers_topic->name();
  std::unique_ptr<events::IdempotentConsumer> consumer = switchboard::testing::ValueOrFail(
      NewCacheEventsConsumer(env.pg->pool(), config, producer.get(), env.a->directory,
                             env.a->config, number_cache),
      "cache consumer");
  // The consumer starts at the latest offset of a group of its own, so an event published before
  // it joined is never read: publish (a new event id each time) and poll until `seen`, bounded.
  auto deliver = [&](ev::Event event, const std::string& topic,
                     const std::function<bool()>& seen) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      event.set_id(NewUuidV7());
      REQUIRE(producer->Produce(topic, event.aggregate_id(), event.SerializeAsString()).ok());
      REQUIRE(producer->Flush(absl::Seconds(10)).ok());
      const int64_t handled = consumer->HandledCount();
      const absl::Time wait_until = absl::Now() + absl::Seconds(5);
      while (consumer->HandledCount() == handled && absl::Now() < wait_until) {
        REQUIRE(consumer->PollOnce(absl::Milliseconds(200)).ok());
      }
      if (seen()) return true;
    }
    return false;
  };

  auto flow_of_main = [&] {
    absl::StatusOr<ResolvedLine> line = number_cache.Resolve(kMain);
    REQUIRE(line.ok());
    return line->flow_id;
  };
  CHECK(flow_of_main() == "main_line");
  REQUIRE(env.a->directory.Get(env.company).ok());
  const int loads = env.dir.loads;
  // numbers changes the line's flow: routing keeps its answer until the event.
  env.numbers.Add(kMain, ResolvedLine{.company_id = env.company, .line_id = "line-main",
                                      .flow_id = "techs"});
  CHECK(flow_of_main() == "main_line");
  ev::Event line_updated;
  line_updated.set_type("numbers.line_updated");
  line_updated.set_company_id(env.company);
  line_updated.set_aggregate_id("line-main");
  line_updated.set_source("numbers");
  line_updated.mutable_line_updated()->set_line_id("line-main");
  line_updated.mutable_line_updated()->set_e164(kMain);
  line_updated.mutable_line_updated()->set_flow_id("techs");
  line_updated.mutable_line_updated()->set_change("flow");
  CHECK(deliver(line_updated, numbers_topic->name(), [&] { return flow_of_main() == "techs"; }));
  // A numbers event is not an identity event: the company's directory stays cached.
  REQUIRE(env.a->directory.Get(env.company).ok());
  CHECK(env.dir.loads == loads);

  // An identity event of the company on the other topic, same consumer: the directory is
  // reloaded, the number stays cached.
  ev::Event role_changed;
  role_changed.set_type("identity.user_role_changed");
  role_changed.set_company_id(env.company);
  role_changed.set_aggregate_id("mike");
  role_changed.set_source("identity");
  role_changed.mutable_user_role_changed()->set_user_id("mike");
  CHECK(deliver(role_changed, identity_topic->name(), [&] {
    REQUIRE(env.a->directory.Get(env.company).ok());
    return env.dir.loads > loads;
  }));
  CHECK(number_cache.size() == 1);
  CHECK(consumer->DeadLetteredCount() == 0);
  CHECK(consumer->Stop().ok());
}

TEST_CASE("over gRPC: validation problems, RBAC, versions, isolation, dry run", "[integration]") {
  Env env;
  RoutingService service(env.a->core);
  auto server = switchboard::testing::GrpcTestServer::CreateOrFail({&service});
  auto stub = v1::Routing::NewStub(server->channel());
  auto ctx_as = [](grpc::ClientContext& ctx, const rpc::Principal& p) {
    rpc::AttachPrincipal(ctx, p);
  };

  // A flow with two problems: both are reported, one per line, with their paths.
  v1::SaveFlowRequest bad;
  v1::Flow* f = bad.mutable_flow();
  f->set_id("broken");
  f->set_name("Broken");
  v1::Menu* m = f->mutable_menus()->add_menus();
  f->mutable_menus()->set_business_hours_menu_id("m");
  m->set_id("m");
  m->mutable_greeting()->set_text("Hi");
  v1::KeyBinding* k = m->add_keys();
  k->set_key("1");
  k->mutable_action()->set_ring_group_id("no_such_group");
  v1::KeyBinding* k2 = m->add_keys();
  k2->set_key("2");
  k2->mutable_action()->mutable_ring_user()->set_user_id("u_42");
  m->mutable_default_action()->mutable_hangup();
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::SaveFlowResponse out;
    grpc::Status s = stub->SaveFlow(&ctx, bad, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    INFO(s.error_message());
    CHECK(absl::StrContains(s.error_message(), "no_such_group"));
    CHECK(absl::StrContains(s.error_message(), "unknown user u_42"));
    CHECK(absl::StrContains(s.error_message(), "\n"));
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::GetFlowRequest req;
    req.set_flow_id("broken");
    v1::Flow out;
    CHECK(stub->GetFlow(&ctx, req, &out).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  // Office may read but not configure; techs may not read configuration.
  rpc::Principal office{.company_id = env.company, .user_id = "sarah", .role = "office"};
  rpc::Principal tech{.company_id = env.company, .user_id = "mike", .role = "tech"};
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, office);
    v1::SaveFlowRequest req;
    *req.mutable_flow() = PowersElectricDemo(t::PowersIds()).main_flow;
    v1::SaveFlowResponse out;
    CHECK(stub->SaveFlow(&ctx, req, &out).error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, office);
    v1::GetFlowRequest req;
    req.set_flow_id("main_line");
    v1::Flow out;
    REQUIRE(stub->GetFlow(&ctx, req, &out).ok());
    CHECK(out.version() == 1);
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, tech);
    v1::ListFlowsResponse out;
    CHECK(stub->ListFlows(&ctx, v1::ListFlowsRequest(), &out).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::HandleCallEventRequest req;
    *req.mutable_event() = t::Incoming("CA-g", kMain);
    v1::HandleCallEventResponse out;
    CHECK(stub->HandleCallEvent(&ctx, req, &out).error_code() ==
          grpc::StatusCode::PERMISSION_DENIED);
  }
  // Versions: a stale expected_version is refused; a good one makes version 2.
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::SaveFlowRequest req;
    *req.mutable_flow() = PowersElectricDemo(t::PowersIds()).main_flow;
    req.set_expected_version(7);
    v1::SaveFlowResponse out;
    CHECK(stub->SaveFlow(&ctx, req, &out).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::SaveFlowRequest req;
    *req.mutable_flow() = PowersElectricDemo(t::PowersIds()).main_flow;
    req.set_expected_version(1);
    v1::SaveFlowResponse out;
    REQUIRE(stub->SaveFlow(&ctx, req, &out).ok());
    CHECK(out.flow().version() == 2);
    CHECK(out.flow().created_by() == "robert");
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::ListFlowVersionsRequest req;
    req.set_flow_id("main_line");
    req.set_page_size(1);
    v1::ListFlowVersionsResponse out;
    REQUIRE(stub->ListFlowVersions(&ctx, req, &out).ok());
    REQUIRE(out.versions_size() == 1);
    CHECK(out.versions(0).version() == 2);
    CHECK(out.next_page_token() == "2");
  }
  // Another company sees none of it.
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, rpc::Principal{.company_id = "another", .user_id = "x", .role = "owner"});
    v1::GetByIdRequest req;
    req.set_id("office");
    v1::RingGroup out;
    CHECK(stub->GetRingGroup(&ctx, req, &out).error_code() == grpc::StatusCode::NOT_FOUND);
  }
  // A group in use cannot be deleted.
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::GetByIdRequest req;
    req.set_id("office");
    v1::DeleteResponse out;
    CHECK(stub->DeleteRingGroup(&ctx, req, &out).error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
  }
  // Boxes: the company box is in use (flow default, group fallbacks); a user's box is not.
  CHECK(env.a->core.DeleteVoicemailBox(env.owner, "vm_company").code() ==
        absl::StatusCode::kFailedPrecondition);
  REQUIRE(env.a->core.DeleteVoicemailBox(env.owner, "vm_jake").ok());
  CHECK(env.a->core.GetVoicemailBox(env.owner, "vm_jake").status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(env.a->core.DeleteVoicemailBox(env.owner, "vm_jake").code() ==
        absl::StatusCode::kNotFound);
  // Schedules and rotations.
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, tech);
    v1::CheckScheduleRequest req;
    req.set_schedule_id("office_hours");
    req.mutable_at()->set_seconds(absl::ToUnixSeconds(kTuesday630pm));
    v1::CheckScheduleResponse out;
    REQUIRE(stub->CheckSchedule(&ctx, req, &out).ok());
    CHECK_FALSE(out.open());
    CHECK(out.reason() == "outside_hours");
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, tech);
    v1::WhoIsOnCallRequest req;
    req.set_rotation_id("oncall_techs");
    req.mutable_at()->set_seconds(absl::ToUnixSeconds(kTuesday10am));
    v1::WhoIsOnCallResponse out;
    REQUIRE(stub->WhoIsOnCall(&ctx, req, &out).ok());
    CHECK(out.user_id() == "mike");
  }
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::NamedSchedule s;
    s.set_name("Broken hours");
    auto* r = s.mutable_schedule()->mutable_weekly()->add_monday();
    r->set_open("25:00");
    r->set_close("17:00");
    v1::NamedSchedule out;
    grpc::Status st = stub->SaveSchedule(&ctx, s, &out);
    CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(absl::StrContains(st.error_message(), "schedule.weekly.monday[0].open"));
  }
  // Dry run of the stored main line: press 3, T-O-R, Mike answers.
  {
    grpc::ClientContext ctx;
    ctx_as(ctx, env.owner);
    v1::SimulateCallRequest req;
    req.set_number(kMain);
    req.set_from("+12035550199");
    req.mutable_at()->set_seconds(absl::ToUnixSeconds(kTuesday10am));
    req.add_key_presses("3");
    req.add_key_presses("867");
    v1::SimulatedAnswer* a = req.add_answers();
    a->set_target("mike");
    a->set_outcome(v1::SimulatedAnswer::ANSWER);
    v1::SimulateCallResponse out;
    grpc::Status st = stub->SimulateCall(&ctx, req, &out);
    INFO(st.error_message());
    REQUIRE(st.ok());
    CHECK(out.status() == v1::COMPLETED);
    CHECK(out.answered_by() == "mike");
    REQUIRE(out.rang_size() >= 1);
    CHECK(out.rang(0) == "mike");
  }
  // A dry run moves no live round-robin counter and writes no call log.
  CHECK(env.a->core.ListCalls(env.owner, v1::ListCallsRequest())->calls_size() == 0);
}

}  // namespace
}  // namespace switchboard::routing
