// In-memory ports for the routing core tests, and the Powers Electric demo flow (issue 5).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/routing/engine.h"
#include "services/routing/flow_validate.h"
#include "services/routing/simulate.h"

namespace switchboard::routing::testing {

class FakeDirectory final : public Directory {
 public:
  void Add(DirectoryUser user) { users_[user.id] = std::move(user); }
  DirectoryUser& Get(const std::string& id) { return users_.at(id); }
  absl::StatusOr<std::optional<DirectoryUser>> FindUser(absl::string_view id) const override {
    if (fail) return absl::UnavailableError("directory down");
    auto it = users_.find(std::string(id));
    if (it == users_.end()) return std::optional<DirectoryUser>();
    return std::optional<DirectoryUser>(it->second);
  }
  absl::StatusOr<std::vector<DirectoryUser>> ListUsers() const override {
    if (fail) return absl::UnavailableError("directory down");
    std::vector<DirectoryUser> out;
    for (const auto& [id, u] : users_) out.push_back(u);
    return out;
  }
  bool fail = false;

 private:
  std::map<std::string, DirectoryUser> users_;
};

// Open unless `closed` is set; on-call by rotation id from `on_call`.
class FakeSchedule final : public ScheduleOracle {
 public:
  absl::StatusOr<ScheduleAnswer> At(absl::string_view schedule_id, absl::Time t) override {
    last_at = t;
    asked.push_back(std::string(schedule_id));
    if (fail) return absl::UnavailableError("schedule down");
    return ScheduleAnswer{!closed, closed ? "weekly" : "weekly", closed ? "closed" : ""};
  }
  absl::StatusOr<std::string> OnCall(absl::string_view rotation_id, absl::Time) override {
    auto it = on_call.find(std::string(rotation_id));
    if (it == on_call.end()) return absl::NotFoundError("no rotation");
    return it->second;
  }
  bool closed = false;
  bool fail = false;
  absl::Time last_at;
  std::vector<std::string> asked;
  std::map<std::string, std::string> on_call;
};

class FakeCallerMatcher final : public CallerMatcher {
 public:
  absl::StatusOr<std::optional<std::string>> AssignedUser(absl::string_view from) override {
    auto it = known.find(std::string(from));
    if (it == known.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  std::map<std::string, std::string> known;
};

class FakeGreetingUrls final : public GreetingUrlResolver {
 public:
  absl::StatusOr<std::string> Url(absl::string_view audio_id) const override {
    auto it = urls.find(std::string(audio_id));
    if (it == urls.end()) return absl::NotFoundError("no such audio");
    return it->second;
  }
  std::map<std::string, std::string> urls;
};

inline DirectoryUser User(std::string id, std::string first, std::string last, std::string phone,
                          std::string box = "") {
  DirectoryUser u;
  u.id = id;
  u.first_name = std::move(first);
  u.last_name = std::move(last);
  u.forward_to = std::move(phone);
  u.softphone = id;
  u.voicemail_box_id = std::move(box);
  return u;
}

inline constexpr char kGreetingMain[] =
    "Thank you for calling Powers Electric. For scheduling, press 1. For billing, press 2. To "
    "reach a team member by name, press 3. For our hours and location, press 4. For the "
    "operator, press 0.";
inline constexpr char kGreetingAfterHours[] =
    "You've reached Powers Electric. Our office hours are Monday to Friday, 7 am to 5 pm. For "
    "emergencies, press 1. Otherwise, please leave a message.";
inline constexpr char kHoursInfo[] =
    "We are open Monday to Friday, 7 am to 5 pm, at 120 Main Street, Stamford.";

inline v1::Action RingUserAction(const std::string& user_id) {
  v1::Action a;
  a.mutable_ring_user()->set_user_id(user_id);
  return a;
}
inline v1::Action GroupAction(const std::string& group_id) {
  v1::Action a;
  a.set_ring_group_id(group_id);
  return a;
}
inline v1::Action BoxAction(const std::string& box_id) {
  v1::Action a;
  a.set_voicemail_box_id(box_id);
  return a;
}
inline void Bind(v1::Menu* menu, const std::string& key, v1::Action action,
                 const std::string& label = "") {
  v1::KeyBinding* b = menu->add_keys();
  b->set_key(key);
  *b->mutable_action() = std::move(action);
  b->set_label(label);
}
inline v1::GroupMember UserMember(const std::string& id) {
  v1::GroupMember m;
  m.set_user_id(id);
  return m;
}

// The demo company: users, groups, boxes and the main-line flow (issue 5).
struct PowersElectric {
  FakeDirectory directory;
  FakeSchedule schedule;
  InMemoryRoundRobin round_robin;
  FakeCallerMatcher callers;
  FakeGreetingUrls greetings;
  v1::FlowBundle bundle;

  PowersElectric() {
    directory.Add(User("robert", "Robert", "Smith", "+19175558801", "vm_robert"));
    directory.Add(User("sarah", "Sarah", "Johnson", "+19175558802", "vm_sarah"));
    directory.Add(User("mike", "Mike", "Torres", "+19175558822", "vm_mike"));
    directory.Add(User("jake", "Jake", "Williams", "+19175558804", "vm_jake"));
    directory.Add(User("tyler", "Tyler", "Chen", "+19175558805", "vm_tyler"));
    schedule.on_call["oncall_techs"] = "mike";

    bundle.mutable_company_voice()->set_voice("Polly.Joanna");
    bundle.mutable_company_voice()->set_language("en-US");
    v1::Flow* flow = bundle.mutable_flow();
    flow->set_id("main_line");
    flow->set_company_id("powers");
    flow->set_version(1);
    flow->set_name("Main line +1 203 555 0100");
    flow->set_schedule_id("office_hours");
    flow->set_default_voicemail_box_id("vm_company");
    *flow->mutable_operator_action() = GroupAction("office");

    v1::MenuFlow* menus = flow->mutable_menus();
    menus->set_business_hours_menu_id("main");
    menus->set_after_hours_menu_id("after_hours");
    v1::Menu* main = menus->add_menus();
    main->set_id("main");
    main->set_name("Main");
    main->mutable_greeting()->set_text(kGreetingMain);
    Bind(main, "1", RingUserAction("sarah"), "Scheduling");
    Bind(main, "2", RingUserAction("sarah"), "Billing");
    v1::Action directory_action;
    directory_action.mutable_directory();
    Bind(main, "3", directory_action, "Directory");
    v1::Action info;
    info.mutable_play_info()->mutable_info()->set_text(kHoursInfo);
    Bind(main, "4", info, "Hours and location");
    v1::Action op;
    op.set_to_operator(true);
    Bind(main, "0", op, "Operator");
    *main->mutable_default_action() = op;

    v1::Menu* after = menus->add_menus();
    after->set_id("after_hours");
    after->set_name("After hours");
    after->mutable_greeting()->set_text(kGreetingAfterHours);
    after->set_max_attempts(1);
    Bind(after, "1", GroupAction("emergency"), "Emergency");
    *after->mutable_default_action() = BoxAction("vm_company");

    v1::RingGroup* office = bundle.add_ring_groups();
    office->set_id("office");
    office->set_name("Office");
    *office->add_members() = UserMember("sarah");
    *office->add_members() = UserMember("robert");
    office->set_strategy(v1::SIMULTANEOUS);
    office->set_ring_seconds(30);
    office->mutable_on_no_answer()->set_voicemail_box_id("vm_company");

    v1::RingGroup* emergency = bundle.add_ring_groups();
    emergency->set_id("emergency");
    emergency->set_name("Emergency");
    emergency->add_members()->set_on_call_rotation_id("oncall_techs");
    *emergency->add_members() = UserMember("robert");
    emergency->set_strategy(v1::SEQUENTIAL);
    emergency->set_ring_seconds(20);
    emergency->mutable_on_no_answer()->set_voicemail_box_id("vm_company");

    v1::RingGroup* techs = bundle.add_ring_groups();
    techs->set_id("all_techs");
    techs->set_name("All techs");
    *techs->add_members() = UserMember("mike");
    *techs->add_members() = UserMember("jake");
    *techs->add_members() = UserMember("tyler");
    techs->set_strategy(v1::ROUND_ROBIN);
    techs->set_ring_seconds(20);

    v1::VoicemailBox* company = bundle.add_voicemail_boxes();
    company->set_id("vm_company");
    company->set_name("Powers Electric");
    company->set_department("");
    company->mutable_greeting()->set_text(
        "You've reached Powers Electric. Please leave a message after the tone.");
    company->set_max_length_s(180);
    company->add_notify_user_ids("sarah");
    company->add_notify_user_ids("robert");
    for (const char* id : {"robert", "sarah", "mike", "jake", "tyler"}) {
      v1::VoicemailBox* box = bundle.add_voicemail_boxes();
      box->set_id(absl::StrCat("vm_", id));
      box->set_user_id(id);
      box->add_notify_user_ids(id);
    }
  }

  EngineDeps deps() { return EngineDeps{directory, schedule, round_robin, callers, greetings}; }

  ValidationContext context() const {
    ValidationContext c;
    c.user_ids = {"robert", "sarah", "mike", "jake", "tyler"};
    c.schedule_ids = {"office_hours"};
    c.rotation_ids = {"oncall_techs"};
    return c;
  }

  // Direct line 010x: ring the user, then the user's box.
  v1::FlowBundle DirectLine(const std::string& user_id) const {
    v1::FlowBundle b = bundle;
    v1::Flow* flow = b.mutable_flow();
    flow->clear_menus();
    flow->clear_operator_action();
    flow->set_id(absl::StrCat("direct_", user_id));
    flow->mutable_direct_line()->set_user_id(user_id);
    flow->mutable_direct_line()->set_ring_seconds(20);
    flow->mutable_direct_line()->mutable_after_hours_greeting()->set_text(
        "You've reached us after hours. Please leave a message.");
    return b;
  }
};

}  // namespace switchboard::routing::testing
