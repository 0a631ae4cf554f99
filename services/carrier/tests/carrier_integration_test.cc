// The carrier service against real PostgreSQL and Kafka (libs/testing): PgCarrierStore round
// trips and webhook_deliveries pruning, signed webhooks through the HTTP listener (port 0) to
// TwiML / Call Control commands and carrier.v1 events on a unique topic, de-duplication, and
// outbound SendMessage through the gRPC service with failover (primary 503 -> secondary), never
// leaking credentials.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "libs/events/event.h"
#include "libs/events/outbox_relay.h"
#include "libs/grpc/principal.h"
#include "libs/testing/testing.h"
#include "services/carrier/carrier_service.h"
#include "services/carrier/pg_store.h"
#include "services/carrier/tests/service_test_support.h"
#include "services/carrier/twiml.h"

namespace switchboard::carrier {
namespace {

constexpr char kCompanyA[] = "0190c5d2-0000-7000-8000-0000000000a1";
constexpr char kCompanyB[] = "0190c5d2-0000-7000-8000-0000000000b2";
constexpr char kNumberA[] = "+15550004444";

struct Stack {
  std::unique_ptr<switchboard::testing::PgTestSchema> db;
  std::unique_ptr<switchboard::testing::KafkaTestTopic> topic;
  std::unique_ptr<events::Producer> producer;
  std::unique_ptr<PgCarrierStore> store;
  std::unique_ptr<testing::ServiceHarness> h;
  std::unique_ptr<http::Server> listener;
  std::unique_ptr<http::CurlHttpClient> client;
  std::unique_ptr<CarrierService> service;
  std::unique_ptr<switchboard::testing::GrpcTestServer> grpc_server;
  std::unique_ptr<v1::Carrier::Stub> stub;
  std::unique_ptr<events::OutboxRelay> relay;  // last: destroyed first

  explicit Stack(const std::function<void(testing::ServiceHarness&)>& routes = nullptr) {
    db = switchboard::testing::PgTestSchema::CreateOrFail();
    REQUIRE(MigrateCarrier(db->pool()).ok());
    topic = switchboard::testing::KafkaTestTopic::CreateOrFail();
    auto p = topic->NewProducer();
    REQUIRE(p.ok());
    producer = std::move(*p);
    store = std::make_unique<PgCarrierStore>(db->pool(), topic->name());
    h = std::make_unique<testing::ServiceHarness>(*store);
    if (routes) routes(*h);
    h->Start();
    http::Router router;
    h->hooks().Register(router);
    auto l = http::Server::Start({.port = 0}, std::move(router));
    REQUIRE(l.ok());
    listener = std::move(*l);
    auto c = http::CurlHttpClient::Create();
    REQUIRE(c.ok());
    client = std::move(*c);
    service = std::make_unique<CarrierService>(h->core());
    grpc_server = switchboard::testing::GrpcTestServer::CreateOrFail({service.get()});
    stub = v1::Carrier::NewStub(grpc_server->channel());
    relay = std::make_unique<events::OutboxRelay>(
        db->pool(), *producer, events::RelayOptions{.poll_interval = absl::Milliseconds(100)});
    REQUIRE(relay->Start().ok());
  }
  ~Stack() {
    relay->Stop();
    listener->Stop();
    h->hooks().Stop();
  }

  // Sends `r` over HTTP to the listener.
  http::HttpResponse Post(const http::Request& r) {
    http::HttpRequest out{.method = "POST",
                          .url = "http://127.0.0.1:" + std::to_string(listener->port()) + r.target,
                          .headers = r.headers,
                          .body = r.body};
    auto answer = client->Send(out);
    REQUIRE(answer.ok());
    return *answer;
  }

  // Reads until `expected` events or `timeout`; asking for one more than should exist proves
  // there is no extra event within the timeout (the relay polls every 100 ms).
  std::vector<events::v1::Event> Events(size_t expected,
                                        absl::Duration timeout = absl::Seconds(20)) {
    auto records = topic->ReadAll(topic->name(), timeout, expected);
    REQUIRE(records.ok());
    std::vector<events::v1::Event> out;
    for (const auto& r : *records) {
      events::v1::Event e;
      REQUIRE(e.ParseFromString(r.value));
      out.push_back(e);
    }
    return out;
  }

  void Configure(const std::string& company, bool with_secondary) {
    AccountSettings s{.primary = h->TwilioConfig()};
    if (with_secondary) s.secondary = h->TelnyxConfig();
    REQUIRE(h->core().SetCarrierAccount(company, s).ok());
  }
};

void WaitFor(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  REQUIRE(done());
}

TEST_CASE("PgCarrierStore round trips and tenant isolation", "[carrier][integration]") {
  Stack s;
  CarrierStore& st = *s.store;
  AccountRow a{.company_id = kCompanyA, .primary_provider = Provider::kTwilio,
               .primary_account_id = "AC1", .secondary_provider = Provider::kTelnyx,
               .secondary_account_id = "conn-9", .sealed_credentials = std::string("\x00\x01x", 3)};
  REQUIRE(st.PutAccount(a).ok());
  auto got = st.GetAccount(kCompanyA);
  REQUIRE(got.ok());
  CHECK(got->sealed_credentials == a.sealed_credentials);
  CHECK(got->secondary_provider == Provider::kTelnyx);
  CHECK(st.GetAccount(kCompanyB).status().code() == absl::StatusCode::kNotFound);
  auto by_id = st.FindAccountsByProviderAccountId("conn-9");
  REQUIRE(by_id.ok());
  REQUIRE(by_id->size() == 1);
  CHECK((*by_id)[0].company_id == kCompanyA);

  REQUIRE(st.PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "twilio",
                        .provider_number_id = "PN1"}).ok());
  CHECK(st.PutNumber({.e164 = kNumberA, .company_id = kCompanyB, .provider = "twilio",
                      .provider_number_id = "PN2"}).code() == absl::StatusCode::kAlreadyExists);
  CHECK(st.GetNumber(kCompanyB, kNumberA).status().code() == absl::StatusCode::kNotFound);
  CHECK(st.FindNumber(kNumberA)->provider_number_id == "PN1");
  CHECK(st.DeleteNumber(kCompanyB, kNumberA).code() == absl::StatusCode::kNotFound);

  REQUIRE(st.PutInstructions({.company_id = kCompanyA, .e164 = kNumberA,
                              .instructions_id = "set1", .serialized = "abc"}).ok());
  CHECK(st.GetInstructionsForNumber(kCompanyA, kNumberA)->serialized == "abc");
  CHECK(st.GetInstructionsById(kCompanyA, "set1")->e164 == kNumberA);
  CHECK(st.GetInstructionsById(kCompanyB, "set1").status().code() ==
        absl::StatusCode::kNotFound);

  REQUIRE(st.PutCall({.call_id = "CA1", .company_id = kCompanyA, .provider = "telnyx"}).ok());
  REQUIRE(st.PutCall({.call_id = "CA1", .company_id = kCompanyA, .provider = "telnyx"}).ok());
  CHECK(st.GetCall(kCompanyA, "CA1")->provider == "telnyx");
  CHECK(st.GetCall(kCompanyB, "CA1").status().code() == absl::StatusCode::kNotFound);
  CHECK(st.FindCall("CA1")->company_id == kCompanyA);

  events::v1::Event e = events::NewEvent("carrier.test", kCompanyA, "agg", "carrier",
                                         SystemClock());
  auto first = st.RecordWebhook(kCompanyA, "twilio:voice:CA1", e, std::nullopt, BridgeChange{});
  REQUIRE(first.ok());
  CHECK(*first);
  events::v1::Event e2 = events::NewEvent("carrier.test", kCompanyA, "agg", "carrier",
                                          SystemClock());
  auto second = st.RecordWebhook(kCompanyA, "twilio:voice:CA1", e2, std::nullopt, BridgeChange{});
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  auto published = s.Events(1);
  REQUIRE(published.size() == 1);
  CHECK(published[0].id() == e.id());
  REQUIRE(st.DeleteNumber(kCompanyA, kNumberA).ok());
}

TEST_CASE("PgCarrierStore lookup cache: own writes invalidate, other replicas' after the TTL",
          "[carrier][integration]") {
  auto db = switchboard::testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateCarrier(db->pool()).ok());
  PgCarrierStore cached(db->pool(), "carrier.v1", {.lookup_cache_ttl = absl::Hours(1)});
  PgCarrierStore other(db->pool(), "carrier.v1");  // another replica, no cache
  PgCarrierStore brief(db->pool(), "carrier.v1", {.lookup_cache_ttl = absl::Milliseconds(50)});

  // Numbers: found and not-found answers are cached; another replica's writes stay invisible
  // until the TTL, this store's own writes are seen at once.
  CHECK(cached.FindNumber(kNumberA).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(other.PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "twilio",
                           .provider_number_id = "PN1"}).ok());
  CHECK(cached.FindNumber(kNumberA).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(cached.PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "twilio",
                            .provider_number_id = "PN2"}).ok());
  CHECK(cached.FindNumber(kNumberA)->provider_number_id == "PN2");
  CHECK(brief.FindNumber(kNumberA)->provider_number_id == "PN2");
  REQUIRE(other.DeleteNumber(kCompanyA, kNumberA).ok());
  CHECK(cached.FindNumber(kNumberA)->provider_number_id == "PN2");  // stale within the TTL
  WaitFor([&] { return absl::IsNotFound(brief.FindNumber(kNumberA).status()); });
  REQUIRE(cached.PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "twilio",
                            .provider_number_id = "PN3"}).ok());
  REQUIRE(cached.DeleteNumber(kCompanyA, kNumberA).ok());
  CHECK(cached.FindNumber(kNumberA).status().code() == absl::StatusCode::kNotFound);

  // Accounts by carrier account id.
  auto none = cached.FindAccountsByProviderAccountId("AC-cache");
  REQUIRE(none.ok());
  CHECK(none->empty());
  REQUIRE(cached.PutAccount({.company_id = kCompanyA, .primary_provider = Provider::kTwilio,
                             .primary_account_id = "AC-cache",
                             .sealed_credentials = "x"}).ok());
  auto one = cached.FindAccountsByProviderAccountId("AC-cache");
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].company_id == kCompanyA);

  // Static instructions, by number and by id, per company.
  REQUIRE(cached.PutInstructions({.company_id = kCompanyA, .e164 = kNumberA,
                                  .instructions_id = "set1", .serialized = "abc"}).ok());
  CHECK(cached.GetInstructionsForNumber(kCompanyA, kNumberA)->serialized == "abc");
  CHECK(cached.GetInstructionsById(kCompanyA, "set1")->serialized == "abc");
  CHECK(cached.GetInstructionsById(kCompanyB, "set1").status().code() ==
        absl::StatusCode::kNotFound);
  REQUIRE(other.PutInstructions({.company_id = kCompanyA, .e164 = kNumberA,
                                 .instructions_id = "set1", .serialized = "def"}).ok());
  CHECK(cached.GetInstructionsForNumber(kCompanyA, kNumberA)->serialized == "abc");
  REQUIRE(cached.PutInstructions({.company_id = kCompanyA, .e164 = kNumberA,
                                  .instructions_id = "set2", .serialized = "ghi"}).ok());
  CHECK(cached.GetInstructionsForNumber(kCompanyA, kNumberA)->serialized == "ghi");
  CHECK(cached.GetInstructionsById(kCompanyA, "set2")->serialized == "ghi");

  // Unknown calls are not cached (another replica may record them any moment).
  CHECK(cached.FindCall("CA-cache").status().code() == absl::StatusCode::kNotFound);
  REQUIRE(other.PutCall({.call_id = "CA-cache", .company_id = kCompanyA, .provider = "twilio"})
              .ok());
  CHECK(cached.FindCall("CA-cache")->company_id == kCompanyA);
}

TEST_CASE("PgCarrierStore RecordWebhook records dedupe key, event and call together",
          "[carrier][integration]") {
  auto db = switchboard::testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateCarrier(db->pool()).ok());
  PgCarrierStore st(db->pool(), "carrier.v1");
  auto outbox_rows = [&] {
    int64_t n = -1;
    REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
      n = tx.exec("SELECT count(*) FROM outbox")[0][0].as<int64_t>();
      return absl::OkStatus();
    }).ok());
    return n;
  };
  const CallRow call{.call_id = "CA-rec", .company_id = kCompanyA, .provider = "twilio"};
  events::v1::Event e = events::NewEvent("carrier.call_incoming", kCompanyA, "CA-rec", "carrier",
                                         SystemClock());
  auto first = st.RecordWebhook(kCompanyA, "twilio:voice:CA-rec", e, call, BridgeChange{});
  REQUIRE(first.ok());
  CHECK(*first);
  CHECK(outbox_rows() == 1);
  CHECK(st.FindCall("CA-rec")->company_id == kCompanyA);
  events::v1::Event again = events::NewEvent("carrier.call_incoming", kCompanyA, "CA-rec",
                                             "carrier", SystemClock());
  auto second = st.RecordWebhook(kCompanyA, "twilio:voice:CA-rec", again, call, BridgeChange{});
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  CHECK(outbox_rows() == 1);
  // The call must be the webhook's company's; a bad event id stores nothing.
  events::v1::Event third = events::NewEvent("carrier.call_incoming", kCompanyB, "CA-x",
                                             "carrier", SystemClock());
  CHECK(st.RecordWebhook(kCompanyB, "twilio:voice:CA-x", third, call, BridgeChange{})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  third.set_id("not-a-uuid");
  CHECK(st.RecordWebhook(kCompanyB, "twilio:voice:CA-x", third, std::nullopt, BridgeChange{})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(outbox_rows() == 1);
}

// Keys of every company received before the cutoff go, in batches; the others stay.
TEST_CASE("PgCarrierStore PruneWebhookDeliveries deletes keys older than the cutoff",
          "[carrier][integration]") {
  auto db = switchboard::testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateCarrier(db->pool()).ok());
  PgCarrierStore st(db->pool(), "carrier.v1");
  auto record = [&](const char* company, const std::string& key) {
    auto r = st.RecordWebhook(company, key,
                              events::NewEvent("carrier.call_status", company, key, "carrier",
                                               SystemClock()),
                              std::nullopt, BridgeChange{});
    REQUIRE(r.ok());
    return *r;
  };
  auto set_received_at = [&](const std::string& key, absl::Time at) {
    REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
      pqxx::result r = tx.exec_params(
          "UPDATE webhook_deliveries SET received_at = "
          "timestamptz 'epoch' + $2::bigint * interval '1 microsecond' WHERE dedupe_key = $1",
          key, absl::ToUnixMicros(at));
      REQUIRE(r.affected_rows() == 1);
      return absl::OkStatus();
    }).ok());
  };
  auto keys = [&] {
    std::vector<std::string> out;
    REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
      for (const auto& row :
           tx.exec("SELECT dedupe_key FROM webhook_deliveries ORDER BY dedupe_key")) {
        out.push_back(row[0].as<std::string>());
      }
      return absl::OkStatus();
    }).ok());
    return out;
  };
  // The BRIN index of migration 0004 is there.
  REQUIRE(db->pool().Unscoped([&](pqxx::work& tx) {
    CHECK(tx.exec("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() "
                  "AND tablename = 'webhook_deliveries' "
                  "AND indexname = 'webhook_deliveries_received_brin' "
                  "AND indexdef LIKE '%USING brin (received_at)%'")[0][0]
              .as<int64_t>() == 1);
    return absl::OkStatus();
  }).ok());

  // Cutoff in whole microseconds (what Postgres stores).
  const absl::Time cutoff =
      absl::FromUnixMicros(absl::ToUnixMicros(absl::Now() - absl::Hours(72)));
  // 5 old keys over two companies (limit 2: batches of 2, 2, 1), one exactly at the cutoff
  // (kept: strictly older only) and 3 just received.
  const std::vector<std::pair<const char*, std::string>> old = {
      {kCompanyA, "twilio:status:old-1"}, {kCompanyA, "twilio:status:old-2"},
      {kCompanyB, "telnyx:old-3"},        {kCompanyB, "telnyx:old-4"},
      {kCompanyA, "twilio:status:old-5"}};
  for (size_t i = 0; i < old.size(); ++i) {
    REQUIRE(record(old[i].first, old[i].second));
    set_received_at(old[i].second, cutoff - absl::Hours(1) - absl::Minutes(10 * i));
  }
  REQUIRE(record(kCompanyB, "telnyx:at-cutoff"));
  set_received_at("telnyx:at-cutoff", cutoff);
  for (const std::string key : {"twilio:status:new-1", "twilio:status:new-2"}) {
    REQUIRE(record(kCompanyA, key));
  }
  REQUIRE(record(kCompanyB, "telnyx:new-3"));
  REQUIRE(keys().size() == 9);

  CHECK(st.PruneWebhookDeliveries(cutoff, /*limit=*/0).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto pruned = st.PruneWebhookDeliveries(cutoff, /*limit=*/2);
  REQUIRE(pruned.ok());
  CHECK(*pruned == 5);
  CHECK(keys() == std::vector<std::string>{"telnyx:at-cutoff", "telnyx:new-3",
                                           "twilio:status:new-1", "twilio:status:new-2"});
  // Nothing older is left: a second run deletes nothing (one empty batch).
  auto again = st.PruneWebhookDeliveries(cutoff, /*limit=*/2);
  REQUIRE(again.ok());
  CHECK(*again == 0);
  // Keys that survived the prune still refuse a redelivery; a pruned key is new again (the
  // reason the retention must outlast the carriers' retries).
  CHECK_FALSE(record(kCompanyA, "twilio:status:new-1"));
  CHECK_FALSE(record(kCompanyB, "telnyx:new-3"));
  CHECK_FALSE(record(kCompanyB, "telnyx:at-cutoff"));
  CHECK(record(kCompanyA, "twilio:status:old-1"));
}

TEST_CASE("PgCarrierStore conferences and added legs: name <-> id, pending create found through "
          "A, tenant-scoped",
          "[carrier][integration][conference]") {
  auto db = switchboard::testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateCarrier(db->pool()).ok());
  PgCarrierStore st(db->pool(), "carrier.v1");
  CHECK(absl::IsNotFound(st.GetConferenceByName(kCompanyA, "sb-call-1").status()));
  // MOVE_BRIDGE records the name with A before the create answers: found through A's leg only.
  REQUIRE(st.PutConference({.company_id = kCompanyA, .name = "sb-call-1", .a_leg = "v3:A"}).ok());
  absl::StatusOr<ConferenceRow> pending = st.FindConference(kCompanyA, "conf-1", "v3:A");
  REQUIRE(pending.ok());
  CHECK(pending->name == "sb-call-1");
  CHECK(pending->conference_id.empty());
  CHECK(absl::IsNotFound(st.FindConference(kCompanyA, "conf-1", "v3:B").status()));
  CHECK(absl::IsNotFound(st.FindConference(kCompanyA, "conf-1", "").status()));
  // The id recorded: found by it, from any leg; the name gives the id.
  REQUIRE(st.PutConference({.company_id = kCompanyA, .name = "sb-call-1", .a_leg = "v3:A",
                            .conference_id = "conf-1"})
              .ok());
  absl::StatusOr<ConferenceRow> by_id = st.FindConference(kCompanyA, "conf-1", "v3:B");
  REQUIRE(by_id.ok());
  CHECK(by_id->name == "sb-call-1");
  CHECK(by_id->a_leg == "v3:A");
  absl::StatusOr<ConferenceRow> by_name = st.GetConferenceByName(kCompanyA, "sb-call-1");
  REQUIRE(by_name.ok());
  CHECK(by_name->conference_id == "conf-1");
  CHECK(absl::IsNotFound(st.FindConference(kCompanyA, "conf-2", "v3:A").status()));
  // Other companies see none of it.
  CHECK(absl::IsNotFound(st.GetConferenceByName(kCompanyB, "sb-call-1").status()));
  CHECK(absl::IsNotFound(st.FindConference(kCompanyB, "conf-1", "v3:A").status()));

  // Added legs: not joined until marked; unknown legs are not added legs.
  CHECK(absl::IsNotFound(st.ConferenceLegJoined(kCompanyA, "v3:C").status()));
  CHECK_FALSE(*st.MarkConferenceLegJoined(kCompanyA, "v3:C"));
  REQUIRE(st.PutConferenceLeg(kCompanyA, "v3:C", "conf-1").ok());
  CHECK_FALSE(*st.ConferenceLegJoined(kCompanyA, "v3:C"));
  CHECK_FALSE(*st.MarkConferenceLegJoined(kCompanyB, "v3:C"));  // another company's: untouched
  CHECK_FALSE(*st.ConferenceLegJoined(kCompanyA, "v3:C"));
  CHECK(*st.MarkConferenceLegJoined(kCompanyA, "v3:C"));
  CHECK(*st.ConferenceLegJoined(kCompanyA, "v3:C"));
  CHECK(absl::IsNotFound(st.ConferenceLegJoined(kCompanyB, "v3:C").status()));
}

TEST_CASE("PgCarrierStore bridged legs: set with a new webhook, cleared by the leg's end, "
          "tenant-scoped",
          "[carrier][integration]") {
  auto db = switchboard::testing::PgTestSchema::CreateOrFail();
  REQUIRE(MigrateCarrier(db->pool()).ok());
  PgCarrierStore st(db->pool(), "carrier.v1");
  auto event = [] {
    return events::NewEvent("carrier.dial_result", kCompanyA, "sess-1", "carrier", SystemClock());
  };
  const BridgeChange set{.op = BridgeChange::Op::kSet, .a_leg = "v3:A", .b_leg = "v3:B"};
  CHECK(absl::IsNotFound(st.GetBridgedLeg(kCompanyA, "v3:A").status()));
  // The answer's webhook records the bridge in its transaction.
  auto first = st.RecordWebhook(kCompanyA, "telnyx:dial-answered:v3:A:v3:B", event(),
                                std::nullopt, set);
  REQUIRE(first.ok());
  CHECK(*first);
  absl::StatusOr<std::string> b = st.GetBridgedLeg(kCompanyA, "v3:A");
  REQUIRE(b.ok());
  CHECK(*b == "v3:B");
  // Other companies do not see it.
  CHECK(absl::IsNotFound(st.GetBridgedLeg(kCompanyB, "v3:A").status()));
  // A hangup of another leg leaves it; the bridged leg's hangup removes it.
  REQUIRE(st.RecordWebhook(kCompanyA, "telnyx:ev-h1", event(), std::nullopt,
                           {.op = BridgeChange::Op::kClear, .a_leg = "v3:A", .b_leg = "v3:C"})
              .ok());
  CHECK(st.GetBridgedLeg(kCompanyA, "v3:A").ok());
  REQUIRE(st.RecordWebhook(kCompanyA, "telnyx:ev-h2", event(), std::nullopt,
                           {.op = BridgeChange::Op::kClear, .a_leg = "v3:A", .b_leg = "v3:B"})
              .ok());
  CHECK(absl::IsNotFound(st.GetBridgedLeg(kCompanyA, "v3:A").status()));
  // A late duplicate of the answer does not bring the bridge back.
  auto dup = st.RecordWebhook(kCompanyA, "telnyx:dial-answered:v3:A:v3:B", event(),
                              std::nullopt, set);
  REQUIRE(dup.ok());
  CHECK_FALSE(*dup);
  CHECK(absl::IsNotFound(st.GetBridgedLeg(kCompanyA, "v3:A").status()));
  // A new answer replaces; a clear with no leg (the A leg's own end) removes any.
  REQUIRE(st.RecordWebhook(kCompanyA, "telnyx:dial-answered:v3:A:v3:D", event(), std::nullopt,
                           {.op = BridgeChange::Op::kSet, .a_leg = "v3:A", .b_leg = "v3:D"})
              .ok());
  CHECK(*st.GetBridgedLeg(kCompanyA, "v3:A") == "v3:D");
  REQUIRE(st.RecordWebhook(kCompanyA, "telnyx:ev-h3", event(), std::nullopt,
                           {.op = BridgeChange::Op::kClear, .a_leg = "v3:A"})
              .ok());
  CHECK(absl::IsNotFound(st.GetBridgedLeg(kCompanyA, "v3:A").status()));
  // The direct methods (ModifyCall INSTRUCT): put, clear only the named leg, clear -> true once.
  REQUIRE(st.PutBridgedLeg(kCompanyA, "v3:A", "v3:E").ok());
  REQUIRE(st.PutBridgedLeg(kCompanyA, "v3:A", "v3:F").ok());
  CHECK(*st.GetBridgedLeg(kCompanyA, "v3:A") == "v3:F");
  CHECK_FALSE(*st.ClearBridgedLeg(kCompanyB, "v3:A", "v3:F"));  // another company's: untouched
  CHECK_FALSE(*st.ClearBridgedLeg(kCompanyA, "v3:A", "v3:E"));
  CHECK(*st.ClearBridgedLeg(kCompanyA, "v3:A", "v3:F"));
  CHECK_FALSE(*st.ClearBridgedLeg(kCompanyA, "v3:A", ""));
  // Bad input is refused naming the field, nothing stored.
  CHECK(st.RecordWebhook(kCompanyA, "telnyx:ev-bad", event(), std::nullopt,
                         {.op = BridgeChange::Op::kSet, .a_leg = "v3:A"})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(st.PutBridgedLeg(kCompanyA, "", "v3:B").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Signed Twilio voice webhook over HTTP: TwiML and one carrier.v1 event",
          "[carrier][integration]") {
  Stack s;
  s.Configure(kCompanyA, false);
  REQUIRE(s.store->PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "twilio",
                              .provider_number_id = "PN1"}).ok());
  REQUIRE(s.h->core().SetStaticInstructions(kCompanyA, kNumberA, testing::GreetingInstructions())
              .ok());
  const FormParams params = testing::TwilioVoiceParams("CA200", kNumberA);

  http::HttpResponse forged =
      s.Post(s.h->TwilioRequest("/webhooks/twilio/voice", params, "wrong-token"));
  CHECK(forged.status == 403);

  http::HttpResponse r = s.Post(s.h->TwilioRequest("/webhooks/twilio/voice", params));
  REQUIRE(r.status == 200);
  CHECK(absl::StartsWith(r.Header("Content-Type").value_or(""), "text/xml"));
  auto tree = ParseTwiml(r.body);
  REQUIRE(tree.ok());
  CHECK(tree->children.at(0).text == "Hello from Switchboard");
  // The carrier retries: same answer, no second event.
  CHECK(s.Post(s.h->TwilioRequest("/webhooks/twilio/voice", params)).body == r.body);

  auto events = s.Events(2, absl::Seconds(5));  // asks for 2, must get exactly 1
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "carrier.call_incoming");
  CHECK(events[0].company_id() == kCompanyA);
  CHECK(events[0].carrier_event().ids().call_sid() == "CA200");
  CHECK(events[0].carrier_event().dedupe_key() == "twilio:voice:CA200");
}

TEST_CASE("Signed Telnyx call.initiated: 200, answer command sent, event published",
          "[carrier][integration]") {
  Stack s([](testing::ServiceHarness& h) {
    h.telnyx.On("POST", "/v2/calls/v3:T1/actions/answer", {{200, R"({"data":{"result":"ok"}})"}});
  });
  s.Configure(kCompanyA, true);
  REQUIRE(s.store->PutNumber({.e164 = kNumberA, .company_id = kCompanyA, .provider = "telnyx",
                              .provider_number_id = kNumberA}).ok());
  REQUIRE(s.h->core().SetStaticInstructions(kCompanyA, kNumberA, testing::GreetingInstructions())
              .ok());
  const std::string body = testing::TelnyxEnvelope(
      "call.initiated", "ev-t1",
      R"({"call_control_id":"v3:T1","call_session_id":"sess-T1","connection_id":"conn-1",)"
      R"("direction":"incoming","from":"+15550001111","to":")" + std::string(kNumberA) + R"("})");
  CHECK(s.Post(s.h->TelnyxRequest("/webhooks/telnyx/call-control", body)).status == 200);
  CHECK(s.Post(s.h->TelnyxRequest("/webhooks/telnyx/call-control", body)).status == 200);
  WaitFor([&] { return s.h->telnyx.count() >= 2; });
  const http::Request cmd = s.h->telnyx.last();
  CHECK(cmd.path == "/v2/calls/v3:T1/actions/answer");
  auto j = nlohmann::json::parse(cmd.body);
  CHECK(j.contains("client_state"));
  CHECK(j.contains("command_id"));
  auto events = s.Events(2, absl::Seconds(5));
  REQUIRE(events.size() == 1);
  CHECK(events[0].type() == "carrier.call_incoming");
  CHECK(events[0].carrier_event().ids().call_control_id() == "v3:T1");
  // The call is known now: ModifyCall goes to Telnyx.
  CHECK(s.store->GetCall(kCompanyA, "v3:T1")->provider == "telnyx");
}

std::string CaptureStderr(const std::function<void()>& fn) {
  char path[] = "/tmp/carrier_it_stderr_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  fflush(stderr);
  const int saved = dup(2);
  dup2(fd, 2);
  fn();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path);
  return ss.str();
}

TEST_CASE("SendMessage through gRPC fails over once to the secondary, without leaking secrets",
          "[carrier][integration]") {
  Stack s([](testing::ServiceHarness& h) {
    h.twilio.On("POST", testing::kTwilioAccountPath + "/Messages.json",
                {{503, R"({"code":20503,"message":"Service Unavailable","status":503})"}});
    h.telnyx.On("POST", "/v2/messages",
                {{200, R"({"data":{"id":"msg-42","to":[{"status":"queued"}]}})"}});
  });

  auto call = [&](const auto& method, const auto& request, auto* response,
                  const std::string& company) {
    grpc::ClientContext ctx;
    rpc::AttachPrincipal(ctx, rpc::Principal{.company_id = company, .role = "service"});
    return ((*s.stub).*method)(&ctx, request, response);
  };

  v1::SetCarrierAccountRequest set;
  set.mutable_primary()->set_provider(v1::TWILIO);
  set.mutable_primary()->mutable_twilio()->set_account_sid(testing::kTwilioSid);
  set.mutable_primary()->mutable_twilio()->set_auth_token(testing::kTwilioToken);
  set.mutable_secondary()->set_provider(v1::TELNYX);
  set.mutable_secondary()->mutable_telnyx()->set_api_key(testing::kTelnyxKey);
  set.mutable_secondary()->mutable_telnyx()->set_public_key(
      crypto::Base64Encode(s.h->telnyx_keys.public_key));
  set.mutable_secondary()->mutable_telnyx()->set_connection_id("conn-1");

  std::string logs = CaptureStderr([&] {
    v1::CarrierAccount account;
    grpc::Status st = call(&v1::Carrier::Stub::SetCarrierAccount, set, &account, kCompanyA);
    REQUIRE(st.ok());
    CHECK(account.primary_account_id() == testing::kTwilioSid);
    CHECK_FALSE(absl::StrContains(account.DebugString(), testing::kTwilioToken));

    v1::CarrierAccount other;
    CHECK(call(&v1::Carrier::Stub::GetCarrierAccount, v1::GetCarrierAccountRequest(), &other,
               kCompanyB).error_code() == grpc::StatusCode::NOT_FOUND);

    v1::SendMessageRequest msg;
    msg.set_from(kNumberA);
    msg.set_to("+15559998888");
    msg.set_body("Your technician is on the way");
    msg.set_idempotency_key("req-1");
    v1::SentMessage sent;
    st = call(&v1::Carrier::Stub::SendMessage, msg, &sent, kCompanyA);
    REQUIRE(st.ok());
    CHECK(sent.message_id() == "msg-42");
    CHECK(sent.provider() == "telnyx");
    // Same request again: the idempotency key means no second send anywhere.
    v1::SentMessage again;
    REQUIRE(call(&v1::Carrier::Stub::SendMessage, msg, &again, kCompanyA).ok());
    CHECK(again.message_id() == "msg-42");

    v1::SendMessageRequest bad = msg;
    bad.set_to("nope");
    v1::SentMessage unused;
    grpc::Status invalid = call(&v1::Carrier::Stub::SendMessage, bad, &unused, kCompanyA);
    CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_FALSE(absl::StrContains(invalid.error_message(), testing::kTwilioToken));

    // ConferenceControl through the adapter: no action, an unknown call, not connected.
    v1::ConferenceControlRequest conf;
    conf.set_call_id("CA-unknown");
    conf.set_conference("sb-call-1");
    v1::ConferenceControlResponse conf_out;
    grpc::Status no_action =
        call(&v1::Carrier::Stub::ConferenceControl, conf, &conf_out, kCompanyA);
    CHECK(no_action.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(no_action.error_message() == "action: required");
    conf.set_action(v1::ConferenceControlRequest::MOVE_BRIDGE);
    grpc::Status unknown =
        call(&v1::Carrier::Stub::ConferenceControl, conf, &conf_out, kCompanyA);
    CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(unknown.error_message() == "call_id: unknown call");
    REQUIRE(s.h->core().ConferenceControl(kCompanyA, {}).status().code() ==
            absl::StatusCode::kInvalidArgument);
  });
  CHECK(s.h->twilio.count() == 1);
  CHECK(s.h->telnyx.count() == 1);
  CHECK(absl::StrContains(logs, "carrier failover"));
  CHECK_FALSE(absl::StrContains(logs, testing::kTwilioToken));
  CHECK_FALSE(absl::StrContains(logs, testing::kTelnyxKey));
  CHECK(absl::StrContains(s.h->registry.Exposition(), "carrier_failovers_total"));

  auto events = s.Events(1);
  REQUIRE(events.size() >= 1);
  bool found = false;
  for (const auto& e : events) {
    if (e.carrier_event().has_provider_failover()) {
      found = true;
      CHECK(e.type() == "carrier.provider_failover");
      CHECK(e.company_id() == kCompanyA);
      CHECK(e.carrier_event().provider_failover().from_provider() == "twilio");
      CHECK(e.carrier_event().provider_failover().to_provider() == "telnyx");
      CHECK(e.carrier_event().provider_failover().operation() == "send_message");
    }
  }
  CHECK(found);
}

}  // namespace
}  // namespace switchboard::carrier
