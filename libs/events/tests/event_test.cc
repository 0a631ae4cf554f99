#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

#include "libs/common/clock.h"
#include "libs/common/ids.h"
#include "libs/events/event.h"
#include "libs/events/outbox.h"
#include "libs/events/producer.h"

namespace switchboard::events {
namespace {

TEST_CASE("NewEvent fills the envelope from the clock", "[events][event]") {
  FakeClock clock(absl::FromUnixMillis(1'700'000'000'123));
  v1::Event e = NewEvent("identity.user_invited", "c1", "u1", "identity", clock);
  CHECK(IsUuid(e.id()));
  CHECK(e.id()[14] == '7');  // UUIDv7
  CHECK(e.type() == "identity.user_invited");
  CHECK(e.company_id() == "c1");
  CHECK(e.aggregate_id() == "u1");
  CHECK(e.source() == "identity");
  CHECK(e.occurred_at().seconds() == 1'700'000'000);
  CHECK(e.occurred_at().nanos() == 123'000'000);
  CHECK(NewEvent("t", "c", "a", "s", clock).id() != e.id());
}

TEST_CASE("DlqTopic appends .dlq", "[events][event]") { CHECK(DlqTopic("calls.v1") == "calls.v1.dlq"); }

TEST_CASE("StatusFromKafka maps librdkafka errors per the style table", "[events][producer]") {
  CHECK(StatusFromKafka(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "x").code() ==
        absl::StatusCode::kUnavailable);
  CHECK(StatusFromKafka(RD_KAFKA_RESP_ERR__TRANSPORT, "x").code() ==
        absl::StatusCode::kUnavailable);
  CHECK(StatusFromKafka(RD_KAFKA_RESP_ERR__QUEUE_FULL, "x").code() ==
        absl::StatusCode::kResourceExhausted);
  CHECK(StatusFromKafka(RD_KAFKA_RESP_ERR__FATAL, "x").code() == absl::StatusCode::kInternal);
  CHECK(StatusFromKafka(RD_KAFKA_RESP_ERR_NO_ERROR, "x").ok());
  CHECK(StatusFromKafka(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, "deliver").message().find(
            "deliver: ") == 0);
}

TEST_CASE("Producer::Create validates its options", "[events][producer]") {
  CHECK(Producer::Create({"", "id", {}, absl::Seconds(1)}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(Producer::Create({"127.0.0.1:1", "", {}, absl::Seconds(1)}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto bad = Producer::Create({"127.0.0.1:1", "id", {{"linger.ms", "banana"}}, absl::Seconds(1)});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("linger.ms") != absl::string_view::npos);
}

TEST_CASE("Producer::Flush reports undeliverable messages as Unavailable", "[events][producer]") {
  auto p = Producer::Create({"127.0.0.1:1", "id", {{"message.timeout.ms", "300"}}, absl::Seconds(1)});
  REQUIRE(p.ok());
  REQUIRE((*p)->Produce("nowhere", "k", "v").ok());
  absl::Status s = (*p)->Flush(absl::Seconds(5));
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK((*p)->Flush(absl::Seconds(1)).ok());  // the error is reported once
  CHECK((*p)->Close().ok());
  CHECK((*p)->Produce("nowhere", "k", "v").code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("OutboxNotifyThrottle lets one write per topic and interval notify",
          "[events][outbox]") {
  OutboxNotifyThrottle throttle(absl::Milliseconds(5));
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  const uint64_t before = throttle.SkippedWritesDone();
  {
    OutboxNotifyThrottle::Ticket first = throttle.Take("calls.v1", t);
    CHECK(first.notify());
    first.MarkSent();
    OutboxNotifyThrottle::Ticket skipped = throttle.Take("calls.v1", t + absl::Milliseconds(4));
    CHECK_FALSE(skipped.notify());
    CHECK(throttle.Take("carrier.v1", t + absl::Milliseconds(4)).notify());  // its own topic
    CHECK(throttle.SkippedWritesDone() == before);  // still running
    OutboxNotifyThrottle::Ticket moved = std::move(skipped);
    CHECK_FALSE(moved.notify());
  }
  // The skipped write completed once (the moved-from ticket counts nothing); notifying ones
  // are not counted.
  CHECK(throttle.SkippedWritesDone() == before + 1);
  {
    OutboxNotifyThrottle::Ticket sent = throttle.Take("calls.v1", t + absl::Milliseconds(5));
    CHECK(sent.notify());
    sent.MarkSent();
  }
  CHECK_FALSE(throttle.Take("calls.v1", t + absl::Milliseconds(9)).notify());
  CHECK(throttle.SkippedWritesDone() == before + 2);
  // A notifying write that did not send its NOTIFY (a duplicate, a failure) gives the turn back.
  {
    OutboxNotifyThrottle::Ticket unsent = throttle.Take("calls.v1", t + absl::Milliseconds(10));
    CHECK(unsent.notify());
    CHECK_FALSE(throttle.Take("calls.v1", t + absl::Milliseconds(11)).notify());
  }
  CHECK(throttle.Take("calls.v1", t + absl::Milliseconds(12)).notify());
}

}  // namespace
}  // namespace switchboard::events
