#include "services/routing/flow_validate.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/str_join.h"
#include "services/routing/tests/fakes.h"

namespace switchboard::routing {
namespace {

using testing::PowersElectric;

std::vector<std::string> Problems(const v1::FlowBundle& bundle, const ValidationContext& context) {
  std::vector<std::string> out;
  for (const ValidationProblem& p : ValidateFlow(bundle, context)) out.push_back(p.ToString());
  return out;
}

v1::Menu* MenuAt(v1::FlowBundle& b, int i) {
  return b.mutable_flow()->mutable_menus()->mutable_menus(i);
}

TEST_CASE("the Powers Electric flow and its direct lines are valid") {
  PowersElectric pe;
  CHECK(Problems(pe.bundle, pe.context()).empty());
  for (const char* user : {"robert", "sarah", "mike", "jake", "tyler"}) {
    CHECK(Problems(pe.DirectLine(user), pe.context()).empty());
  }
}

TEST_CASE("dangling references are reported with their path") {
  PowersElectric pe;
  testing::Bind(MenuAt(pe.bundle, 0), "5", testing::RingUserAction("u_42"));
  testing::Bind(MenuAt(pe.bundle, 0), "6", testing::GroupAction("nope"));
  testing::Bind(MenuAt(pe.bundle, 0), "7", testing::BoxAction("vm_nope"));
  v1::Action sub;
  sub.set_submenu_id("missing");
  testing::Bind(MenuAt(pe.bundle, 0), "8", sub);
  v1::Action on_call;
  on_call.mutable_on_call()->set_rotation_id("rot_x");
  testing::Bind(MenuAt(pe.bundle, 0), "9", on_call);
  pe.bundle.mutable_flow()->set_schedule_id("sched_x");
  CHECK(Problems(pe.bundle, pe.context()) ==
        std::vector<std::string>{
            "schedule_id: unknown schedule sched_x",
            "menus[main].keys[5].action.ring_user.user_id: unknown user u_42",
            "menus[main].keys[6].action.ring_group_id: unknown ring group nope",
            "menus[main].keys[7].action.voicemail_box_id: unknown voicemail box vm_nope",
            "menus[main].keys[8].action.submenu_id: unknown menu missing",
            "menus[main].keys[9].action.on_call.rotation_id: unknown on-call rotation rot_x",
        });
}

TEST_CASE("every problem is returned at once") {
  PowersElectric pe;
  v1::Flow* flow = pe.bundle.mutable_flow();
  flow->set_id("bad id!");
  flow->clear_company_id();
  v1::Menu* main = MenuAt(pe.bundle, 0);
  main->mutable_greeting()->clear_text();
  main->set_timeout_s(90);
  main->set_max_attempts(9);
  main->clear_default_action();
  testing::Bind(main, "x", testing::RingUserAction("sarah"));
  testing::Bind(main, "1", testing::RingUserAction("sarah"));  // duplicate key
  v1::Action ext;
  ext.mutable_external_number()->set_e164("203-555-0100");
  ext.mutable_external_number()->set_ring_seconds(500);
  testing::Bind(main, "#", ext);
  main->add_keys()->set_key("*");  // no action
  v1::RingGroup* office = pe.bundle.mutable_ring_groups(0);
  office->clear_members();
  office->set_ring_seconds(2);
  v1::VoicemailBox* company = pe.bundle.mutable_voicemail_boxes(0);
  company->set_max_length_s(5000);
  company->add_notify_emails("not-an-email");
  company->add_notify_user_ids("ghost");
  flow->mutable_menus()->set_after_hours_menu_id("");
  std::vector<std::string> problems = Problems(pe.bundle, pe.context());
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems == std::vector<std::string>{
                        "id: must be 1-64 characters of A-Z a-z 0-9 _ - .",
                        "company_id: required",
                        "menus[main].greeting: needs text or an audio_id",
                        "menus[main].timeout_s: 90 out of range 1-30",
                        "menus[main].max_attempts: 9 out of range 1-5",
                        "menus[main].keys[#5].key: \"x\" is not one of 0-9 * #",
                        "menus[main].keys[1].key: duplicate key",
                        "menus[main].keys[#].action.external_number.e164: not an E.164 number: "
                        "\"203-555-0100\" (want +<country><number>)",
                        "menus[main].keys[#].action.external_number.ring_seconds: 500 out of "
                        "range 5-120",
                        "menus[main].keys[*].action: no action set",
                        "menus[main].default_action: required",
                        "menus.after_hours_menu_id: required when the flow has a schedule_id",
                        "ring_groups[office].members: a ring group needs at least one member",
                        "ring_groups[office].ring_seconds: 2 out of range 5-120",
                        "voicemail_boxes[vm_company].max_length_s: 5000 out of range 10-600",
                        "voicemail_boxes[vm_company].notify_user_ids[2]: unknown user ghost",
                        "voicemail_boxes[vm_company].notify_emails[0]: not an email address: "
                        "not-an-email",
                    });
}

TEST_CASE("a cycle of submenus with no way out is reported for each menu in it") {
  PowersElectric pe;
  v1::MenuFlow* menus = pe.bundle.mutable_flow()->mutable_menus();
  for (const char* id : {"a", "b"}) {
    v1::Menu* m = menus->add_menus();
    m->set_id(id);
    m->mutable_greeting()->set_text(id);
    v1::Action next;
    next.set_submenu_id(std::string(id) == "a" ? "b" : "a");
    testing::Bind(m, "1", next);
    v1::Action repeat;
    repeat.set_repeat(true);
    testing::Bind(m, "2", repeat);
    *m->mutable_default_action() = next;
  }
  v1::Action to_a;
  to_a.set_submenu_id("a");
  testing::Bind(MenuAt(pe.bundle, 0), "5", to_a);
  std::vector<std::string> problems = Problems(pe.bundle, pe.context());
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems ==
        std::vector<std::string>{
            "menus[a]: cannot reach an end: every choice leads back to menus (a loop without a "
            "way out)",
            "menus[b]: cannot reach an end: every choice leads back to menus (a loop without a "
            "way out)",
            "menus[a].default_action: without caller input the call loops a -> b -> a",
            "menus[b].default_action: without caller input the call loops b -> a -> b",
        });
}

TEST_CASE("a submenu that loops back is fine when another choice ends") {
  PowersElectric pe;
  v1::Menu* sub = pe.bundle.mutable_flow()->mutable_menus()->add_menus();
  sub->set_id("billing");
  sub->mutable_greeting()->set_text("Billing. Press 9 to go back.");
  v1::Action back;
  back.set_submenu_id("main");
  testing::Bind(sub, "9", back);
  testing::Bind(sub, "1", testing::RingUserAction("sarah"));
  *sub->mutable_default_action() = back;
  v1::Action to_sub;
  to_sub.set_submenu_id("billing");
  *MenuAt(pe.bundle, 0)->mutable_keys(1)->mutable_action() = to_sub;
  CHECK(Problems(pe.bundle, pe.context()).empty());
}

TEST_CASE("a default action that repeats or replays information loops without input") {
  PowersElectric pe;
  v1::Action repeat;
  repeat.set_repeat(true);
  *MenuAt(pe.bundle, 0)->mutable_default_action() = repeat;
  CHECK(Problems(pe.bundle, pe.context()) ==
        std::vector<std::string>{"menus[main].default_action: returns to the same menu without "
                                 "caller input: a loop without a way out"});
}

TEST_CASE("ring group fallback cycles, unknown members and a missing strategy") {
  PowersElectric pe;
  pe.bundle.mutable_ring_groups(0)->mutable_on_no_answer()->set_ring_group_id("emergency");
  pe.bundle.mutable_ring_groups(1)->mutable_on_no_answer()->set_ring_group_id("office");
  pe.bundle.mutable_ring_groups(1)->add_members()->set_user_id("u_42");
  pe.bundle.mutable_ring_groups(1)->add_members()->set_user_id("robert");
  pe.bundle.mutable_ring_groups(1)->set_strategy(v1::RING_STRATEGY_UNSPECIFIED);
  std::vector<std::string> problems = Problems(pe.bundle, pe.context());
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems == std::vector<std::string>{
                        "ring_groups[emergency].strategy: required (simultaneous, sequential or "
                        "round_robin)",
                        "ring_groups[emergency].members[2]: unknown user u_42",
                        "ring_groups[emergency].members[3]: duplicate member robert",
                        "ring_groups[emergency].on_no_answer: no-answer fallbacks loop emergency "
                        "-> office -> emergency (a loop without a way out)",
                        "ring_groups[office].on_no_answer: no-answer fallbacks loop office -> "
                        "emergency -> office (a loop without a way out)",
                    });
}

TEST_CASE("operator, direct line and smart routing problems") {
  PowersElectric pe;
  pe.bundle.mutable_flow()->clear_operator_action();
  pe.bundle.mutable_flow()->mutable_smart_routing()->set_ring_seconds(1);
  std::vector<std::string> problems = Problems(pe.bundle, pe.context());
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems == std::vector<std::string>{
                        "smart_routing.ring_seconds: 1 out of range 5-120",
                        "menus[main].keys[0].action.to_operator: the flow has no operator_action",
                        "menus[main].default_action.to_operator: the flow has no operator_action",
                    });

  v1::FlowBundle line = pe.DirectLine("ghost");
  line.mutable_flow()->clear_default_voicemail_box_id();
  line.mutable_flow()->clear_smart_routing();
  CHECK(Problems(line, pe.context()) ==
        std::vector<std::string>{
            "direct_line.user_id: unknown user ghost",
            "direct_line.voicemail_box_id: the user has no voicemail box and the flow no "
            "default_voicemail_box_id",
        });

  v1::FlowBundle op = pe.bundle;
  op.mutable_flow()->clear_smart_routing();
  op.mutable_flow()->mutable_operator_action()->set_voicemail_box_id("vm_company");
  CHECK(Problems(op, pe.context()) ==
        std::vector<std::string>{
            "operator_action: must ring a user, a ring group, an external number or on-call"});

  v1::FlowBundle none;
  none.mutable_flow()->set_id("f");
  none.mutable_flow()->set_company_id("c");
  CHECK(Problems(none, pe.context()) ==
        std::vector<std::string>{"kind: a flow needs menus or a direct_line"});
}

TEST_CASE("menu entry, greeting length, default box, box owner and group fallback problems") {
  PowersElectric pe;
  v1::Flow* flow = pe.bundle.mutable_flow();
  flow->set_default_voicemail_box_id("vm_gone");
  flow->mutable_menus()->set_business_hours_menu_id("lobby");
  v1::Menu* after = MenuAt(pe.bundle, 1);
  after->mutable_greeting()->set_text(std::string(1001, 'a'));
  after->set_id("main");  // duplicate of the first menu's id
  pe.bundle.mutable_voicemail_boxes(1)->set_user_id("ghost");  // vm_robert
  pe.bundle.mutable_ring_groups(0)->mutable_on_no_answer()->set_voicemail_box_id("vm_robert");
  testing::Bind(MenuAt(pe.bundle, 0), "5", testing::BoxAction("vm_robert"));
  std::vector<std::string> problems = Problems(pe.bundle, pe.context());
  INFO(absl::StrJoin(problems, "\n"));
  CHECK(problems == std::vector<std::string>{
                        "default_voicemail_box_id: unknown voicemail box vm_gone",
                        "menus[main].id: duplicate menu id",
                        "menus[main].greeting.text: longer than 1000 characters",
                        "menus.business_hours_menu_id: unknown menu lobby",
                        "menus.after_hours_menu_id: unknown menu after_hours",
                        "voicemail_boxes[vm_robert].user_id: unknown user ghost",
                    });
}

}  // namespace
}  // namespace switchboard::routing
