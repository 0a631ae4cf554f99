#include "services/routing/flow_validate.h"

#include <functional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/routing/flow_index.h"

namespace switchboard::routing {

std::string ValidationProblem::ToString() const { return absl::StrCat(path, ": ", message); }

namespace {

bool IsId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

class Validator {
 public:
  Validator(const v1::FlowBundle& bundle, const ValidationContext& context,
            std::vector<ValidationProblem>* problems)
      : bundle_(bundle), index_(bundle), context_(context), problems_(*problems) {}

  void Run() {
    const v1::Flow& flow = bundle_.flow();
    if (flow.id().empty()) {
      Add("id", "required");
    } else if (!IsId(flow.id())) {
      Add("id", "must be 1-64 characters of A-Z a-z 0-9 _ - .");
    }
    if (flow.company_id().empty()) Add("company_id", "required");
    if (!flow.schedule_id().empty() && !context_.schedule_ids.contains(flow.schedule_id())) {
      Add("schedule_id", absl::StrCat("unknown schedule ", flow.schedule_id()));
    }
    if (!flow.default_voicemail_box_id().empty()) {
      CheckBoxRef("default_voicemail_box_id", flow.default_voicemail_box_id());
    }
    if (flow.has_smart_routing()) {
      const v1::SmartRouting& smart = flow.smart_routing();
      CheckRingSeconds("smart_routing.ring_seconds", smart.ring_seconds());
      CheckFallback("smart_routing.on_no_answer", smart.on_no_answer());
    }
    if (flow.has_operator_action()) CheckOperator();
    switch (flow.kind_case()) {
      case v1::Flow::kMenus:
        CheckMenus();
        break;
      case v1::Flow::kDirectLine:
        CheckDirectLine();
        break;
      case v1::Flow::KIND_NOT_SET:
        Add("kind", "a flow needs menus or a direct_line");
        break;
    }
    CheckReferencedGroupsAndBoxes();
  }

 private:
  void Add(std::string path, std::string message) {
    problems_.push_back(ValidationProblem{std::move(path), std::move(message)});
  }

  // ---- Leaves ---------------------------------------------------------------------------------
  void CheckUser(const std::string& path, absl::string_view user_id) {
    if (user_id.empty()) {
      Add(path, "required");
    } else if (!context_.user_ids.contains(user_id)) {
      Add(path, absl::StrCat("unknown user ", user_id));
    }
  }
  void CheckGroupRef(const std::string& path, absl::string_view id) {
    if (id.empty()) {
      Add(path, "required");
    } else if (index_.FindGroup(id) == nullptr) {
      Add(path, absl::StrCat("unknown ring group ", id));
    } else {
      groups_used_.emplace(std::string(id), path);
    }
  }
  void CheckBoxRef(const std::string& path, absl::string_view id) {
    if (id.empty()) {
      Add(path, "required");
    } else if (index_.FindBox(id) == nullptr) {
      Add(path, absl::StrCat("unknown voicemail box ", id));
    } else {
      boxes_used_.emplace(std::string(id), path);
    }
  }
  void CheckRotation(const std::string& path, absl::string_view id) {
    if (id.empty()) {
      Add(path, "required");
    } else if (!context_.rotation_ids.contains(id)) {
      Add(path, absl::StrCat("unknown on-call rotation ", id));
    }
  }
  void CheckE164(const std::string& path, absl::string_view number) {
    if (!IsE164(number)) {
      Add(path, absl::StrCat("not an E.164 number: \"", number, "\" (want +<country><number>)"));
    }
  }
  void CheckRingSeconds(const std::string& path, int seconds) {
    if (seconds != 0 && (seconds < kMinRingSeconds || seconds > kMaxRingSeconds)) {
      Add(path, absl::StrCat(seconds, " out of range ", kMinRingSeconds, "-", kMaxRingSeconds));
    }
  }
  void CheckGreeting(const std::string& path, const v1::Greeting& g, bool required) {
    if (g.text().empty() && g.audio_id().empty()) {
      if (required) Add(path, "needs text or an audio_id");
      return;
    }
    if (g.text().size() > static_cast<size_t>(kMaxGreetingChars)) {
      Add(absl::StrCat(path, ".text"),
          absl::StrCat("longer than ", kMaxGreetingChars, " characters"));
    }
  }

  void CheckFallback(const std::string& path, const v1::Fallback& f) {
    switch (f.target_case()) {
      case v1::Fallback::kVoicemailBoxId:
        CheckBoxRef(absl::StrCat(path, ".voicemail_box_id"), f.voicemail_box_id());
        break;
      case v1::Fallback::kRingGroupId:
        CheckGroupRef(absl::StrCat(path, ".ring_group_id"), f.ring_group_id());
        break;
      case v1::Fallback::kUserId:
        CheckUser(absl::StrCat(path, ".user_id"), f.user_id());
        break;
      case v1::Fallback::kExternalNumber:
        CheckE164(absl::StrCat(path, ".external_number"), f.external_number());
        break;
      case v1::Fallback::kHangup:
      case v1::Fallback::TARGET_NOT_SET:
        break;
    }
  }

  // ---- Actions --------------------------------------------------------------------------------
  // `menu` is null outside menus (the operator action).
  void CheckAction(const std::string& path, const v1::Action& a, const v1::Menu* menu) {
    switch (a.kind_case()) {
      case v1::Action::kRingUser:
        CheckUser(absl::StrCat(path, ".ring_user.user_id"), a.ring_user().user_id());
        CheckRingSeconds(absl::StrCat(path, ".ring_user.ring_seconds"),
                         a.ring_user().ring_seconds());
        CheckFallback(absl::StrCat(path, ".ring_user.on_no_answer"), a.ring_user().on_no_answer());
        break;
      case v1::Action::kRingGroupId:
        CheckGroupRef(absl::StrCat(path, ".ring_group_id"), a.ring_group_id());
        break;
      case v1::Action::kSubmenuId:
        if (a.submenu_id().empty()) {
          Add(absl::StrCat(path, ".submenu_id"), "required");
        } else if (index_.FindMenu(a.submenu_id()) == nullptr) {
          Add(absl::StrCat(path, ".submenu_id"), absl::StrCat("unknown menu ", a.submenu_id()));
        }
        break;
      case v1::Action::kDirectory: {
        const v1::DirectoryLookup& d = a.directory();
        for (int i = 0; i < d.user_ids_size(); ++i) {
          CheckUser(absl::StrCat(path, ".directory.user_ids[", i, "]"), d.user_ids(i));
        }
        CheckRingSeconds(absl::StrCat(path, ".directory.ring_seconds"), d.ring_seconds());
        CheckAttempts(absl::StrCat(path, ".directory.max_attempts"), d.max_attempts());
        break;
      }
      case v1::Action::kPlayInfo:
        CheckGreeting(absl::StrCat(path, ".play_info.info"), a.play_info().info(), true);
        if (menu == nullptr) Add(absl::StrCat(path, ".play_info"), "only valid inside a menu");
        break;
      case v1::Action::kVoicemailBoxId:
        CheckBoxRef(absl::StrCat(path, ".voicemail_box_id"), a.voicemail_box_id());
        break;
      case v1::Action::kExternalNumber:
        CheckE164(absl::StrCat(path, ".external_number.e164"), a.external_number().e164());
        CheckRingSeconds(absl::StrCat(path, ".external_number.ring_seconds"),
                         a.external_number().ring_seconds());
        CheckFallback(absl::StrCat(path, ".external_number.on_no_answer"),
                      a.external_number().on_no_answer());
        break;
      case v1::Action::kToOperator:
        if (menu == nullptr) {
          Add(absl::StrCat(path, ".to_operator"), "the operator action cannot refer to itself");
        } else if (!bundle_.flow().has_operator_action()) {
          Add(absl::StrCat(path, ".to_operator"), "the flow has no operator_action");
        }
        break;
      case v1::Action::kRepeat:
        if (menu == nullptr) Add(absl::StrCat(path, ".repeat"), "only valid inside a menu");
        break;
      case v1::Action::kHangup:
        CheckGreeting(absl::StrCat(path, ".hangup.goodbye"), a.hangup().goodbye(), false);
        break;
      case v1::Action::kOnCall:
        CheckRotation(absl::StrCat(path, ".on_call.rotation_id"), a.on_call().rotation_id());
        CheckRingSeconds(absl::StrCat(path, ".on_call.ring_seconds"), a.on_call().ring_seconds());
        CheckFallback(absl::StrCat(path, ".on_call.on_no_answer"), a.on_call().on_no_answer());
        break;
      case v1::Action::KIND_NOT_SET:
        Add(path, "no action set");
        break;
    }
  }

  void CheckAttempts(const std::string& path, int attempts) {
    if (attempts != 0 && (attempts < 1 || attempts > kMaxAttempts)) {
      Add(path, absl::StrCat(attempts, " out of range 1-", kMaxAttempts));
    }
  }

  void CheckOperator() {
    const v1::Action& a = bundle_.flow().operator_action();
    switch (a.kind_case()) {
      case v1::Action::kRingUser:
      case v1::Action::kRingGroupId:
      case v1::Action::kExternalNumber:
      case v1::Action::kOnCall:
        CheckAction("operator_action", a, nullptr);
        break;
      default:
        Add("operator_action", "must ring a user, a ring group, an external number or on-call");
    }
  }

  // ---- Menus ----------------------------------------------------------------------------------
  static std::string MenuPath(const v1::Menu& m, int i) {
    return m.id().empty() ? absl::StrCat("menus[#", i, "]") : absl::StrCat("menus[", m.id(), "]");
  }

  void CheckMenus() {
    const v1::MenuFlow& menus = bundle_.flow().menus();
    if (menus.menus_size() == 0) Add("menus.menus", "at least one menu");
    absl::flat_hash_set<std::string> seen;
    for (int i = 0; i < menus.menus_size(); ++i) {
      const v1::Menu& m = menus.menus(i);
      const std::string path = MenuPath(m, i);
      if (m.id().empty()) {
        Add(absl::StrCat(path, ".id"), "required");
      } else if (!IsId(m.id())) {
        Add(absl::StrCat(path, ".id"), "must be 1-64 characters of A-Z a-z 0-9 _ - .");
      } else if (!seen.insert(m.id()).second) {
        Add(absl::StrCat(path, ".id"), "duplicate menu id");
      }
      CheckGreeting(absl::StrCat(path, ".greeting"), m.greeting(), true);
      CheckGreeting(absl::StrCat(path, ".invalid_prompt"), m.invalid_prompt(), false);
      CheckGreeting(absl::StrCat(path, ".timeout_prompt"), m.timeout_prompt(), false);
      if (m.timeout_s() != 0 && (m.timeout_s() < 1 || m.timeout_s() > 30)) {
        Add(absl::StrCat(path, ".timeout_s"), absl::StrCat(m.timeout_s(), " out of range 1-30"));
      }
      CheckAttempts(absl::StrCat(path, ".max_attempts"), m.max_attempts());
      absl::flat_hash_set<std::string> keys;
      for (int k = 0; k < m.keys_size(); ++k) {
        const v1::KeyBinding& b = m.keys(k);
        const std::string key_path = IsMenuKey(b.key())
                                         ? absl::StrCat(path, ".keys[", b.key(), "]")
                                         : absl::StrCat(path, ".keys[#", k, "]");
        if (!IsMenuKey(b.key())) {
          Add(absl::StrCat(key_path, ".key"),
              absl::StrCat("\"", b.key(), "\" is not one of 0-9 * #"));
        } else if (!keys.insert(b.key()).second) {
          Add(absl::StrCat(key_path, ".key"), "duplicate key");
        }
        CheckAction(absl::StrCat(key_path, ".action"), b.action(), &m);
      }
      if (!m.has_default_action()) {
        Add(absl::StrCat(path, ".default_action"), "required");
      } else {
        CheckAction(absl::StrCat(path, ".default_action"), m.default_action(), &m);
        if (m.default_action().has_play_info() || m.default_action().repeat()) {
          Add(absl::StrCat(path, ".default_action"),
              "returns to the same menu without caller input: a loop without a way out");
        }
      }
    }
    if (menus.business_hours_menu_id().empty()) {
      Add("menus.business_hours_menu_id", "required");
    } else if (index_.FindMenu(menus.business_hours_menu_id()) == nullptr) {
      Add("menus.business_hours_menu_id",
          absl::StrCat("unknown menu ", menus.business_hours_menu_id()));
    }
    if (!menus.after_hours_menu_id().empty()) {
      if (index_.FindMenu(menus.after_hours_menu_id()) == nullptr) {
        Add("menus.after_hours_menu_id",
            absl::StrCat("unknown menu ", menus.after_hours_menu_id()));
      }
    } else if (!bundle_.flow().schedule_id().empty()) {
      Add("menus.after_hours_menu_id", "required when the flow has a schedule_id");
    }
    CheckMenuEnds();
    CheckDefaultChains();
  }

  // An action "ends" when it leaves the menu system (rings, voicemail, directory, hang-up).
  static bool Ends(const v1::Action& a) {
    switch (a.kind_case()) {
      case v1::Action::kSubmenuId:
      case v1::Action::kPlayInfo:
      case v1::Action::kRepeat:
      case v1::Action::KIND_NOT_SET:
        return false;
      default:
        return true;
    }
  }

  // Fixed point: a menu reaches an end if one of its actions ends or leads to a menu that does.
  void CheckMenuEnds() {
    const v1::MenuFlow& menus = bundle_.flow().menus();
    absl::flat_hash_set<std::string> reaches;
    bool grew = true;
    while (grew) {
      grew = false;
      for (const v1::Menu& m : menus.menus()) {
        if (m.id().empty() || reaches.contains(m.id())) continue;
        auto leads_out = [&](const v1::Action& a) {
          return Ends(a) || (a.has_submenu_id() && reaches.contains(a.submenu_id()));
        };
        bool ok = m.has_default_action() && leads_out(m.default_action());
        for (const v1::KeyBinding& b : m.keys()) ok = ok || leads_out(b.action());
        if (ok) {
          reaches.insert(m.id());
          grew = true;
        }
      }
    }
    for (int i = 0; i < menus.menus_size(); ++i) {
      const v1::Menu& m = menus.menus(i);
      if (m.id().empty() || reaches.contains(m.id())) continue;
      Add(MenuPath(m, i),
          "cannot reach an end: every choice leads back to menus (a loop without a way out)");
    }
  }

  // A caller who presses nothing follows default actions; a cycle of them never ends.
  void CheckDefaultChains() {
    const v1::MenuFlow& menus = bundle_.flow().menus();
    for (int i = 0; i < menus.menus_size(); ++i) {
      const v1::Menu& start = menus.menus(i);
      if (start.id().empty()) continue;
      std::vector<std::string> chain = {start.id()};
      const v1::Menu* at = &start;
      while (at != nullptr && at->default_action().has_submenu_id()) {
        const std::string& next = at->default_action().submenu_id();
        chain.push_back(next);
        if (next == start.id()) {
          Add(absl::StrCat(MenuPath(start, i), ".default_action"),
              absl::StrCat("without caller input the call loops ", absl::StrJoin(chain, " -> ")));
          break;
        }
        if (chain.size() > static_cast<size_t>(menus.menus_size()) + 1) break;  // other cycle
        at = index_.FindMenu(next);
      }
    }
  }

  // ---- Direct line ----------------------------------------------------------------------------
  void CheckDirectLine() {
    const v1::DirectLine& line = bundle_.flow().direct_line();
    CheckUser("direct_line.user_id", line.user_id());
    CheckRingSeconds("direct_line.ring_seconds", line.ring_seconds());
    CheckGreeting("direct_line.after_hours_greeting", line.after_hours_greeting(), false);
    if (!line.voicemail_box_id().empty()) {
      CheckBoxRef("direct_line.voicemail_box_id", line.voicemail_box_id());
      return;
    }
    bool own_box = false;
    for (const v1::VoicemailBox& b : bundle_.voicemail_boxes()) {
      if (b.has_user_id() && b.user_id() == line.user_id() && !line.user_id().empty()) {
        own_box = true;
        boxes_used_.emplace(b.id(), "direct_line");
      }
    }
    if (!own_box && bundle_.flow().default_voicemail_box_id().empty()) {
      Add("direct_line.voicemail_box_id",
          "the user has no voicemail box and the flow no default_voicemail_box_id");
    }
  }

  // ---- Groups and boxes the flow reaches -------------------------------------------------------
  void CheckReferencedGroupsAndBoxes() {
    // Groups reached through fallbacks are added while iterating; iterate to a fixed point.
    absl::flat_hash_set<std::string> done;
    bool more = true;
    while (more) {
      more = false;
      std::vector<std::string> pending;
      for (const auto& [id, path] : groups_used_) {
        if (!done.contains(id)) pending.push_back(id);
      }
      std::sort(pending.begin(), pending.end());
      for (const std::string& id : pending) {
        done.insert(id);
        more = true;
        ValidateRingGroup(*index_.FindGroup(id), context_, absl::StrCat("ring_groups[", id, "]"),
                          &bundle_, &problems_);
        const v1::Fallback& f = index_.FindGroup(id)->on_no_answer();
        if (f.has_ring_group_id() && index_.FindGroup(f.ring_group_id()) != nullptr) {
          groups_used_.emplace(f.ring_group_id(), id);
        }
        if (f.has_voicemail_box_id() && index_.FindBox(f.voicemail_box_id()) != nullptr) {
          boxes_used_.emplace(f.voicemail_box_id(), id);
        }
      }
    }
    std::vector<std::string> group_ids(done.begin(), done.end());
    std::sort(group_ids.begin(), group_ids.end());
    for (const std::string& id : group_ids) {
      // Fallback cycle: A -> B -> ... -> A through no-answer ring groups rings forever.
      std::vector<std::string> chain = {id};
      const v1::RingGroup* g = index_.FindGroup(id);
      while (g != nullptr && g->on_no_answer().has_ring_group_id()) {
        const std::string& next = g->on_no_answer().ring_group_id();
        chain.push_back(next);
        if (next == id) {
          Add(absl::StrCat("ring_groups[", id, "].on_no_answer"),
              absl::StrCat("no-answer fallbacks loop ", absl::StrJoin(chain, " -> "),
                           " (a loop without a way out)"));
          break;
        }
        if (chain.size() > static_cast<size_t>(bundle_.ring_groups_size()) + 1) break;
        g = index_.FindGroup(next);
      }
    }
    std::vector<std::string> box_ids;
    for (const auto& [id, path] : boxes_used_) box_ids.push_back(id);
    std::sort(box_ids.begin(), box_ids.end());
    for (const std::string& id : box_ids) {
      ValidateVoicemailBox(*index_.FindBox(id), context_, absl::StrCat("voicemail_boxes[", id, "]"),
                           &problems_);
    }
  }

  const v1::FlowBundle& bundle_;
  FlowIndex index_;
  const ValidationContext& context_;
  std::vector<ValidationProblem>& problems_;
  absl::flat_hash_map<std::string, std::string> groups_used_;  // id -> first path using it
  absl::flat_hash_map<std::string, std::string> boxes_used_;
};

}  // namespace

void ValidateRingGroup(const v1::RingGroup& group, const ValidationContext& context,
                       const std::string& prefix, const v1::FlowBundle* bundle,
                       std::vector<ValidationProblem>* problems) {
  auto add = [&](absl::string_view field, std::string message) {
    problems->push_back(ValidationProblem{absl::StrCat(prefix, ".", field), std::move(message)});
  };
  if (group.id().empty()) add("id", "required");
  if (group.members_size() == 0) add("members", "a ring group needs at least one member");
  if (group.strategy() == v1::RING_STRATEGY_UNSPECIFIED) {
    add("strategy", "required (simultaneous, sequential or round_robin)");
  }
  if (group.ring_seconds() != 0 &&
      (group.ring_seconds() < kMinRingSeconds || group.ring_seconds() > kMaxRingSeconds)) {
    add("ring_seconds", absl::StrCat(group.ring_seconds(), " out of range ", kMinRingSeconds, "-",
                                     kMaxRingSeconds));
  }
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < group.members_size(); ++i) {
    const v1::GroupMember& m = group.members(i);
    const std::string field = absl::StrCat("members[", i, "]");
    if (m.has_user_id()) {
      if (!context.user_ids.contains(m.user_id())) {
        add(field, absl::StrCat("unknown user ", m.user_id()));
      } else if (!seen.insert(m.user_id()).second) {
        add(field, absl::StrCat("duplicate member ", m.user_id()));
      }
    } else if (m.has_on_call_rotation_id()) {
      if (!context.rotation_ids.contains(m.on_call_rotation_id())) {
        add(field, absl::StrCat("unknown on-call rotation ", m.on_call_rotation_id()));
      }
    } else {
      add(field, "needs a user_id or an on_call_rotation_id");
    }
  }
  const v1::Fallback& f = group.on_no_answer();
  if (f.has_ring_group_id()) {
    if (bundle != nullptr && FlowIndex(*bundle).FindGroup(f.ring_group_id()) == nullptr) {
      add("on_no_answer.ring_group_id", absl::StrCat("unknown ring group ", f.ring_group_id()));
    } else if (f.ring_group_id() == group.id()) {
      add("on_no_answer.ring_group_id", "falls back to itself (a loop without a way out)");
    }
  } else if (f.has_voicemail_box_id()) {
    if (bundle != nullptr && FlowIndex(*bundle).FindBox(f.voicemail_box_id()) == nullptr) {
      add("on_no_answer.voicemail_box_id",
          absl::StrCat("unknown voicemail box ", f.voicemail_box_id()));
    }
  } else if (f.has_user_id()) {
    if (!context.user_ids.contains(f.user_id())) {
      add("on_no_answer.user_id", absl::StrCat("unknown user ", f.user_id()));
    }
  } else if (f.has_external_number()) {
    if (!IsE164(f.external_number())) {
      add("on_no_answer.external_number",
          absl::StrCat("not an E.164 number: \"", f.external_number(), "\""));
    }
  }
}

void ValidateVoicemailBox(const v1::VoicemailBox& box, const ValidationContext& context,
                          const std::string& prefix, std::vector<ValidationProblem>* problems) {
  auto add = [&](absl::string_view field, std::string message) {
    problems->push_back(ValidationProblem{absl::StrCat(prefix, ".", field), std::move(message)});
  };
  if (box.id().empty()) add("id", "required");
  if (box.has_user_id() && !context.user_ids.contains(box.user_id())) {
    add("user_id", absl::StrCat("unknown user ", box.user_id()));
  }
  if (box.max_length_s() != 0 &&
      (box.max_length_s() < kMinVoicemailS || box.max_length_s() > kMaxVoicemailS)) {
    add("max_length_s", absl::StrCat(box.max_length_s(), " out of range ", kMinVoicemailS, "-",
                                     kMaxVoicemailS));
  }
  if (box.greeting().text().size() > static_cast<size_t>(kMaxGreetingChars)) {
    add("greeting.text", absl::StrCat("longer than ", kMaxGreetingChars, " characters"));
  }
  for (int i = 0; i < box.notify_user_ids_size(); ++i) {
    if (!context.user_ids.contains(box.notify_user_ids(i))) {
      add(absl::StrCat("notify_user_ids[", i, "]"),
          absl::StrCat("unknown user ", box.notify_user_ids(i)));
    }
  }
  for (int i = 0; i < box.notify_emails_size(); ++i) {
    const std::string& email = box.notify_emails(i);
    size_t at = email.find('@');
    if (at == std::string::npos || at == 0 || at + 1 >= email.size()) {
      add(absl::StrCat("notify_emails[", i, "]"), absl::StrCat("not an email address: ", email));
    }
  }
}

std::vector<ValidationProblem> ValidateFlow(const v1::FlowBundle& bundle,
                                            const ValidationContext& context) {
  std::vector<ValidationProblem> problems;
  Validator(bundle, context, &problems).Run();
  return problems;
}

}  // namespace switchboard::routing
