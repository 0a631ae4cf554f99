// The Powers Electric demo configuration of issue 5, as the protos the routing API saves: the
// office-hours schedule (Mon-Fri 07:00-17:00, US federal holidays), the on-call rotation (Mike,
// Jake, Tyler; weekly, Monday 07:00), the ring groups Office / Emergency / All techs, the company
// voicemail box and one box per user, and the main-line flow (business-hours and after-hours
// menus). Used by `routing-seed` (tools/dev up) and the tests. Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "switchboard/routing/v1/routing.pb.h"

namespace switchboard::routing {

struct DemoUsers {
  std::string robert;  // owner
  std::string sarah;   // office
  std::string mike;    // techs
  std::string jake;
  std::string tyler;
};

struct DemoConfig {
  v1::NamedSchedule schedule;
  v1::NamedRotation rotation;
  std::vector<v1::VoicemailBox> boxes;  // company box first
  std::vector<v1::RingGroup> groups;    // office, emergency, all_techs
  v1::Flow main_flow;                   // id "main_line"
};

inline constexpr char kDemoGreetingMain[] =
    "Thank you for calling Powers Electric. For scheduling, press 1. For billing, press 2. To "
    "reach a team member by name, press 3. For our hours and location, press 4. For the "
    "operator, press 0.";
inline constexpr char kDemoGreetingAfterHours[] =
    "You've reached Powers Electric. Our office hours are Monday to Friday, 7 am to 5 pm. For "
    "emergencies, press 1. Otherwise, please leave a message.";

DemoConfig PowersElectricDemo(const DemoUsers& users);

}  // namespace switchboard::routing
