#include "services/carrier/failover.h"

#include <atomic>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace switchboard::carrier {
namespace {

// A provider whose PlaceCall/SendMessage answers come from a script (the last one repeats);
// every other operation records the call and succeeds.
class FakeProvider final : public CarrierProvider {
 public:
  explicit FakeProvider(std::string name) : name_(std::move(name)) {}

  void Script(std::vector<absl::Status> outcomes) {
    absl::MutexLock lock(&mu_);
    outcomes_ = std::move(outcomes);
    next_ = 0;
  }
  int sends() const { return sends_.load(); }
  int modifies() const { return modifies_.load(); }
  absl::Notification* block = nullptr;  // when set, SendMessage waits on it

  std::string name() const override { return name_; }
  absl::StatusOr<std::vector<AvailableNumber>> SearchNumbers(const NumberSearch&) override {
    return std::vector<AvailableNumber>{{.e164 = "+15550000000", .locality = name_}};
  }
  absl::StatusOr<OrderedNumber> OrderNumber(absl::string_view e164,
                                            const NumberWebhooks&) override {
    return OrderedNumber{.provider_number_id = name_, .e164 = std::string(e164)};
  }
  absl::Status UpdateNumberWebhooks(absl::string_view, const NumberWebhooks&) override {
    return absl::OkStatus();
  }
  absl::Status ReleaseNumber(absl::string_view) override { return absl::OkStatus(); }
  absl::StatusOr<PortOrder> CreatePortOrder(const PortOrderRequest&) override {
    return PortOrder{.id = name_};
  }
  absl::StatusOr<PortOrder> GetPortOrder(absl::string_view id) override {
    return PortOrder{.id = std::string(id)};
  }
  absl::StatusOr<PlacedCall> PlaceCall(const PlaceCallRequest&) override {
    int n = ++sends_;
    if (absl::Status s = NextOutcome(); !s.ok()) return s;
    return PlacedCall{.call_id = name_ + "-call-" + std::to_string(n), .provider = name_};
  }
  absl::Status ModifyCall(absl::string_view, const CallModification&) override {
    ++modifies_;
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> StartRecording(absl::string_view, absl::string_view) override {
    return name_;
  }
  absl::Status StopRecording(absl::string_view, absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<ConferenceResult> ConferenceControl(const ConferenceRequest& r) override {
    return ConferenceResult{.leg = name_ + "-" + r.leg};
  }
  absl::StatusOr<SentMessage> SendMessage(const SendMessageRequest&) override {
    int n = ++sends_;
    if (block != nullptr) block->WaitForNotification();
    if (absl::Status s = NextOutcome(); !s.ok()) return s;
    return SentMessage{.message_id = name_ + "-msg-" + std::to_string(n), .provider = name_};
  }
  absl::StatusOr<RecordingMedia> FetchRecording(absl::string_view) override {
    return RecordingMedia{.bytes = name_};
  }

 private:
  absl::Status NextOutcome() {
    absl::MutexLock lock(&mu_);
    if (outcomes_.empty()) return absl::OkStatus();
    absl::Status s = outcomes_[std::min(next_, outcomes_.size() - 1)];
    ++next_;
    return s;
  }

  const std::string name_;
  absl::Mutex mu_;
  std::vector<absl::Status> outcomes_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int> sends_{0};
  std::atomic<int> modifies_{0};
};

struct Fixture {
  FakeProvider primary{"twilio"};
  FakeProvider secondary{"telnyx"};
  FakeClock clock{absl::FromUnixSeconds(1'700'000'000)};
  absl::Mutex mu;
  std::vector<FailoverEvent> events;
  FailoverProvider failover{primary, &secondary,
                            {.breaker = {.failure_threshold = 3, .cooldown = absl::Seconds(30)}},
                            clock, [this](const FailoverEvent& e) {
                              absl::MutexLock lock(&mu);
                              events.push_back(e);
                            }};
  std::vector<FailoverEvent> Events() {
    absl::MutexLock lock(&mu);
    return events;
  }
};

SendMessageRequest Message(std::string key) {
  return {.from = "+15550000001", .to = "+15550000002", .body = "hi",
          .idempotency_key = std::move(key)};
}

TEST_CASE("failover: primary 503 -> sent once via secondary, event reported", "[failover]") {
  Fixture f;
  f.primary.Script({absl::UnavailableError("twilio error 20503: Service Unavailable (HTTP 503)")});
  auto sent = f.failover.SendMessage(Message("req-1"));
  REQUIRE(sent.ok());
  CHECK(sent->provider == "telnyx");
  CHECK(f.primary.sends() == 1);
  CHECK(f.secondary.sends() == 1);
  std::vector<FailoverEvent> events = f.Events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].type == FailoverEvent::Type::kFailover);
  CHECK(events[0].operation == "send_message");
  CHECK(events[0].from_provider == "twilio");
  CHECK(events[0].to_provider == "telnyx");
  CHECK(events[0].cause.code() == absl::StatusCode::kUnavailable);
  CHECK(events[0].idempotency_key == "req-1");

  // Same key again: the first result, no carrier contacted.
  auto again = f.failover.SendMessage(Message("req-1"));
  REQUIRE(again.ok());
  CHECK(again->message_id == sent->message_id);
  CHECK(f.primary.sends() == 1);
  CHECK(f.secondary.sends() == 1);
}

TEST_CASE("failover: timeout fails over; non-retryable errors do not", "[failover]") {
  Fixture f;
  f.primary.Script({absl::DeadlineExceededError("twilio: timed out")});
  auto call = f.failover.PlaceCall({.from = "+15550000001", .to = "+15550000002",
                                    .instructions_url = "https://x/v"});
  REQUIRE(call.ok());
  CHECK(call->provider == "telnyx");

  // The call lives on the secondary: live-call control goes there.
  REQUIRE(f.failover.ModifyCall(call->call_id, {}).ok());
  CHECK(f.secondary.modifies() == 1);
  CHECK(f.primary.modifies() == 0);
  REQUIRE(f.failover.ModifyCall("other-call", {}).ok());
  CHECK(f.primary.modifies() == 1);

  f.primary.Script({absl::InvalidArgumentError("twilio error 21211: bad To (HTTP 400)")});
  auto bad = f.failover.SendMessage(Message(""));
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() == "twilio error 21211: bad To (HTTP 400)");
  CHECK(f.secondary.sends() == 1);  // only the call above
}

TEST_CASE("failover: both carriers down -> error naming both", "[failover]") {
  Fixture f;
  f.primary.Script({absl::UnavailableError("twilio: connection refused")});
  f.secondary.Script({absl::UnavailableError("telnyx error 10011: down (HTTP 503)")});
  auto sent = f.failover.SendMessage(Message("k"));
  CHECK(sent.status().code() == absl::StatusCode::kUnavailable);
  CHECK(sent.status().message() ==
        "send_message failed on every carrier: twilio: connection refused; telnyx error 10011: "
        "down (HTTP 503)");
  // Failed requests are not remembered: the same key may try again.
  f.primary.Script({});
  f.secondary.Script({});
  auto retry = f.failover.SendMessage(Message("k"));
  REQUIRE(retry.ok());
  CHECK(retry->provider == "twilio");
}

TEST_CASE("failover: breaker opens, skips the primary, half-opens after cooldown",
          "[failover]") {
  Fixture f;
  f.primary.Script({absl::UnavailableError("down")});
  for (int i = 0; i < 3; ++i) REQUIRE(f.failover.SendMessage(Message("")).ok());
  CHECK(f.primary.sends() == 3);
  CHECK(f.failover.primary_breaker_state() == BreakerState::kOpen);
  std::vector<FailoverEvent> events = f.Events();
  REQUIRE(events.size() == 4);  // 3 failovers + breaker opened
  CHECK(events[2].type == FailoverEvent::Type::kBreakerOpened);
  CHECK(events[2].from_provider == "twilio");

  // Open: the primary is not contacted at all.
  REQUIRE(f.failover.SendMessage(Message("")).ok());
  CHECK(f.primary.sends() == 3);
  CHECK(f.secondary.sends() == 4);
  events = f.Events();
  CHECK(events.back().type == FailoverEvent::Type::kFailover);
  CHECK(events.back().cause.message() == "twilio: circuit open");

  // Cooldown passes: one trial; it fails -> open again for another cooldown.
  f.clock.Advance(absl::Seconds(31));
  REQUIRE(f.failover.SendMessage(Message("")).ok());
  CHECK(f.primary.sends() == 4);
  CHECK(f.failover.primary_breaker_state() == BreakerState::kOpen);
  REQUIRE(f.failover.SendMessage(Message("")).ok());
  CHECK(f.primary.sends() == 4);

  // Next trial succeeds -> closed, and the primary serves again.
  f.clock.Advance(absl::Seconds(31));
  f.primary.Script({});
  auto sent = f.failover.SendMessage(Message(""));
  REQUIRE(sent.ok());
  CHECK(sent->provider == "twilio");
  CHECK(f.failover.primary_breaker_state() == BreakerState::kClosed);
  CHECK(f.Events().back().type == FailoverEvent::Type::kBreakerClosed);
}

TEST_CASE("circuit breaker admits one trial when half-open", "[failover]") {
  FakeClock clock(absl::FromUnixSeconds(0));
  CircuitBreaker breaker({.failure_threshold = 1, .cooldown = absl::Seconds(10)}, clock);
  REQUIRE(breaker.Allow());
  CHECK(breaker.Record(false) == std::optional<BreakerState>(BreakerState::kOpen));
  CHECK(!breaker.Allow());
  clock.Advance(absl::Seconds(10));
  CHECK(breaker.Allow());   // the trial
  CHECK(!breaker.Allow());  // others wait for its outcome
  CHECK(breaker.state() == BreakerState::kHalfOpen);
  CHECK(breaker.Record(true) == std::optional<BreakerState>(BreakerState::kClosed));
  CHECK(breaker.Allow());
  CHECK(breaker.Record(true) == std::nullopt);
}

TEST_CASE("failover: every breaker open -> kUnavailable without any request", "[failover]") {
  FakeProvider only("twilio");
  FakeClock clock(absl::FromUnixSeconds(0));
  FailoverProvider failover(only, nullptr, {.breaker = {.failure_threshold = 1}}, clock, nullptr);
  only.Script({absl::UnavailableError("down")});
  CHECK(failover.SendMessage(Message("")).status().code() == absl::StatusCode::kUnavailable);
  CHECK(only.sends() == 1);
  absl::Status s = failover.SendMessage(Message("")).status();
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(s.message() == "send_message failed on every carrier: twilio: circuit open");
  CHECK(only.sends() == 1);
}

TEST_CASE("failover: concurrent requests with one key send once", "[failover]") {
  Fixture f;
  absl::Notification release;
  f.primary.block = &release;
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<SentMessage>> results(4, absl::UnknownError("unset"));
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { results[i] = f.failover.SendMessage(Message("same")); });
  }
  // Wait (with a deadline) until the first request reached the carrier, then release it.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (f.primary.sends() == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  release.Notify();
  for (auto& t : threads) t.join();
  CHECK(f.primary.sends() == 1);
  for (const auto& r : results) {
    REQUIRE(r.ok());
    CHECK(r->message_id == "twilio-msg-1");
  }
}

TEST_CASE("failover: remembered keys are bounded", "[failover]") {
  FakeProvider only("twilio");
  FakeClock clock(absl::FromUnixSeconds(0));
  FailoverProvider failover(only, nullptr, {.max_remembered_keys = 2}, clock, nullptr);
  REQUIRE(failover.SendMessage(Message("a")).ok());
  REQUIRE(failover.SendMessage(Message("b")).ok());
  REQUIRE(failover.SendMessage(Message("a")).ok());
  CHECK(only.sends() == 2);
  REQUIRE(failover.SendMessage(Message("c")).ok());  // evicts "a"
  REQUIRE(failover.SendMessage(Message("a")).ok());
  CHECK(only.sends() == 4);
}

TEST_CASE("failover: calls on a same-named secondary account are still routed to it",
          "[failover]") {
  FakeProvider a("twilio");
  FakeProvider b("twilio");
  FakeClock clock(absl::FromUnixSeconds(0));
  FailoverProvider failover(a, &b, {}, clock, nullptr);
  a.Script({absl::UnavailableError("down")});
  auto call = failover.PlaceCall(
      {.from = "+15550000001", .to = "+15550000002", .instructions_url = "https://x/v"});
  REQUIRE(call.ok());
  REQUIRE(failover.StopRecording(call->call_id, "").ok());
  REQUIRE(failover.ModifyCall(call->call_id, {}).ok());
  CHECK(b.modifies() == 1);
  CHECK(a.modifies() == 0);
}

TEST_CASE("failover: ConferenceControl goes to the carrier that has the call", "[failover]") {
  FakeProvider a("twilio");
  FakeProvider b("telnyx");
  FakeClock clock(absl::FromUnixSeconds(0));
  FailoverProvider failover(a, &b, {}, clock, nullptr);
  a.Script({absl::UnavailableError("down")});
  auto call = failover.PlaceCall(
      {.from = "+15550000001", .to = "+15550000002", .instructions_url = "https://x/v"});
  REQUIRE(call.ok());
  auto on_secondary = failover.ConferenceControl({.call_id = call->call_id, .leg = "L"});
  REQUIRE(on_secondary.ok());
  CHECK(on_secondary->leg == "telnyx-L");
  auto on_primary = failover.ConferenceControl({.call_id = "unknown-call", .leg = "L"});
  REQUIRE(on_primary.ok());
  CHECK(on_primary->leg == "twilio-L");
}

TEST_CASE("failover: other operations go to the primary", "[failover]") {
  Fixture f;
  auto numbers = f.failover.SearchNumbers({});
  REQUIRE(numbers.ok());
  CHECK((*numbers)[0].locality == "twilio");
  CHECK(f.failover.OrderNumber("+15550000001", {})->provider_number_id == "twilio");
  CHECK(f.failover.FetchRecording("r")->bytes == "twilio");
  CHECK(f.failover.name() == "failover(twilio,telnyx)");
}

}  // namespace
}  // namespace switchboard::carrier
