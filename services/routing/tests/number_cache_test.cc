// Unit tests of CachingNumberResolver (routing's in-process cache of ResolveNumber answers) and of
// the numbers.v1 handler (InvalidateOnNumbersEvent), with a fake numbers service and a fake clock.
// The consumer of both topics is tested in service_integration_test.cc (Kafka).
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "libs/common/clock.h"
#include "libs/metrics/registry.h"
#include "services/routing/live_ports.h"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::routing {
namespace {

namespace ev = ::switchboard::events::v1;

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

// The numbers service: a map of lines, an error to answer instead, a count of lookups and a hook
// that runs inside a lookup once the answer is read (a change and its event overtaking it).
class FakeResolver final : public NumberResolver {
 public:
  void Set(const std::string& e164, const std::string& flow_id) {
    absl::MutexLock l(&mu_);
    lines_[e164] = ResolvedLine{.company_id = absl::StrCat("company-of-", e164),
                                .line_id = absl::StrCat("line-of-", e164),
                                .flow_id = flow_id};
  }
  void Remove(const std::string& e164) {
    absl::MutexLock l(&mu_);
    lines_.erase(e164);
  }
  void Fail(absl::Status error) {
    absl::MutexLock l(&mu_);
    error_ = std::move(error);
  }
  absl::StatusOr<ResolvedLine> Resolve(absl::string_view e164) override {
    lookups.fetch_add(1);
    absl::StatusOr<ResolvedLine> answer = Read(e164);
    if (during_lookup) during_lookup();  // after the read, before the answer arrives
    return answer;
  }
  absl::StatusOr<CallerIdLine> CallerId(absl::string_view company_id, absl::string_view user_id,
                                        bool direct) override {
    caller_id_lookups.fetch_add(1);
    return CallerIdLine{.e164 = absl::StrCat(company_id, "/", user_id, direct ? "/d" : "/m"),
                        .line_id = "l"};
  }
  std::atomic<int> lookups{0};
  std::atomic<int> caller_id_lookups{0};
  std::function<void()> during_lookup;  // set before concurrent use, not during

 private:
  absl::StatusOr<ResolvedLine> Read(absl::string_view e164) {
    absl::MutexLock l(&mu_);
    if (!error_.ok()) return error_;
    auto it = lines_.find(std::string(e164));
    if (it == lines_.end()) {
      return absl::NotFoundError(absl::StrCat("e164: ", e164, " is not a line"));
    }
    return it->second;
  }
  absl::Mutex mu_;
  std::map<std::string, ResolvedLine> lines_ ABSL_GUARDED_BY(mu_);
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

constexpr char kMain[] = "+12035550100";
constexpr char kOther[] = "+12035550199";

std::string FlowOf(CachingNumberResolver& cache, absl::string_view e164) {
  absl::StatusOr<ResolvedLine> line = cache.Resolve(e164);
  if (!line.ok()) return line.status().ToString();
  return line->flow_id;
}

TEST_CASE("CachingNumberResolver: an answer is reused for the TTL, then asked again", "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  numbers.Set(kMain, "main_line");
  metrics::Registry registry;
  CachingNumberResolver cache(numbers, clock, absl::Seconds(30), 100, &registry);
  auto first = cache.Resolve(kMain);
  REQUIRE(first.ok());
  CHECK(first->company_id == absl::StrCat("company-of-", kMain));
  CHECK(first->line_id == absl::StrCat("line-of-", kMain));
  CHECK(first->flow_id == "main_line");
  CHECK(numbers.lookups == 1);
  numbers.Set(kMain, "after_hours");  // changed without an event: seen after the TTL only
  clock.Advance(absl::Seconds(29));
  CHECK(FlowOf(cache, kMain) == "main_line");
  CHECK(numbers.lookups == 1);
  clock.Advance(absl::Seconds(1));
  CHECK(FlowOf(cache, kMain) == "after_hours");
  CHECK(numbers.lookups == 2);
  CHECK(FlowOf(cache, kMain) == "after_hours");
  CHECK(numbers.lookups == 2);
  CHECK(cache.size() == 1);  // refreshed in place
  const metrics::Labels hit{{"result", "hit"}}, miss{{"result", "miss"}};
  CHECK(registry.GetCounter("routing_number_cache_lookups_total", "", hit).Value() == 2);
  CHECK(registry.GetCounter("routing_number_cache_lookups_total", "", miss).Value() == 2);
  CHECK(registry.Exposition().find("routing_number_cache_lookups_total{result=\"hit\"} 2") !=
        std::string::npos);
  // Click-to-call's caller ID is not cached.
  CHECK(cache.CallerId("c1", "mike", true)->e164 == "c1/mike/d");
  CHECK(cache.CallerId("c1", "mike", true)->e164 == "c1/mike/d");
  CHECK(numbers.caller_id_lookups == 2);
}

TEST_CASE("CachingNumberResolver: NOT_FOUND for at most 2 s, other errors never", "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  CachingNumberResolver cache(numbers, clock, absl::Seconds(30));
  auto missing = cache.Resolve(kMain);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()).find(kMain) != std::string::npos);
  numbers.Set(kMain, "main_line");  // provisioned, its event lost
  clock.Advance(absl::Milliseconds(1999));
  CHECK(cache.Resolve(kMain).status().code() == absl::StatusCode::kNotFound);
  CHECK(numbers.lookups == 1);
  clock.Advance(absl::Milliseconds(1));
  CHECK(FlowOf(cache, kMain) == "main_line");
  CHECK(numbers.lookups == 2);

  // Numbers down, slow or refusing the input: every call asks again, and the failure does not
  // replace nor outlive what was cached before.
  for (absl::Status error :
       {absl::UnavailableError("numbers down"), absl::DeadlineExceededError("slow"),
        absl::InvalidArgumentError("e164: bad"), absl::InternalError("bug")}) {
    INFO(error.ToString());
    numbers.Fail(error);
    const int before = numbers.lookups;
    CHECK(cache.Resolve(kOther).status() == error);
    CHECK(cache.Resolve(kOther).status() == error);
    CHECK(numbers.lookups == before + 2);
    CHECK(FlowOf(cache, kMain) == "main_line");  // still the cached answer
  }
  numbers.Fail(absl::OkStatus());
  numbers.Set(kOther, "other");
  CHECK(FlowOf(cache, kOther) == "other");

  // An expired answer is not served while numbers is down.
  clock.Advance(absl::Seconds(31));
  numbers.Fail(absl::UnavailableError("numbers down"));
  CHECK(cache.Resolve(kMain).status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("CachingNumberResolver: a TTL under 2 s bounds NOT_FOUND too; 0 disables the cache",
          "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  CachingNumberResolver short_lived(numbers, clock, absl::Milliseconds(500));
  CHECK(short_lived.Resolve(kMain).status().code() == absl::StatusCode::kNotFound);
  clock.Advance(absl::Milliseconds(499));
  CHECK(short_lived.Resolve(kMain).status().code() == absl::StatusCode::kNotFound);
  CHECK(numbers.lookups == 1);
  clock.Advance(absl::Milliseconds(1));
  CHECK(short_lived.Resolve(kMain).status().code() == absl::StatusCode::kNotFound);
  CHECK(numbers.lookups == 2);

  numbers.Set(kMain, "main_line");
  CachingNumberResolver off(numbers, clock, absl::ZeroDuration());
  const int before = numbers.lookups;
  CHECK(FlowOf(off, kMain) == "main_line");
  CHECK(FlowOf(off, kMain) == "main_line");
  CHECK(numbers.lookups == before + 2);
  CHECK(off.size() == 0);
}

TEST_CASE("CachingNumberResolver: invalidation of one number, of all, and during a lookup",
          "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  numbers.Set(kMain, "main_line");
  numbers.Set(kOther, "other");
  CachingNumberResolver cache(numbers, clock, absl::Minutes(1));
  CHECK(FlowOf(cache, kMain) == "main_line");
  CHECK(FlowOf(cache, kOther) == "other");
  numbers.Set(kMain, "after_hours");
  numbers.Set(kOther, "other_2");
  cache.Invalidate(kMain);
  CHECK(FlowOf(cache, kMain) == "after_hours");
  CHECK(FlowOf(cache, kOther) == "other");  // untouched
  CHECK(numbers.lookups == 3);
  cache.Invalidate("+19999999999");  // not cached: nothing happens
  CHECK(cache.size() == 2);
  cache.InvalidateAll();
  CHECK(cache.size() == 0);
  CHECK(FlowOf(cache, kOther) == "other_2");
  CHECK(numbers.lookups == 4);

  // A NOT_FOUND is dropped as well (a number provisioned right after a call to it).
  numbers.Remove(kMain);
  cache.Invalidate(kMain);
  CHECK(cache.Resolve(kMain).status().code() == absl::StatusCode::kNotFound);
  numbers.Set(kMain, "main_line");
  cache.Invalidate(kMain);
  CHECK(FlowOf(cache, kMain) == "main_line");

  // The line changes, and its event arrives, while a lookup is on its way back with the old
  // answer: that answer is returned but not kept.
  cache.InvalidateAll();
  bool changed = false;
  numbers.during_lookup = [&] {
    if (changed) return;
    changed = true;
    numbers.Set(kMain, "changed");
    cache.Invalidate(kMain);
  };
  CHECK(FlowOf(cache, kMain) == "main_line");  // read before the change
  CHECK(cache.size() == 0);
  CHECK(FlowOf(cache, kMain) == "changed");
  CHECK(cache.size() == 1);
}

TEST_CASE("CachingNumberResolver: bounded, expired entries go first, a flood starts it over",
          "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  auto number = [](int i) { return absl::StrCat("+1203555", 1000 + i); };
  for (int i = 0; i < 100; ++i) numbers.Set(number(i), absl::StrCat("f", i));
  CachingNumberResolver cache(numbers, clock, absl::Seconds(30), /*max_entries=*/8);
  // Four answers and four NOT_FOUNDs (these expire after 2 s).
  for (int i = 0; i < 4; ++i) REQUIRE(cache.Resolve(number(i)).ok());
  for (int i = 0; i < 4; ++i) {
    REQUIRE(cache.Resolve(absl::StrCat("+1999555", 1000 + i)).status().code() ==
            absl::StatusCode::kNotFound);
  }
  CHECK(cache.size() == 8);
  clock.Advance(absl::Seconds(3));
  REQUIRE(cache.Resolve(number(4)).ok());  // full: the expired NOT_FOUNDs make room
  CHECK(cache.size() == 5);
  const int before = numbers.lookups;
  for (int i = 0; i < 5; ++i) REQUIRE(cache.Resolve(number(i)).ok());
  CHECK(numbers.lookups == before);  // the answers survived
  // A flood of numbers, all fresh: the cache never holds more than its bound.
  size_t most = 0;
  for (int i = 5; i < 100; ++i) {
    REQUIRE(FlowOf(cache, number(i)) == absl::StrCat("f", i));
    most = std::max(most, cache.size());
  }
  CHECK(most == 8);
  CHECK(cache.size() <= 8);
  CHECK(FlowOf(cache, number(99)) == "f99");
}

TEST_CASE("CachingNumberResolver: concurrent lookups, changes and invalidations", "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  constexpr int kNumbers = 40;
  auto number = [](int i) { return absl::StrCat("+1203555", 2000 + i); };
  for (int i = 0; i < kNumbers; ++i) numbers.Set(number(i), "v0");
  CachingNumberResolver cache(numbers, clock, absl::Seconds(30), /*max_entries=*/16);
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0}, failed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int k = 0; k < 3000; ++k) {
        const std::string e164 = number((k * 7 + t * 13) % kNumbers);
        absl::StatusOr<ResolvedLine> line = cache.Resolve(e164);
        if (!line.ok()) {
          ++failed;
        } else if (line->company_id != absl::StrCat("company-of-", e164) ||
                   line->line_id != absl::StrCat("line-of-", e164)) {
          ++wrong;  // another number's answer
        }
      }
    });
  }
  // Meanwhile the flows change, each change followed by its event, and the clock moves on.
  std::thread changer([&] {
    for (int k = 0; !stop.load(); ++k) {
      const std::string e164 = number(k % kNumbers);
      numbers.Set(e164, absl::StrCat("v", k));
      if (k % 50 == 0) {
        cache.InvalidateAll();
      } else {
        cache.Invalidate(e164);
      }
      if (k % 20 == 0) clock.Advance(absl::Seconds(1));
    }
  });
  for (std::thread& c : callers) c.join();
  stop = true;
  changer.join();
  CHECK(failed == 0);
  CHECK(wrong == 0);
  CHECK(cache.size() <= 16);
  // Quiet again: after a change and its event, every number answers its latest flow.
  for (int i = 0; i < kNumbers; ++i) {
    numbers.Set(number(i), "final");
    cache.Invalidate(number(i));
    CHECK(FlowOf(cache, number(i)) == "final");
  }
}

ev::Event NumbersEvent(absl::string_view type) {
  ev::Event e;
  e.set_id(absl::StrCat("evt-", type));
  e.set_type(std::string(type));
  e.set_company_id("c1");
  return e;
}

TEST_CASE("numbers.v1 events drop the cached answers of the numbers they name", "[unit]") {
  FakeClock clock(kStart);
  FakeResolver numbers;
  const std::vector<std::string> all = {"+12035550101", "+12035550102", "+12035550103",
                                        "+12035550104", "+12035550105", "+12035550106",
                                        "+12035550107"};
  for (const std::string& n : all) numbers.Set(n, "v1");
  CachingNumberResolver cache(numbers, clock, absl::Minutes(1));
  auto warm = [&] {
    cache.InvalidateAll();
    for (const std::string& n : all) REQUIRE(cache.Resolve(n).ok());
    REQUIRE(cache.size() == all.size());
  };
  auto cached = [&](const std::string& n) {
    const int before = numbers.lookups;
    REQUIRE(cache.Resolve(n).ok());
    return numbers.lookups == before;
  };

  ev::Event provisioned = NumbersEvent("numbers.number_provisioned");
  provisioned.mutable_number_provisioned()->set_e164(all[0]);
  ev::Event activated = NumbersEvent("numbers.number_activated");
  activated.mutable_number_activated()->set_e164(all[1]);
  ev::Event failed = NumbersEvent("numbers.number_order_failed");
  failed.mutable_number_order_failed()->set_e164(all[2]);
  ev::Event released = NumbersEvent("numbers.number_released");
  released.mutable_number_released()->set_e164(all[3]);
  ev::Event updated = NumbersEvent("numbers.line_updated");
  updated.mutable_line_updated()->set_e164(all[4]);
  updated.mutable_line_updated()->set_change("flow");
  int i = 0;
  for (const ev::Event* e : {&provisioned, &activated, &failed, &released, &updated}) {
    INFO(e->type());
    warm();
    CHECK(InvalidateOnNumbersEvent(*e, cache));
    CHECK(cache.size() == all.size() - 1);
    CHECK_FALSE(cached(all[i]));
    for (size_t j = 0; j < all.size(); ++j) {
      if (static_cast<int>(j) != i) CHECK(cached(all[j]));
    }
    ++i;
  }

  // A port completed with a swap: the ported number and the temporary one it replaced.
  warm();
  ev::Event ported = NumbersEvent("numbers.number_ported");
  ported.mutable_number_ported()->set_e164(all[5]);
  ported.mutable_number_ported()->set_replaced_e164(all[6]);
  CHECK(InvalidateOnNumbersEvent(ported, cache));
  CHECK(cache.size() == all.size() - 2);
  CHECK_FALSE(cached(all[5]));
  CHECK_FALSE(cached(all[6]));
  CHECK(cached(all[0]));

  // A port request's progress changes no line.
  warm();
  ev::Event port_update = NumbersEvent("numbers.port_request_updated");
  port_update.mutable_port_request_updated()->add_numbers(all[0]);
  port_update.mutable_port_request_updated()->set_status("submitted");
  CHECK(InvalidateOnNumbersEvent(port_update, cache));
  CHECK(cache.size() == all.size());

  // No number named, or a numbers payload this build does not know: everything goes.
  ev::Event nameless = NumbersEvent("numbers.line_updated");
  nameless.mutable_line_updated()->set_line_id("line-1");
  CHECK(InvalidateOnNumbersEvent(nameless, cache));
  CHECK(cache.size() == 0);
  warm();
  CHECK(InvalidateOnNumbersEvent(NumbersEvent("numbers.number_renamed"), cache));
  CHECK(cache.size() == 0);

  // Not a numbers event: untouched.
  warm();
  ev::Event user = NumbersEvent("identity.user_invited");
  user.mutable_user_invited();
  CHECK_FALSE(InvalidateOnNumbersEvent(user, cache));
  CHECK_FALSE(InvalidateOnNumbersEvent(ev::Event(), cache));
  CHECK(cache.size() == all.size());
}

}  // namespace
}  // namespace switchboard::routing
