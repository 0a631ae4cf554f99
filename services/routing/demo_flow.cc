#include "services/routing/demo_flow.h"

#include "absl/strings/str_cat.h"

namespace switchboard::routing {
namespace {

v1::Action RingUser(const std::string& id) {
  v1::Action a;
  a.mutable_ring_user()->set_user_id(id);
  return a;
}
v1::Action Group(const std::string& id) {
  v1::Action a;
  a.set_ring_group_id(id);
  return a;
}
v1::Action Box(const std::string& id) {
  v1::Action a;
  a.set_voicemail_box_id(id);
  return a;
}
void Bind(v1::Menu* m, const std::string& key, const v1::Action& action, const std::string& label) {
  v1::KeyBinding* b = m->add_keys();
  b->set_key(key);
  *b->mutable_action() = action;
  b->set_label(label);
}

}  // namespace

DemoConfig PowersElectricDemo(const DemoUsers& u) {
  DemoConfig c;
  c.schedule.set_id("office_hours");
  c.schedule.set_name("Office hours");
  v1::Schedule* s = c.schedule.mutable_schedule();
  for (auto* day : {s->mutable_weekly()->mutable_monday(), s->mutable_weekly()->mutable_tuesday(),
                    s->mutable_weekly()->mutable_wednesday(),
                    s->mutable_weekly()->mutable_thursday(),
                    s->mutable_weekly()->mutable_friday()}) {
    v1::Schedule::TimeRange* r = day->Add();
    r->set_open("07:00");
    r->set_close("17:00");
  }
  s->add_holiday_presets(v1::Schedule::US_FEDERAL);

  c.rotation.set_id("oncall_techs");
  c.rotation.set_name("On-call techs");
  v1::OnCallRotation* rot = c.rotation.mutable_rotation();
  for (const std::string* id : {&u.mike, &u.jake, &u.tyler}) rot->add_user_ids(*id);
  rot->set_period_days(7);
  rot->set_anchor_date("2026-01-05");  // a Monday: Mike's first week
  rot->set_handover_time("07:00");

  v1::VoicemailBox company;
  company.set_id("vm_company");
  company.set_name("Powers Electric");
  company.set_department("");
  company.mutable_greeting()->set_text(
      "You've reached Powers Electric. Please leave a message after the tone.");
  company.set_max_length_s(180);
  company.add_notify_user_ids(u.sarah);
  company.add_notify_user_ids(u.robert);
  c.boxes.push_back(company);
  const std::pair<const char*, const std::string*> people[] = {
      {"robert", &u.robert}, {"sarah", &u.sarah}, {"mike", &u.mike},
      {"jake", &u.jake},     {"tyler", &u.tyler}};
  for (const auto& [name, id] : people) {
    v1::VoicemailBox b;
    b.set_id(absl::StrCat("vm_", name));
    b.set_name(absl::StrCat("Voicemail of ", name));
    b.set_user_id(*id);
    b.add_notify_user_ids(*id);
    c.boxes.push_back(b);
  }

  v1::RingGroup office;
  office.set_id("office");
  office.set_name("Office");
  office.add_members()->set_user_id(u.sarah);
  office.add_members()->set_user_id(u.robert);
  office.set_strategy(v1::SIMULTANEOUS);
  office.set_ring_seconds(30);
  office.mutable_on_no_answer()->set_voicemail_box_id("vm_company");
  c.groups.push_back(office);

  v1::RingGroup emergency;
  emergency.set_id("emergency");
  emergency.set_name("Emergency");
  emergency.add_members()->set_on_call_rotation_id("oncall_techs");
  emergency.add_members()->set_user_id(u.robert);
  emergency.set_strategy(v1::SEQUENTIAL);
  emergency.set_ring_seconds(20);
  emergency.mutable_on_no_answer()->set_voicemail_box_id("vm_company");
  c.groups.push_back(emergency);

  v1::RingGroup techs;
  techs.set_id("all_techs");
  techs.set_name("All techs");
  for (const std::string* id : {&u.mike, &u.jake, &u.tyler}) techs.add_members()->set_user_id(*id);
  techs.set_strategy(v1::ROUND_ROBIN);
  techs.set_ring_seconds(20);
  techs.mutable_on_no_answer()->set_voicemail_box_id("vm_company");
  c.groups.push_back(techs);

  v1::Flow& f = c.main_flow;
  f.set_id("main_line");
  f.set_name("Main line +1 203 555 0100");
  f.set_schedule_id("office_hours");
  f.set_default_voicemail_box_id("vm_company");
  *f.mutable_operator_action() = Group("office");
  v1::MenuFlow* menus = f.mutable_menus();
  menus->set_business_hours_menu_id("main");
  menus->set_after_hours_menu_id("after_hours");
  v1::Menu* main = menus->add_menus();
  main->set_id("main");
  main->set_name("Main");
  main->mutable_greeting()->set_text(kDemoGreetingMain);
  Bind(main, "1", RingUser(u.sarah), "Scheduling");
  Bind(main, "2", RingUser(u.sarah), "Billing");
  v1::Action directory;
  directory.mutable_directory();
  Bind(main, "3", directory, "Directory");
  v1::Action info;
  info.mutable_play_info()->mutable_info()->set_text(
      "We are open Monday to Friday, 7 am to 5 pm, at 120 Chapel Street, New Haven.");
  Bind(main, "4", info, "Hours and location");
  v1::Action op;
  op.set_to_operator(true);
  Bind(main, "0", op, "Operator");
  *main->mutable_default_action() = op;

  v1::Menu* after = menus->add_menus();
  after->set_id("after_hours");
  after->set_name("After hours");
  after->mutable_greeting()->set_text(kDemoGreetingAfterHours);
  after->set_max_attempts(1);
  Bind(after, "1", Group("emergency"), "Emergency");
  *after->mutable_default_action() = Box("vm_company");
  return c;
}

}  // namespace switchboard::routing
