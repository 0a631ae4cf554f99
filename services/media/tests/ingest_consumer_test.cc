#include "services/media/ingest_consumer.h"

#include <catch2/catch.hpp>

namespace switchboard::media {
namespace {

TEST_CASE("IngestRequestFromEvent maps carrier and calls events", "[media][ingest]") {
  SECTION("carrier.v1 RecordingReady becomes a recording keyed by the recording id") {
    events::v1::Event e;
    e.set_company_id("c1");
    auto* ce = e.mutable_carrier_event();
    ce->set_provider(carrier::v1::TELNYX);
    ce->mutable_ids()->set_call_session_id("sess-1");
    ce->mutable_recording_ready()->set_recording_id("rec-1");
    ce->mutable_recording_ready()->set_url("https://x/rec-1.wav");
    std::optional<IngestRequest> r = IngestRequestFromEvent(e);
    REQUIRE(r.has_value());
    CHECK(r->kind == ItemKind::kRecording);
    CHECK(r->company_id == "c1");
    CHECK(r->provider == "telnyx");
    CHECK(r->provider_recording_id == "rec-1");
    CHECK(r->fetch_ref == "rec-1");
    CHECK(r->call_key == "sess-1");
  }
  SECTION("a recording announced only by URL is keyed by the URL") {
    events::v1::Event e;
    auto* ce = e.mutable_carrier_event();
    ce->set_company_id("c2");
    ce->set_provider(carrier::v1::TWILIO);
    ce->mutable_ids()->set_call_sid("CA1");
    ce->mutable_recording_ready()->set_url("https://api.twilio.com/RE1");
    std::optional<IngestRequest> r = IngestRequestFromEvent(e);
    REQUIRE(r.has_value());
    CHECK(r->company_id == "c2");
    CHECK(r->provider == "twilio");
    CHECK(r->fetch_ref == "https://api.twilio.com/RE1");
    CHECK(r->call_key == "CA1");
  }
  SECTION("calls.v1 VoicemailLeft becomes a voicemail in its box") {
    events::v1::Event e;
    e.set_company_id("c1");
    auto* vm = e.mutable_voicemail_left();
    vm->set_call_id("call-1");
    vm->set_call_key("CA9");
    vm->set_voicemail_box_id("box-sarah");
    vm->set_recording_id("RE9");
    vm->set_from("+15551230000");
    std::optional<IngestRequest> r = IngestRequestFromEvent(e);
    REQUIRE(r.has_value());
    CHECK(r->kind == ItemKind::kVoicemail);
    CHECK(r->box_id == "box-sarah");
    CHECK(r->caller == "+15551230000");
    CHECK(r->call_id == "call-1");
    CHECK(r->provider_recording_id == "RE9");
    CHECK_FALSE(r->box_owner.has_value());  // an event that does not say: media's own record
    vm->set_box_owner_user_id("sarah");
    CHECK(IngestRequestFromEvent(e)->box_owner == std::optional<std::string>("sarah"));
    vm->set_box_owner_user_id("");
    CHECK(IngestRequestFromEvent(e)->box_owner == std::optional<std::string>(""));
  }
  SECTION("other events are not for media") {
    events::v1::Event e;
    e.mutable_carrier_event()->mutable_call_incoming();
    CHECK_FALSE(IngestRequestFromEvent(e).has_value());
    events::v1::Event calls;
    calls.mutable_call_started()->set_call_id("x");
    CHECK_FALSE(IngestRequestFromEvent(calls).has_value());
  }
}

}  // namespace
}  // namespace switchboard::media
