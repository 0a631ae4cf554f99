#include "services/carrier/proto_convert.h"

#include "catch2/catch.hpp"
#include "switchboard/events/v1/event.pb.h"

namespace switchboard::carrier {
namespace {

TEST_CASE("CallInstructions round trip through the proto", "[proto_convert]") {
  CallInstructions in{
      .id = "s1",
      .instructions = {
          Say{.text = "hi", .voice = "alice", .language = "en-US", .loop = 2},
          Play{.url = "https://a/b.mp3", .loop = 1},
          Gather{.num_digits = 1, .timeout_s = 5, .finish_on_key = "",
                 .prompts = {Say{.text = "p"}, Play{.url = "https://x"}}},
          Dial{.targets = {{DialTarget::Kind::kNumber, "+1"}, {DialTarget::Kind::kClient, "bob"},
                           {DialTarget::Kind::kSip, "sip:a@b"}},
               .timeout_s = 20, .caller_id = "+2", .record = true},
          Record{.max_length_s = 30, .play_beep = false, .finish_on_key = "#", .timeout_s = 3},
          Redirect{.url = "https://r"}, Pause{.length_s = 2}, Hangup{}}};
  v1::CallInstructions proto;
  CallInstructionsToProto(in, &proto);
  REQUIRE(proto.instructions_size() == 8);
  CHECK(proto.instructions(2).gather().has_finish_on_key());
  CHECK_FALSE(proto.instructions(4).record().play_beep());
  absl::StatusOr<CallInstructions> out = CallInstructionsFromProto(proto);
  REQUIRE(out.ok());
  v1::CallInstructions again;
  CallInstructionsToProto(*out, &again);
  CHECK(again.SerializeAsString() == proto.SerializeAsString());
  const auto& gather = std::get<Gather>(out->instructions[2]);
  REQUIRE(gather.finish_on_key.has_value());
  CHECK(gather.finish_on_key->empty());
  CHECK(std::get<Dial>(out->instructions[3]).targets[1].kind == DialTarget::Kind::kClient);
  // Unset optionals take the defaults.
  v1::CallInstructions defaults;
  defaults.add_instructions()->mutable_record();
  defaults.add_instructions()->mutable_gather();
  out = CallInstructionsFromProto(defaults);
  REQUIRE(out.ok());
  CHECK(std::get<Record>(out->instructions[0]).play_beep);
  CHECK_FALSE(std::get<Gather>(out->instructions[1]).finish_on_key.has_value());
}

TEST_CASE("a conference Dial target round trips", "[proto_convert]") {
  CallInstructions in{.id = "c",
                      .instructions = {Dial{.targets = {{.kind = DialTarget::Kind::kConference,
                                                         .value = "sb-call-1",
                                                         .end_on_exit = true}}}}};
  v1::CallInstructions proto;
  CallInstructionsToProto(in, &proto);
  CHECK(proto.instructions(0).dial().targets(0).conference().name() == "sb-call-1");
  CHECK(proto.instructions(0).dial().targets(0).conference().end_on_exit());
  absl::StatusOr<CallInstructions> out = CallInstructionsFromProto(proto);
  REQUIRE(out.ok());
  const DialTarget& t = std::get<Dial>(out->instructions[0]).targets[0];
  CHECK(t.kind == DialTarget::Kind::kConference);
  CHECK(t.value == "sb-call-1");
  CHECK(t.end_on_exit);
}

TEST_CASE("bad instruction protos are InvalidArgument naming the field", "[proto_convert]") {
  v1::CallInstructions proto;
  proto.add_instructions()->mutable_hangup();
  proto.add_instructions();
  CHECK(CallInstructionsFromProto(proto).status().message() == "instructions[1]: empty instruction");
  v1::CallInstructions dial;
  dial.add_instructions()->mutable_dial()->add_targets();
  CHECK(CallInstructionsFromProto(dial).status().message() ==
        "instructions[0].dial.targets[0]: no target");
  v1::CallInstructions gather;
  gather.add_instructions()->mutable_gather()->add_prompts();
  CHECK(CallInstructionsFromProto(gather).status().message() ==
        "instructions[0].gather.prompts[0]: empty prompt");
}

TEST_CASE("CarrierEvent round trip for every kind, inside the Event envelope",
          "[proto_convert]") {
  std::vector<CarrierEventKind> kinds = {
      CallIncoming{.caller_name = "ACME"},
      CallAnswered{},
      CallCompleted{.reason = CallEndReason::kNoAnswer, .duration_s = 3, .provider_cause = "timeout"},
      DigitsGathered{.digits = "12", .timed_out = false},
      DialResult{.status = DialStatus::kCanceled, .dialed = "+1", .dialed_call_id = "CA2",
                 .duration_s = 4},
      RecordingReady{.recording_id = "RE1", .url = "https://r", .duration_s = 9, .format = "wav"},
      PromptEnded{.status = "completed"},
      SmsReceived{.body = "hi", .media_urls = {"https://m"}},
      SmsStatus{.status = SmsDeliveryStatus::kFailed, .error_code = "30003"},
      NumberOrderStatus{.order_id = "o", .status = NumberOrderState::kFailure, .numbers = {"+1"}},
      PortStatus{.port_order_id = "p", .status = PortState::kCancelPending, .reason = "why"},
      ConferenceUpdate{.conference = "sb-c", .leg = "CA3",
                       .kind = ConferenceUpdateKind::kNotAnswered, .to = "+1", .reason = "busy"}};
  for (const CarrierEventKind& kind : kinds) {
    CarrierEvent in{.provider = Provider::kTelnyx,
                    .company_id = "c1",
                    .from = "+1",
                    .to = "+2",
                    .direction = CallDirection::kInbound,
                    .occurred_at = absl::FromUnixMillis(1'700'000'000'123),
                    .dedupe_key = "telnyx:e",
                    .client_state = "{}",
                    .provider_status = "x",
                    .kind = kind};
    in.ids.call_control_id = "v3:a";
    in.ids.call_session_id = "s";
    in.ids.port_order_id = "p";
    switchboard::events::v1::Event envelope;
    CarrierEventToProto(in, envelope.mutable_carrier_event());
    switchboard::events::v1::Event parsed;
    REQUIRE(parsed.ParseFromString(envelope.SerializeAsString()));
    absl::StatusOr<CarrierEvent> out = CarrierEventFromProto(parsed.carrier_event());
    REQUIRE(out.ok());
    v1::CarrierEvent a;
    v1::CarrierEvent b;
    CarrierEventToProto(in, &a);
    CarrierEventToProto(*out, &b);
    CHECK(a.SerializeAsString() == b.SerializeAsString());
    CHECK(out->kind.index() == kind.index());
    CHECK(out->occurred_at == in.occurred_at);
    CHECK(out->ids.call_control_id == "v3:a");
  }
  v1::CarrierEvent empty;
  CHECK(CarrierEventFromProto(empty).status().message() == "kind: not set");
  v1::CarrierEvent unspecified;
  unspecified.mutable_dial_result();
  CHECK(CarrierEventFromProto(unspecified).status().message() == "dial_result.status: unspecified");
}

}  // namespace
}  // namespace switchboard::carrier
