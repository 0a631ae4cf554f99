#include "services/routing/engine.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/routing/tests/fakes.h"

namespace switchboard::routing {
namespace {

namespace cv1 = ::switchboard::carrier::v1;
using testing::PowersElectric;

const absl::Time kTuesday10am = absl::FromCivil(absl::CivilSecond(2026, 11, 17, 15, 0, 0),
                                                absl::UTCTimeZone());

// Drives one call through an engine, event by event, with fresh dedupe keys.
class CallDriver {
 public:
  CallDriver(const v1::FlowBundle& bundle, EngineDeps deps) : engine_(bundle, deps) {}

  const Step& Start(const std::string& call_id = "CA1", const std::string& from = "+12035550199") {
    absl::StatusOr<Step> step = engine_.Start(CallFacts{.call_id = call_id,
                                                        .company_id = "powers",
                                                        .from = from,
                                                        .to = "+12035550100",
                                                        .at = kTuesday10am});
    REQUIRE(step.ok());
    return Keep(std::move(*step));
  }

  const Step& StartOutbound(const std::string& to = "+13125550142") {
    absl::StatusOr<Step> step = engine_.StartOutbound(OutboundFacts{.call_id = "C2C1",
                                                                    .company_id = "powers",
                                                                    .user_id = "mike",
                                                                    .device = "+19175558822",
                                                                    .to = to,
                                                                    .caller_id = "+12035550100",
                                                                    .at = kTuesday10am});
    REQUIRE(step.ok());
    return Keep(std::move(*step));
  }
  const Step& Answered() {
    cv1::CarrierEvent e;
    e.mutable_call_answered();
    return Send(e);
  }

  const Step& Send(cv1::CarrierEvent event) {
    if (event.dedupe_key().empty()) event.set_dedupe_key(absl::StrCat("ev-", ++counter_));
    absl::StatusOr<Step> step = engine_.OnEvent(state_, event, kTuesday10am + absl::Minutes(1));
    REQUIRE(step.ok());
    return Keep(std::move(*step));
  }

  const Step& Press(const std::string& digits) {
    cv1::CarrierEvent e;
    e.mutable_digits_gathered()->set_digits(digits);
    return Send(e);
  }
  const Step& Timeout() {
    cv1::CarrierEvent e;
    e.mutable_digits_gathered()->set_timed_out(true);
    return Send(e);
  }
  const Step& Dial(cv1::DialStatus status, const std::string& dialed = "",
                   const std::string& dialed_call_id = "") {
    cv1::CarrierEvent e;
    e.mutable_dial_result()->set_status(status);
    e.mutable_dial_result()->set_dialed(dialed);
    e.mutable_dial_result()->set_dialed_call_id(dialed_call_id);
    return Send(e);
  }
  const Step& Conference(cv1::ConferenceUpdate::Kind kind, const std::string& leg,
                         const std::string& to = "") {
    cv1::CarrierEvent e;
    e.mutable_conference_update()->set_conference(state_.conference());
    e.mutable_conference_update()->set_kind(kind);
    e.mutable_conference_update()->set_leg(leg);
    e.mutable_conference_update()->set_to(to);
    return Send(e);
  }
  // Applies a live-control step the engine accepted.
  absl::StatusOr<Step> Apply(absl::StatusOr<Step> step) {
    if (step.ok()) Keep(*step);
    return step;
  }
  const Step& Recording(const std::string& id = "RE1") {
    cv1::CarrierEvent e;
    e.mutable_recording_ready()->set_recording_id(id);
    e.mutable_recording_ready()->set_url("https://media.example/RE1.wav");
    e.mutable_recording_ready()->set_duration_s(12);
    return Send(e);
  }
  const Step& Completed(cv1::CallEndReason reason = cv1::CALL_END_COMPLETED) {
    cv1::CarrierEvent e;
    e.mutable_call_completed()->set_reason(reason);
    e.mutable_call_completed()->set_duration_s(42);
    return Send(e);
  }

  // Live call control on the driven call; keeps the new state when the engine accepts.
  absl::StatusOr<Step> Transfer(TransferTarget target) {
    if (target.by_user_id.empty()) target.by_user_id = "sarah";
    absl::StatusOr<Step> step = engine_.Transfer(state_, target, kTuesday10am + absl::Minutes(2));
    if (step.ok()) Keep(*step);
    return step;
  }
  absl::StatusOr<Step> SetRecording(bool on) {
    absl::StatusOr<Step> step =
        engine_.SetRecording(state_, on, "sarah", kTuesday10am + absl::Minutes(2));
    if (step.ok()) Keep(*step);
    return step;
  }

  const v1::CallState& state() const { return state_; }
  const CallEngine& engine() const { return engine_; }

 private:
  const Step& Keep(Step step) {
    if (step.changed) state_ = step.state;
    last_ = std::move(step);
    return last_;
  }

  CallEngine engine_;
  v1::CallState state_;
  Step last_;
  int counter_ = 0;
};

const cv1::Instruction& Last(const Step& step) {
  REQUIRE(step.instructions.instructions_size() > 0);
  return step.instructions.instructions(step.instructions.instructions_size() - 1);
}

std::vector<std::string> Targets(const cv1::Dial& dial) {
  std::vector<std::string> out;
  for (const cv1::DialTarget& t : dial.targets()) {
    out.push_back(t.has_number() ? t.number() : absl::StrCat("client:", t.client()));
  }
  return out;
}

std::vector<LifecycleKind> Kinds(const Step& step) {
  std::vector<LifecycleKind> out;
  for (const LifecycleEvent& e : step.events) out.push_back(e.kind);
  return out;
}

bool HasPath(const Step& step, v1::PathKind kind, const std::string& text) {
  for (const v1::PathEntry& e : step.path) {
    if (e.kind() == kind && e.text() == text) return true;
  }
  return false;
}

TEST_CASE("business hours: greeting menu, press 1 rings Sarah on both devices, answered") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  const Step& start = call.Start();
  CHECK(start.changed);
  CHECK(Kinds(start) == std::vector<LifecycleKind>{LifecycleKind::kRouted});
  CHECK(call.state().phase() == v1::PHASE_MENU);
  CHECK(call.state().menu_id() == "main");
  REQUIRE(Last(start).has_gather());
  const cv1::Gather& gather = Last(start).gather();
  CHECK(gather.num_digits() == 1);
  CHECK(gather.timeout_s() == 5);
  REQUIRE(gather.prompts_size() == 1);
  CHECK(gather.prompts(0).say().text() == testing::kGreetingMain);
  CHECK(gather.prompts(0).say().voice() == "Polly.Joanna");
  CHECK(gather.prompts(0).say().language() == "en-US");
  CHECK(start.instructions.id() == "CA1-1");
  CHECK(HasPath(start, v1::PATH_GREETING, testing::kGreetingMain));
  CHECK(pe.schedule.asked == std::vector<std::string>{"office_hours"});

  const Step& ring = call.Press("1");
  REQUIRE(Last(ring).has_dial());
  CHECK(Targets(Last(ring).dial()) == std::vector<std::string>{"+19175558802", "client:sarah"});
  CHECK(Last(ring).dial().timeout_s() == 25);
  CHECK(Kinds(ring) == std::vector<LifecycleKind>{LifecycleKind::kRinging});
  CHECK(call.state().phase() == v1::PHASE_DIALING);

  cv1::CarrierEvent dial_result;
  dial_result.mutable_dial_result()->set_status(cv1::DIAL_ANSWERED);
  dial_result.mutable_dial_result()->set_dialed("+19175558802");
  dial_result.mutable_dial_result()->set_duration_s(95);
  const Step& answered = call.Send(dial_result);
  CHECK(Kinds(answered) == std::vector<LifecycleKind>{LifecycleKind::kAnswered});
  CHECK(answered.events[0].user_ids == std::vector<std::string>{"sarah"});
  CHECK(answered.events[0].duration_s == 95);
  CHECK(call.state().phase() == v1::PHASE_BRIDGED);
  CHECK(Last(answered).has_hangup());
  CHECK_FALSE(answered.final_status.has_value());

  const Step& done = call.Completed();
  REQUIRE(done.final_status.has_value());
  CHECK(*done.final_status == v1::COMPLETED);
  CHECK(done.answered_by == "sarah");
  CHECK(Kinds(done) == std::vector<LifecycleKind>{LifecycleKind::kEnded});
  CHECK(call.state().phase() == v1::PHASE_ENDED);
}

TEST_CASE("simultaneous group: one Dial with every member's number and softphone") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& ring = call.Press("0");  // operator -> Office group
  REQUIRE(Last(ring).has_dial());
  CHECK(Targets(Last(ring).dial()) == std::vector<std::string>{"+19175558802", "client:sarah",
                                                                "+19175558801", "client:robert"});
  CHECK(Last(ring).dial().timeout_s() == 30);
  CHECK(ring.events.size() == 1);
  CHECK(ring.events[0].user_ids == std::vector<std::string>{"sarah", "robert"});
  call.Dial(cv1::DIAL_ANSWERED, "client:robert");
  const Step& done = call.Completed();
  CHECK(*done.final_status == v1::COMPLETED);
  CHECK(done.answered_by == "robert");
}

TEST_CASE("simultaneous group answered by someone the carrier does not name: completed") {
  // Twilio's Dial action does not say which of several numbers answered.
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  call.Press("0");
  call.Dial(cv1::DIAL_ANSWERED, "");
  const Step& done = call.Completed();
  CHECK(*done.final_status == v1::COMPLETED);
  CHECK(done.answered_by.empty());
}

TEST_CASE("simultaneous group on Telnyx: each target's no-answer keeps the Dial going") {
  // Telnyx rings a Dial's four targets (two people, two devices each) one after another and
  // reports each: the first three keep the same instructions (the carrier moves on), the
  // fourth ends the Dial.
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& ring = call.Press("0");
  const std::string dial_id = ring.instructions.id();
  REQUIRE(Targets(Last(ring).dial()).size() == 4);
  auto telnyx_no_answer = [&]() -> const Step& {
    cv1::CarrierEvent e;
    e.set_provider(cv1::TELNYX);
    e.mutable_dial_result()->set_status(cv1::DIAL_NO_ANSWER);
    return call.Send(e);
  };
  for (int i = 0; i < 3; ++i) {
    const Step& next = telnyx_no_answer();
    CHECK(next.instructions.id() == dial_id);
    CHECK(next.state.phase() == v1::PHASE_DIALING);
  }
  const Step& after = telnyx_no_answer();
  CHECK(after.instructions.id() != dial_id);
  CHECK(after.state.phase() != v1::PHASE_DIALING);
  // And the same on Telnyx when the second target answers.
  CallDriver answered(pe.bundle, pe.deps());
  answered.Start();
  answered.Press("0");
  cv1::CarrierEvent e;
  e.set_provider(cv1::TELNYX);
  e.mutable_dial_result()->set_status(cv1::DIAL_NO_ANSWER);
  answered.Send(e);
  e.mutable_dial_result()->set_status(cv1::DIAL_ANSWERED);
  e.mutable_dial_result()->set_dialed("+19175558801");
  answered.Send(e);
  const Step& done = answered.Completed();
  CHECK(*done.final_status == v1::COMPLETED);
  CHECK(done.answered_by == "robert");
}

TEST_CASE("simultaneous group: members on DND or offline are skipped") {
  PowersElectric pe;
  pe.directory.Get("sarah").dnd = true;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& ring = call.Press("0");
  CHECK(Targets(Last(ring).dial()) == std::vector<std::string>{"+19175558801", "client:robert"});
  CHECK(HasPath(ring, v1::PATH_INFO, "member Sarah Johnson on do-not-disturb: skipped"));

  pe.directory.Get("robert").online = false;
  CallDriver nobody(pe.bundle, pe.deps());
  nobody.Start();
  const Step& vm = nobody.Press("0");  // nobody available -> the group's fallback, company box
  CHECK(nobody.state().phase() == v1::PHASE_VOICEMAIL);
  CHECK(nobody.state().voicemail_box_id() == "vm_company");
  CHECK(Last(vm).has_record());
}

TEST_CASE("sequential group: on-call tech first, then Robert, then the company voicemail") {
  PowersElectric pe;
  pe.schedule.closed = true;
  CallDriver call(pe.bundle, pe.deps());
  const Step& start = call.Start();
  CHECK(call.state().after_hours());
  CHECK(call.state().menu_id() == "after_hours");
  CHECK(Last(start).gather().prompts(0).say().text() == testing::kGreetingAfterHours);

  const Step& first = call.Press("1");
  CHECK(Targets(Last(first).dial()) == std::vector<std::string>{"+19175558822", "client:mike"});
  CHECK(Last(first).dial().timeout_s() == 20);
  CHECK(HasPath(first, v1::PATH_INFO, "on call (oncall_techs): mike"));

  const Step& second = call.Dial(cv1::DIAL_NO_ANSWER);
  CHECK(Targets(Last(second).dial()) == std::vector<std::string>{"+19175558801", "client:robert"});
  CHECK(call.state().dialing().position() == 1);

  const Step& vm = call.Dial(cv1::DIAL_BUSY);
  CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
  REQUIRE(vm.instructions.instructions_size() == 2);
  CHECK(vm.instructions.instructions(0).say().text() ==
        "You've reached Powers Electric. Please leave a message after the tone.");
  CHECK(vm.instructions.instructions(1).record().max_length_s() == 180);

  const Step& recorded = call.Recording();
  REQUIRE(recorded.events.size() == 1);
  CHECK(recorded.events[0].kind == LifecycleKind::kVoicemailLeft);
  CHECK(recorded.events[0].voicemail_box_id == "vm_company");
  CHECK(recorded.events[0].recording_id == "RE1");
  CHECK(Last(recorded).has_hangup());
  CHECK(call.state().phase() == v1::PHASE_RECORDED);

  const Step& done = call.Completed();
  CHECK(*done.final_status == v1::VOICEMAIL);
  CHECK(done.answered_by.empty());
}

TEST_CASE("sequential group: the second member answers") {
  PowersElectric pe;
  pe.schedule.closed = true;
  pe.schedule.on_call["oncall_techs"] = "jake";  // the rotation moved on
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& first = call.Press("1");
  CHECK(Targets(Last(first).dial())[0] == "+19175558804");
  call.Dial(cv1::DIAL_NO_ANSWER);
  call.Dial(cv1::DIAL_ANSWERED, "+19175558801");
  const Step& done = call.Completed();
  CHECK(done.answered_by == "robert");
  CHECK(*done.final_status == v1::COMPLETED);
}

v1::FlowBundle WithTechsOnKey5(const PowersElectric& pe) {
  v1::FlowBundle b = pe.bundle;
  testing::Bind(b.mutable_flow()->mutable_menus()->mutable_menus(0), "5",
                testing::GroupAction("all_techs"), "Techs");
  return b;
}

TEST_CASE("round robin: the start rotates across three calls; then the queue continues") {
  PowersElectric pe;
  v1::FlowBundle bundle = WithTechsOnKey5(pe);
  std::vector<std::string> first_rung;
  for (int i = 0; i < 3; ++i) {
    CallDriver call(bundle, pe.deps());
    call.Start(absl::StrCat("CA", i));
    const Step& ring = call.Press("5");
    REQUIRE(Last(ring).has_dial());
    first_rung.push_back(Targets(Last(ring).dial())[0]);
    if (i == 2) {
      // Tyler first; no answer moves on to Mike, then Jake, then the default box.
      CHECK(Targets(Last(call.Dial(cv1::DIAL_NO_ANSWER)).dial())[0] == "+19175558822");
      CHECK(Targets(Last(call.Dial(cv1::DIAL_NO_ANSWER)).dial())[0] == "+19175558804");
      call.Dial(cv1::DIAL_NO_ANSWER);
      CHECK(call.state().voicemail_box_id() == "vm_company");
    }
  }
  CHECK(first_rung == std::vector<std::string>{"+19175558822", "+19175558804", "+19175558805"});
}

TEST_CASE("round robin: DND members are skipped and the rotation runs over the others") {
  PowersElectric pe;
  pe.directory.Get("jake").dnd = true;
  v1::FlowBundle bundle = WithTechsOnKey5(pe);
  std::vector<std::string> first_rung;
  for (int i = 0; i < 3; ++i) {
    CallDriver call(bundle, pe.deps());
    call.Start(absl::StrCat("CA", i));
    first_rung.push_back(Targets(Last(call.Press("5")).dial())[0]);
    CHECK(call.state().dialing().queue_size() == 2);
  }
  CHECK(first_rung == std::vector<std::string>{"+19175558822", "+19175558805", "+19175558822"});
}

TEST_CASE("menu retries: an invalid key three times runs the default action") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  for (int i = 1; i <= 2; ++i) {
    const Step& retry = call.Press("7");
    REQUIRE(retry.instructions.instructions_size() == 2);
    CHECK(retry.instructions.instructions(0).say().text() == "Sorry, that is not a valid choice.");
    CHECK(retry.instructions.instructions(1).gather().prompts(0).say().text() ==
          testing::kGreetingMain);
    CHECK(call.state().attempts() == i);
    CHECK(HasPath(retry, v1::PATH_KEY, "invalid key 7"));
  }
  const Step& fallback = call.Press("7");
  REQUIRE(Last(fallback).has_dial());  // default = operator = Office group
  CHECK(Targets(Last(fallback).dial()).size() == 4);
  CHECK(HasPath(fallback, v1::PATH_INFO, "attempts exhausted in menu Main (main): default action"));
  CHECK(call.state().attempts() == 0);
}

TEST_CASE("menu retries: timeouts count too; a valid key resets the attempts") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& first = call.Timeout();
  CHECK(first.instructions.instructions(0).say().text() == "Sorry, I did not get a response.");
  CHECK(call.state().attempts() == 1);
  call.Press("9");
  CHECK(call.state().attempts() == 2);
  call.Press("4");  // play info, back to the menu
  CHECK(call.state().attempts() == 0);
  call.Timeout();
  call.Timeout();
  CHECK(call.state().phase() == v1::PHASE_MENU);
  call.Timeout();
  CHECK(call.state().phase() == v1::PHASE_DIALING);
}

TEST_CASE("after hours: one try only; nothing pressed goes straight to voicemail") {
  PowersElectric pe;
  pe.schedule.closed = true;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  call.Timeout();
  CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
  CHECK(call.state().voicemail_box_id() == "vm_company");
  call.Recording();
  CHECK(*call.Completed().final_status == v1::VOICEMAIL);
}

TEST_CASE("play information then return to the menu") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& info = call.Press("4");
  REQUIRE(info.instructions.instructions_size() == 2);
  CHECK(info.instructions.instructions(0).say().text() == testing::kHoursInfo);
  CHECK(info.instructions.instructions(1).gather().prompts(0).say().text() ==
        testing::kGreetingMain);
  CHECK(call.state().phase() == v1::PHASE_MENU);
  CHECK(call.state().menu_id() == "main");
  call.Press("1");
  CHECK(call.state().phase() == v1::PHASE_DIALING);
}

TEST_CASE("dial by name: T-O-R (8-6-7) connects to Mike Torres") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  const Step& prompt = call.Press("3");
  CHECK(call.state().phase() == v1::PHASE_DIRECTORY);
  REQUIRE(Last(prompt).has_gather());
  CHECK(Last(prompt).gather().num_digits() == 3);
  CHECK(Last(prompt).gather().prompts(0).say().text() ==
        "Please enter the first three letters of the person's last name.");
  const Step& connect = call.Press("867");
  REQUIRE(connect.instructions.instructions_size() == 2);
  CHECK(connect.instructions.instructions(0).say().text() == "Connecting you to Mike Torres.");
  CHECK(Targets(connect.instructions.instructions(1).dial()) ==
        std::vector<std::string>{"+19175558822", "client:mike"});
  call.Dial(cv1::DIAL_ANSWERED, "client:mike");
  CHECK(call.Completed().answered_by == "mike");
}

TEST_CASE("dial by name: several matches are read as a list") {
  PowersElectric pe;
  pe.directory.Add(testing::User("tom", "Tom", "Torrance", "+19175558899"));
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  call.Press("3");
  const Step& list = call.Press("867");
  CHECK(call.state().phase() == v1::PHASE_DIRECTORY_CHOICE);
  CHECK(Last(list).gather().prompts(0).say().text() ==
        "For Tom Torrance, press 1. For Mike Torres, press 2.");
  const Step& invalid = call.Press("5");
  CHECK(invalid.instructions.instructions(0).say().text() == "Sorry, that is not a valid choice.");
  CHECK(call.state().phase() == v1::PHASE_DIRECTORY_CHOICE);
  const Step& connect = call.Press("2");
  CHECK(connect.instructions.instructions(0).say().text() == "Connecting you to Mike Torres.");
  CHECK(call.state().phase() == v1::PHASE_DIALING);
}

TEST_CASE("dial by name: no match retries, then the menu's default action") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  call.Press("3");
  const Step& retry = call.Press("999");
  REQUIRE(retry.instructions.instructions_size() == 2);
  CHECK(retry.instructions.instructions(0).say().text() == "Sorry, no name matches those letters.");
  CHECK(call.state().phase() == v1::PHASE_DIRECTORY);
  call.Timeout();
  CHECK(call.state().phase() == v1::PHASE_DIRECTORY);
  call.Press("999");
  CHECK(call.state().phase() == v1::PHASE_DIALING);  // default: operator, the Office group
  CHECK(call.state().dialing().ring_group_id() == "office");
}

TEST_CASE("direct line: rings the user on all devices, then the user's voicemail") {
  PowersElectric pe;
  v1::FlowBundle bundle = pe.DirectLine("mike");
  CallDriver call(bundle, pe.deps());
  const Step& ring = call.Start();
  REQUIRE(Last(ring).has_dial());
  CHECK(Targets(Last(ring).dial()) == std::vector<std::string>{"+19175558822", "client:mike"});
  CHECK(Last(ring).dial().timeout_s() == 20);
  const Step& vm = call.Dial(cv1::DIAL_NO_ANSWER);
  CHECK(call.state().voicemail_box_id() == "vm_mike");
  CHECK(vm.instructions.instructions(0).say().text() == "Please leave a message after the tone.");
  CHECK(vm.instructions.instructions(1).record().max_length_s() == 120);
}

TEST_CASE("direct line after hours: straight to voicemail with the after-hours greeting") {
  PowersElectric pe;
  pe.schedule.closed = true;
  v1::FlowBundle bundle = pe.DirectLine("mike");
  CallDriver call(bundle, pe.deps());
  const Step& vm = call.Start();
  CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
  CHECK(call.state().voicemail_box_id() == "vm_mike");
  CHECK(vm.instructions.instructions(0).say().text() ==
        "You've reached us after hours. Please leave a message.");
  CHECK(vm.instructions.instructions(1).has_record());
}

TEST_CASE("direct line: a user on DND goes straight to voicemail") {
  PowersElectric pe;
  pe.directory.Get("mike").dnd = true;
  v1::FlowBundle bundle = pe.DirectLine("mike");
  CallDriver call(bundle, pe.deps());
  call.Start();
  CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
  CHECK(call.state().voicemail_box_id() == "vm_mike");
}

TEST_CASE("duplicate and stale events change nothing and replay the last instructions") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  cv1::CarrierEvent press;
  press.set_dedupe_key("tw-gather-1");
  press.mutable_digits_gathered()->set_digits("1");
  const Step first = call.Send(press);
  REQUIRE(first.changed);
  const v1::CallState after = call.state();

  const Step& again = call.Send(press);
  CHECK_FALSE(again.changed);
  CHECK(again.state.SerializeAsString() == after.SerializeAsString());
  CHECK(again.instructions.SerializeAsString() == first.instructions.SerializeAsString());
  CHECK(again.path.empty());
  CHECK(again.events.empty());

  const Step& stale_digits = call.Press("2");  // ringing: a gather result does not fit
  CHECK_FALSE(stale_digits.changed);
  CHECK(stale_digits.instructions.id() == first.instructions.id());
  CHECK(call.state().SerializeAsString() == after.SerializeAsString());

  cv1::CarrierEvent incoming;
  incoming.mutable_call_incoming();
  CHECK_FALSE(call.Send(incoming).changed);
  cv1::CarrierEvent unknown;  // no kind at all
  CHECK_FALSE(call.Send(unknown).changed);

  call.Dial(cv1::DIAL_ANSWERED, "+19175558802");
  CHECK_FALSE(call.Dial(cv1::DIAL_NO_ANSWER).changed);  // stale dial result once bridged
  const Step& done = call.Completed();
  CHECK(done.changed);
  const Step& second_end = call.Completed();
  CHECK_FALSE(second_end.changed);
  CHECK_FALSE(second_end.final_status.has_value());
  CHECK(call.state().status() == v1::COMPLETED);
}

TEST_CASE("the engine refuses a state of another flow version and facts without a call id") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  v1::FlowBundle v2 = pe.bundle;
  v2.mutable_flow()->set_version(2);
  CallEngine engine(v2, pe.deps());
  cv1::CarrierEvent e;
  e.mutable_digits_gathered()->set_digits("1");
  absl::StatusOr<Step> step = engine.OnEvent(call.state(), e, kTuesday10am);
  CHECK(step.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(engine.Start(CallFacts{}).status().code() == absl::StatusCode::kInvalidArgument);
  v1::FlowBundle empty;
  CHECK(CallEngine(empty, pe.deps()).Start(CallFacts{.call_id = "x"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("caller hangs up while ringing: canceled, then missed") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  call.Press("1");
  const Step& canceled = call.Dial(cv1::DIAL_CANCELED);
  CHECK(Last(canceled).has_hangup());
  const Step& done = call.Completed(cv1::CALL_END_CANCELED);
  CHECK(*done.final_status == v1::MISSED);
  CHECK(Kinds(done) == std::vector<LifecycleKind>{LifecycleKind::kMissed, LifecycleKind::kEnded});
}

TEST_CASE("a recording saved after the hang-up (Telnyx) turns a missed call into voicemail") {
  PowersElectric pe;
  pe.schedule.closed = true;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  call.Timeout();
  CHECK(*call.Completed().final_status == v1::MISSED);
  const Step& late = call.Recording();
  CHECK(late.changed);
  REQUIRE(late.final_status.has_value());
  CHECK(*late.final_status == v1::VOICEMAIL);
  CHECK(Kinds(late) == std::vector<LifecycleKind>{LifecycleKind::kVoicemailLeft});
  CHECK_FALSE(call.Recording("RE2").changed);  // only once
}

TEST_CASE("smart routing: a known caller rings the assigned user before the menu") {
  PowersElectric pe;
  pe.bundle.mutable_flow()->mutable_smart_routing()->set_known_caller_to_assigned_user(true);
  pe.callers.known["+12035550777"] = "jake";
  CallDriver call(pe.bundle, pe.deps());
  const Step& ring = call.Start("CA9", "+12035550777");
  REQUIRE(Last(ring).has_dial());
  CHECK(Targets(Last(ring).dial())[0] == "+19175558804");
  CHECK(HasPath(ring, v1::PATH_INFO, "known caller +12035550777 -> assigned user jake"));
  call.Dial(cv1::DIAL_NO_ANSWER);
  CHECK(call.state().voicemail_box_id() == "vm_jake");

  CallDriver stranger(pe.bundle, pe.deps());
  stranger.Start("CA10", "+12035550000");
  CHECK(stranger.state().phase() == v1::PHASE_MENU);
}

TEST_CASE("greeting audio: Play when the reference resolves, the text otherwise") {
  PowersElectric pe;
  pe.bundle.mutable_flow()->mutable_menus()->mutable_menus(0)->mutable_greeting()->set_audio_id(
      "aud_1");
  {
    CallDriver call(pe.bundle, pe.deps());
    const Step& start = call.Start();
    CHECK(Last(start).gather().prompts(0).say().text() == testing::kGreetingMain);
  }
  pe.greetings.urls["aud_1"] = "https://media.example/aud_1.mp3";
  CallDriver call(pe.bundle, pe.deps());
  const Step& start = call.Start();
  CHECK(Last(start).gather().prompts(0).play().url() == "https://media.example/aud_1.mp3");
  CHECK(HasPath(start, v1::PATH_GREETING, "audio aud_1"));
}

TEST_CASE("port failures never leave the caller in silence") {
  PowersElectric pe;
  pe.schedule.fail = true;
  pe.directory.fail = true;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  CHECK_FALSE(call.state().after_hours());  // schedule error = open
  call.Press("1");                          // Sarah cannot be looked up -> company box
  CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
  CHECK(call.state().voicemail_box_id() == "vm_company");
}

TEST_CASE("CallState of a live call in a five-member group stays under 4 KiB") {
  PowersElectric pe;
  v1::RingGroup* five = pe.bundle.add_ring_groups();
  five->set_id("everyone");
  five->set_name("Everyone");
  five->set_strategy(v1::SEQUENTIAL);
  for (const char* id : {"robert", "sarah", "mike", "jake", "tyler"}) {
    *five->add_members() = testing::UserMember(id);
  }
  testing::Bind(pe.bundle.mutable_flow()->mutable_menus()->mutable_menus(0), "6",
                testing::GroupAction("everyone"));
  five->set_strategy(v1::SIMULTANEOUS);
  CallDriver call(pe.bundle, pe.deps());
  call.Start("CA0123456789abcdef0123456789abcdef");
  for (int i = 0; i < 2; ++i) call.Press("8");  // a few retries: longer instructions
  cv1::CarrierEvent e;
  e.set_dedupe_key("telnyx-00000000-0000-0000-0000-000000000000-call.gather.ended");
  e.mutable_digits_gathered()->set_digits("6");
  const Step& ring = call.Send(e);
  CHECK(Targets(Last(ring).dial()).size() == 10);
  CHECK(call.state().dialing().legs_size() == 5);
  size_t size = call.state().ByteSizeLong();
  INFO("serialized CallState: " << size << " bytes");
  CHECK(size < 4096);

  five->set_strategy(v1::SEQUENTIAL);
  CallDriver seq(pe.bundle, pe.deps());
  seq.Start("CA0123456789abcdef0123456789abcdef");
  seq.Press("6");
  seq.Dial(cv1::DIAL_NO_ANSWER);
  CHECK(seq.state().dialing().queue_size() == 5);
  CHECK(seq.state().ByteSizeLong() < 4096);
}

TEST_CASE("keypad digits follow E.161") {
  CHECK(KeypadDigits("Torres") == "867737");
  CHECK(KeypadDigits("O'Brien-Smith") == "62743676484");
  CHECK(KeypadDigits("QZ") == "79");
}

// ---- click-to-call ------------------------------------------------------------------------------

TEST_CASE("click-to-call: the user's device first, then the customer with the caller ID") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  const Step& start = call.StartOutbound();
  CHECK(start.changed);
  CHECK(start.instructions.instructions_size() == 0);  // the carrier places the call
  CHECK(call.state().phase() == v1::PHASE_AGENT_RINGING);
  CHECK(call.state().outbound());
  CHECK(call.state().from() == "+12035550100");
  CHECK(call.state().to() == "+13125550142");
  REQUIRE(Kinds(start) == std::vector<LifecycleKind>{LifecycleKind::kRinging});
  CHECK(start.events[0].user_ids == std::vector<std::string>{"mike"});
  REQUIRE(start.path.size() == 1);
  CHECK(start.path[0].kind() == v1::PATH_RING);
  CHECK(start.path[0].text() ==
        "click-to-call by Mike Torres: ring Mike Torres (+19175558822) first, then "
        "+13125550142 from +12035550100");

  // Events that do not fit: nothing changes.
  CHECK_FALSE(call.Dial(cv1::DIAL_ANSWERED, "+13125550142").changed);
  CHECK_FALSE(call.Press("1").changed);

  const Step& answered = call.Answered();
  REQUIRE(answered.changed);
  CHECK(call.state().phase() == v1::PHASE_DIALING);
  REQUIRE(answered.instructions.instructions_size() == 2);
  CHECK(answered.instructions.instructions(0).say().text() == "Connecting your call.");
  REQUIRE(Last(answered).has_dial());
  const cv1::Dial& dial = Last(answered).dial();
  CHECK(Targets(dial) == std::vector<std::string>{"+13125550142"});
  CHECK(dial.caller_id() == "+12035550100");
  CHECK(dial.timeout_s() == 30);
  CHECK(Kinds(answered) == std::vector<LifecycleKind>{LifecycleKind::kRinging});
  // A second answer (Twilio's status callback after the voice URL) changes nothing.
  CHECK_FALSE(call.Answered().changed);

  const Step& bridged = call.Dial(cv1::DIAL_ANSWERED, "+13125550142");
  CHECK(call.state().phase() == v1::PHASE_BRIDGED);
  CHECK(call.state().answered_by() == "+13125550142");
  CHECK(Kinds(bridged) == std::vector<LifecycleKind>{LifecycleKind::kAnswered});
  const Step& ended = call.Completed();
  REQUIRE(ended.final_status.has_value());
  CHECK(*ended.final_status == v1::COMPLETED);
  CHECK(ended.answered_by == "+13125550142");
}

TEST_CASE("click-to-call: the customer does not answer, the user hears why; missed") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.StartOutbound();
  call.Answered();
  const Step& busy = call.Dial(cv1::DIAL_BUSY, "+13125550142");
  CHECK(call.state().phase() == v1::PHASE_HANGING_UP);
  REQUIRE(busy.instructions.instructions_size() == 2);
  CHECK(busy.instructions.instructions(0).say().text() ==
        "The call could not be connected: busy. Goodbye.");
  CHECK(Last(busy).has_hangup());
  CHECK(HasPath(busy, v1::PATH_NO_ANSWER, "busy: +13125550142"));
  const Step& ended = call.Completed();
  REQUIRE(ended.final_status.has_value());
  CHECK(*ended.final_status == v1::MISSED);
  CHECK(ended.answered_by.empty());
}

TEST_CASE("click-to-call: the user does not pick up their own phone") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.StartOutbound();
  const Step& ended = call.Completed(cv1::CALL_END_NO_ANSWER);
  REQUIRE(ended.final_status.has_value());
  CHECK(*ended.final_status == v1::MISSED);
  CallDriver failed(pe.bundle, pe.deps());
  failed.StartOutbound();
  const Step& not_placed = failed.Completed(cv1::CALL_END_FAILED);
  REQUIRE(not_placed.final_status.has_value());
  CHECK(*not_placed.final_status == v1::FAILED);
}

TEST_CASE("click-to-call: missing facts are INVALID_ARGUMENT naming the field") {
  PowersElectric pe;
  CallEngine engine(pe.bundle, pe.deps());
  OutboundFacts facts{.call_id = "C", .company_id = "powers", .user_id = "mike",
                      .device = "+19175558822", .to = "+13125550142",
                      .caller_id = "+12035550100", .at = kTuesday10am};
  for (auto [field, clear] : std::vector<std::pair<std::string, std::string OutboundFacts::*>>{
           {"call_id", &OutboundFacts::call_id},
           {"user_id", &OutboundFacts::user_id},
           {"device", &OutboundFacts::device},
           {"to", &OutboundFacts::to},
           {"caller_id", &OutboundFacts::caller_id}}) {
    OutboundFacts f = facts;
    f.*clear = "";
    absl::StatusOr<Step> step = engine.StartOutbound(f);
    REQUIRE_FALSE(step.ok());
    CHECK(step.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StartsWith(step.status().message(), field + ":"));
  }
}

// ---- live call control ----------------------------------------------------------------------

// Business hours, press 1, Sarah answers: a connected call.
void Connect(CallDriver& call) {
  call.Start();
  call.Press("1");
  call.Dial(cv1::DIAL_ANSWERED, "client:sarah");
  REQUIRE(call.state().phase() == v1::PHASE_BRIDGED);
  REQUIRE(call.state().answered_by() == "sarah");
}

TEST_CASE("blind transfer to a user: told to hold, the user rung, the user's voicemail after") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Connect(call);
  const std::string before_id = call.state().last_instructions().id();
  absl::StatusOr<Step> step = call.Transfer(TransferTarget{.user_id = "mike"});
  REQUIRE(step.ok());
  CHECK(step->changed);
  CHECK(step->instructions.id() != before_id);
  REQUIRE(step->instructions.instructions_size() == 2);
  CHECK(step->instructions.instructions(0).say().text() ==
        "Please hold while I transfer your call.");
  REQUIRE(Last(*step).has_dial());
  CHECK(Targets(Last(*step).dial()) ==
        std::vector<std::string>{"+19175558822", "client:mike"});
  CHECK(call.state().phase() == v1::PHASE_DIALING);
  REQUIRE(!step->path.empty());
  CHECK(step->path[0].kind() == v1::PATH_TRANSFER);
  CHECK(step->path[0].text() == "transferred by Sarah Johnson to Mike Torres");
  CHECK(step->path[0].user_ids(0) == "sarah");
  CHECK(Kinds(*step) == std::vector<LifecycleKind>{LifecycleKind::kRouted,
                                                   LifecycleKind::kRinging});

  SECTION("Mike answers: the call is his") {
    const Step& answered = call.Dial(cv1::DIAL_ANSWERED, "client:mike");
    CHECK(call.state().answered_by() == "mike");
    CHECK(Kinds(answered) == std::vector<LifecycleKind>{LifecycleKind::kAnswered});
    const Step& ended = call.Completed();
    REQUIRE(ended.final_status.has_value());
    CHECK(*ended.final_status == v1::COMPLETED);
    CHECK(ended.answered_by == "mike");
  }
  SECTION("Mike does not answer: his voicemail; the call stays completed (Sarah answered it)") {
    call.Dial(cv1::DIAL_NO_ANSWER);
    CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
    CHECK(call.state().voicemail_box_id() == "vm_mike");
    const Step& recorded = call.Recording();
    CHECK(Kinds(recorded) == std::vector<LifecycleKind>{LifecycleKind::kVoicemailLeft});
    const Step& ended = call.Completed();
    REQUIRE(ended.final_status.has_value());
    CHECK(*ended.final_status == v1::COMPLETED);
  }
}

TEST_CASE("blind transfer to a group, an external number and a voicemail box") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Connect(call);
  SECTION("group: its strategy (round robin rings one member)") {
    absl::StatusOr<Step> step = call.Transfer(TransferTarget{.ring_group_id = "all_techs"});
    REQUIRE(step.ok());
    REQUIRE(Last(*step).has_dial());
    CHECK(Last(*step).dial().targets_size() == 2);  // one tech's phone and softphone
    CHECK(step->path[0].text() == "transferred by Sarah Johnson to group All techs");
    CHECK(call.state().dialing().ring_group_id() == "all_techs");
  }
  SECTION("external number: rung, then the company voicemail") {
    absl::StatusOr<Step> step =
        call.Transfer(TransferTarget{.external_number = "+13125550142", .ring_seconds = 25});
    REQUIRE(step.ok());
    CHECK(Targets(Last(*step).dial()) == std::vector<std::string>{"+13125550142"});
    CHECK(Last(*step).dial().timeout_s() == 25);
    call.Dial(cv1::DIAL_BUSY);
    CHECK(call.state().voicemail_box_id() == "vm_company");
  }
  SECTION("voicemail box: its greeting and a recording") {
    absl::StatusOr<Step> step = call.Transfer(TransferTarget{.voicemail_box_id = "vm_robert"});
    REQUIRE(step.ok());
    CHECK(Last(*step).has_record());
    CHECK(call.state().phase() == v1::PHASE_VOICEMAIL);
    CHECK(call.state().voicemail_box_id() == "vm_robert");
  }
}

TEST_CASE("blind transfer refuses bad targets and calls that are not connected") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  // In the menu: nobody is connected yet.
  absl::StatusOr<Step> early = call.Transfer(TransferTarget{.user_id = "mike"});
  CHECK(early.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StrContains(early.status().message(), "not connected"));
  call.Press("1");
  call.Dial(cv1::DIAL_ANSWERED, "client:sarah");

  const std::string id = call.state().last_instructions().id();
  CHECK(call.Transfer(TransferTarget{}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(call.Transfer(TransferTarget{.user_id = "mike", .ring_group_id = "office"})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Step> bad_number = call.Transfer(TransferTarget{.external_number = "555-0100"});
  CHECK(bad_number.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(bad_number.status().message(), "external_number:"));
  absl::StatusOr<Step> nobody = call.Transfer(TransferTarget{.user_id = "nobody"});
  CHECK(nobody.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StartsWith(nobody.status().message(), "user_id:"));
  CHECK(call.Transfer(TransferTarget{.ring_group_id = "nope"}).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(call.Transfer(TransferTarget{.voicemail_box_id = "nope"}).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK(call.Transfer(TransferTarget{.user_id = "mike", .ring_seconds = 121}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  absl::StatusOr<Step> self = call.Transfer(TransferTarget{.user_id = "sarah"});
  CHECK(self.status().code() == absl::StatusCode::kFailedPrecondition);
  // Nothing changed.
  CHECK(call.state().last_instructions().id() == id);
  CHECK(call.state().phase() == v1::PHASE_BRIDGED);

  call.Completed();
  CHECK(call.Transfer(TransferTarget{.user_id = "mike"}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("on-demand recording: on and off keep the call's instructions; the recording is "
          "referenced") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  CHECK(call.SetRecording(true).status().code() == absl::StatusCode::kFailedPrecondition);
  call.Press("1");
  call.Dial(cv1::DIAL_ANSWERED, "client:sarah");
  const cv1::CallInstructions running = call.state().last_instructions();

  absl::StatusOr<Step> on = call.SetRecording(true);
  REQUIRE(on.ok());
  CHECK(on->changed);
  CHECK(on->instructions.id() == running.id());
  CHECK(on->instructions.SerializeAsString() == running.SerializeAsString());
  CHECK(call.state().recording());
  CHECK(call.state().recording_by() == "sarah");
  REQUIRE(on->path.size() == 1);
  CHECK(on->path[0].kind() == v1::PATH_RECORDING);
  CHECK(on->path[0].text() == "recording started by Sarah Johnson");
  CHECK(call.SetRecording(true).status().code() == absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<Step> off = call.SetRecording(false);
  REQUIRE(off.ok());
  CHECK_FALSE(call.state().recording());
  CHECK(off->instructions.id() == running.id());
  CHECK(call.SetRecording(false).status().code() == absl::StatusCode::kFailedPrecondition);

  // The carrier's recording of the conversation: referenced, the call goes on unchanged.
  const Step& recording = call.Recording("RE77");
  REQUIRE(recording.changed);
  CHECK(recording.recording_id == "RE77");
  CHECK(recording.recording_url == "https://media.example/RE1.wav");
  CHECK(recording.events.empty());
  CHECK(recording.instructions.id() == running.id());
  CHECK(call.state().phase() == v1::PHASE_BRIDGED);
  // The same recording again is a duplicate only by its dedupe key; a recording after the end
  // of an answered call is referenced as well.
  const Step& ended = call.Completed();
  CHECK(*ended.final_status == v1::COMPLETED);
  const Step& late = call.Recording("RE78");
  CHECK(late.changed);
  CHECK(late.recording_id == "RE78");
  CHECK_FALSE(late.final_status.has_value());
}

TEST_CASE("an on-demand recording that arrives after a transfer moved the call on is still the "
          "call's recording") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Connect(call);
  REQUIRE(call.SetRecording(true).ok());
  REQUIRE(call.SetRecording(false).ok());
  REQUIRE(call.Transfer(TransferTarget{.user_id = "mike"}).ok());
  const std::string transfer_set = call.state().last_instructions().id();
  const Step& recording = call.Recording("RE9");
  REQUIRE(recording.changed);
  CHECK(recording.recording_id == "RE9");
  CHECK(call.state().phase() == v1::PHASE_DIALING);  // still ringing Mike
  CHECK(recording.instructions.id() == transfer_set);
  // Mike answers: the transfer's Dial result still belongs to the running set.
  call.Dial(cv1::DIAL_ANSWERED, "client:mike");
  CHECK(call.state().answered_by() == "mike");
}

// ---- conference: hold, participants, warm transfer -----------------------------------------

// Connected to Sarah (her leg CAsarah), the caller's leg CA1, then moved into the conference.
void Conferenced(CallDriver& call) {
  absl::StatusOr<Step> start = call.engine().Start(CallFacts{.call_id = "CA1",
                                                              .company_id = "powers",
                                                              .from = "+12035550199",
                                                              .to = "+12035550100",
                                                              .at = kTuesday10am,
                                                              .carrier_call_id = "CA1"});
  REQUIRE(start.ok());
  REQUIRE(call.Apply(std::move(start)).ok());
  call.Press("1");
  call.Dial(cv1::DIAL_ANSWERED, "client:sarah", "CAsarah");
  REQUIRE(call.state().bridged_leg() == "CAsarah");
  absl::StatusOr<Step> moved =
      call.Apply(call.engine().EnterConference(call.state(), kTuesday10am + absl::Minutes(2)));
  REQUIRE(moved.ok());
}

TEST_CASE("a connected call moves into its conference: caller and Sarah as participants") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Conferenced(call);
  const v1::CallState& s = call.state();
  CHECK(s.phase() == v1::PHASE_CONFERENCE);
  CHECK(s.conference() == "sb-CA1");
  REQUIRE(s.participants_size() == 2);
  CHECK(s.participants(0).role() == v1::Participant::CALLER);
  CHECK(s.participants(0).leg() == "CA1");
  CHECK(s.participants(0).number() == "+12035550199");
  CHECK(s.participants(1).role() == v1::Participant::AGENT);
  CHECK(s.participants(1).leg() == "CAsarah");
  CHECK(s.participants(1).user_id() == "sarah");
  // The caller's set is a Dial of the conference that ends it when the caller leaves.
  const cv1::CallInstructions& set = s.last_instructions();
  REQUIRE(set.instructions_size() == 1);
  REQUIRE(set.instructions(0).dial().targets_size() == 1);
  CHECK(set.instructions(0).dial().targets(0).conference().name() == "sb-CA1");
  CHECK(set.instructions(0).dial().targets(0).conference().end_on_exit());
  // Once only; a blind transfer is refused now; recording still works.
  CHECK(call.engine().EnterConference(s, kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(call.Transfer(TransferTarget{.user_id = "mike"}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(call.SetRecording(true).ok());
  // A stale Dial result of the bridge changes nothing.
  CHECK_FALSE(call.Dial(cv1::DIAL_ANSWERED, "client:sarah", "CAsarah").changed);
}

TEST_CASE("a call that is not connected cannot enter a conference") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.Start();
  CHECK(call.engine().EnterConference(call.state(), kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(call.engine().SetHold(call.state(), true, "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("hold and resume the caller; the instruction set stays") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Conferenced(call);
  const std::string set = call.state().last_instructions().id();
  absl::StatusOr<Step> held = call.Apply(call.engine().SetHold(call.state(), true, "sarah",
                                                                kTuesday10am));
  REQUIRE(held.ok());
  CHECK(held->instructions.id() == set);
  CHECK(call.state().participants(0).on_hold());
  CHECK(held->path.back().text() == "caller on hold by Sarah Johnson");
  CHECK(call.engine().SetHold(call.state(), true, "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  REQUIRE(call.Apply(call.engine().SetHold(call.state(), false, "sarah", kTuesday10am)).ok());
  CHECK_FALSE(call.state().participants(0).on_hold());
}

TEST_CASE("participants: added, named, joined, left; at most five; bad targets") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Conferenced(call);
  absl::StatusOr<Step> added = call.Apply(call.engine().AddParticipant(
      call.state(), PartyTarget{.user_id = "mike"}, false, "sarah", kTuesday10am));
  REQUIRE(added.ok());
  REQUIRE(added->added.has_value());
  CHECK(added->added->number() == "client:mike");  // the softphone first
  CHECK(Kinds(*added) == std::vector<LifecycleKind>{LifecycleKind::kRinging});
  CHECK(call.state().participants(2).status() == v1::Participant::RINGING);
  REQUIRE(call.Apply(call.engine().NameParticipantLeg(call.state(), "client:mike", "CAmike",
                                                      kTuesday10am))
              .ok());
  CHECK(call.state().participants(2).leg() == "CAmike");
  const Step& joined = call.Conference(cv1::ConferenceUpdate::JOINED, "CAmike");
  CHECK(joined.changed);
  CHECK(call.state().participants(2).status() == v1::Participant::JOINED);
  CHECK(joined.path.back().text() == "Mike Torres joined");

  // Already on the call; unknown user; bad number.
  CHECK(call.engine()
            .AddParticipant(call.state(), PartyTarget{.user_id = "mike"}, false, "sarah",
                            kTuesday10am)
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(call.engine()
            .AddParticipant(call.state(), PartyTarget{.user_id = "nobody"}, false, "sarah",
                            kTuesday10am)
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(call.engine()
            .AddParticipant(call.state(), PartyTarget{.external_number = "12"}, false, "sarah",
                            kTuesday10am)
            .status()
            .code() == absl::StatusCode::kInvalidArgument);

  // An external number reported by the carrier before its leg was named.
  REQUIRE(call.Apply(call.engine().AddParticipant(call.state(),
                                                  PartyTarget{.external_number = "+13125550142"},
                                                  false, "sarah", kTuesday10am))
              .ok());
  call.Conference(cv1::ConferenceUpdate::JOINED, "CAext", "+13125550142");
  CHECK(call.state().participants(3).leg() == "CAext");
  CHECK(call.state().participants(3).status() == v1::Participant::JOINED);
  REQUIRE(call.Apply(call.engine().AddParticipant(call.state(), PartyTarget{.user_id = "jake"},
                                                  false, "sarah", kTuesday10am))
              .ok());
  // Five parties: no more.
  CHECK(call.engine()
            .AddParticipant(call.state(), PartyTarget{.user_id = "tyler"}, false, "sarah",
                            kTuesday10am)
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  // Jake does not answer: a place frees up.
  call.Conference(cv1::ConferenceUpdate::NOT_ANSWERED, "CAjake", "client:jake");
  CHECK(call.state().participants(4).status() == v1::Participant::LEFT);
  CHECK(call.engine()
            .AddParticipant(call.state(), PartyTarget{.user_id = "tyler"}, false, "sarah",
                            kTuesday10am)
            .ok());
  // Removing: an added one, not the caller, not twice.
  absl::StatusOr<Step> removed =
      call.Apply(call.engine().RemoveParticipant(call.state(), "CAext", "sarah", kTuesday10am));
  REQUIRE(removed.ok());
  CHECK(removed->removed_legs == std::vector<std::string>{"CAext"});
  CHECK(call.engine().RemoveParticipant(call.state(), "CAext", "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(call.engine().RemoveParticipant(call.state(), "CA1", "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(call.engine().RemoveParticipant(call.state(), "CAnope", "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kNotFound);
  // Another leg of the session ending (Telnyx: a conferenced party's own hang-up) is not the
  // end of the call.
  {
    cv1::CarrierEvent other;
    other.mutable_ids()->set_call_control_id("CAmike");
    other.mutable_call_completed()->set_reason(cv1::CALL_END_COMPLETED);
    CHECK_FALSE(call.Send(other).changed);
  }
  // Mike leaves by himself; Sarah and Tyler (ringing) are still there.
  const Step& mike_left = call.Conference(cv1::ConferenceUpdate::LEFT, "CAmike");
  CHECK(call.state().participants(2).status() == v1::Participant::LEFT);
  CHECK_FALSE(mike_left.hang_up_caller);
  call.Conference(cv1::ConferenceUpdate::NOT_ANSWERED, "CAtyler", "client:tyler");
  // Sarah hangs up: nobody is left with the caller, the call is to end.
  const Step& alone = call.Conference(cv1::ConferenceUpdate::LEFT, "CAsarah");
  CHECK(alone.hang_up_caller);
  CHECK(alone.path.back().text() == "everyone else left: the call ends");
  // The caller hangs up: completed, answered by Sarah.
  const Step& ended = call.Completed();
  REQUIRE(ended.final_status.has_value());
  CHECK(*ended.final_status == v1::COMPLETED);
  CHECK(ended.answered_by == "sarah");
}

TEST_CASE("warm transfer: caller held, target rung; complete hands the call over; cancel "
          "resumes") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Conferenced(call);
  absl::StatusOr<Step> started = call.Apply(call.engine().AddParticipant(
      call.state(), PartyTarget{.user_id = "mike"}, /*consult=*/true, "sarah", kTuesday10am));
  REQUIRE(started.ok());
  CHECK(call.state().participants(0).on_hold());
  CHECK(call.state().consult_by() == "sarah");
  CHECK(started->path.back().text() ==
        "warm transfer by Sarah Johnson: ring Mike Torres (client:mike), caller on hold");
  // No hold/resume or second transfer meanwhile; completing needs Mike in the conference.
  CHECK(call.engine().SetHold(call.state(), false, "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(call.engine().CompleteWarmTransfer(call.state(), "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  call.Conference(cv1::ConferenceUpdate::JOINED, "CAmike", "client:mike");
  CHECK(call.state().consult_leg() == "CAmike");

  SECTION("complete: Sarah leaves, the caller is resumed with Mike") {
    absl::StatusOr<Step> done =
        call.Apply(call.engine().CompleteWarmTransfer(call.state(), "sarah", kTuesday10am));
    REQUIRE(done.ok());
    CHECK(done->removed_legs == std::vector<std::string>{"CAsarah"});
    CHECK_FALSE(call.state().participants(0).on_hold());
    CHECK(call.state().participants(1).status() == v1::Participant::LEFT);
    CHECK(call.state().answered_by() == "mike");
    CHECK(Kinds(*done) == std::vector<LifecycleKind>{LifecycleKind::kAnswered});
    CHECK(done->path.back().text() ==
          "warm transfer by Sarah Johnson completed: Mike Torres takes the call");
    CHECK(call.state().consult_by().empty());
    const Step& ended = call.Completed();
    CHECK(ended.answered_by == "mike");
  }
  SECTION("cancel: Mike is dropped, Sarah has the caller back") {
    absl::StatusOr<Step> back =
        call.Apply(call.engine().CancelWarmTransfer(call.state(), "sarah", kTuesday10am));
    REQUIRE(back.ok());
    CHECK(back->removed_legs == std::vector<std::string>{"CAmike"});
    CHECK_FALSE(call.state().participants(0).on_hold());
    CHECK(call.state().participants(2).status() == v1::Participant::LEFT);
    CHECK(call.state().answered_by() == "sarah");
  }
}

TEST_CASE("conference follow-ups: a failed warm transfer resumes the caller; a caller left "
          "alone ends the call; reports that change nothing are unchanged") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Conferenced(call);
  REQUIRE(call.Apply(call.engine().AddParticipant(call.state(), PartyTarget{.user_id = "mike"},
                                                  /*consult=*/true, "sarah", kTuesday10am))
              .ok());
  // Cancelling before the carrier named the target's leg would remove nobody: refused.
  CHECK(call.engine().CancelWarmTransfer(call.state(), "sarah", kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  REQUIRE(call.Apply(call.engine().NameParticipantLeg(call.state(), "client:mike", "CAmike",
                                                      kTuesday10am))
              .ok());
  const Step& missed = call.Conference(cv1::ConferenceUpdate::NOT_ANSWERED, "CAmike");
  CHECK(missed.resume_caller);
  CHECK_FALSE(missed.hang_up_caller);
  CHECK_FALSE(call.state().participants(0).on_hold());
  CHECK(call.state().consult_by().empty());
  // The same report again, an unknown leg, the end of the conference: nothing changes.
  CHECK_FALSE(call.Conference(cv1::ConferenceUpdate::NOT_ANSWERED, "CAmike").changed);
  CHECK_FALSE(call.Conference(cv1::ConferenceUpdate::JOINED, "CAnobody", "+19999999999").changed);
  CHECK_FALSE(call.Conference(cv1::ConferenceUpdate::ENDED, "").changed);
  // Sarah is removed: nobody is left with the caller.
  absl::StatusOr<Step> removed =
      call.Apply(call.engine().RemoveParticipant(call.state(), "CAsarah", "robert", kTuesday10am));
  REQUIRE(removed.ok());
  CHECK(removed->hang_up_caller);
}

TEST_CASE("click-to-calls: no transfer or conference (they act on the user's own leg)") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  call.StartOutbound();
  call.Answered();
  call.Dial(cv1::DIAL_ANSWERED, "+13125550142", "CAcustomer");
  REQUIRE(call.state().phase() == v1::PHASE_BRIDGED);
  CHECK(call.Transfer(TransferTarget{.user_id = "sarah"}).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(call.engine().EnterConference(call.state(), kTuesday10am).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  // Recording is available.
  CHECK(call.SetRecording(true).ok());
}

TEST_CASE("a transfer to voicemail whose recording Telnyx saves after the hang-up is the "
          "voicemail; the answered call stays completed") {
  PowersElectric pe;
  CallDriver call(pe.bundle, pe.deps());
  Connect(call);
  REQUIRE(call.Transfer(TransferTarget{.voicemail_box_id = "vm_robert"}).ok());
  const Step& ended = call.Completed();
  CHECK(*ended.final_status == v1::COMPLETED);
  const Step& saved = call.Recording("RE5");
  REQUIRE(saved.changed);
  CHECK(Kinds(saved) == std::vector<LifecycleKind>{LifecycleKind::kVoicemailLeft});
  CHECK(saved.events[0].voicemail_box_id == "vm_robert");
  CHECK_FALSE(saved.final_status.has_value());
}

}  // namespace
}  // namespace switchboard::routing
