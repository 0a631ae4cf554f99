// RoutingInstructionSource against an in-process Routing gRPC server: answers, the metadata and
// current id it sends, NOT_FOUND and empty answers, and the fallback voicemail when routing fails,
// misses the deadline or answers instructions that cannot be rendered; and the listener's TwiML
// when routing is down.
#include <atomic>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "libs/testing/testing.h"
#include "services/carrier/proto_convert.h"
#include "services/carrier/routing_source.h"
#include "services/carrier/tests/fake_store.h"
#include "services/carrier/tests/service_test_support.h"
#include "services/carrier/twiml.h"

namespace switchboard::carrier {
namespace {

constexpr char kCompany[] = "0190c5d2-0000-7000-8000-0000000000d1";
constexpr char kNumber[] = "+15550005555";

class FakeRouting final : public routing::v1::Routing::Service {
 public:
  enum class Mode { kAnswer, kEmpty, kNotFound, kUnavailable, kBlock, kInvalid };
  std::atomic<Mode> mode{Mode::kAnswer};
  std::atomic<bool> replayed{false};  // kAnswer: HandleCallEventResponse.replayed
  std::atomic<int> calls{0};
  absl::Notification release;  // kBlock waits for it
  std::string last_company;
  std::string last_role;
  routing::v1::HandleCallEventRequest last;

  grpc::Status HandleCallEvent(grpc::ServerContext* context,
                               const routing::v1::HandleCallEventRequest* request,
                               routing::v1::HandleCallEventResponse* response) override {
    calls.fetch_add(1);
    last = *request;
    auto md = context->client_metadata();
    if (auto it = md.find("x-sb-company-id"); it != md.end()) {
      last_company = std::string(it->second.data(), it->second.size());
    }
    if (auto it = md.find("x-sb-role"); it != md.end()) {
      last_role = std::string(it->second.data(), it->second.size());
    }
    switch (mode.load()) {
      case Mode::kAnswer: {
        CallInstructions in{.id = "menu-1",
                            .instructions = {Say{.text = "Routing says hello"}, Hangup{}}};
        CallInstructionsToProto(in, response->mutable_instructions());
        response->set_replayed(replayed.load());
        return grpc::Status::OK;
      }
      case Mode::kEmpty: return grpc::Status::OK;
      case Mode::kNotFound: return {grpc::StatusCode::NOT_FOUND, "unknown call"};
      case Mode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, "postgres down"};
      case Mode::kBlock:
        release.WaitForNotificationWithTimeout(absl::Seconds(30));
        return grpc::Status::OK;
      case Mode::kInvalid: {
        response->mutable_instructions()->set_id("bad");
        response->mutable_instructions()->add_instructions()->mutable_say();  // empty text
        return grpc::Status::OK;
      }
    }
    return grpc::Status::OK;
  }
};

CarrierEvent Incoming() {
  CarrierEvent e{.provider = Provider::kTwilio, .from = "+15550001111", .to = kNumber,
                 .direction = CallDirection::kInbound, .dedupe_key = "twilio:voice:CA1",
                 .kind = CallIncoming{}};
  e.ids.call_sid = "CA1";
  return e;
}

// `deadline`: generous by default, so a loaded machine does not turn an answer into a fallback;
// the test of a slow routing picks a short one (it waits that long).
struct Fixture {
  explicit Fixture(absl::Duration deadline = absl::Seconds(10))
      : source(routing::v1::Routing::NewStub(server->channel()), registry,
               RoutingSourceOptions{.deadline = deadline}) {}
  FakeRouting routing;
  std::unique_ptr<switchboard::testing::GrpcTestServer> server =
      switchboard::testing::GrpcTestServer::CreateOrFail({&routing});
  metrics::Registry registry;
  RoutingInstructionSource source;
  ~Fixture() {
    if (!routing.release.HasBeenNotified()) routing.release.Notify();
  }
  double Fallbacks(const std::string& code) {
    return registry.GetCounter("carrier_routing_fallbacks_total", "", {{"code", code}}).Value();
  }
};

TEST_CASE("routing's answer is the call's instructions", "[routing_source]") {
  Fixture f;
  absl::StatusOr<CallEventAnswer> got = f.source.ForCallEvent(kCompany, Incoming(), "prev-set");
  REQUIRE(got.ok());
  CHECK(got->instructions.id == "menu-1");
  REQUIRE(got->instructions.instructions.size() == 2);
  CHECK(std::get<Say>(got->instructions.instructions[0]).text == "Routing says hello");
  CHECK_FALSE(got->replayed);
  CHECK(f.routing.last_company == kCompany);
  CHECK(f.routing.last_role == "service");
  CHECK(f.routing.last.current_instructions_id() == "prev-set");
  CHECK(f.routing.last.event().company_id() == kCompany);
  CHECK(f.routing.last.event().ids().call_sid() == "CA1");
  CHECK(f.routing.last.event().has_call_incoming());
}

TEST_CASE("routing's replayed flag is carried with its answer", "[routing_source]") {
  Fixture f;
  f.routing.replayed = true;
  absl::StatusOr<CallEventAnswer> got = f.source.ForCallEvent(kCompany, Incoming(), "old-set");
  REQUIRE(got.ok());
  CHECK(got->instructions.id == "menu-1");
  CHECK(got->replayed);
  f.routing.replayed = false;
  got = f.source.ForCallEvent(kCompany, Incoming(), "old-set");
  REQUIRE(got.ok());
  CHECK_FALSE(got->replayed);
  // The fallback is never a replay, even when routing would have said so.
  f.routing.replayed = true;
  f.routing.mode = FakeRouting::Mode::kUnavailable;
  got = f.source.ForCallEvent(kCompany, Incoming(), "old-set");
  REQUIRE(got.ok());
  CHECK(got->instructions.id == kFallbackInstructionsId);
  CHECK_FALSE(got->replayed);
}

TEST_CASE("no instructions from routing is NOT_FOUND, not a fallback", "[routing_source]") {
  Fixture f;
  f.routing.mode = FakeRouting::Mode::kEmpty;
  CHECK(absl::IsNotFound(f.source.ForCallEvent(kCompany, Incoming(), "").status()));
  f.routing.mode = FakeRouting::Mode::kNotFound;
  CHECK(absl::IsNotFound(f.source.ForCallEvent(kCompany, Incoming(), "").status()));
  CHECK(f.Fallbacks("NOT_FOUND") == 0);
}

TEST_CASE("routing failing, slow or answering nonsense: the fallback voicemail",
          "[routing_source]") {
  Fixture f(absl::Seconds(1));
  const CallInstructions fallback = FallbackVoicemail(RoutingSourceOptions{});
  SECTION("unavailable") {
    f.routing.mode = FakeRouting::Mode::kUnavailable;
    absl::StatusOr<CallEventAnswer> got = f.source.ForCallEvent(kCompany, Incoming(), "");
    REQUIRE(got.ok());
    CHECK(got->instructions.id == kFallbackInstructionsId);
    CHECK(f.Fallbacks("UNAVAILABLE") == 1);
  }
  SECTION("deadline exceeded") {
    f.routing.mode = FakeRouting::Mode::kBlock;
    absl::StatusOr<CallEventAnswer> got = f.source.ForCallEvent(kCompany, Incoming(), "");
    f.routing.release.Notify();
    REQUIRE(got.ok());
    CHECK(got->instructions.id == kFallbackInstructionsId);
    CHECK(f.Fallbacks("DEADLINE_EXCEEDED") == 1);
  }
  SECTION("instructions that cannot be rendered") {
    f.routing.mode = FakeRouting::Mode::kInvalid;
    absl::StatusOr<CallEventAnswer> got = f.source.ForCallEvent(kCompany, Incoming(), "");
    REQUIRE(got.ok());
    CHECK(got->instructions.id == kFallbackInstructionsId);
    CHECK(f.Fallbacks("INVALID_ARGUMENT") == 1);
  }
  SECTION("a call on the fallback keeps it without asking routing") {
    absl::StatusOr<CallEventAnswer> got =
        f.source.ForCallEvent(kCompany, Incoming(), kFallbackInstructionsId);
    REQUIRE(got.ok());
    CHECK(got->instructions.id == kFallbackInstructionsId);
    CHECK(f.routing.calls.load() == 0);
  }
  // The set itself: apology, record, goodbye, hang-up; valid for both carriers.
  REQUIRE(fallback.instructions.size() == 4);
  CHECK(std::holds_alternative<Record>(fallback.instructions[1]));
  CHECK(ValidateInstructions(fallback).ok());
}

TEST_CASE("the listener answers a call with the fallback voicemail while routing is down",
          "[routing_source]") {
  Fixture f;
  f.routing.mode = FakeRouting::Mode::kUnavailable;
  testing::FakeStore store;
  testing::ServiceHarness h(store);
  h.Start(&f.source);
  REQUIRE(h.core().SetCarrierAccount(kCompany, {.primary = h.TwilioConfig()}).ok());
  REQUIRE(store.PutNumber({.e164 = kNumber, .company_id = kCompany, .provider = "twilio",
                           .provider_number_id = "PN5"}).ok());
  http::Response r = h.router().Dispatch(
      h.TwilioRequest("/webhooks/twilio/voice", testing::TwilioVoiceParams("CA9", kNumber)));
  REQUIRE(r.status == 200);
  absl::StatusOr<TwimlNode> root = ParseTwiml(r.body);
  REQUIRE(root.ok());
  REQUIRE(root->children.size() >= 2);
  CHECK(root->children[0].tag == "Say");
  CHECK(root->children[1].tag == "Record");
  // The record action names the fallback set, so the rest of the call stays on it.
  const std::string* action = root->children[1].Attr("action");
  REQUIRE(action != nullptr);
  CHECK(absl::StrContains(*action, "i=fallback-voicemail"));
  CHECK(store.events().size() == 1);  // the call is recorded whatever routing does
}

// The static sets standing in for numbers routing does not manage.
class StaticSets final : public InstructionSource {
 public:
  absl::StatusOr<CallEventAnswer> ForCallEvent(absl::string_view, const CarrierEvent& event,
                                               absl::string_view current_id) override {
    if (current_id == "ivr" || (current_id.empty() && event.to == kNumber)) {
      return CallEventAnswer{
          .instructions = {.id = "ivr", .instructions = {Say{.text = "static ivr"}, Hangup{}}}};
    }
    return absl::NotFoundError("no static set");
  }
};

TEST_CASE("numbers routing does not manage keep their static sets", "[routing_source]") {
  FakeRouting routing;
  routing.mode = FakeRouting::Mode::kNotFound;
  auto server = switchboard::testing::GrpcTestServer::CreateOrFail({&routing});
  metrics::Registry registry;
  StaticSets sets;
  RoutingInstructionSource source(routing::v1::Routing::NewStub(server->channel()), registry,
                                  RoutingSourceOptions{}, &sets);
  // First event: routing says NOT_FOUND (not a line), the number's static set answers.
  absl::StatusOr<CallEventAnswer> first = source.ForCallEvent(kCompany, Incoming(), "");
  REQUIRE(first.ok());
  CHECK(first->instructions.id == "ivr");
  CHECK(routing.calls.load() == 1);
  // Later events of that call stay on the static set without asking routing.
  CarrierEvent gathered = Incoming();
  gathered.kind = DigitsGathered{.digits = "1"};
  absl::StatusOr<CallEventAnswer> next = source.ForCallEvent(kCompany, gathered, "ivr");
  REQUIRE(next.ok());
  CHECK(next->instructions.id == "ivr");
  CHECK(routing.calls.load() == 1);
  // A routing set's later events go to routing.
  routing.mode = FakeRouting::Mode::kAnswer;
  absl::StatusOr<CallEventAnswer> managed = source.ForCallEvent(kCompany, gathered, "menu-1");
  REQUIRE(managed.ok());
  CHECK(managed->instructions.id == "menu-1");
  CHECK(routing.calls.load() == 2);
  // A number with neither: NOT_FOUND.
  routing.mode = FakeRouting::Mode::kNotFound;
  CarrierEvent other = Incoming();
  other.to = "+15550006666";
  CHECK(absl::IsNotFound(source.ForCallEvent(kCompany, other, "").status()));
}

}  // namespace
}  // namespace switchboard::carrier
