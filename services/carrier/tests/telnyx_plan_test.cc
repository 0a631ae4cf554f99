// Telnyx Call Control plan for the static flow (greeting, gather a digit, dial a target that
// does not answer, record, hang up), step by step with client_state round trips.
#include "services/carrier/telnyx_plan.h"

#include "catch2/catch.hpp"
#include "libs/crypto/encoding.h"

namespace switchboard::carrier {
namespace {

constexpr char kLeg[] = "v3:A-leg";

CallInstructions StaticFlow() {
  return CallInstructions{
      .id = "static-1",
      .instructions = {Say{.text = "Welcome to Acme"},
                       Gather{.num_digits = 1, .timeout_s = 5,
                              .prompts = {Say{.text = "Press 1", .voice = "Polly.Joanna"}}},
                       Dial{.targets = {{DialTarget::Kind::kNumber, "+15551230001"}},
                            .timeout_s = 20, .caller_id = "+15550001111"},
                       Record{.max_length_s = 60, .timeout_s = 3},
                       Hangup{}}};
}

// A webhook event for `leg` echoing the client_state of `command`.
CarrierEvent EventFor(const TelnyxCommand& command, CarrierEventKind kind,
                      const std::string& client_state_field = "client_state") {
  CarrierEvent e{.provider = Provider::kTelnyx};
  e.ids.call_control_id = command.call_control_id;
  e.kind = std::move(kind);
  (void)client_state_field;
  return e;
}

TelnyxPlanState StateOf(const TelnyxCommand& command, const char* field = "client_state") {
  absl::StatusOr<TelnyxPlanState> state =
      DecodeClientState(command.body.at(field).get<std::string>());
  REQUIRE(state.ok());
  return *state;
}

TEST_CASE("client_state round trip", "[telnyx_plan]") {
  TelnyxPlanState in{.instructions_id = "x", .step = 4, .a_leg_call_control_id = "v3:a",
                     .dial_leg = true};
  absl::StatusOr<TelnyxPlanState> out = DecodeClientState(EncodeClientState(in));
  REQUIRE(out.ok());
  CHECK(out->instructions_id == "x");
  CHECK(out->step == 4);
  CHECK(out->dial_leg);
  CHECK(out->a_leg_call_control_id == "v3:a");
  CHECK(*crypto::Base64Decode(EncodeClientState({.instructions_id = "i", .step = 2})) ==
        R"({"i":"i","s":2})");
  CHECK(DecodeClientState("!!").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(DecodeClientState(crypto::Base64Encode("[]")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(DecodeClientState(crypto::Base64Encode(R"({"i":"x"})")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(DecodeClientState(crypto::Base64Encode(R"({"i":"x","s":-1})")).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(DecodeClientState(crypto::Base64Encode(R"({"i":"x","s":1,"d":1})")).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("plan steps of the static flow", "[telnyx_plan]") {
  std::vector<TelnyxStepInfo> steps = TelnyxPlanSteps(StaticFlow(), /*answer=*/true);
  std::vector<std::string> actions;
  for (const auto& s : steps) actions.push_back(s.action);
  CHECK(actions == std::vector<std::string>{"answer", "speak", "gather_using_speak", "transfer",
                                            "record_start", "hangup"});
  // Outbound call: no answer step; no Hangup instruction -> implicit hangup at the end.
  CallInstructions no_hangup{.id = "n", .instructions = {Play{.url = "https://a/x.mp3"}, Pause{}}};
  steps = TelnyxPlanSteps(no_hangup, /*answer=*/false);
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].action == "playback_start");
  CHECK(steps[1].action == "speak");
  CHECK(steps[2].action == "hangup");
  CHECK(steps[2].instruction_index == -1);
}

TEST_CASE("static flow step by step: digit pressed, dial not answered, record, hangup",
          "[telnyx_plan]") {
  CallInstructions flow = StaticFlow();
  absl::StatusOr<TelnyxPlanOutput> out = StartTelnyxPlan(flow, kLeg, /*answer=*/true);
  REQUIRE(out.ok());
  REQUIRE(out->commands.size() == 1);
  TelnyxCommand cmd = out->commands[0];
  CHECK(cmd.action == "answer");
  CHECK(cmd.call_control_id == kLeg);
  CHECK(cmd.body.at("command_id").get<std::string>().size() == 32);
  TelnyxPlanState state = StateOf(cmd);
  CHECK(state.step == 0);
  CHECK(state.instructions_id == "static-1");

  // Unrelated event for the current step (speak ended while waiting for answer): nothing.
  out = NextTelnyxCommands(flow, state, EventFor(cmd, PromptEnded{"completed"}));
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  CHECK_FALSE(out->finished);

  // call.answered -> speak greeting.
  out = NextTelnyxCommands(flow, state, EventFor(cmd, CallAnswered{}));
  REQUIRE(out.ok());
  REQUIRE(out->commands.size() == 1);
  cmd = out->commands[0];
  CHECK(cmd.action == "speak");
  CHECK(cmd.body.at("payload") == "Welcome to Acme");
  CHECK(cmd.body.at("payload_type") == "text");
  CHECK(cmd.body.at("voice") == "female");
  CHECK(cmd.body.at("language") == "en-US");
  state = StateOf(cmd);
  CHECK(state.step == 1);

  // Duplicate delivery of call.answered -> the identical command (same command_id).
  absl::StatusOr<TelnyxPlanOutput> dup =
      NextTelnyxCommands(flow, {.instructions_id = "static-1", .step = 0},
                         EventFor(cmd, CallAnswered{}));
  REQUIRE(dup.ok());
  CHECK(dup->commands[0].body == cmd.body);

  // speak ended -> gather_using_speak.
  CarrierEvent spoke = EventFor(cmd, PromptEnded{"completed"});
  spoke.provider_status = "completed";
  out = NextTelnyxCommands(flow, state, spoke);
  REQUIRE(out.ok());
  cmd = out->commands.at(0);
  CHECK(cmd.action == "gather_using_speak");
  CHECK(cmd.body.at("payload") == "Press 1");
  CHECK(cmd.body.at("voice") == "Polly.Joanna");
  CHECK(cmd.body.at("maximum_digits") == 1);
  CHECK(cmd.body.at("minimum_digits") == 1);
  CHECK(cmd.body.at("maximum_tries") == 1);
  CHECK(cmd.body.at("timeout_millis") == 5000);
  CHECK(cmd.body.at("inter_digit_timeout_millis") == 5000);
  CHECK_FALSE(cmd.body.contains("terminating_digit"));
  state = StateOf(cmd);

  // gather ended with "1" -> transfer to the dial target.
  CarrierEvent gathered = EventFor(cmd, DigitsGathered{.digits = "1"});
  gathered.provider_status = "valid";
  out = NextTelnyxCommands(flow, state, gathered);
  REQUIRE(out.ok());
  cmd = out->commands.at(0);
  CHECK(cmd.action == "transfer");
  CHECK(cmd.call_control_id == kLeg);
  CHECK(cmd.body.at("to") == "+15551230001");
  CHECK(cmd.body.at("from") == "+15550001111");
  CHECK(cmd.body.at("timeout_secs") == 20);
  CHECK(cmd.body.at("park_after_unbridge") == "self");
  state = StateOf(cmd);
  TelnyxPlanState target = StateOf(cmd, "target_leg_client_state");
  CHECK(target.dial_leg);
  CHECK(target.a_leg_call_control_id == kLeg);
  CHECK(target.step == state.step);

  // The dialled leg's events: its call.initiated/answered do nothing.
  CarrierEvent b_leg{.provider = Provider::kTelnyx, .kind = CallAnswered{}};
  b_leg.ids.call_control_id = "v3:B-leg";
  out = NextTelnyxCommands(flow, target, b_leg);
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  // A-leg events while transferring (e.g. a stray prompt end) do nothing either.
  out = NextTelnyxCommands(flow, state, EventFor(cmd, PromptEnded{"completed"}));
  REQUIRE(out.ok());
  CHECK(out->commands.empty());

  // B leg hangs up with timeout -> DialResult no-answer -> record_start on the A leg.
  b_leg.kind = DialResult{.status = DialStatus::kNoAnswer, .dialed = "+15551230001"};
  out = NextTelnyxCommands(flow, target, b_leg);
  REQUIRE(out.ok());
  cmd = out->commands.at(0);
  CHECK(cmd.action == "record_start");
  CHECK(cmd.call_control_id == kLeg);
  CHECK(cmd.body.at("format") == "mp3");
  CHECK(cmd.body.at("channels") == "single");
  CHECK(cmd.body.at("play_beep") == true);
  CHECK(cmd.body.at("max_length") == 60);
  CHECK(cmd.body.at("timeout_secs") == 3);
  state = StateOf(cmd);
  CHECK_FALSE(state.dial_leg);

  // recording saved -> hangup, finished.
  out = NextTelnyxCommands(flow, state, EventFor(cmd, RecordingReady{.recording_id = "r1"}));
  REQUIRE(out.ok());
  cmd = out->commands.at(0);
  CHECK(cmd.action == "hangup");
  CHECK(out->finished);
  state = StateOf(cmd);

  // call.hangup of the A leg -> finished, nothing sent.
  out = NextTelnyxCommands(flow, state, EventFor(cmd, CallCompleted{}));
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  CHECK(out->finished);
}

TEST_CASE("dial answered skips the remaining targets; command ids differ per step",
          "[telnyx_plan]") {
  CallInstructions flow{
      .id = "d",
      .instructions = {Dial{.targets = {{DialTarget::Kind::kNumber, "+1"},
                                        {DialTarget::Kind::kClient, "bob"}},
                            .record = true},
                       Say{.text = "after"}}};
  absl::StatusOr<TelnyxPlanOutput> out = StartTelnyxPlan(flow, kLeg, /*answer=*/false);
  REQUIRE(out.ok());
  TelnyxCommand first = out->commands.at(0);
  CHECK(first.action == "transfer");
  CHECK(first.body.at("record") == "record-from-answer");
  CHECK(first.body.at("timeout_secs") == 30);
  TelnyxPlanState target = StateOf(first, "target_leg_client_state");
  CarrierEvent result{.provider = Provider::kTelnyx};
  result.ids.call_control_id = "v3:B";

  result.kind = DialResult{.status = DialStatus::kBusy};
  out = NextTelnyxCommands(flow, target, result);
  REQUIRE(out.ok());
  TelnyxCommand second = out->commands.at(0);
  CHECK(second.action == "transfer");
  CHECK(second.body.at("to") == "sip:bob@sip.telnyx.com");
  CHECK(second.body.at("command_id") != first.body.at("command_id"));

  result.kind = DialResult{.status = DialStatus::kAnswered};
  out = NextTelnyxCommands(flow, target, result);
  REQUIRE(out.ok());
  CHECK(out->commands.at(0).action == "speak");
  CHECK(out->commands.at(0).body.at("payload") == "after");
}

TEST_CASE("the dialled leg's answer (at_answer) and an on-demand recording do not move a "
          "transfer; the leg's end does",
          "[telnyx_plan]") {
  CallInstructions flow{
      .id = "x",
      .instructions = {Dial{.targets = {{DialTarget::Kind::kNumber, "+1"},
                                        {DialTarget::Kind::kNumber, "+2"}}},
                       Say{.text = "after"}}};
  absl::StatusOr<TelnyxPlanOutput> out = StartTelnyxPlan(flow, kLeg, /*answer=*/false);
  REQUIRE(out.ok());
  const TelnyxCommand transfer = out->commands.at(0);
  const TelnyxPlanState target = StateOf(transfer, "target_leg_client_state");
  const TelnyxPlanState a_leg = StateOf(transfer);
  CarrierEvent answered{.provider = Provider::kTelnyx};
  answered.ids.call_control_id = "v3:B";
  answered.ids.parent_call_sid = kLeg;
  answered.kind = DialResult{.status = DialStatus::kAnswered, .dialed = "+1",
                             .dialed_call_id = "v3:B", .at_answer = true};
  out = NextTelnyxCommands(flow, target, answered);
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  CHECK_FALSE(out->finished);
  CHECK_FALSE(out->redirect_url.has_value());
  // An on-demand recording of the A leg (its events keep the transfer step's client_state).
  CarrierEvent recording{.provider = Provider::kTelnyx};
  recording.ids.call_control_id = kLeg;
  recording.kind = RecordingReady{.recording_id = "rec-1", .url = "https://r/1.mp3"};
  out = NextTelnyxCommands(flow, a_leg, recording);
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  CHECK_FALSE(out->finished);
  // The answered leg's end skips the Dial's other target and goes on after the Dial.
  CarrierEvent ended = answered;
  ended.kind = DialResult{.status = DialStatus::kAnswered, .dialed = "+1",
                          .dialed_call_id = "v3:B", .duration_s = 40};
  out = NextTelnyxCommands(flow, target, ended);
  REQUIRE(out.ok());
  REQUIRE(out->commands.size() == 1);
  CHECK(out->commands[0].call_control_id == kLeg);
  CHECK(out->commands[0].action == "speak");
  CHECK(out->commands[0].body.at("payload") == "after");
}

TEST_CASE("gather variants, pause, redirect, hangup during a prompt", "[telnyx_plan]") {
  CallInstructions flow{
      .id = "g",
      .instructions = {Gather{.timeout_s = 7, .finish_on_key = "*"},
                       Gather{.prompts = {Say{.text = "a"}, Play{.url = "https://x/p.mp3"}}},
                       Pause{.length_s = 3},
                       Redirect{.url = "https://next"},
                       Say{.text = "never"}}};
  std::vector<TelnyxStepInfo> steps = TelnyxPlanSteps(flow, false);
  std::vector<std::string> actions;
  for (const auto& s : steps) actions.push_back(s.action);
  CHECK(actions == std::vector<std::string>{"gather", "speak", "gather_using_audio", "speak",
                                            "redirect"});
  absl::StatusOr<TelnyxPlanOutput> out = StartTelnyxPlan(flow, kLeg, false);
  REQUIRE(out.ok());
  TelnyxCommand cmd = out->commands.at(0);
  CHECK(cmd.body.at("initial_timeout_millis") == 7000);
  CHECK(cmd.body.at("terminating_digit") == "*");
  CHECK(cmd.body.at("maximum_digits") == 128);

  TelnyxPlanState at_pause{.instructions_id = "g", .step = 3, .answer_step = false};
  CarrierEvent ended{.provider = Provider::kTelnyx, .kind = PromptEnded{"completed"}};
  ended.ids.call_control_id = kLeg;
  TelnyxPlanState at_audio{.instructions_id = "g", .step = 2, .answer_step = false};
  CarrierEvent gathered{.provider = Provider::kTelnyx, .kind = DigitsGathered{.timed_out = true}};
  gathered.ids.call_control_id = kLeg;
  out = NextTelnyxCommands(flow, at_audio, gathered);
  REQUIRE(out.ok());
  CHECK(out->commands.at(0).body.at("payload") == R"(<speak><break time="3s"/></speak>)");
  CHECK(out->commands.at(0).body.at("payload_type") == "ssml");

  out = NextTelnyxCommands(flow, at_pause, ended);
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  CHECK(out->finished);
  REQUIRE(out->redirect_url.has_value());
  CHECK(*out->redirect_url == "https://next");

  ended.provider_status = "call_hangup";
  out = NextTelnyxCommands(flow, {.instructions_id = "g", .step = 1, .answer_step = false},
                           ended);
  REQUIRE(out.ok());
  CHECK(out->commands.empty());
  CHECK(out->finished);
}

TEST_CASE("a conference Dial sends nothing and ends the plan; bad ones are refused",
          "[telnyx_plan][conference]") {
  CallInstructions set{.id = "conf-1",
                       .instructions = {Say{.text = "joining"},
                                        Dial{.targets = {{.kind = DialTarget::Kind::kConference,
                                                          .value = "sb-call-1"}}},
                                        Hangup{}}};
  absl::StatusOr<TelnyxPlanOutput> start = StartTelnyxPlan(set, kLeg, false);
  REQUIRE(start.ok());
  REQUIRE(start->commands.size() == 1);
  CHECK(start->commands[0].action == "speak");
  CarrierEvent ended{.provider = Provider::kTelnyx, .kind = PromptEnded{.status = "completed"}};
  ended.ids.call_control_id = kLeg;
  absl::StatusOr<TelnyxPlanOutput> next = NextTelnyxCommands(
      set, {.instructions_id = "conf-1", .step = 0, .answer_step = false}, ended);
  REQUIRE(next.ok());
  CHECK(next->commands.empty());
  CHECK(next->finished);
  CHECK(next->conference == std::optional<std::string>("sb-call-1"));
  std::vector<TelnyxStepInfo> steps = TelnyxPlanSteps(set, false);
  REQUIRE(steps.size() == 2);
  CHECK(steps[1].action == "conference");

  auto message = [](const CallInstructions& c) {
    return std::string(StartTelnyxPlan(c, kLeg, true).status().message());
  };
  CHECK(message({.id = "x",
                 .instructions = {Dial{.targets = {{.kind = DialTarget::Kind::kConference,
                                                    .value = "sb-1"},
                                                   {.kind = DialTarget::Kind::kNumber,
                                                    .value = "+15550001111"}}}}}) ==
        "instructions[0]: dial with a conference target has other targets");
  CHECK(message({.id = "x",
                 .instructions = {Dial{.targets = {{.kind = DialTarget::Kind::kConference,
                                                    .value = "no spaces"}}}}}) ==
        "instructions[0]: conference.name: must be [A-Za-z0-9_-]");
  CHECK(message({.id = "x",
                 .instructions = {Dial{.targets = {{.kind = DialTarget::Kind::kConference,
                                                    .value = std::string(65, 'a')}}}}}) ==
        "instructions[0]: conference.name: must be 1-64 characters");
}

TEST_CASE("invalid plans and states are InvalidArgument", "[telnyx_plan]") {
  auto code = [](const absl::StatusOr<TelnyxPlanOutput>& s) { return s.status().code(); };
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  CHECK(code(StartTelnyxPlan(CallInstructions{.instructions = {Hangup{}}}, kLeg, true)) == kInvalid);
  CHECK(code(StartTelnyxPlan(StaticFlow(), "", true)) == kInvalid);
  CHECK(code(StartTelnyxPlan({.id = "x", .instructions = {Say{}}}, kLeg, true)) == kInvalid);
  CHECK(code(StartTelnyxPlan({.id = "x", .instructions = {Dial{}}}, kLeg, true)) == kInvalid);
  CHECK(code(StartTelnyxPlan({.id = "x", .instructions = {Redirect{}}}, kLeg, true)) == kInvalid);
  CHECK(code(StartTelnyxPlan({.id = "x", .instructions = {Gather{.prompts = {Play{}}}}}, kLeg,
                             true)) == kInvalid);
  CarrierEvent e{.provider = Provider::kTelnyx, .kind = CallAnswered{}};
  e.ids.call_control_id = kLeg;
  CHECK(code(NextTelnyxCommands(StaticFlow(), {.instructions_id = "other"}, e)) == kInvalid);
  CHECK(code(NextTelnyxCommands(StaticFlow(), {.instructions_id = "static-1", .step = 99}, e)) == kInvalid);
}

}  // namespace
}  // namespace switchboard::carrier
