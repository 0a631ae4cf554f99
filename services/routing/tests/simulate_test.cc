#include "services/routing/simulate.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_join.h"
#include "services/routing/tests/fakes.h"

namespace switchboard::routing {
namespace {

using testing::PowersElectric;

// Tuesday 17 Nov 2026, 10:00 in New York.
const absl::Time kTuesday10am = absl::FromCivil(absl::CivilSecond(2026, 11, 17, 15, 0, 0),
                                                absl::UTCTimeZone());

SimulationInput Input(std::vector<std::string> keys,
                      std::vector<std::pair<std::string, SimulatedOutcome>> answers = {}) {
  SimulationInput in;
  in.call_id = "sim1";
  in.company_id = "powers";
  in.from = "+12035550199";
  in.to = "+12035550100";
  in.at = kTuesday10am;
  in.key_presses = std::move(keys);
  for (auto& [who, what] : answers) in.answers[who] = what;
  return in;
}

SimulationResult Run(PowersElectric& pe, const SimulationInput& in) {
  absl::StatusOr<SimulationResult> result = SimulateCall(pe.bundle, pe.deps(), in);
  REQUIRE(result.ok());
  return *result;
}

std::vector<std::string> Texts(const SimulationResult& r, v1::PathKind kind) {
  std::vector<std::string> out;
  for (const v1::PathEntry& e : r.path) {
    if (e.kind() == kind) out.push_back(e.text());
  }
  return out;
}

std::string Dump(const SimulationResult& r) {
  std::vector<std::string> lines;
  for (const v1::PathEntry& e : r.path) {
    lines.push_back(absl::StrCat(v1::PathKind_Name(e.kind()), " ", e.text()));
  }
  return absl::StrJoin(lines, "\n");
}

TEST_CASE("dry run: business hours, press 1, Sarah answers — the exact path") {
  PowersElectric pe;
  SimulationResult r = Run(pe, Input({"1"}, {{"sarah", SimulatedOutcome::kAnswer}}));
  INFO(Dump(r));
  std::vector<std::string> path;
  for (const v1::PathEntry& e : r.path) {
    path.push_back(absl::StrCat(v1::PathKind_Name(e.kind()), ": ", e.text()));
  }
  CHECK(path == std::vector<std::string>{
                    "PATH_INFO: business hours (weekly)",
                    "PATH_MENU: menu Main (main)",
                    absl::StrCat("PATH_GREETING: ", testing::kGreetingMain),
                    "PATH_KEY: pressed 1 (Scheduling)",
                    "PATH_RING: ring Sarah Johnson (+19175558802, client:sarah), 25 s",
                    "PATH_ANSWERED: answered by Sarah Johnson",
                    "PATH_END: ended: completed",
                });
  CHECK(r.status == v1::COMPLETED);
  CHECK(r.answered_by == "sarah");
  CHECK(r.rang == std::vector<std::string>{"sarah"});
  CHECK(r.instructions.size() == 4);  // menu, dial, hangup after the bridge, final hangup
  CHECK(r.final_state.phase() == v1::PHASE_ENDED);
}

TEST_CASE("dry run: press 0, the Office group rings Sarah and Robert at once, Robert answers") {
  PowersElectric pe;
  SimulationResult r = Run(pe, Input({"0"}, {{"robert", SimulatedOutcome::kAnswer}}));
  INFO(Dump(r));
  CHECK(r.rang == std::vector<std::string>{"sarah", "robert"});
  CHECK(Texts(r, v1::PATH_RING) ==
        std::vector<std::string>{"ring Sarah Johnson (+19175558802, client:sarah) + Robert Smith "
                                 "(+19175558801, client:robert) [group Office], 30 s"});
  CHECK(r.answered_by == "robert");
  CHECK(r.status == v1::COMPLETED);
}

TEST_CASE("dry run: nobody answers the Office group -> company voicemail") {
  PowersElectric pe;
  SimulationResult r = Run(pe, Input({"0"}));
  INFO(Dump(r));
  CHECK(r.status == v1::VOICEMAIL);
  CHECK(Texts(r, v1::PATH_VOICEMAIL) == std::vector<std::string>{"voicemail box Powers Electric"});
  CHECK(Texts(r, v1::PATH_GREETING).back() == "Thank you for your message. Goodbye.");

  SimulationInput hang_up = Input({"0"});
  hang_up.leave_voicemail = false;
  CHECK(Run(pe, hang_up).status == v1::MISSED);
}

TEST_CASE("dry run: after hours, press 1 rings the on-call tech then Robert, then voicemail") {
  PowersElectric pe;
  pe.schedule.closed = true;
  SimulationResult r = Run(pe, Input({"1"}));
  INFO(Dump(r));
  CHECK(Texts(r, v1::PATH_GREETING).front() == testing::kGreetingAfterHours);
  CHECK(r.rang == std::vector<std::string>{"mike", "robert"});
  CHECK(r.status == v1::VOICEMAIL);

  SimulationResult robert = Run(pe, Input({"1"}, {{"+19175558801", SimulatedOutcome::kAnswer}}));
  CHECK(robert.rang == std::vector<std::string>{"mike", "robert"});
  CHECK(robert.answered_by == "robert");
}

TEST_CASE("dry run: after hours with no key goes straight to voicemail") {
  PowersElectric pe;
  pe.schedule.closed = true;
  SimulationResult r = Run(pe, Input({}));
  INFO(Dump(r));
  CHECK(r.rang.empty());
  CHECK(r.status == v1::VOICEMAIL);
  CHECK(Texts(r, v1::PATH_KEY) == std::vector<std::string>{"no input"});
}

TEST_CASE("dry run: dial by name T-O-R reaches Mike Torres") {
  PowersElectric pe;
  SimulationResult r = Run(pe, Input({"3", "867"}, {{"mike", SimulatedOutcome::kAnswer}}));
  INFO(Dump(r));
  CHECK(r.answered_by == "mike");
  CHECK(r.rang == std::vector<std::string>{"mike"});
  std::vector<std::string> greetings = Texts(r, v1::PATH_INFO);
  CHECK(std::find(greetings.begin(), greetings.end(), "Connecting you to Mike Torres.") !=
        greetings.end());
}

TEST_CASE("dry run: invalid key three times runs the default action (the operator)") {
  PowersElectric pe;
  SimulationResult r = Run(pe, Input({"9", "9", "9"}, {{"sarah", SimulatedOutcome::kAnswer}}));
  INFO(Dump(r));
  CHECK(Texts(r, v1::PATH_KEY) ==
        std::vector<std::string>{"invalid key 9", "invalid key 9", "invalid key 9"});
  CHECK(Texts(r, v1::PATH_MENU).size() == 3);
  CHECK(r.rang == std::vector<std::string>{"sarah", "robert"});
  CHECK(r.answered_by == "sarah");
}

TEST_CASE("dry run: hours information, back to the menu, then billing") {
  PowersElectric pe;
  SimulationResult r = Run(pe, Input({"4", "2"}, {{"sarah", SimulatedOutcome::kAnswer}}));
  INFO(Dump(r));
  std::vector<std::string> greetings = Texts(r, v1::PATH_GREETING);
  REQUIRE(greetings.size() == 3);
  CHECK(greetings[0] == testing::kGreetingMain);
  CHECK(greetings[1] == testing::kHoursInfo);
  CHECK(greetings[2] == testing::kGreetingMain);
  CHECK(r.answered_by == "sarah");
}

TEST_CASE("dry run: the All techs round robin rotates across three calls") {
  PowersElectric pe;
  testing::Bind(pe.bundle.mutable_flow()->mutable_menus()->mutable_menus(0), "5",
                testing::GroupAction("all_techs"));
  std::vector<std::string> first;
  for (int i = 0; i < 3; ++i) first.push_back(Run(pe, Input({"5"})).rang.at(0));
  CHECK(first == std::vector<std::string>{"mike", "jake", "tyler"});
}

TEST_CASE("dry run: a busy member is reported and the next one rung") {
  PowersElectric pe;
  pe.schedule.closed = true;
  SimulationResult r = Run(pe, Input({"1"}, {{"mike", SimulatedOutcome::kBusy},
                                             {"robert", SimulatedOutcome::kAnswer}}));
  INFO(Dump(r));
  CHECK(Texts(r, v1::PATH_NO_ANSWER) == std::vector<std::string>{"busy: Mike Torres"});
  CHECK(r.answered_by == "robert");
}

TEST_CASE("dry run: direct line 0103 rings Mike, then his voicemail") {
  PowersElectric pe;
  v1::FlowBundle line = pe.DirectLine("mike");
  absl::StatusOr<SimulationResult> r = SimulateCall(line, pe.deps(), Input({}));
  REQUIRE(r.ok());
  CHECK(r->rang == std::vector<std::string>{"mike"});
  CHECK(r->final_state.voicemail_box_id() == "vm_mike");
  CHECK(r->status == v1::VOICEMAIL);
}

TEST_CASE("dry run: a flow without a kind is refused") {
  PowersElectric pe;
  v1::FlowBundle empty;
  CHECK(SimulateCall(empty, pe.deps(), Input({})).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace switchboard::routing
