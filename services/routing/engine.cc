#include "services/routing/engine.h"

#include <algorithm>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "libs/common/status_macros.h"

namespace switchboard::routing {
namespace {

namespace cv1 = ::switchboard::carrier::v1;

constexpr absl::string_view kInvalidText = "Sorry, that is not a valid choice.";
constexpr absl::string_view kTimeoutText = "Sorry, I did not get a response.";
constexpr absl::string_view kVoicemailText = "Please leave a message after the tone.";
constexpr absl::string_view kThanksText = "Thank you for your message. Goodbye.";
constexpr absl::string_view kGoodbyeText = "Sorry, nobody is available to take your call. Goodbye.";
constexpr absl::string_view kDirectoryText =
    "Please enter the first three letters of the person's last name.";
constexpr absl::string_view kNoMatchText = "Sorry, no name matches those letters.";
constexpr absl::string_view kConnectingText = "Connecting your call.";
constexpr absl::string_view kTransferText = "Please hold while I transfer your call.";
constexpr int kMaxTransferRingSeconds = 120;
// Transfer and conference act on the caller's leg, which on a click-to-call is the user's own.
constexpr absl::string_view kNotOnClickToCall =
    "call_id: transfer, hold and conference are not available on click-to-calls";
constexpr int kOutboundRingSeconds = 30;

std::string StatusName(v1::CallStatus status) {
  switch (status) {
    case v1::COMPLETED: return "completed";
    case v1::MISSED: return "missed";
    case v1::VOICEMAIL: return "voicemail";
    case v1::FAILED: return "failed";
    case v1::BUSY: return "busy";
    default: return "unspecified";
  }
}

// Instruction-set ids are [A-Za-z0-9_-].
std::string SafeId(absl::string_view s) {
  std::string out;
  for (char c : s) {
    out.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ? c
                                                                                             : '_');
  }
  return out;
}

v1::PathEntry Entry(v1::PathKind kind, std::string text) {
  v1::PathEntry e;
  e.set_kind(kind);
  e.set_text(std::move(text));
  return e;
}

// One transition: starts from a copy of the state and accumulates instructions, path and events.
class Transition {
 public:
  Transition(const FlowIndex& index, const EngineDeps& deps, v1::CallState state, absl::Time now)
      : index_(index), deps_(deps), state_(std::move(state)), now_(now) {}

  v1::CallState& state() { return state_; }

  // ---- Flow entry -----------------------------------------------------------------------------
  void StartCall() {
    const v1::Flow& flow = index_.flow();
    bool open = true;
    if (!flow.schedule_id().empty()) {
      absl::StatusOr<ScheduleAnswer> answer = deps_.schedule.At(flow.schedule_id(), now_);
      if (!answer.ok()) {
        Note(absl::StrCat("schedule ", flow.schedule_id(), " unavailable (",
                          answer.status().message(), "): treated as open"));
      } else {
        open = answer->open;
        std::string why = answer->reason;
        if (!answer->detail.empty()) absl::StrAppend(&why, ": ", answer->detail);
        Note(absl::StrCat(open ? "business hours" : "after hours", why.empty() ? "" : " (", why,
                          why.empty() ? "" : ")"));
      }
    }
    state_.set_after_hours(!open);
    LifecycleEvent routed{LifecycleKind::kRouted};
    routed.detail = absl::StrCat("flow ", flow.id(), " v", flow.version(),
                                 open ? "" : " (after hours)");
    step_.events.push_back(std::move(routed));

    if (flow.smart_routing().known_caller_to_assigned_user() &&
        (open || flow.smart_routing().after_hours_too()) && TrySmartRouting()) {
      return;
    }
    if (flow.has_direct_line()) {
      StartDirectLine(open);
      return;
    }
    const v1::MenuFlow& menus = flow.menus();
    std::string menu_id = menus.business_hours_menu_id();
    if (!open && !menus.after_hours_menu_id().empty()) menu_id = menus.after_hours_menu_id();
    EnterMenu(menu_id);
  }

  bool TrySmartRouting() {
    absl::StatusOr<std::optional<std::string>> user = deps_.callers.AssignedUser(state_.from());
    if (!user.ok()) {
      Note(absl::StrCat("caller match unavailable: ", user.status().message()));
      return false;
    }
    if (!user->has_value() || (*user)->empty()) return false;
    Note(absl::StrCat("known caller ", state_.from(), " -> assigned user ", **user));
    const v1::SmartRouting& smart = index_.flow().smart_routing();
    RingUser(**user, smart.ring_seconds(), smart.on_no_answer(), "");
    return true;
  }

  void StartDirectLine(bool open) {
    const v1::DirectLine& line = index_.flow().direct_line();
    if (open) {
      v1::Fallback fallback;
      if (!line.voicemail_box_id().empty()) fallback.set_voicemail_box_id(line.voicemail_box_id());
      RingUser(line.user_id(), line.ring_seconds(), fallback, "");
      return;
    }
    std::string box = line.voicemail_box_id();
    if (box.empty()) {
      std::optional<DirectoryUser> user = LookUp(line.user_id());
      if (user.has_value()) box = user->voicemail_box_id;
    }
    if (box.empty()) box = index_.flow().default_voicemail_box_id();
    const v1::Greeting* greeting =
        line.has_after_hours_greeting() ? &line.after_hours_greeting() : nullptr;
    Voicemail(box, greeting);
  }

  // ---- Click-to-call --------------------------------------------------------------------------
  void StartOutbound() {
    const std::string name = NameOf(state_.agent_user_id());
    v1::PathEntry entry = Entry(v1::PATH_RING,
                                absl::StrCat("click-to-call by ", name, ": ring ", name, " (",
                                             state_.agent_device(), ") first, then ",
                                             state_.to(), " from ", state_.from()));
    entry.add_user_ids(state_.agent_user_id());
    entry.add_numbers(state_.agent_device());
    step_.path.push_back(std::move(entry));
    LifecycleEvent ringing{LifecycleKind::kRinging, step_.path.back().text()};
    ringing.user_ids.push_back(state_.agent_user_id());
    step_.events.push_back(std::move(ringing));
    state_.set_phase(v1::PHASE_AGENT_RINGING);
  }

  void OnAgentAnswered() {
    Info(absl::StrCat(NameOf(state_.agent_user_id()), " answered; dialling ", state_.to()));
    SetSay(kConnectingText, nullptr, out_.add_instructions()->mutable_say());
    v1::Dialing dialing;
    dialing.set_strategy(v1::SIMULTANEOUS);
    dialing.set_ring_seconds(kOutboundRingSeconds);
    dialing.mutable_on_no_answer()->set_hangup(true);
    dialing.set_announce(state_.to());
    dialing.add_legs()->set_number(state_.to());
    Dial(std::move(dialing));
  }

  // ---- Live call control ---------------------------------------------------------------------
  // Blind transfer of a connected call: the connected party drops off (the carrier replaces the
  // call's instructions) and the caller is told, then rung through to the target.
  void TransferTo(const TransferTarget& target) {
    std::string what;
    if (!target.user_id.empty()) {
      what = NameOf(target.user_id);
    } else if (!target.ring_group_id.empty()) {
      const v1::RingGroup* group = index_.FindGroup(target.ring_group_id);
      what = absl::StrCat("group ", group != nullptr && !group->name().empty() ? group->name()
                                                                               : target.ring_group_id);
    } else if (!target.external_number.empty()) {
      what = target.external_number;
    } else {
      const v1::VoicemailBox* box = index_.FindBox(target.voicemail_box_id);
      what = absl::StrCat("voicemail box ", box != nullptr && !box->name().empty()
                                                ? box->name()
                                                : target.voicemail_box_id);
    }
    v1::PathEntry entry = Entry(
        v1::PATH_TRANSFER,
        absl::StrCat("transferred by ", NameOf(target.by_user_id), " to ", what));
    if (!target.by_user_id.empty()) entry.add_user_ids(target.by_user_id);
    if (!target.user_id.empty()) entry.add_user_ids(target.user_id);
    if (!target.external_number.empty()) entry.add_numbers(target.external_number);
    entry.set_ring_group_id(target.ring_group_id);
    entry.set_voicemail_box_id(target.voicemail_box_id);
    step_.events.push_back(LifecycleEvent{LifecycleKind::kRouted, entry.text()});
    step_.path.push_back(std::move(entry));
    state_.set_hops(0);
    state_.set_attempts(0);
    state_.clear_dialing();
    state_.clear_candidates();
    state_.clear_bridged_leg();
    SetSay(kTransferText, nullptr, out_.add_instructions()->mutable_say());
    if (!target.user_id.empty()) {
      RingUser(target.user_id, target.ring_seconds, v1::Fallback(), "");
    } else if (!target.ring_group_id.empty()) {
      RingGroup(target.ring_group_id);
    } else if (!target.external_number.empty()) {
      RingExternal(target.external_number, target.ring_seconds, v1::Fallback());
    } else {
      Voicemail(target.voicemail_box_id, nullptr);
    }
  }

  // ---- Conference (hold, participants, warm transfer) -------------------------------------------
  // The connected call moves into its conference: the caller's set becomes a Dial of it (the
  // caller leaving ends it); caller and the connected party are its first participants.
  void EnterConference() {
    const std::string name = absl::StrCat("sb-", SafeId(state_.call_id()));
    state_.set_phase(v1::PHASE_CONFERENCE);
    state_.set_conference(name);
    v1::Participant* caller = state_.add_participants();
    caller->set_leg(state_.carrier_call_id());
    caller->set_number(state_.outbound() ? state_.agent_device() : state_.from());
    if (state_.outbound()) caller->set_user_id(state_.agent_user_id());
    caller->set_role(v1::Participant::CALLER);
    caller->set_status(v1::Participant::JOINED);
    v1::Participant* agent = state_.add_participants();
    agent->set_leg(state_.bridged_leg());
    if (IsE164(state_.answered_by())) {
      agent->set_number(state_.answered_by());
    } else {
      agent->set_user_id(state_.answered_by());
    }
    agent->set_role(v1::Participant::AGENT);
    agent->set_status(v1::Participant::JOINED);
    cv1::DialTarget* target = out_.add_instructions()->mutable_dial()->add_targets();
    target->mutable_conference()->set_name(name);
    target->mutable_conference()->set_end_on_exit(true);
    ConferenceEntry(absl::StrCat("conference ", name, " with ", NameOf(state_.answered_by())), {});
  }

  void SetCallerHold(bool on_hold, absl::string_view by) {
    for (v1::Participant& p : *state_.mutable_participants()) {
      if (p.role() == v1::Participant::CALLER) p.set_on_hold(on_hold);
    }
    ConferenceEntry(absl::StrCat(on_hold ? "caller on hold" : "caller resumed", " by ", NameOf(by)),
                    {std::string(by)});
    KeepInstructions();
  }

  void AddParty(const v1::Participant& party, absl::string_view by, bool consult) {
    *state_.add_participants() = party;
    const std::string who = PartyName(party);
    if (consult) {
      for (v1::Participant& p : *state_.mutable_participants()) {
        if (p.role() == v1::Participant::CALLER) p.set_on_hold(true);
      }
      state_.set_consult_by(std::string(by));
    }
    v1::PathEntry entry = Entry(
        v1::PATH_CONFERENCE,
        absl::StrCat(consult ? "warm transfer by " : "participant added by ", NameOf(by), ": ring ",
                     who, " (", party.number(), ")", consult ? ", caller on hold" : ""));
    if (!by.empty()) entry.add_user_ids(std::string(by));
    if (!party.user_id().empty()) entry.add_user_ids(party.user_id());
    entry.add_numbers(party.number());
    LifecycleEvent ringing{LifecycleKind::kRinging, entry.text()};
    if (!party.user_id().empty()) ringing.user_ids.push_back(party.user_id());
    step_.path.push_back(std::move(entry));
    step_.events.push_back(std::move(ringing));
    KeepInstructions();
  }

  // The carrier named the leg of the participant added last (`number`, no leg yet).
  void NameLeg(absl::string_view number, absl::string_view leg) {
    for (v1::Participant& p : *state_.mutable_participants()) {
      if (p.leg().empty() && p.number() == number && p.status() != v1::Participant::LEFT) {
        p.set_leg(std::string(leg));
        if (state_.consult_by().size() > 0 && state_.consult_leg().empty() &&
            p.role() == v1::Participant::ADDED) {
          state_.set_consult_leg(std::string(leg));
        }
        break;
      }
    }
    KeepInstructions();
  }

  // A party left (hung up, removed, did not answer). The warm-transfer target leaving ends the
  // transfer and brings the caller back; nobody left but the caller ends the call.
  void PartyLeft(v1::Participant* p, std::string why) {
    p->set_status(v1::Participant::LEFT);
    p->set_on_hold(false);
    std::vector<std::string> users;
    if (!p->user_id().empty()) users.push_back(p->user_id());
    ConferenceEntry(std::move(why), users);
    if (!state_.consult_leg().empty() && p->leg() == state_.consult_leg()) {
      state_.clear_consult_leg();
      state_.clear_consult_by();
      for (v1::Participant& q : *state_.mutable_participants()) {
        if (q.role() == v1::Participant::CALLER && q.on_hold()) {
          q.set_on_hold(false);
          step_.resume_caller = true;
          ConferenceEntry("warm transfer ended: caller resumed", {});
        }
      }
    }
    EndIfCallerAlone();
  }

  void EndIfCallerAlone() {
    if (!CallerAlone()) return;
    // Nobody is left to talk to: end the call rather than leave the caller with music.
    ConferenceEntry("everyone else left: the call ends", {});
    step_.hang_up_caller = true;
  }

  void RemoveParty(v1::Participant* p, absl::string_view by) {
    PartyLeft(p, absl::StrCat(PartyName(*p), " removed by ", NameOf(by)));
    KeepInstructions();
  }

  // Warm transfer completed: the transferring user leaves, the caller talks to the target.
  void CompleteConsult(absl::string_view by) {
    const std::string consult = state_.consult_leg();
    const std::string transferring = state_.consult_by();
    v1::Participant* target = nullptr;
    for (v1::Participant& p : *state_.mutable_participants()) {
      if (p.leg() == consult) target = &p;
    }
    for (v1::Participant& p : *state_.mutable_participants()) {
      if (p.role() == v1::Participant::CALLER) p.set_on_hold(false);
      if (p.status() != v1::Participant::LEFT && p.role() != v1::Participant::CALLER &&
          &p != target && (p.user_id() == transferring || p.role() == v1::Participant::AGENT)) {
        p.set_status(v1::Participant::LEFT);
        step_.removed_legs.push_back(p.leg());
      }
    }
    const std::string who = target->user_id().empty() ? target->number() : target->user_id();
    state_.set_answered_by(who);
    target->set_role(v1::Participant::AGENT);
    state_.clear_consult_leg();
    state_.clear_consult_by();
    v1::PathEntry entry = Entry(v1::PATH_TRANSFER,
                                absl::StrCat("warm transfer by ", NameOf(transferring),
                                             " completed: ", NameOf(who), " takes the call"));
    if (!by.empty()) entry.add_user_ids(std::string(by));
    if (!transferring.empty()) entry.add_user_ids(transferring);
    if (!target->user_id().empty()) entry.add_user_ids(target->user_id());
    step_.path.push_back(std::move(entry));
    LifecycleEvent answered{LifecycleKind::kAnswered, absl::StrCat("answered by ", NameOf(who))};
    answered.user_ids.push_back(who);
    step_.events.push_back(std::move(answered));
    KeepInstructions();
  }

  void CancelConsult(absl::string_view by) {
    const std::string consult = state_.consult_leg();
    for (v1::Participant& p : *state_.mutable_participants()) {
      if (p.role() == v1::Participant::CALLER) p.set_on_hold(false);
      if (p.leg() == consult && p.status() != v1::Participant::LEFT) {
        p.set_status(v1::Participant::LEFT);
        step_.removed_legs.push_back(p.leg());
      }
    }
    state_.clear_consult_leg();
    state_.clear_consult_by();
    ConferenceEntry(absl::StrCat("warm transfer cancelled by ", NameOf(by), ", caller resumed"),
                    {std::string(by)});
    EndIfCallerAlone();
    KeepInstructions();
  }

  // False when the update changes nothing (a duplicate report, an unknown leg, the end).
  bool OnConferenceUpdate(const cv1::ConferenceUpdate& update) {
    v1::Participant* party = nullptr;
    for (v1::Participant& p : *state_.mutable_participants()) {
      if (!update.leg().empty() && p.leg() == update.leg()) party = &p;
    }
    if (party == nullptr && update.kind() != cv1::ConferenceUpdate::ENDED) {
      // An added participant the carrier reports before its leg was stored: the one ringing.
      for (v1::Participant& p : *state_.mutable_participants()) {
        if (p.leg().empty() && p.status() == v1::Participant::RINGING &&
            (update.to().empty() || update.to() == p.number())) {
          party = &p;
          p.set_leg(update.leg());
          if (!state_.consult_by().empty() && state_.consult_leg().empty()) {
            state_.set_consult_leg(update.leg());
          }
          break;
        }
      }
    }
    switch (update.kind()) {
      case cv1::ConferenceUpdate::JOINED:
        if (party == nullptr || party->status() == v1::Participant::JOINED) return false;
        party->set_status(v1::Participant::JOINED);
        ConferenceEntry(absl::StrCat(PartyName(*party), " joined"),
                        party->user_id().empty() ? std::vector<std::string>{}
                                                 : std::vector<std::string>{party->user_id()});
        KeepInstructions();
        return true;
      case cv1::ConferenceUpdate::LEFT:
      case cv1::ConferenceUpdate::NOT_ANSWERED:
        if (party == nullptr || party->status() == v1::Participant::LEFT) return false;
        PartyLeft(party, update.kind() == cv1::ConferenceUpdate::LEFT
                             ? absl::StrCat(PartyName(*party), " left")
                             : absl::StrCat(PartyName(*party), " did not answer (",
                                            update.reason().empty() ? "no answer" : update.reason(),
                                            ")"));
        KeepInstructions();
        return true;
      default:
        return false;
    }
  }

  // The caller is still in the conference and nobody else is (ringing or joined).
  bool CallerAlone() const {
    bool caller_in = false;
    for (const v1::Participant& p : state_.participants()) {
      if (p.status() == v1::Participant::LEFT) continue;
      if (p.role() != v1::Participant::CALLER) return false;
      caller_in = true;
    }
    return caller_in;
  }

  std::string PartyName(const v1::Participant& p) {
    if (!p.user_id().empty()) return NameOf(p.user_id());
    if (p.role() == v1::Participant::CALLER) return absl::StrCat("the caller ", p.number());
    return p.number();
  }

  void ConferenceEntry(std::string text, const std::vector<std::string>& users) {
    v1::PathEntry entry = Entry(v1::PATH_CONFERENCE, std::move(text));
    for (const std::string& u : users) {
      if (!u.empty()) entry.add_user_ids(u);
    }
    step_.path.push_back(std::move(entry));
  }

  // On-demand recording switched on or off (the carrier starts/stops it); the call's
  // instructions do not change.
  void SetRecording(bool on, absl::string_view by_user_id) {
    state_.set_recording(on);
    state_.set_recording_by(on ? std::string(by_user_id) : std::string());
    v1::PathEntry entry = Entry(
        v1::PATH_RECORDING,
        absl::StrCat("recording ", on ? "started" : "stopped", " by ", NameOf(by_user_id)));
    if (!by_user_id.empty()) entry.add_user_ids(std::string(by_user_id));
    step_.path.push_back(std::move(entry));
    KeepInstructions();
  }

  // A recording of the conversation (recording policy, or on demand) arrived: its reference goes
  // on the call log; the call goes on as it was.
  void OnCallRecording(const cv1::RecordingReady& recording) {
    step_.recording_id = recording.recording_id();
    step_.recording_url = recording.url();
    step_.path.push_back(Entry(v1::PATH_RECORDING,
                               absl::StrCat("call recording received (", recording.duration_s(),
                                            " s)")));
    state_.set_recording(false);
    KeepInstructions();
  }

  // The transition leaves the call's instruction set as it is (same id), so the carrier's
  // running set and its later reports still match.
  void KeepInstructions() {
    keep_instructions_ = true;
    out_ = state_.last_instructions();
  }

  // ---- Menus ----------------------------------------------------------------------------------
  void EnterMenu(absl::string_view menu_id) {
    const v1::Menu* menu = index_.FindMenu(menu_id);
    if (menu == nullptr) {
      Note(absl::StrCat("menu ", menu_id, " not found"));
      DeadEnd();
      return;
    }
    state_.set_phase(v1::PHASE_MENU);
    state_.set_menu_id(menu->id());
    v1::PathEntry entry = Entry(v1::PATH_MENU, absl::StrCat("menu ", MenuName(*menu)));
    entry.set_menu_id(menu->id());
    step_.path.push_back(std::move(entry));
    cv1::Gather* gather = out_.add_instructions()->mutable_gather();
    gather->set_num_digits(1);
    gather->set_timeout_s(OrDefault(menu->timeout_s(), kDefaultMenuTimeoutS));
    AddPrompt(menu->greeting(), gather->add_prompts());
    if (gather->prompts(gather->prompts_size() - 1).prompt_case() == cv1::Prompt::PROMPT_NOT_SET) {
      gather->mutable_prompts()->RemoveLast();
    }
  }

  void OnMenuDigits(const cv1::DigitsGathered& digits) {
    const v1::Menu* menu = index_.FindMenu(state_.menu_id());
    if (menu == nullptr) {
      DeadEnd();
      return;
    }
    state_.set_hops(0);
    std::string key = digits.digits().empty() ? "" : digits.digits().substr(0, 1);
    if (key.empty() || digits.timed_out()) {
      KeyEntry(*menu, "", "no input");
      Retry(*menu, menu->has_timeout_prompt() ? &menu->timeout_prompt() : nullptr, kTimeoutText);
      return;
    }
    for (const v1::KeyBinding& binding : menu->keys()) {
      if (binding.key() != key) continue;
      KeyEntry(*menu, key,
               absl::StrCat("pressed ", key, binding.label().empty() ? "" : " (", binding.label(),
                            binding.label().empty() ? "" : ")"));
      state_.set_attempts(0);
      RunAction(binding.action(), *menu);
      return;
    }
    KeyEntry(*menu, key, absl::StrCat("invalid key ", key));
    Retry(*menu, menu->has_invalid_prompt() ? &menu->invalid_prompt() : nullptr, kInvalidText);
  }

  void Retry(const v1::Menu& menu, const v1::Greeting* prompt, absl::string_view default_text) {
    state_.set_attempts(state_.attempts() + 1);
    if (state_.attempts() >= OrDefault(menu.max_attempts(), kDefaultMaxAttempts)) {
      Note(absl::StrCat("attempts exhausted in menu ", MenuName(menu), ": default action"));
      state_.set_attempts(0);
      RunAction(menu.default_action(), menu);
      return;
    }
    SayGreetingOr(prompt, default_text);
    EnterMenu(menu.id());
  }

  // ---- Actions --------------------------------------------------------------------------------
  void RunAction(const v1::Action& action, const v1::Menu& menu) {
    if (!Hop()) return;
    switch (action.kind_case()) {
      case v1::Action::kRingUser:
        RingUser(action.ring_user().user_id(), action.ring_user().ring_seconds(),
                 action.ring_user().on_no_answer(), "");
        return;
      case v1::Action::kRingGroupId:
        RingGroup(action.ring_group_id());
        return;
      case v1::Action::kSubmenuId:
        state_.set_attempts(0);
        EnterMenu(action.submenu_id());
        return;
      case v1::Action::kDirectory:
        *state_.mutable_directory() = action.directory();
        state_.set_attempts(0);
        PromptDirectory();
        return;
      case v1::Action::kPlayInfo:
        SayGreetingOr(&action.play_info().info(), "");
        Info("played information, back to the menu");
        EnterMenu(menu.id());
        return;
      case v1::Action::kVoicemailBoxId:
        Voicemail(action.voicemail_box_id(), nullptr);
        return;
      case v1::Action::kExternalNumber:
        RingExternal(action.external_number().e164(), action.external_number().ring_seconds(),
                     action.external_number().on_no_answer());
        return;
      case v1::Action::kToOperator:
        Info("operator");
        if (index_.flow().operator_action().kind_case() == v1::Action::kToOperator) {
          DeadEnd();
          return;
        }
        RunAction(index_.flow().operator_action(), menu);
        return;
      case v1::Action::kRepeat:
        EnterMenu(menu.id());
        return;
      case v1::Action::kHangup:
        Goodbye(action.hangup().has_goodbye() ? &action.hangup().goodbye() : nullptr, "Goodbye.");
        return;
      case v1::Action::kOnCall: {
        const v1::RingOnCall& on_call = action.on_call();
        absl::StatusOr<std::string> user = deps_.schedule.OnCall(on_call.rotation_id(), now_);
        if (!user.ok() || user->empty()) {
          Note(absl::StrCat("nobody on call in rotation ", on_call.rotation_id()));
          RunFallback(on_call.on_no_answer(), "");
          return;
        }
        Note(absl::StrCat("on call (", on_call.rotation_id(), "): ", *user));
        RingUser(*user, on_call.ring_seconds(), on_call.on_no_answer(), "");
        return;
      }
      case v1::Action::KIND_NOT_SET:
        break;
    }
    DeadEnd();
  }

  // A fallback after no answer. `user_id` names the user whose own box is the natural fallback.
  void RunFallback(const v1::Fallback& fallback, absl::string_view user_id) {
    if (!Hop()) return;
    switch (fallback.target_case()) {
      case v1::Fallback::kVoicemailBoxId:
        Voicemail(fallback.voicemail_box_id(), nullptr);
        return;
      case v1::Fallback::kRingGroupId:
        RingGroup(fallback.ring_group_id());
        return;
      case v1::Fallback::kUserId:
        RingUser(fallback.user_id(), 0, v1::Fallback(), "");
        return;
      case v1::Fallback::kExternalNumber:
        RingExternal(fallback.external_number(), 0, v1::Fallback());
        return;
      case v1::Fallback::kHangup:
        Goodbye(nullptr, kGoodbyeText);
        return;
      case v1::Fallback::TARGET_NOT_SET:
        break;
    }
    std::string box;
    if (!user_id.empty()) {
      std::optional<DirectoryUser> user = LookUp(user_id);
      if (user.has_value()) box = user->voicemail_box_id;
    }
    if (box.empty()) box = index_.flow().default_voicemail_box_id();
    if (box.empty()) {
      Goodbye(nullptr, kGoodbyeText);
      return;
    }
    Voicemail(box, nullptr);
  }

  // Anything that cannot be followed ends in the company box, else a goodbye: never silence.
  void DeadEnd() {
    const std::string& box = index_.flow().default_voicemail_box_id();
    if (!box.empty() && index_.FindBox(box) != nullptr && state_.phase() != v1::PHASE_VOICEMAIL) {
      Voicemail(box, nullptr);
      return;
    }
    Goodbye(nullptr, kGoodbyeText);
  }

  // ---- Ringing --------------------------------------------------------------------------------
  // Rings one user on all devices. DND/offline/unknown/no device: straight to the fallback.
  void RingUser(absl::string_view user_id, int ring_seconds, const v1::Fallback& fallback,
                absl::string_view announce_prefix) {
    std::optional<DirectoryUser> user = LookUp(user_id);
    std::string why;
    if (!user.has_value()) {
      why = "unknown";
    } else if (user->dnd) {
      why = "on do-not-disturb";
    } else if (!user->online) {
      why = "offline";
    } else if (user->forward_to.empty() && user->softphone.empty()) {
      why = "without a device";
    }
    if (!why.empty()) {
      Note(absl::StrCat("user ", user.has_value() ? user->FullName() : std::string(user_id), " ",
                        why, ": skipped"));
      RunFallback(fallback, user_id);
      return;
    }
    v1::Dialing dialing;
    dialing.set_strategy(v1::SIMULTANEOUS);
    dialing.set_ring_seconds(OrDefault(ring_seconds, kDefaultRingSeconds));
    *dialing.mutable_on_no_answer() = ResolveUserFallback(fallback, *user);
    dialing.set_announce(absl::StrCat(announce_prefix, user->FullName()));
    AddLegs(*user, &dialing);
    Dial(std::move(dialing));
  }

  void RingExternal(absl::string_view e164, int ring_seconds, const v1::Fallback& fallback) {
    v1::Dialing dialing;
    dialing.set_strategy(v1::SIMULTANEOUS);
    dialing.set_ring_seconds(OrDefault(ring_seconds, kDefaultRingSeconds));
    *dialing.mutable_on_no_answer() = ResolveGroupFallback(fallback);
    dialing.set_announce(std::string(e164));
    dialing.add_legs()->set_number(std::string(e164));
    Dial(std::move(dialing));
  }

  void RingGroup(absl::string_view group_id) {
    const v1::RingGroup* group = index_.FindGroup(group_id);
    if (group == nullptr) {
      Note(absl::StrCat("ring group ", group_id, " not found"));
      DeadEnd();
      return;
    }
    std::vector<DirectoryUser> eligible;
    for (const v1::GroupMember& member : group->members()) {
      std::string user_id;
      if (member.member_case() == v1::GroupMember::kUserId) {
        user_id = member.user_id();
      } else if (member.member_case() == v1::GroupMember::kOnCallRotationId) {
        absl::StatusOr<std::string> on_call =
            deps_.schedule.OnCall(member.on_call_rotation_id(), now_);
        if (!on_call.ok() || on_call->empty()) {
          Note(absl::StrCat("nobody on call in rotation ", member.on_call_rotation_id()));
          continue;
        }
        user_id = *on_call;
        Note(absl::StrCat("on call (", member.on_call_rotation_id(), "): ", user_id));
      }
      if (absl::c_any_of(eligible, [&](const DirectoryUser& u) { return u.id == user_id; })) {
        continue;
      }
      std::optional<DirectoryUser> user = LookUp(user_id);
      if (!user.has_value()) {
        Note(absl::StrCat("member ", user_id, " unknown: skipped"));
      } else if (user->dnd || !user->online) {
        Note(absl::StrCat("member ", user->FullName(),
                          user->dnd ? " on do-not-disturb" : " offline", ": skipped"));
      } else if (user->forward_to.empty() && user->softphone.empty()) {
        Note(absl::StrCat("member ", user->FullName(), " without a device: skipped"));
      } else {
        eligible.push_back(std::move(*user));
      }
    }
    v1::Fallback fallback = ResolveGroupFallback(group->on_no_answer());
    if (eligible.empty()) {
      Note(absl::StrCat("group ", group->name(), ": nobody available"));
      RunFallback(fallback, "");
      return;
    }
    v1::Dialing dialing;
    dialing.set_ring_group_id(group->id());
    dialing.set_strategy(group->strategy());
    dialing.set_ring_seconds(OrDefault(group->ring_seconds(), kDefaultRingSeconds));
    *dialing.mutable_on_no_answer() = std::move(fallback);
    dialing.set_announce(absl::StrCat("group ", group->name()));
    if (group->strategy() == v1::SEQUENTIAL || group->strategy() == v1::ROUND_ROBIN) {
      size_t start = 0;
      if (group->strategy() == v1::ROUND_ROBIN) {
        absl::StatusOr<int64_t> next = deps_.round_robin.Next(group->id());
        if (next.ok()) {
          int64_t n = static_cast<int64_t>(eligible.size());
          start = static_cast<size_t>(((*next % n) + n) % n);
        } else {
          Note(absl::StrCat("round robin unavailable (", next.status().message(),
                            "): starting at the first member"));
        }
      }
      std::rotate(eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(start),
                  eligible.end());
      for (const DirectoryUser& u : eligible) dialing.add_queue(u.id);
      dialing.set_position(0);
      AddLegs(eligible.front(), &dialing);
    } else {
      for (const DirectoryUser& u : eligible) AddLegs(u, &dialing);
    }
    Dial(std::move(dialing));
  }

  // Rings the next member of a sequential / round-robin queue, skipping anyone who became
  // unreachable; false when the queue is exhausted.
  bool RingNextInQueue(v1::Dialing dialing) {
    while (dialing.position() + 1 < dialing.queue_size()) {
      dialing.set_position(dialing.position() + 1);
      std::optional<DirectoryUser> user = LookUp(dialing.queue(dialing.position()));
      if (!user.has_value() || user->dnd || !user->online ||
          (user->forward_to.empty() && user->softphone.empty())) {
        Note(absl::StrCat("member ", dialing.queue(dialing.position()), " unavailable: skipped"));
        continue;
      }
      dialing.clear_legs();
      AddLegs(*user, &dialing);
      Dial(std::move(dialing));
      return true;
    }
    return false;
  }

  void Dial(v1::Dialing dialing) {
    cv1::Dial* dial = out_.add_instructions()->mutable_dial();
    dial->set_timeout_s(dialing.ring_seconds());
    // A click-to-call shows the business number it was placed with.
    if (state_.outbound()) dial->set_caller_id(state_.from());
    v1::PathEntry entry = Entry(v1::PATH_RING, "");
    entry.set_ring_group_id(dialing.ring_group_id());
    LifecycleEvent ringing{LifecycleKind::kRinging};
    std::vector<std::string> names;
    for (const v1::DialLeg& leg : dialing.legs()) {
      std::vector<std::string> targets;
      if (!leg.number().empty()) {
        dial->add_targets()->set_number(leg.number());
        entry.add_numbers(leg.number());
        targets.push_back(leg.number());
      }
      if (!leg.client().empty()) {
        dial->add_targets()->set_client(leg.client());
        entry.add_numbers(absl::StrCat("client:", leg.client()));
        targets.push_back(absl::StrCat("client:", leg.client()));
      }
      if (!leg.user_id().empty()) {
        entry.add_user_ids(leg.user_id());
        ringing.user_ids.push_back(leg.user_id());
      }
      names.push_back(absl::StrCat(LegName(leg), " (", absl::StrJoin(targets, ", "), ")"));
    }
    entry.set_text(absl::StrCat("ring ", absl::StrJoin(names, " + "),
                                dialing.ring_group_id().empty() ? "" : " [",
                                dialing.ring_group_id().empty() ? "" : dialing.announce(),
                                dialing.ring_group_id().empty() ? "" : "]", ", ",
                                dialing.ring_seconds(), " s"));
    ringing.detail = entry.text();
    step_.path.push_back(std::move(entry));
    step_.events.push_back(std::move(ringing));
    state_.set_phase(v1::PHASE_DIALING);
    dialing.set_target_results(0);  // a new Dial is out
    *state_.mutable_dialing() = std::move(dialing);
  }

  void OnDialResult(const cv1::DialResult& result) {
    v1::Dialing dialing = state_.dialing();
    if (result.status() == cv1::DIAL_ANSWERED) {
      std::string who = WhoAnswered(dialing, result.dialed());
      state_.set_answered(true);
      state_.set_answered_by(who);
      state_.set_phase(v1::PHASE_BRIDGED);
      state_.set_bridged_leg(result.dialed_call_id());
      state_.clear_dialing();
      v1::PathEntry entry = Entry(v1::PATH_ANSWERED, absl::StrCat("answered by ", NameOf(who)));
      if (!who.empty()) {
        if (IsE164(who)) {
          entry.add_numbers(who);
        } else {
          entry.add_user_ids(who);
        }
      }
      step_.path.push_back(std::move(entry));
      LifecycleEvent answered{LifecycleKind::kAnswered, absl::StrCat("answered by ", NameOf(who))};
      if (!who.empty()) answered.user_ids.push_back(who);
      answered.duration_s = result.duration_s();
      step_.events.push_back(std::move(answered));
      out_.add_instructions()->mutable_hangup();
      return;
    }
    if (result.status() == cv1::DIAL_CANCELED) {
      Info("caller hung up while ringing");
      state_.set_phase(v1::PHASE_HANGING_UP);
      state_.clear_dialing();
      out_.add_instructions()->mutable_hangup();
      return;
    }
    std::vector<std::string> names;
    v1::PathEntry entry = Entry(v1::PATH_NO_ANSWER, "");
    for (const v1::DialLeg& leg : dialing.legs()) {
      names.push_back(LegName(leg));
      if (!leg.user_id().empty()) entry.add_user_ids(leg.user_id());
      if (!leg.number().empty()) entry.add_numbers(leg.number());
    }
    absl::string_view what = result.status() == cv1::DIAL_BUSY     ? "busy"
                             : result.status() == cv1::DIAL_FAILED ? "failed"
                                                                   : "no answer";
    entry.set_text(absl::StrCat(what, ": ", absl::StrJoin(names, " + ")));
    entry.set_ring_group_id(dialing.ring_group_id());
    step_.path.push_back(std::move(entry));
    state_.set_hops(0);
    if (state_.outbound() && dialing.ring_group_id().empty()) {
      // The customer of a click-to-call did not pick up: tell the user and end.
      state_.clear_dialing();
      Goodbye(nullptr, absl::StrCat("The call could not be connected: ", what, ". Goodbye."));
      return;
    }
    if ((dialing.strategy() == v1::SEQUENTIAL || dialing.strategy() == v1::ROUND_ROBIN) &&
        RingNextInQueue(dialing)) {
      return;
    }
    state_.clear_dialing();
    std::string user_id;
    if (dialing.ring_group_id().empty() && dialing.legs_size() == 1) {
      user_id = dialing.legs(0).user_id();
    }
    RunFallback(dialing.on_no_answer(), user_id);
  }

  // ---- Dial by name ---------------------------------------------------------------------------
  void PromptDirectory() {
    state_.set_phase(v1::PHASE_DIRECTORY);
    state_.clear_candidates();
    Info("directory: spell the last name");
    cv1::Gather* gather = out_.add_instructions()->mutable_gather();
    gather->set_num_digits(3);
    gather->set_timeout_s(kDefaultMenuTimeoutS + 3);
    SetSay(kDirectoryText, nullptr, gather->add_prompts());
  }

  void OnDirectoryDigits(const cv1::DigitsGathered& digits) {
    state_.set_hops(0);
    const v1::DirectoryLookup& lookup = state_.directory();
    std::string spelled = digits.digits();
    std::vector<DirectoryUser> matches;
    if (!spelled.empty() && !digits.timed_out()) {
      absl::StatusOr<std::vector<DirectoryUser>> users = deps_.directory.ListUsers();
      if (!users.ok()) {
        Note(absl::StrCat("directory unavailable: ", users.status().message()));
      } else {
        for (DirectoryUser& u : *users) {
          if (lookup.user_ids_size() > 0 && !absl::c_linear_search(lookup.user_ids(), u.id)) {
            continue;
          }
          if (absl::StartsWith(KeypadDigits(u.last_name), spelled)) matches.push_back(std::move(u));
        }
      }
    }
    v1::PathEntry key = Entry(v1::PATH_KEY, spelled.empty() || digits.timed_out()
                                                ? std::string("directory: no input")
                                                : absl::StrCat("directory: spelled ", spelled));
    key.set_key(spelled);
    key.set_menu_id(state_.menu_id());
    step_.path.push_back(std::move(key));
    absl::c_sort(matches, [](const DirectoryUser& a, const DirectoryUser& b) {
      return std::tie(a.last_name, a.first_name, a.id) < std::tie(b.last_name, b.first_name, b.id);
    });
    if (matches.size() > static_cast<size_t>(CallEngine::kMaxDirectoryMatches)) {
      matches.resize(CallEngine::kMaxDirectoryMatches);
    }
    if (matches.empty()) {
      DirectoryRetry(kNoMatchText);
      return;
    }
    if (matches.size() == 1) {
      ConnectTo(matches.front());
      return;
    }
    state_.set_phase(v1::PHASE_DIRECTORY_CHOICE);
    state_.set_attempts(0);
    state_.clear_candidates();
    for (const DirectoryUser& u : matches) state_.add_candidates(u.id);
    RenderChoices(matches);
  }

  void RenderChoices(const std::vector<DirectoryUser>& matches) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < matches.size(); ++i) {
      parts.push_back(absl::StrCat("For ", matches[i].FullName(), ", press ", i + 1, "."));
    }
    std::string text = absl::StrJoin(parts, " ");
    Info(absl::StrCat("directory: ", text));
    cv1::Gather* gather = out_.add_instructions()->mutable_gather();
    gather->set_num_digits(1);
    gather->set_timeout_s(kDefaultMenuTimeoutS);
    SetSay(text, nullptr, gather->add_prompts());
  }

  void OnDirectoryChoice(const cv1::DigitsGathered& digits) {
    state_.set_hops(0);
    int choice = 0;
    if (!digits.timed_out() && digits.digits().size() == 1 &&
        absl::ascii_isdigit(static_cast<unsigned char>(digits.digits()[0]))) {
      choice = digits.digits()[0] - '0';
    }
    const bool no_input = digits.digits().empty() || digits.timed_out();
    v1::PathEntry key =
        Entry(v1::PATH_KEY, no_input ? std::string("directory choice: no input")
                                     : absl::StrCat("directory choice ", digits.digits()));
    key.set_key(digits.digits());
    key.set_menu_id(state_.menu_id());
    step_.path.push_back(std::move(key));
    if (choice >= 1 && choice <= state_.candidates_size()) {
      std::optional<DirectoryUser> user = LookUp(state_.candidates(choice - 1));
      if (user.has_value()) {
        state_.clear_candidates();
        ConnectTo(*user);
        return;
      }
    }
    state_.set_attempts(state_.attempts() + 1);
    if (state_.attempts() >= OrDefault(state_.directory().max_attempts(), kDefaultMaxAttempts)) {
      DirectoryGiveUp();
      return;
    }
    std::vector<DirectoryUser> matches;
    for (const std::string& id : state_.candidates()) {
      std::optional<DirectoryUser> user = LookUp(id);
      if (user.has_value()) matches.push_back(std::move(*user));
    }
    SetSay(kInvalidText, nullptr, out_.add_instructions()->mutable_say());
    RenderChoices(matches);
  }

  void DirectoryRetry(absl::string_view text) {
    state_.set_attempts(state_.attempts() + 1);
    if (state_.attempts() >= OrDefault(state_.directory().max_attempts(), kDefaultMaxAttempts)) {
      DirectoryGiveUp();
      return;
    }
    SetSay(text, nullptr, out_.add_instructions()->mutable_say());
    Info(std::string(text));
    PromptDirectory();
  }

  void DirectoryGiveUp() {
    Note("directory: attempts exhausted, default action");
    state_.set_attempts(0);
    state_.clear_candidates();
    state_.clear_directory();
    const v1::Menu* menu = index_.FindMenu(state_.menu_id());
    if (menu == nullptr) {
      DeadEnd();
      return;
    }
    RunAction(menu->default_action(), *menu);
  }

  void ConnectTo(const DirectoryUser& user) {
    std::string text = absl::StrCat("Connecting you to ", user.FullName(), ".");
    SetSay(text, nullptr, out_.add_instructions()->mutable_say());
    Info(text);
    int ring_seconds = state_.directory().ring_seconds();
    state_.clear_directory();
    state_.clear_candidates();
    state_.set_attempts(0);
    RingUser(user.id, ring_seconds, v1::Fallback(), "");
  }

  // ---- Voicemail and endings ------------------------------------------------------------------
  void Voicemail(absl::string_view box_id, const v1::Greeting* greeting_override) {
    const v1::VoicemailBox* box = index_.FindBox(box_id);
    if (box == nullptr) {
      Note(absl::StrCat("voicemail box ", box_id, " not found"));
      Goodbye(nullptr, kGoodbyeText);
      return;
    }
    state_.set_phase(v1::PHASE_VOICEMAIL);
    state_.set_voicemail_box_id(box->id());
    v1::PathEntry entry = Entry(
        v1::PATH_VOICEMAIL,
        absl::StrCat("voicemail box ", box->name().empty() ? box->id() : box->name()));
    entry.set_voicemail_box_id(box->id());
    step_.path.push_back(std::move(entry));
    const v1::Greeting* greeting = greeting_override != nullptr ? greeting_override
                                   : box->has_greeting()        ? &box->greeting()
                                                                : nullptr;
    SayGreetingOr(greeting, kVoicemailText);
    cv1::Record* record = out_.add_instructions()->mutable_record();
    record->set_max_length_s(OrDefault(box->max_length_s(), kDefaultVoicemailMaxS));
  }

  void OnRecording(const cv1::RecordingReady& recording) {
    LifecycleEvent left{LifecycleKind::kVoicemailLeft,
                        absl::StrCat("voicemail left in ", state_.voicemail_box_id())};
    left.voicemail_box_id = state_.voicemail_box_id();
    if (const v1::VoicemailBox* box = index_.FindBox(state_.voicemail_box_id())) {
      left.box_owner_user_id = box->user_id();  // "" for a company/department box
    }
    left.recording_id = recording.recording_id();
    left.recording_url = recording.url();
    left.duration_s = recording.duration_s();
    step_.events.push_back(std::move(left));
    state_.set_recording_received(true);
    Info(absl::StrCat("message recorded (", recording.duration_s(), " s)"));
    if (state_.phase() == v1::PHASE_ENDED) {
      // The recording arrived after the hang-up (Telnyx saves it then): the call's status
      // becomes voicemail, unless someone had answered it (a transfer to voicemail).
      if (!state_.answered() && state_.answered_by().empty()) {
        state_.set_status(v1::VOICEMAIL);
        step_.final_status = v1::VOICEMAIL;
        step_.answered_by = state_.answered_by();
      }
      out_.add_instructions()->mutable_hangup();
      return;
    }
    Goodbye(nullptr, kThanksText);
    state_.set_phase(v1::PHASE_RECORDED);
  }

  void Goodbye(const v1::Greeting* greeting, absl::string_view default_text) {
    SayGreetingOr(greeting, default_text);
    out_.add_instructions()->mutable_hangup();
    state_.set_phase(v1::PHASE_HANGING_UP);
    step_.path.push_back(Entry(v1::PATH_INFO, "hang up"));
  }

  void OnCompleted(const cv1::CallCompleted& completed) {
    v1::CallStatus status = v1::MISSED;
    if (state_.answered() || !state_.answered_by().empty()) {
      status = v1::COMPLETED;
    } else if (state_.recording_received()) {
      status = v1::VOICEMAIL;
    } else if (completed.reason() == cv1::CALL_END_BUSY) {
      status = v1::BUSY;
    } else if (completed.reason() == cv1::CALL_END_FAILED) {
      status = v1::FAILED;
    }
    state_.set_ended_in_voicemail(state_.phase() == v1::PHASE_VOICEMAIL);
    state_.set_phase(v1::PHASE_ENDED);
    state_.clear_dialing();
    state_.clear_candidates();
    state_.set_status(status);
    v1::PathEntry entry = Entry(v1::PATH_END, absl::StrCat("ended: ", StatusName(status)));
    entry.set_status(status);
    step_.path.push_back(std::move(entry));
    if (status == v1::MISSED) {
      step_.events.push_back(LifecycleEvent{LifecycleKind::kMissed, "missed"});
    }
    LifecycleEvent ended{LifecycleKind::kEnded, StatusName(status)};
    ended.duration_s = completed.duration_s();
    if (!state_.answered_by().empty()) ended.user_ids.push_back(state_.answered_by());
    step_.events.push_back(std::move(ended));
    step_.final_status = status;
    step_.answered_by = state_.answered_by();
    out_.add_instructions()->mutable_hangup();
  }

  Step Finish(absl::string_view dedupe_key) {
    if (!dedupe_key.empty()) {
      state_.add_recent_event_keys(std::string(dedupe_key));
      while (state_.recent_event_keys_size() > CallEngine::kMaxRecentEventKeys) {
        state_.mutable_recent_event_keys()->erase(state_.mutable_recent_event_keys()->begin());
      }
    }
    state_.set_seq(state_.seq() + 1);
    if (!keep_instructions_) out_.set_id(absl::StrCat(SafeId(state_.call_id()), "-", state_.seq()));
    *state_.mutable_last_instructions() = out_;
    step_.instructions = std::move(out_);
    step_.state = std::move(state_);
    step_.changed = true;
    return std::move(step_);
  }

 private:
  // Counts an action taken without caller input; past kMaxHops the call ends safely.
  bool Hop() {
    state_.set_hops(state_.hops() + 1);
    if (state_.hops() <= CallEngine::kMaxHops) return true;
    Note("too many steps without caller input: ending the call");
    Goodbye(nullptr, kGoodbyeText);
    return false;
  }

  std::optional<DirectoryUser> LookUp(absl::string_view user_id) {
    if (user_id.empty()) return std::nullopt;
    absl::StatusOr<std::optional<DirectoryUser>> user = deps_.directory.FindUser(user_id);
    if (!user.ok()) {
      Note(absl::StrCat("directory unavailable for ", user_id, ": ", user.status().message()));
      return std::nullopt;
    }
    return *user;
  }

  v1::Fallback ResolveUserFallback(const v1::Fallback& fallback, const DirectoryUser& user) {
    if (fallback.target_case() != v1::Fallback::TARGET_NOT_SET) return fallback;
    v1::Fallback out;
    if (!user.voicemail_box_id.empty() && index_.FindBox(user.voicemail_box_id) != nullptr) {
      out.set_voicemail_box_id(user.voicemail_box_id);
    } else {
      return ResolveGroupFallback(fallback);
    }
    return out;
  }

  v1::Fallback ResolveGroupFallback(const v1::Fallback& fallback) {
    if (fallback.target_case() != v1::Fallback::TARGET_NOT_SET) return fallback;
    v1::Fallback out;
    if (!index_.flow().default_voicemail_box_id().empty()) {
      out.set_voicemail_box_id(index_.flow().default_voicemail_box_id());
    } else {
      out.set_hangup(true);
    }
    return out;
  }

  static void AddLegs(const DirectoryUser& user, v1::Dialing* dialing) {
    v1::DialLeg* leg = dialing->add_legs();
    leg->set_user_id(user.id);
    leg->set_number(user.forward_to);
    leg->set_client(user.softphone);
  }

  std::string WhoAnswered(const v1::Dialing& dialing, absl::string_view dialed) {
    absl::string_view client = dialed;
    absl::ConsumePrefix(&client, "client:");
    for (const v1::DialLeg& leg : dialing.legs()) {
      if ((!leg.number().empty() && leg.number() == dialed) ||
          (!leg.client().empty() && leg.client() == client)) {
        return leg.user_id().empty() ? leg.number() : leg.user_id();
      }
    }
    // One person rung on several devices (forward-to number and softphone): them.
    bool one_user = dialing.legs_size() > 0 && !dialing.legs(0).user_id().empty();
    for (const v1::DialLeg& leg : dialing.legs()) {
      one_user = one_user && leg.user_id() == dialing.legs(0).user_id();
    }
    if (one_user || dialing.legs_size() == 1) {
      const v1::DialLeg& leg = dialing.legs(0);
      return leg.user_id().empty() ? leg.number() : leg.user_id();
    }
    return std::string(dialed);
  }

  std::string LegName(const v1::DialLeg& leg) {
    if (leg.user_id().empty()) return leg.number();
    return NameOf(leg.user_id());
  }

  std::string NameOf(absl::string_view who) {
    if (who.empty()) return "unknown";
    if (IsE164(who)) return std::string(who);
    absl::StatusOr<std::optional<DirectoryUser>> user = deps_.directory.FindUser(who);
    if (user.ok() && user->has_value()) return (*user)->FullName();
    return std::string(who);
  }

  static std::string MenuName(const v1::Menu& menu) {
    return menu.name().empty() ? menu.id() : absl::StrCat(menu.name(), " (", menu.id(), ")");
  }

  void KeyEntry(const v1::Menu& menu, absl::string_view key, std::string text) {
    v1::PathEntry entry = Entry(v1::PATH_KEY, std::move(text));
    entry.set_menu_id(menu.id());
    entry.set_key(std::string(key));
    step_.path.push_back(std::move(entry));
  }

  void Note(std::string text) { step_.path.push_back(Entry(v1::PATH_INFO, std::move(text))); }
  void Info(std::string text) { Note(std::move(text)); }

  // Voice for a prompt: the greeting's, then the flow's, then the company's.
  void Voice(const v1::Greeting* g, std::string* voice, std::string* language) const {
    const v1::VoiceSettings& flow = index_.flow().voice();
    const v1::VoiceSettings& company = index_.bundle().company_voice();
    *voice = g != nullptr && !g->voice().empty() ? g->voice()
             : !flow.voice().empty()             ? flow.voice()
                                                 : company.voice();
    *language = g != nullptr && !g->language().empty() ? g->language()
                : !flow.language().empty()             ? flow.language()
                                                       : company.language();
  }

  void SetSay(absl::string_view text, const v1::Greeting* g, cv1::Say* say) const {
    say->set_text(std::string(text));
    std::string voice, language;
    Voice(g, &voice, &language);
    say->set_voice(voice);
    say->set_language(language);
  }
  void SetSay(absl::string_view text, const v1::Greeting* g, cv1::Prompt* prompt) const {
    SetSay(text, g, prompt->mutable_say());
  }

  // Fills `prompt` from a greeting (Play when its audio resolves, else Say); records the path.
  void AddPrompt(const v1::Greeting& g, cv1::Prompt* prompt) {
    if (!g.audio_id().empty()) {
      absl::StatusOr<std::string> url = deps_.greetings.Url(g.audio_id());
      if (url.ok()) {
        prompt->mutable_play()->set_url(*url);
        step_.path.push_back(Entry(v1::PATH_GREETING, absl::StrCat("audio ", g.audio_id())));
        return;
      }
    }
    if (g.text().empty()) return;
    SetSay(g.text(), &g, prompt);
    step_.path.push_back(Entry(v1::PATH_GREETING, g.text()));
  }

  // A top-level Say/Play of `g`, or of `default_text` when `g` is null or empty.
  void SayGreetingOr(const v1::Greeting* g, absl::string_view default_text) {
    cv1::Prompt prompt;
    if (g != nullptr) AddPrompt(*g, &prompt);
    if (prompt.prompt_case() == cv1::Prompt::PROMPT_NOT_SET) {
      if (default_text.empty()) return;
      SetSay(default_text, nullptr, &prompt);
      step_.path.push_back(Entry(v1::PATH_GREETING, std::string(default_text)));
    }
    cv1::Instruction* instruction = out_.add_instructions();
    if (prompt.has_play()) {
      *instruction->mutable_play() = prompt.play();
    } else {
      *instruction->mutable_say() = prompt.say();
    }
  }

  const FlowIndex& index_;
  const EngineDeps& deps_;
  v1::CallState state_;
  absl::Time now_;
  cv1::CallInstructions out_;
  bool keep_instructions_ = false;
  Step step_;
};

}  // namespace

absl::string_view LifecycleName(LifecycleKind kind) {
  switch (kind) {
    case LifecycleKind::kRouted: return "routed";
    case LifecycleKind::kRinging: return "ringing";
    case LifecycleKind::kAnswered: return "answered";
    case LifecycleKind::kMissed: return "missed";
    case LifecycleKind::kVoicemailLeft: return "voicemail_left";
    case LifecycleKind::kEnded: return "ended";
  }
  return "unknown";
}

CallEngine::CallEngine(const v1::FlowBundle& bundle, EngineDeps deps)
    : bundle_(bundle), index_(bundle), deps_(deps) {}

int CallEngine::TargetsOfLastDial(const v1::CallState& state) {
  for (int i = state.last_instructions().instructions_size() - 1; i >= 0; --i) {
    const carrier::v1::Instruction& in = state.last_instructions().instructions(i);
    if (in.has_dial()) return in.dial().targets_size();
  }
  return 0;
}

Step CallEngine::Unchanged(const v1::CallState& state) {
  Step step;
  step.state = state;
  step.instructions = state.last_instructions();
  step.changed = false;
  return step;
}

absl::StatusOr<Step> CallEngine::Start(const CallFacts& facts) const {
  if (facts.call_id.empty()) return absl::InvalidArgumentError("call_id: required");
  const v1::Flow& flow = bundle_.flow();
  if (flow.kind_case() == v1::Flow::KIND_NOT_SET) {
    return absl::InvalidArgumentError(
        absl::StrCat("flow ", flow.id(), ": no menus or direct line"));
  }
  v1::CallState state;
  state.set_call_id(facts.call_id);
  state.set_company_id(facts.company_id);
  state.set_flow_id(flow.id());
  state.set_flow_version(flow.version());
  state.set_from(facts.from);
  state.set_to(facts.to);
  state.set_started_at_unix(absl::ToUnixSeconds(facts.at));
  state.set_carrier_call_id(facts.carrier_call_id);
  Transition t(index_, deps_, std::move(state), facts.at);
  t.StartCall();
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::StartOutbound(const OutboundFacts& facts) const {
  if (facts.call_id.empty()) return absl::InvalidArgumentError("call_id: required");
  if (facts.user_id.empty()) return absl::InvalidArgumentError("user_id: required");
  if (facts.device.empty()) return absl::InvalidArgumentError("device: required");
  if (facts.to.empty()) return absl::InvalidArgumentError("to: required");
  if (facts.caller_id.empty()) return absl::InvalidArgumentError("caller_id: required");
  v1::CallState state;
  state.set_call_id(facts.call_id);
  state.set_company_id(facts.company_id);
  state.set_flow_id(bundle_.flow().id());
  state.set_flow_version(bundle_.flow().version());
  state.set_from(facts.caller_id);
  state.set_to(facts.to);
  state.set_started_at_unix(absl::ToUnixSeconds(facts.at));
  state.set_outbound(true);
  state.set_agent_user_id(facts.user_id);
  state.set_agent_device(facts.device);
  Transition t(index_, deps_, std::move(state), facts.at);
  t.StartOutbound();
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::OnEvent(const v1::CallState& state,
                                         const carrier::v1::CarrierEvent& event,
                                         absl::Time now) const {
  if (state.flow_id() != bundle_.flow().id() || state.flow_version() != bundle_.flow().version()) {
    return absl::FailedPreconditionError(
        absl::StrCat("call ", state.call_id(), " runs flow ", state.flow_id(), " v",
                     state.flow_version(), ", not ", bundle_.flow().id(), " v",
                     bundle_.flow().version()));
  }
  if (!event.dedupe_key().empty() &&
      absl::c_linear_search(state.recent_event_keys(), event.dedupe_key())) {
    return Unchanged(state);
  }
  Transition t(index_, deps_, state, now);
  const v1::CallPhase phase = state.phase();
  switch (event.kind_case()) {
    case carrier::v1::CarrierEvent::kDigitsGathered:
      if (phase == v1::PHASE_MENU) {
        t.OnMenuDigits(event.digits_gathered());
      } else if (phase == v1::PHASE_DIRECTORY) {
        t.OnDirectoryDigits(event.digits_gathered());
      } else if (phase == v1::PHASE_DIRECTORY_CHOICE) {
        t.OnDirectoryChoice(event.digits_gathered());
      } else {
        return Unchanged(state);
      }
      break;
    case carrier::v1::CarrierEvent::kDialResult:
      if (phase != v1::PHASE_DIALING ||
          event.dial_result().status() == carrier::v1::DIAL_STATUS_UNSPECIFIED) {
        return Unchanged(state);
      }
      if (event.provider() == carrier::v1::TELNYX &&
          event.dial_result().status() != carrier::v1::DIAL_ANSWERED &&
          event.dial_result().status() != carrier::v1::DIAL_CANCELED &&
          state.dialing().target_results() + 1 < TargetsOfLastDial(state)) {
        // One target of a Dial Telnyx rings in turn did not answer: the same instructions, so
        // the carrier goes on to the Dial's next target.
        Step step = Unchanged(state);
        step.state.mutable_dialing()->set_target_results(state.dialing().target_results() + 1);
        if (!event.dedupe_key().empty()) {
          step.state.add_recent_event_keys(event.dedupe_key());
          while (step.state.recent_event_keys_size() > kMaxRecentEventKeys) {
            step.state.mutable_recent_event_keys()->erase(
                step.state.mutable_recent_event_keys()->begin());
          }
        }
        step.changed = true;
        return step;
      }
      t.OnDialResult(event.dial_result());
      break;
    case carrier::v1::CarrierEvent::kRecordingReady:
      if (phase == v1::PHASE_VOICEMAIL ||
          (phase == v1::PHASE_ENDED && !state.voicemail_box_id().empty() &&
           !state.recording_received() &&
           (state.ended_in_voicemail() || (!state.answered() && state.answered_by().empty())))) {
        t.OnRecording(event.recording_ready());
      } else if (phase == v1::PHASE_BRIDGED || state.recording() || state.answered() ||
                 !state.answered_by().empty()) {
        // A recording of the conversation (policy or on demand); it may arrive after a transfer
        // moved the call on, or after the end.
        t.OnCallRecording(event.recording_ready());
      } else {
        return Unchanged(state);
      }
      break;
    case carrier::v1::CarrierEvent::kCallAnswered:
      // The user's own leg of a click-to-call answered: dial the customer.
      if (phase != v1::PHASE_AGENT_RINGING) return Unchanged(state);
      // The user's leg is the one live call control acts on.
      if (t.state().carrier_call_id().empty()) {
        t.state().set_carrier_call_id(!event.ids().call_control_id().empty()
                                          ? event.ids().call_control_id()
                                          : event.ids().call_sid());
      }
      t.OnAgentAnswered();
      break;
    case carrier::v1::CarrierEvent::kConferenceUpdate:
      if (phase != v1::PHASE_CONFERENCE) return Unchanged(state);
      if (!t.OnConferenceUpdate(event.conference_update())) return Unchanged(state);
      break;
    case carrier::v1::CarrierEvent::kCallCompleted: {
      if (phase == v1::PHASE_ENDED) return Unchanged(state);
      // Only the caller's leg ending ends the call; another leg of the session (Telnyx: a
      // transferred or conferenced party) is not the call.
      const std::string& leg = !event.ids().call_control_id().empty()
                                   ? event.ids().call_control_id()
                                   : event.ids().call_sid();
      if (!state.carrier_call_id().empty() && !leg.empty() && leg != state.carrier_call_id()) {
        return Unchanged(state);
      }
      t.OnCompleted(event.call_completed());
      break;
    }
    default:
      return Unchanged(state);
  }
  return t.Finish(event.dedupe_key());
}

absl::Status CallEngine::CheckConnected(const v1::CallState& state) {
  if (state.phase() == v1::PHASE_BRIDGED || state.phase() == v1::PHASE_CONFERENCE) {
    return absl::OkStatus();
  }
  if (state.phase() == v1::PHASE_ENDED) {
    return absl::FailedPreconditionError("call_id: the call has ended");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("call_id: the call is not connected to anyone (", v1::CallPhase_Name(state.phase()),
                   ")"));
}

absl::StatusOr<Step> CallEngine::Transfer(const v1::CallState& state,
                                          const TransferTarget& target, absl::Time now) const {
  const int targets = !target.user_id.empty() + !target.ring_group_id.empty() +
                      !target.external_number.empty() + !target.voicemail_box_id.empty();
  if (targets != 1) {
    return absl::InvalidArgumentError(
        "target: exactly one of user_id, ring_group_id, external_number, voicemail_box_id");
  }
  if (target.ring_seconds < 0 || target.ring_seconds > kMaxTransferRingSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("ring_seconds: must be 0 (default) to ", kMaxTransferRingSeconds));
  }
  if (!target.external_number.empty() && !IsE164(target.external_number)) {
    return absl::InvalidArgumentError(
        "external_number: must be an E.164 number, e.g. +14155550100");
  }
  if (!target.ring_group_id.empty() && index_.FindGroup(target.ring_group_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("ring_group_id: unknown ring group ",
                                            target.ring_group_id));
  }
  if (!target.voicemail_box_id.empty() && index_.FindBox(target.voicemail_box_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("voicemail_box_id: unknown voicemail box ",
                                            target.voicemail_box_id));
  }
  if (!target.user_id.empty()) {
    absl::StatusOr<std::optional<DirectoryUser>> user = deps_.directory.FindUser(target.user_id);
    if (!user.ok()) return user.status();
    if (!user->has_value()) {
      return absl::NotFoundError(absl::StrCat("user_id: unknown user ", target.user_id));
    }
    if (target.user_id == state.answered_by()) {
      return absl::FailedPreconditionError(
          absl::StrCat("user_id: the call is already connected to ", (*user)->FullName()));
    }
  }
  RETURN_IF_ERROR(CheckConnected(state));
  if (state.phase() == v1::PHASE_CONFERENCE) {
    return absl::FailedPreconditionError(
        "call_id: the call is in a conference; use a warm transfer (StartWarmTransfer)");
  }
  if (state.outbound()) return absl::FailedPreconditionError(kNotOnClickToCall);
  Transition t(index_, deps_, state, now);
  t.TransferTo(target);
  return t.Finish("");
}

namespace {

absl::Status InConference(const v1::CallState& state) {
  if (state.phase() == v1::PHASE_CONFERENCE) return absl::OkStatus();
  RETURN_IF_ERROR(CallEngine::CheckConnected(state));
  return absl::FailedPreconditionError("call_id: the call is not in its conference yet");
}

int ActiveParties(const v1::CallState& state) {
  int n = 0;
  for (const v1::Participant& p : state.participants()) {
    if (p.status() != v1::Participant::LEFT) ++n;
  }
  return n;
}

}  // namespace

absl::StatusOr<Step> CallEngine::EnterConference(const v1::CallState& state,
                                                 absl::Time now) const {
  RETURN_IF_ERROR(CheckConnected(state));
  if (state.phase() == v1::PHASE_CONFERENCE) {
    return absl::FailedPreconditionError("call_id: the call is already in its conference");
  }
  if (state.outbound()) return absl::FailedPreconditionError(kNotOnClickToCall);
  if (state.carrier_call_id().empty() || state.bridged_leg().empty()) {
    return absl::FailedPreconditionError(
        "call_id: the carrier did not name the connected leg of this call");
  }
  Transition t(index_, deps_, state, now);
  t.EnterConference();
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::SetHold(const v1::CallState& state, bool on_hold,
                                         absl::string_view by_user_id, absl::Time now) const {
  RETURN_IF_ERROR(InConference(state));
  if (!state.consult_leg().empty() || !state.consult_by().empty()) {
    return absl::FailedPreconditionError(
        "call_id: a warm transfer is in progress (complete or cancel it)");
  }
  for (const v1::Participant& p : state.participants()) {
    if (p.role() == v1::Participant::CALLER && p.on_hold() == on_hold) {
      return absl::FailedPreconditionError(
          on_hold ? "call_id: the caller is already on hold" : "call_id: the caller is not on hold");
    }
  }
  Transition t(index_, deps_, state, now);
  t.SetCallerHold(on_hold, by_user_id);
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::AddParticipant(const v1::CallState& state,
                                                const PartyTarget& target, bool consult,
                                                absl::string_view by_user_id,
                                                absl::Time now) const {
  if (target.user_id.empty() == target.external_number.empty()) {
    return absl::InvalidArgumentError("target: exactly one of user_id, external_number");
  }
  v1::Participant party;
  party.set_role(v1::Participant::ADDED);
  party.set_status(v1::Participant::RINGING);
  if (!target.external_number.empty()) {
    if (!IsE164(target.external_number)) {
      return absl::InvalidArgumentError(
          "external_number: must be an E.164 number, e.g. +14155550100");
    }
    party.set_number(target.external_number);
  } else {
    absl::StatusOr<std::optional<DirectoryUser>> user = deps_.directory.FindUser(target.user_id);
    if (!user.ok()) return user.status();
    if (!user->has_value()) {
      return absl::NotFoundError(absl::StrCat("user_id: unknown user ", target.user_id));
    }
    const DirectoryUser& u = **user;
    const std::string device =
        !u.softphone.empty() ? absl::StrCat("client:", u.softphone) : u.forward_to;
    if (device.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "user_id: ", u.FullName(), " has no forward-to number and no connected softphone"));
    }
    party.set_user_id(u.id);
    party.set_number(device);
  }
  RETURN_IF_ERROR(InConference(state));
  for (const v1::Participant& p : state.participants()) {
    if (p.status() == v1::Participant::LEFT) continue;
    if ((!party.user_id().empty() && p.user_id() == party.user_id()) ||
        p.number() == party.number()) {
      return absl::FailedPreconditionError(
          absl::StrCat(target.user_id.empty() ? "external_number" : "user_id",
                       ": already on the call"));
    }
  }
  if (ActiveParties(state) >= kMaxParties) {
    return absl::FailedPreconditionError(
        absl::StrCat("call_id: a call has at most ", kMaxParties, " parties"));
  }
  if (!state.consult_leg().empty() || !state.consult_by().empty()) {
    return absl::FailedPreconditionError(
        "call_id: a warm transfer is in progress (complete or cancel it)");
  }
  if (consult) {
    for (const v1::Participant& p : state.participants()) {
      if (p.role() == v1::Participant::CALLER && p.on_hold()) {
        return absl::FailedPreconditionError("call_id: resume the caller first");
      }
    }
  }
  Transition t(index_, deps_, state, now);
  t.AddParty(party, by_user_id, consult);
  Step step = t.Finish("");
  step.added = party;
  return step;
}

absl::StatusOr<Step> CallEngine::NameParticipantLeg(const v1::CallState& state,
                                                    absl::string_view number,
                                                    absl::string_view leg, absl::Time now) const {
  if (leg.empty()) return absl::InvalidArgumentError("leg: required");
  for (const v1::Participant& p : state.participants()) {
    if (p.leg() == leg) return Unchanged(state);  // the carrier's report named it already
  }
  Transition t(index_, deps_, state, now);
  t.NameLeg(number, leg);
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::RemoveParticipant(const v1::CallState& state,
                                                   absl::string_view leg,
                                                   absl::string_view by_user_id,
                                                   absl::Time now) const {
  if (leg.empty()) return absl::InvalidArgumentError("leg: required");
  RETURN_IF_ERROR(InConference(state));
  const v1::Participant* found = nullptr;
  for (const v1::Participant& p : state.participants()) {
    if (p.leg() == leg) found = &p;
  }
  if (found == nullptr) return absl::NotFoundError(absl::StrCat("leg: no participant ", leg));
  if (found->role() == v1::Participant::CALLER) {
    return absl::InvalidArgumentError("leg: the caller cannot be removed");
  }
  if (found->status() == v1::Participant::LEFT) {
    return absl::FailedPreconditionError("leg: the participant has left");
  }
  Transition t(index_, deps_, state, now);
  v1::Participant* party = nullptr;
  for (v1::Participant& p : *t.state().mutable_participants()) {
    if (p.leg() == leg) party = &p;
  }
  t.RemoveParty(party, by_user_id);
  Step step = t.Finish("");
  step.removed_legs.push_back(std::string(leg));
  return step;
}

absl::StatusOr<Step> CallEngine::CompleteWarmTransfer(const v1::CallState& state,
                                                      absl::string_view by_user_id,
                                                      absl::Time now) const {
  RETURN_IF_ERROR(InConference(state));
  if (state.consult_by().empty()) {
    return absl::FailedPreconditionError("call_id: no warm transfer in progress");
  }
  bool joined = false;
  for (const v1::Participant& p : state.participants()) {
    joined = joined || (!state.consult_leg().empty() && p.leg() == state.consult_leg() &&
                        p.status() == v1::Participant::JOINED);
  }
  if (!joined) {
    return absl::FailedPreconditionError(
        "call_id: the transfer target has not joined yet (cancel, or wait)");
  }
  Transition t(index_, deps_, state, now);
  t.CompleteConsult(by_user_id);
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::CancelWarmTransfer(const v1::CallState& state,
                                                    absl::string_view by_user_id,
                                                    absl::Time now) const {
  RETURN_IF_ERROR(InConference(state));
  if (state.consult_by().empty()) {
    return absl::FailedPreconditionError("call_id: no warm transfer in progress");
  }
  if (state.consult_leg().empty()) {
    return absl::FailedPreconditionError(
        "call_id: the transfer target is still being dialled; try again in a moment");
  }
  Transition t(index_, deps_, state, now);
  t.CancelConsult(by_user_id);
  return t.Finish("");
}

absl::StatusOr<Step> CallEngine::SetRecording(const v1::CallState& state, bool on,
                                              absl::string_view by_user_id,
                                              absl::Time now) const {
  if (on) {
    RETURN_IF_ERROR(CheckConnected(state));
    if (state.recording()) {
      return absl::FailedPreconditionError("call_id: the call is already being recorded");
    }
  } else if (!state.recording()) {
    return absl::FailedPreconditionError("call_id: the call is not being recorded");
  } else if (state.phase() == v1::PHASE_ENDED) {
    return absl::FailedPreconditionError("call_id: the call has ended");
  }
  Transition t(index_, deps_, state, now);
  t.SetRecording(on, by_user_id);
  return t.Finish("");
}

}  // namespace switchboard::routing
